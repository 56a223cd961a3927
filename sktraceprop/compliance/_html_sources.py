"""The report page's sources section: per source its rows, label balance, missing
values, columns changed after loading, digest and the ops fitted on it."""

from ._digest_schemes import INEXACT
from ._html_parts import _e, _iso, _kv, _pct, _table


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


def _not_held(statistics):
    """Why a source's counts are not in the report: erased since the fit (by which
    event), or never recorded; never "not given to fit", which they were."""
    erased = statistics.get("erased")
    if erased is not None:
        return f"erased (audit event {int(erased['event_seq'])})"
    return "not recorded"


def _missing(source):
    with_missing = [c for c in source["columns"] if c["missing"]]
    if not source["statistics"]["recorded_at_fit"]:
        return _not_held(source["statistics"])
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
        # (a column's missing count is null both where it was not given to fit and where
        # the source's counts are not held: erased since the fit, or never recorded)
        absent = "not given to fit" if stats["recorded_at_fit"] else _not_held(stats)
        columns = [
            [
                _e(c["name"]),
                _e(c["dtype"]),
                absent if c["missing"] is None else str(c["missing"]),
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
        if "codes_note" in s:  # (format 19: one entry for the codes of one source)
            facts.append(("Codes of its rows", _e(s["codes_note"])))
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


def _uri(source):
    """The source's path; where its bytes were read from several paths and which gave
    the training rows is not known (an empty uri), each of them, said so."""
    if source["uri"] or "uris" not in source:
        return f"<code>{_e(source['uri'])}</code>"
    paths = ", ".join(f"<code>{_e(u)}</code>" for u in source["uris"])
    return f"not known: one of {paths} (each holding these bytes)"
