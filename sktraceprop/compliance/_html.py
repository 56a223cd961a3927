"""A compliance report as one self-contained HTML page (no script, no network).

Everything is inline: the style sheet, the lineage graph (SVG) and the chart of the
prediction log. A Content-Security-Policy forbids the page to load anything, so it
reads the same offline, archived, or attached to an e-mail.
"""

from html import escape

from .._lineage._attached import evidence_said
from ._article import DEPLOYER, EVIDENCED, PARTLY
from ._digest_schemes import INEXACT
from ._graph import NODE_HEIGHT, NODE_WIDTH, lineage_graph

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STATUS_CLASS = {EVIDENCED: "ok", PARTLY: "part", DEPLOYER: "input"}
_NODE_FILL = {
    "source": "#e8f1fb",
    "derived": "#eef7ee",
    "upstream op": "#fdf3e6",
    "op": "#f4f4f4",
    "model": "#fbe9ef",
}
_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d2330; background: #ffffff; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
main, header { overflow-wrap: anywhere; }
header { background: #1f3b5c; color: #ffffff; padding: 22px 32px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 2px 0; color: #dbe6f3; }
h2 { border-bottom: 2px solid #1f3b5c; padding-bottom: 4px; margin-top: 36px; }
h3 { margin-bottom: 6px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #d4d9e1; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
table.kv th { width: 30%; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .hash { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12.5px;
              word-break: break-all; }
.status { display: inline-block; padding: 2px 8px; border-radius: 10px; font-weight: 600;
          font-size: 13px; white-space: nowrap; }
.status.ok { background: #d9f2df; color: #145c2a; }
.status.part { background: #fff1cc; color: #6b4d00; }
.status.input { background: #e3e8f7; color: #223a87; }
.note { color: #555f6d; font-size: 13.5px; }
.warn { color: #8a3b00; }
ul.cannot { margin: 4px 0 0 18px; padding: 0; color: #555f6d; font-size: 13.5px; }
.figure { overflow-x: auto; border: 1px solid #d4d9e1; padding: 8px; background: #fbfcfe; }
footer { margin-top: 40px; color: #555f6d; font-size: 13px; }
"""


#: Unicode's bidirectional controls (the Bidi_Control property), each shown as its code
#: point: an override held in a name (a source id, a class label, the system's name)
#: would otherwise reverse the text after it on the page, a run id or hash included.
_VISIBLE_BIDI = {
    c: f"[U+{c:04X}]"
    for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def _e(value):
    """Text escaped for HTML, with bidirectional controls shown (see ``_VISIBLE_BIDI``)."""
    return escape(("" if value is None else str(value)).translate(_VISIBLE_BIDI))


def _iso(value):
    """:func:`_e` in a ``<bdi>``: a right-to-left name (Arabic, Hebrew) followed by
    figures would otherwise draw them in another order (``label: 12 (54.5%)`` as
    ``(54.5%) 12 :label``); isolated, the figures keep theirs."""
    return f"<bdi>{_e(value)}</bdi>"


def _status(status):
    return f'<span class="status {_STATUS_CLASS[status]}">{_e(status)}</span>'


def _table(headers, rows, numeric=()):
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<td{cls}>{cell}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _pct(rate):
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def _labels(labels):
    kind = labels.get("kind")
    if kind == "classes":
        counts = labels.get("counts")
        if counts is None:
            return _e(labels.get("note", f"{labels.get('n_classes')} classes"))
        total = sum(counts.values()) or 1
        parts = [f"{_iso(k)}: {v} ({100 * v / total:.1f}%)" for k, v in counts.items()]
        missing = labels.get("missing", 0)
        unlabelled = labels.get("unlabelled", 0)  # (a semi-supervised classifier's -1)
        return (
            "; ".join(parts)
            + (f"; unlabelled: {unlabelled}" if unlabelled else "")
            + (f"; missing: {missing}" if missing else "")
        )
    if kind == "continuous":
        return _e(
            f"n={labels.get('count')}, mean {labels.get('mean')}, std {labels.get('std')}, "
            f"min {labels.get('min')}, max {labels.get('max')}"
        )
    if kind == "none":
        return "no target"
    return _e(labels.get("reason", "not recorded"))


def _missing(source):
    with_missing = [c for c in source["columns"] if c["missing"]]
    if not source["statistics"]["recorded_at_fit"]:
        return "not recorded"
    if not any(c["missing"] is not None for c in source["columns"]):
        return _e(source["statistics"].get("missing_note") or "not counted")
    changed = [c for c in source["columns"] if "changed_after_loading" in c]
    told = (
        f"; changed after loading, counted on the values given to fit: "
        f"{', '.join(_iso(c['name']) for c in changed)}"
        if changed
        else ""
    )
    check = source.get("changes_after_loading")
    if check is not None and not check["checked"]:
        told += _e(f"; whether columns were changed after loading is {check['note']}")
    if not with_missing:
        return "none" + told
    return (
        "; ".join(
            f"{_iso(c['name'])}: {c['missing']} ({_pct(c['missing_rate'])})" for c in with_missing
        )
        + told
    )


def _changed(column):
    """A column's ``changed_after_loading`` mark, in words ("" where it has none)."""
    mark = column.get("changed_after_loading")
    if mark is None:
        return ""
    held = f"; given to fit as {mark['input_column']}" if "input_column" in mark else ""
    if mark.get("found_in"):
        held += f"; in the rows merged into {', '.join(mark['found_in'])}"
    if mark.get("rows_not_known"):
        held += (
            f"; {mark['rows_not_known']} more rows hold values a merge made from inputs "
            "changed after loading, from rows not compared: whether they changed is not known"
        )
    return _e(
        f"{mark['rows_changed']} of {mark['rows_checked']} rows checked differ from the "
        f"values loaded, {mark['missing_filled']} of them missing values filled{held}: "
        "the missing count is of the values given to fit"
    )


def _svg_graph(report):
    graph = lineage_graph(report)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{graph["width"]}" '
        f'height="{graph["height"]}" viewBox="0 0 {graph["width"]} {graph["height"]}">',
        "<title>Lineage: source files, ops and the model</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#7a8699"/></marker></defs>',
    ]
    for n in graph["nodes"]:
        label = n["label"] if len(n["label"]) <= 21 else n["label"][:20] + "\u2026"
        detail = n["detail"] if len(n["detail"]) <= 30 else n["detail"][:29] + "\u2026"
        parts.append(
            f"<g><title>{_e(n['kind'])}: {_e(n['label'])} ({_e(n['detail'])})</title>"
            f'<rect x="{n["x"]:.1f}" y="{n["y"]:.1f}" width="{NODE_WIDTH}" '
            f'height="{NODE_HEIGHT}" rx="7" fill="{_NODE_FILL[n["kind"]]}" stroke="#1f3b5c" '
            'stroke-width="1.2"/>'
            f'<text x="{n["x"] + 9:.1f}" y="{n["y"] + 18:.1f}" font-size="13" '
            f'font-weight="600" fill="#1d2330">{_e(label)}</text>'
            f'<text x="{n["x"] + 9:.1f}" y="{n["y"] + 35:.1f}" font-size="11" '
            f'fill="#555f6d">{_e(detail)}</text></g>'
        )
    for p in graph["paths"]:
        # drawn over the boxes: an edge that skips a layer is seen crossing it
        mid = (p["x1"] + p["x2"]) / 2
        parts.append(
            f'<path d="M {p["x1"]:.1f} {p["y1"]:.1f} C {mid:.1f} {p["y1"]:.1f}, {mid:.1f} '
            f'{p["y2"]:.1f}, {p["x2"]:.1f} {p["y2"]:.1f}" fill="none" stroke="#5b6a80" '
            'stroke-opacity="0.75" stroke-width="1.4" marker-end="url(#arrow)"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_months(by_month):
    if not by_month:
        return ""
    months = list(by_month.items())
    top = max(v["rows"] for _, v in months) or 1
    bar, gap, height = 34, 10, 120
    width = len(months) * (bar + gap) + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height + 40}" viewBox="0 0 {width} {height + 40}">',
        "<title>Rows predicted per month (UTC)</title>",
    ]
    for i, (month, v) in enumerate(months):
        h = max(1.0, height * v["rows"] / top)
        x = 30 + i * (bar + gap)
        parts.append(
            f'<rect x="{x}" y="{10 + height - h:.1f}" width="{bar}" height="{h:.1f}" '
            f'fill="#3f6ea5"><title>{_e(month)}: {v["calls"]} calls, {v["rows"]} rows'
            "</title></rect>"
            f'<text x="{x + bar / 2}" y="{height + 26}" font-size="11" text-anchor="middle" '
            f'fill="#1d2330">{_e(month)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _section_articles(report):
    rows = []
    for a in report["articles"]:
        cannot = "".join(f"<li>{_e(c)}</li>" for c in a["cannot_show"])
        rows.append(
            [
                f"<strong>Art. {_e(a['article'])}</strong><br>{_e(a['title'])}",
                _status(a["status"]),
                f"{_e(a['why'])}"
                + (
                    f'<div class="note">The record cannot show:</div><ul class="cannot">{cannot}'
                    "</ul>"
                    if cannot
                    else ""
                ),
            ]
        )
    return (
        '<section id="articles"><h2>What the record proves, per article</h2>'
        '<p class="note">Statuses: <em>evidenced</em> (the record shows it, as far as '
        "records can), <em>partly evidenced</em> (the record shows the facts it rests on; "
        "the rest is a judgement or an action), <em>needs the deployer's input</em> (about "
        "people, organisation or use that no record of data and models can show).</p>"
        + _table(["Article", "Status", "Why"], rows)
        + "</section>"
    )


def _section_system(report):
    system = report["system"]
    category = system["high_risk_category"]
    people = "".join(f"<li>{_e(p)}</li>" for p in report["human_oversight"]["assigned"])
    return (
        '<section id="system"><h2>The system and its intended purpose</h2>'
        + _kv(
            [
                ["System", f"{_e(system['name'])} {_e(system['version'])}"],
                ["Deployer", _e(system["deployer"])],
                [
                    "High-risk area",
                    f"Annex III point {_e(category['annex_iii_point'])}: {_e(category['area'])}",
                ],
                ["Intended purpose (stated by the deployer)", _e(system["intended_purpose"])],
            ],
        )
        + f"<h3>Human oversight (assigned by the deployer)</h3><ul>{people}</ul></section>"
    )


def _kv(rows):
    """A two-column table of names and values (no header row)."""
    body = "".join(f"<tr><th scope='row'>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _training_rows(source):
    """Training rows of a source: its own, and those merges built from its rows."""
    merged = source.get("training_rows_through_merges")
    own = str(source["training_rows"])
    if "repeated_rows" in source:
        own += f" ({source['repeated_rows']['distinct_rows']} distinct: rows repeat)"
    if not merged:
        return own
    if not source["training_rows"]:
        return f"{merged} through merges"
    return f"{own} + {merged} through merges"


def _source_ops(source):
    """The ops a source's training rows went through, with how many of them where not
    every one did (a step fitted outside the pipeline on some rows of the source)."""
    counts = source.get("op_training_rows") or [None] * len(source["ops"])
    # (the final estimator, listed for every row, went through all of them)
    total = max((n for n in counts if n is not None), default=None)
    return ", ".join(
        name if n is None or n == total else f"{name} ({n} of {total} training rows)"
        for name, n in zip(source["ops"], counts)
    )


def _rows_in_source(source):
    """The source's rows; every read's, and why, for a file read more than once."""
    if not source.get("other_reads"):
        return str(source["n_rows"])
    counts = ", ".join(str(r["n_rows"]) for r in source["other_reads"])
    text = f"{source['n_rows']} (first read; other reads: {counts}): {_e(source['reads_note'])}"
    if source.get("rows_by_read_note"):
        text += f". Which read gave the rows: {_e(source['rows_by_read_note'])}"
    return text


def _checked(check):
    """A source's ``changes_after_loading``, in words."""
    if not check["checked"]:
        return (
            f"{check['note']}: no column is marked, which does not show that none was "
            "changed; the missing counts are of the values given to fit"
        )
    if check["rows_compared"] is None:
        return "compared with what was loaded (how many rows: not recorded)"
    where = (
        f" (merged rows of {', '.join(check['compared_in'])})" if check.get("compared_in") else ""
    )
    return f"{check['rows_compared']} rows compared with what was loaded{where}"


def _digest_facts(source):
    """The source's digest, and (format 9) what its scheme names: a digest of an
    earlier scheme is flagged, never shown as if it named the data exactly."""
    digest = f'<span class="hash">{_e(source["sha256"])}</span>'
    scheme = source.get("digest_scheme")
    if scheme is None:  # a report of format 8 or earlier: not stated
        return [("SHA-256 of the content", digest)]
    words = f"<code>{_e(scheme)}</code>: {_e(source['digest_note'])}"
    if scheme in INEXACT:
        words = f'<span class="warn">Does not name the data exactly.</span> {words}'
    return [("Digest (sha256)", digest), ("What the digest names", words)]


def _section_sources(report):
    rows = []
    details = []
    for s in report["sources"]:
        stats = s["statistics"]
        rows.append(
            [
                f"<strong>{_e(s.get('label', s['source_id']))}</strong>",
                _e(s["kind"]),
                str(s["n_rows"]),
                _training_rows(s),
                _labels(stats["labels"]) if stats["recorded_at_fit"] else _e(stats["note"]),
                _missing(s),
            ]
        )
        marked = any("changed_after_loading" in c for c in s["columns"])
        columns = [
            [
                _e(c["name"]),
                _e(c["dtype"]),
                "not given to fit" if c["missing"] is None else str(c["missing"]),
                "" if c["missing"] is None else _pct(c["missing_rate"]),
            ]
            + ([_changed(c)] if marked else [])
            for c in s["columns"]
        ]
        facts = [
            ("URI", _uri(s)),
            *_digest_facts(s),
            ("Loaded (UTC)", _e(s["loaded_at"])),
            ("Rows in the source", _rows_in_source(s)),
            ("Rows the model was trained on", _training_rows(s)),
        ]
        if stats["recorded_at_fit"]:
            given = str(stats["rows_given_to_fit"])
            if stats.get("through_merges"):
                given += " (merged rows built from it; label balance and missing values over them)"
            facts.append(("Rows given to fit", given))
            facts.append(("Target", _e(stats.get("target") or "unnamed")))
        if s["parents"]:
            facts.append(("Built from", _e(", ".join(s["parents"]))))
        facts.append(("Ops its rows went through", _e(_source_ops(s))))
        if "changes_after_loading" in s:
            facts.append(
                ("Checked for changes after loading", _e(_checked(s["changes_after_loading"])))
            )
        if "name_note" in s:
            facts.append(("Shared source_id", _e(s["name_note"])))
        details.append(
            f"<h3>{_e(s.get('label', s['source_id']))}</h3>"
            + _kv(facts)
            + _table(
                ["Column", "dtype", "Missing at fit", "Rate"]
                + (["Changed after loading"] if marked else []),
                columns,
                numeric=(2, 3),
            )
        )
    return (
        '<section id="sources"><h2>Input data, per source</h2>'
        '<p class="note">Label balance and missing values were counted when the model was '
        "fitted, on the rows given to fit, and stored with the run: they are not "
        "recomputed from files that may have changed since.</p>"
        + _table(
            ["Source", "Kind", "Rows", "Training rows", "Label balance", "Missing values"],
            rows,
            numeric=(2, 3),
        )
        + "".join(details)
        + "</section>"
    )


def _section_lineage(report):
    features = report["feature_lineage"]
    rows = []
    for f in features["features"]:
        aggs = "; ".join(
            f"{_e(a['source_id'])} over {_e(', '.join(a['computed_over']))}"
            for a in f["aggregates"]
        )
        several = f["feature"] in features["aggregated_over_several_sources"]
        rows.append(
            [
                _e(f["feature"]),
                (
                    "unknown"
                    if f["columns"] is None
                    else _e(", ".join(f["columns"])) or "none (a constant)"
                ),
                (
                    f"<strong class='warn'>{_e(', '.join(f['sources']))}</strong>"
                    if several
                    else _e(", ".join(f["sources"]))
                ),
                aggs or "",
            ]
        )
    note = ""
    if features["aggregated_over_several_sources"]:
        note = (
            f'<p class="warn">{len(features["aggregated_over_several_sources"])} model '
            "input(s) come from aggregates computed over several sources: each row's value "
            "depends on rows of other sources, so removing one source changes them for "
            "the rows of the others.</p>"
        )
    outside = features.get("from_columns_in_no_source", [])
    if outside:
        note += (
            f'<p class="warn">{len(outside)} model input(s) ({_e(", ".join(outside))}) are '
            "made from input columns that no source holds: they were computed or renamed "
            "outside the pipeline, and the record does not say from what (other rows, "
            "other data).</p>"
        )
    for e in features.get("attached_outside_pipeline", []):
        note += (
            f'<p class="warn">Input column {_e(e["input_column"])} holds column '
            f"{_e(e['column'])} of source {_e(e['source_id'])}, attached by position "
            f"outside the pipeline ({_e(evidence_said(e))}): which of its rows each training row "
            "holds is not recorded, and a removal of rows cannot take it out."
            + (
                " Its values are in another row order than the source's rows: a "
                "training row's value may belong to another row (wrong data).</p>"
                if e.get("match") == "reordered"
                else "</p>"
            )
        )
    target = features.get("from_the_target", [])
    if target:
        note += (
            f'<p class="warn">{len(target)} model input(s) ({_e(", ".join(target))}) are '
            "computed from the target (&lt;target&gt;: a target encoding, a supervised "
            "feature selection, a stacked model's predictions): each row's value, or "
            "whether the input is there at all, depends on the targets of every training "
            "row, of every source, so removing rows changes them for the rows that "
            "remain.</p>"
        )
    if features["unknown"]:
        note += (
            f'<p class="warn">The lineage of {len(features["unknown"])} input(s) is unknown: a '
            "step did not report which columns its outputs derive from.</p>"
        )
    after = features.get("after_removal")
    if after:
        added = ", ".join(after["added"])
        note += f'<p class="warn">{_e(after["note"])}' + (
            f"; added: {_e(added)}.</p>" if added else ".</p>"
        )
    return (
        '<section id="lineage"><h2>Lineage: source files, ops, model</h2>'
        f'<div class="figure">{_svg_graph(report)}</div>'
        "<h3>Feature lineage (model input &larr; input columns &larr; sources)</h3>"
        + note
        + _table(["Model input", "Input columns", "Sources", "Aggregates"], rows)
        + "</section>"
    )


def _section_model(report):
    m = report["model"]
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in m["versions"].items())
    ops = [
        [
            _e(op["name"]),
            f"<code>{_e(op['class'])}</code>",
            f'<span class="hash">{_e(op["fingerprint"])}</span>',
            _e(", ".join(op["features_in"])),
            str(op["n_features_out"]),
            (
                "all"
                if "training_rows" not in op
                else "not counted"
                if op["training_rows"] is None
                else str(op["training_rows"])
            ),
        ]
        for op in m["ops"]
    ]
    matches = {
        True: "yes: every fitted step's fingerprint equals the run's",
        False: "no",
        None: "not checked (the report was made from the store)",
    }[m["fitted_object_matches_run"]]
    after = m.get("fitted_object_after_removal")
    if after is not None:
        matches = (
            f"no: it is this run's model after removal seq {after['seq']}, corrected by an "
            f"unlearner (its fingerprint {after['fingerprint']} is the one that removal's "
            "event records); the rest of this section is the run as fitted"
        )
    caveat = m.get("fitted_object_match_caveat")
    if caveat is not None:
        matches = f"{matches}; {caveat}"
    notes = "".join(f"<li>{_e(n)}</li>" for n in m["notes"])
    return (
        '<section id="model"><h2>The model</h2>'
        + _kv(
            [
                ["Estimator", f"<code>{_e(m['estimator'])}</code>"],
                ["Final estimator", f"<code>{_e(m['final_estimator'])}</code>"],
                ["Training run", f"<code>{_e(m['run_id'])}</code> at {_e(m['trained_at'])}"],
                ["Training rows", str(m["n_training_rows"])],
                [
                    "Fingerprint (SHA-256 of the fitted state)",
                    f'<span class="hash">{_e(m["fingerprint"])}</span>',
                ],
                *(
                    [["Fingerprint scheme", _e(m["fingerprint_scheme_note"])]]
                    if m.get("fingerprint_scheme_note")  # (format 10)
                    else []
                ),
                ["Fitted object matches the run", _e(matches)],
                *(
                    [["Why it was fitted", _e(m["selection_note"])]]
                    if m.get("selection_note")
                    else []
                ),
                ["Library versions", versions],
            ],
        )
        + "<h3>Ops (fitted steps)</h3>"
        + _table(
            ["Step", "Class", "Fingerprint", "Input features", "Outputs", "Training rows"],
            ops,
            (4,),
        )
        + (f"<h3>Notes recorded at fit</h3><ul>{notes}</ul>" if notes else "")
        + "</section>"
    )


def _run_purpose(run):
    """A listed run's purpose and model-selection role, in words (reports of format 3)."""
    if "purpose" not in run:
        return "not listed (a report of format 1 or 2)"
    words = str(run["purpose"]) if run["purpose"] is not None else "not recorded"
    if run.get("search_role") == "refit":
        words += ", the refit of a search"
    elif run.get("search_role") == "cv_fold":
        words += ", one split of a cross-validation"
    if run.get("search_role") is not None:
        words += f" ({run['search_id'] or 'which call: not known'})"
    return words


def _source_rows(removal):
    """A removal's distinct source rows per source, with its counts note, in words."""
    if "source_rows" not in removal:
        return _e("not in reports of format 7 and earlier (see the event)")
    if removal["source_rows"] is None:
        return _e("not recorded by the removal's event (logged by an older sktraceprop)")
    note = removal.get("counts_note")
    return _e(removal["source_rows"]) + (f"<br><small>{_e(note)}</small>" if note else "")


def _section_records(report):
    rk = report["record_keeping"]
    store = rk["store"]
    head = store["chain_head"]
    checkpoints = store["checkpoints"]
    signed = ("signed: " if checkpoints["signed"] else "not shown signed: ") + _e(
        checkpoints["note"]
    )
    p = rk["predictions"]
    methods = "; ".join(
        f"{_e(k)}: {v['calls']} calls, {v['rows']} rows" for k, v in p["by_method"].items()
    )
    classes = "; ".join(f"{_iso(k)}: {v}" for k, v in p["predicted_classes"].items())
    removals = [
        [
            str(r["seq"]),
            _e(r["created_at"]),
            _e(r["method"]),
            _e(r["n_removed"]),
            _e(r["sources"]),
            _source_rows(r),
            _e(r["certificate"]),
            _e(r["preprocessing"]),
            _e(r["caveat"]),
        ]
        for r in rk["removals"]
    ]
    this = report["model"]["run_id"]
    runs = [
        [
            f"<code>{_e(r['run_id'])}</code>"
            + (" <strong>(this model)</strong>" if r["run_id"] == this else ""),
            _e(r["created_at"]),
            f"<code>{_e(r['estimator'])}</code>",
            str(r["n_samples"]),
            _e(", ".join(r["sources"])),
            _e(_run_purpose(r)),
        ]
        for r in rk["runs"]
    ]
    e = rk["explanations"]
    return (
        '<section id="records"><h2>Record-keeping</h2>'
        + _kv(
            [
                ["Store", f"{_e(store['type'])} <code>{_e(store['location'])}</code>"],
                ["Runs stored", str(store["n_runs"])],
                [
                    "Events in the hash chain",
                    f"{store['n_chain_events']}: {store['n_audit_events']} audit events "
                    "logged by the system's use and its people (predictions, explanations, "
                    f"removals, reviews) and {store['n_store_events']} the store wrote to "
                    "put its runs and sources under the chain",
                ],
                [
                    "Chain head",
                    f"event {head['seq']} at {_e(head['created_at'])}, "
                    f'<span class="hash">{_e(head["hash"])}</span>',
                ],
                ["Chain verified at", _e(store["chain_verified_at"])],
                ["Checkpoints", signed],
            ],
        )
        + "<h3>Prediction log (this model)</h3>"
        + _kv(
            [
                ["Calls logged", str(p["n_calls"])],
                ["Rows predicted", str(p["n_rows"])],
                ["First / last call (UTC)", f"{_e(p['first'])} / {_e(p['last'])}"],
                ["By method", methods or "none"],
                ["Predicted classes", classes or "none"],
                [
                    "Calls by a model changed since its run",
                    str(p["calls_by_a_model_changed_since_fit"]),
                ],
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 1 only "
                            "(which some different models share)",
                            str(p["calls_matched_by_old_fingerprint_scheme"]),
                        ]
                    ]
                    if "calls_matched_by_old_fingerprint_scheme" in p
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 2 only "
                            "(which names functions and classes, not their code)",
                            str(p["calls_matched_by_fingerprint_scheme_2"]),
                        ]
                    ]
                    if "calls_matched_by_fingerprint_scheme_2" in p  # (format 12)
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 3 only "
                            "(which names user classes' constants, not their values)",
                            str(p["calls_matched_by_fingerprint_scheme_3"]),
                        ]
                    ]
                    if "calls_matched_by_fingerprint_scheme_3" in p  # (format 13)
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 4 only "
                            "(which names packages from an index, not their code)",
                            str(p["calls_matched_by_fingerprint_scheme_4"]),
                        ]
                    ]
                    if "calls_matched_by_fingerprint_scheme_4" in p  # (format 14)
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 5 only "
                            "(which names a user function's modules, not the helpers it "
                            "calls through them)",
                            str(p["calls_matched_by_fingerprint_scheme_5"]),
                        ]
                    ]
                    if "calls_matched_by_fingerprint_scheme_5" in p  # (format 15)
                    else []
                ),
                ["Digest of the logged calls", f'<span class="hash">{_e(p["digest"])}</span>'],
            ],
        )
        + _svg_months(p["by_month"])
        + "<h3>Explanations logged</h3>"
        + f"<p>{e['n_calls']} explanation(s) of {e['n_rows']} row(s)"
        + (f", from {_e(e['first'])} to {_e(e['last'])}" if e["n_calls"] else "")
        + ".</p><h3>Removals (unlearning)</h3>"
        + (
            _table(
                [
                    "Event",
                    "Time (UTC)",
                    "Method",
                    "Training rows removed",
                    # (the event's 'sources': a merged row under each of its sources)
                    "Training rows removed, per source",
                    # (the event's 'source_rows': file lines or frame rows, each once)
                    "Source rows behind them, per source",
                    "Certificate",
                    "Preprocessing",
                    "Caveat",
                ],
                removals,
            )
            if removals
            else "<p>No removal is recorded for this model.</p>"
        )
        + "<h3>Runs in the store</h3>"
        + _table(["Run", "Created (UTC)", "Estimator", "Rows", "Sources", "Purpose"], runs, (3,))
        + "</section>"
    )


def _section_retention(report):
    r = report["retention"]
    covers = "yes" if r["stored_logs_cover_six_months"] else "not yet"
    return (
        '<section id="retention"><h2>Log retention</h2>'
        + _kv(
            [
                ["Requirement", _e(r["requirement"])],
                ["Earliest logged (UTC)", _e(r["earliest_logged"])],
                ["Latest logged (UTC)", _e(r["latest_logged"])],
                ["Span", f"{r['span_days']:.1f} days"],
                ["Six months before this report", _e(r["six_months_before_report"])],
                ["Stored logs cover six months", covers],
                ["Six months reached on", _e(r["six_months_reached_on"] or "reached")],
                ["First logged use of this model", _e(r["first_logged_use"] or "none")],
            ],
        )
        + "</section>"
    )


def _section_integrity(report):
    i = report["integrity"]
    sig = i["signature"]
    signed = (
        f"Ed25519, key SHA-256 <span class='hash'>{_e(sig['public_key_sha256'])}</span>"
        if sig
        else "not signed"
    )
    return (
        '<section id="integrity"><h2>Integrity</h2>'
        + _kv(
            [
                ["SHA-256 of the report", f'<span class="hash">{_e(i["sha256"])}</span>'],
                ["Signature", signed],
                ["Canonical form", _e(i["canonicalization"])],
            ],
        )
        + "<p>Check the JSON report (not this page) with "
        "<code>sktraceprop verify report.json --db STORE --public-key KEY.pub.pem</code> "
        "or <code>sktraceprop.compliance.verify(path, store=..., public_key=...)</code>."
        "</p></section>"
    )


def render_html(report):
    """The report as one self-contained HTML document (a string)."""
    system = report["system"]
    meta = report["report"]
    title = f"EU AI Act evidence: {system['name']} {system['version']}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{_iso(system['name'])} {_iso(system['version'])}</h1>"
        f"<p>Evidence under {_e(meta['regulation'])} for {_iso(system['deployer'])}</p>"
        f"<p>Report made {_e(meta['generated_at'])} (UTC) by {_e(meta['generator'])} for "
        f"model run <code>{_e(report['model']['run_id'])}</code></p></header><main>"
        + _section_articles(report)
        + _section_system(report)
        + _section_sources(report)
        + _section_lineage(report)
        + _section_model(report)
        + _section_records(report)
        + _section_retention(report)
        + _section_integrity(report)
        + "<footer>Every figure on this page was computed by sktraceprop from the stored "
        "run and audit events; statements about people, organisation and use are the "
        "deployer's.</footer></main></body></html>\n"
    )


def _uri(source):
    """The source's path; where its bytes were read from several paths and which gave
    the training rows is not known (an empty uri), each of them, said so."""
    if source["uri"] or "uris" not in source:
        return f"<code>{_e(source['uri'])}</code>"
    paths = ", ".join(f"<code>{_e(u)}</code>" for u in source["uris"])
    return f"not known: one of {paths} (each holding these bytes)"
