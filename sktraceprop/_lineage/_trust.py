"""How far a run's record of each source can be trusted: one computation, many readers.

Per source of a run: whether the values given to fit were compared with what was
loaded (``changes_after_loading``), the loaded columns found changed after loading
(with the rows checked, changed, filled and not known), and the rows given to fit more
than once (``repeated_rows``); in an unlearner's copy of a run, whose counts of these
are the fit's, the remark saying so (:func:`counted_at_fit`). The compliance report's
``sources`` and the exporters (OpenLineage, OpenTelemetry) read them from
:func:`source_trust`, so an export never shows a source as clean where the report does
not. Every figure is read from the run record; nothing is recomputed from files.
"""

import numpy as np

from ._ids import codes_of
from ._merged_parents import ancestor_codes

_COUNTS = ("rows_checked", "rows_changed", "missing_filled")
_UNKNOWN = ("rows_not_known",)

#: Why a source's columns were not compared with what was loaded, per case.
NOT_RECORDED = (
    "not recorded for this run (a run recorded by an older sktraceprop, or data given to "
    "fit without column names)"
)
NOT_COMPARED = (
    "not checked: none of the values given to fit from it could be compared with what "
    "was loaded (its loads were not kept in the fitting process, as for a frame "
    "unpickled from another; no column given to fit is one of its loaded columns; or "
    "its columns were written by a traced step outside the pipeline: see the run's notes)"
)
NOT_COMPARED_THROUGH = (
    "not checked: the merged rows given to fit were compared with what the merge made, "
    "but this source's values given to the merge were not compared with what was loaded "
    "(its loads were not kept in the process that merged, as for a frame unpickled from "
    "another; or none of its rows given to the merge was a witness row): the merged rows "
    "show nothing of its values as loaded"
)
COMPARED_UNKNOWN = (
    "not known: no change was found, but the run did not record whether any of its rows "
    "could be compared with what was loaded (recorded by an older sktraceprop)"
)


def counted_at_fit(n_removals):
    """The remark on a run's counts of columns changed after loading and of rows
    compared with what was loaded, where the run's model is the one ``n_removals``
    removals left: they were counted at fit, over the rows removed since too.

    One text for every reader: the unlearner's copy of the run marks each such entry
    with it (``retained``), the exports of that copy carry it with the counts
    (``counted_at_fit``), and the compliance report on the corrected model (which
    rests on the run as stored at fit) says it in Art. 26(4).

    >>> print(counted_at_fit(2))  # doctest: +NORMALIZE_WHITESPACE
    counted at fit over the rows given to fit, removed rows included:
    not recounted after 2 removal(s)
    """
    return (
        "counted at fit over the rows given to fit, removed rows included: not "
        f"recounted after {int(n_removals)} removal(s)"
    )


def fit_counts_remark(run):
    """:func:`counted_at_fit` as the run's entries record it (``retained`` of its
    ``changed_columns`` and ``rows_compared``: an unlearner's copy), else None."""
    for entry in (run.rows_compared or []) + (run.changed_columns or []):
        if "retained" in entry:
            return entry["retained"]
    return None


def training_counts(run):
    """``(training, distinct)``: per source code, the run's training rows whose id names
    it directly (every copy counted), and the distinct rows among them."""
    codes, counts = np.unique(codes_of(run.row_ids), return_counts=True)
    training = dict(zip(codes.tolist(), counts.tolist()))
    codes, counts = np.unique(codes_of(np.unique(run.row_ids)), return_counts=True)
    return training, dict(zip(codes.tolist(), counts.tolist()))


def source_trust(run):
    """``{source code: facts}`` for every source of ``run``.

    ``facts`` holds ``training_rows`` (training rows whose id names the source, every
    copy counted), ``changed_columns`` (``{loaded column: mark}`` for its columns read,
    see
    :func:`changed_after_loading`), and, where they apply, ``changes_after_loading``
    (only for a source whose rows reached the model, see :func:`changes_checked`) and
    ``repeated_rows`` (see :func:`repeated_rows`). In an unlearner's copy of a run,
    every mark and ``changes_after_loading`` also holds ``counted_at_fit`` (see
    :func:`counted_at_fit`): its counts are the fit's, removed rows included.
    """
    training, distinct = training_counts(run)
    marks = changed_after_loading(run)
    checked = changes_checked(run, marks, training)
    remark = fit_counts_remark(run)
    if remark is not None:
        # an unlearner's copy: its counts are the fit's, said with every one of them
        marks = {key: {**mark, "counted_at_fit": remark} for key, mark in marks.items()}
        checked = {code: {**entry, "counted_at_fit": remark} for code, entry in checked.items()}
    given = _given_to_fit(run)
    out = {}
    for code in sorted(run.sources):
        n = int(training.get(code, 0))
        columns = run.sources[code].columns_read()
        facts = {
            "training_rows": n,
            "changed_columns": {
                c: dict(m) for (k, c), m in marks.items() if k == code and c in columns
            },
            **repeated_rows(n, distinct.get(code, 0), given.get(code)),
        }
        if code in checked:
            facts["changes_after_loading"] = checked[code]
        out[code] = facts
    return out


def changed_after_loading(run):
    """``{(source code, loaded column): mark}`` of the columns the run found changed
    after loading (:attr:`~sktraceprop._lineage._run.Lineage.changed_columns`): the
    witness rows checked and changed, the missing values filled, and the name the data
    given to fit held the column under, where another. A column a merge took from a
    parent source is marked in the parent too, with the merge's rows built from it and
    ``found_in`` naming the merges (counts summed over them); ``rows_not_known``: rows
    whose values a merge made from input rows not compared, in a column its inputs had
    changed (see ``Lineage.changed_columns``). Empty where none were found or the run
    did not record it."""
    out = {}
    for entry in run.changed_columns or ():
        key = (entry["code"], entry["column"])
        given = entry.get("input_column", entry["column"])
        merge = run.sources.get(entry.get("through"))
        if "through" not in entry:
            out[key] = {k: entry[k] for k in _COUNTS + _UNKNOWN if k in entry}
        elif key in out and "found_in" not in out[key]:
            continue  # (changed as loaded directly: said so, with its own rows)
        else:
            mark = out.setdefault(key, {**dict.fromkeys(_COUNTS, 0), "found_in": []})
            for k in _COUNTS + _UNKNOWN:
                if k in entry:
                    mark[k] = mark.get(k, 0) + entry[k]
            name = merge.source_id if merge is not None else f"code {entry['through']}"
            if name not in mark["found_in"]:
                mark["found_in"].append(name)
        if given != entry["column"]:
            out[key]["input_column"] = given
    return out


def changes_checked(run, marks, training):
    """``{source code: changes_after_loading}`` for each source whose rows reached the
    model (``training``: its training rows by code; a parent of merged rows too):
    whether its values given to fit were compared with what was loaded, so that no
    ``changed_after_loading`` mark on its columns means none was found, and how many of
    its witness rows were (for a source reached through merges, the merged rows of
    ``compared_in``: the merges whose rows were compared, its values given to them
    compared too, per the run's ``rows_compared`` entries ``through`` a merge; a run
    recorded before those were kept counts every merge's). Where they were not, ``note``
    says why: then nothing shows that its columns hold the values loaded, nor that its
    missing counts are the files'."""
    top = {int(c) for c, n in training.items() if n}
    reached = {c: ancestor_codes(run.sources, [c]) for c in top}
    marked = {code for code, _ in marks}
    by_code, through = None, {}
    if run.rows_compared is not None:
        by_code = {e["code"]: e["rows"] for e in run.rows_compared if "through" not in e}
        for e in run.rows_compared:
            if "through" in e:
                through[e["code"], e["through"]] = e["rows"]
    out = {}
    for code in sorted(run.sources):
        via = sorted(c for c in top if code in reached[c] and c != code)
        if code not in top and not via:
            continue  # no row of it reached the model
        if run.changed_columns is None:
            out[code] = {"checked": False, "rows_compared": None, "note": NOT_RECORDED}
            continue
        if by_code is None:
            out[code] = (
                {"checked": True, "rows_compared": None}
                if code in marked
                else {"checked": False, "rows_compared": None, "note": COMPARED_UNKNOWN}
            )
            continue
        own = code in top
        # through a merge: its rows compared where this source's values given to it were
        # (recorded per merge since; before, every merge's rows counted)
        rows = {c: through.get((code, c), by_code.get(c, 0)) for c in via}
        n = by_code.get(code, 0) if own else sum(rows.values())
        entry = {"checked": n > 0, "rows_compared": n}
        if not own:
            entry["compared_in"] = [run.sources[c].source_id for c in via if rows[c]]
            if not entry["compared_in"]:
                del entry["compared_in"]
        if not n:
            unseen = not own and any(by_code.get(c) for c in via)
            entry["note"] = NOT_COMPARED_THROUGH if unseen else NOT_COMPARED
        out[code] = entry
    return out


#: What a source's ``repeated_rows`` note says of its statistics where they count the
#: rows given to fit, copies included, as the model saw them.
COPIES_COUNTED = "its label balance and missing counts count every copy, as the model saw them"
#: What it says instead where a sampler in the pipeline made the training rows from the
#: rows given to fit (their numbers differ): the statistics are of the rows given to fit.
NOT_COUNTED = (
    "its label balance and missing counts are of the {} rows given to fit, not of the "
    "training rows a step of the pipeline (a sampler) made from them"
)


def repeated_rows(n_rows, n_distinct, given=None):
    """``{"repeated_rows": ...}`` where a source's ``n_rows`` training rows hold only
    ``n_distinct`` distinct rows of it (a row given to fit more than once: oversampling,
    ``pd.concat`` of overlapping parts), else ``{}``. The statistics counted at fit time
    count every copy given to fit; where ``given`` (the rows of it given to fit, as its
    statistics counted them) is not ``n_rows``, a sampler in the pipeline made the
    training rows from them, and the note says the statistics are of the rows given to
    fit (report format 16; the report and the exports say the same)."""
    if n_rows <= n_distinct:
        return {}
    counted = COPIES_COUNTED if given is None or given == n_rows else NOT_COUNTED.format(given)
    return {
        "repeated_rows": {
            "distinct_rows": int(n_distinct),
            "copies": int(n_rows - n_distinct),
            "note": (
                f"the {n_rows} training rows of this source hold {n_distinct} distinct "
                f"rows: rows repeat ({n_rows - n_distinct} are copies of others: "
                f"oversampling, or rows given to fit more than once); {counted}"
            ),
        }
    }


def _given_to_fit(run):
    """``{source code: rows given to fit}`` for the sources whose rows were given to fit
    themselves (not only through merges), as their statistics counted them at fit; a
    record erased from the store since (``redacted``) counts as none."""
    stats = run.source_stats or {}
    return {
        r["code"]: int(r["n_rows"])
        for r in stats.get("sources", [])
        if "redacted" not in r and "n_rows" in r
    }
