"""A compliance report as one self-contained HTML page (no script, no network).

Everything is inline: the style sheet, the lineage graph (SVG) and the chart of the
prediction log. A Content-Security-Policy forbids the page to load anything, so it
reads the same offline, archived, or attached to an e-mail.

This module assembles the page and writes the sections on the articles, the system,
the lineage and the model; the others are built beside it: the pieces and the style in
:mod:`._html_parts`, the drawings in :mod:`._html_charts`, the sources in
:mod:`._html_sources`, the records, retention and integrity in :mod:`._html_records`.
"""

from .._lineage._attached import evidence_said
from ._html_charts import _svg_graph
from ._html_parts import _CSP, _STYLE, _e, _iso, _kv, _status, _table
from ._html_records import _section_integrity, _section_records
from ._html_retention import _section_retention
from ._html_sources import _section_sources


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
