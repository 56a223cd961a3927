"""The sources' trust fields in the exports: the compliance report's figures, as is.

What the report says per source (whether its values were compared with what was
loaded, its columns changed after loading, its rows that repeat) is computed once, by
:func:`sktraceprop._lineage._trust.source_trust`; this module only spells it for
OpenLineage (a run facet, camelCase keys) and OpenTelemetry (flat span attributes), so
that no export shows a source as clean where the report does not. The exports list one
entry per source code, as reports of format 18 and earlier did; a report of format 19
folds the codes of one file (an alias from another process, a share spelled in another
case) into one entry whose counts are the sums of these (its ``codes`` name them).
Each entry of a code of such a file names the file's codes and carries the report's
folded check of it (:func:`sktraceprop._lineage._trust_files.file_checks`): an alias
code whose own rows were not compared says so, and that the file was checked through
the rows of another of its codes, as the report does.
"""

import json

from .._lineage._trust import fit_counts_remark, source_trust
from .._lineage._trust_files import file_checks

#: Report key -> OpenLineage key, for the keys the facet holds.
_CAMEL = {
    "checked": "checked",
    "rows_compared": "rowsCompared",
    "compared_in": "comparedIn",
    "note": "note",
    "input_column": "inputColumn",
    "rows_checked": "rowsChecked",
    "rows_changed": "rowsChanged",
    "missing_filled": "missingFilled",
    "rows_not_known": "rowsNotKnown",
    "found_in": "foundIn",
    "distinct_rows": "distinctRows",
    "copies": "copies",
    "counted_at_fit": "countedAtFit",
}


def _camel(entry):
    return None if entry is None else {_CAMEL[k]: v for k, v in entry.items()}


def openlineage_sources(run):
    """The ``sources`` of the ``sktraceprop_sourceTrust`` facet: per source of ``run``,
    its code, id, training rows, ``changesAfterLoading`` (null: no row of it reached
    the model), ``changedColumns`` and ``repeatedRows`` (null: none repeat). For an
    unlearner's copy of a run, each ``changesAfterLoading`` and changed column holds
    ``countedAtFit``: its counts are the fit's, removed rows included. A code of a file
    whose rows carry several codes (an alias) also holds ``fileCodes`` (every code of
    the file) and ``fileChangesAfterLoading`` (the file's check over all of them, as
    the compliance report's one entry for the file gives it)."""
    trust = source_trust(run)
    files = file_checks(run, trust)
    out = []
    for code, facts in trust.items():
        entry = {
            "code": int(code),
            "sourceId": run.sources[code].source_id,
            "trainingRows": facts["training_rows"],
            "changesAfterLoading": _camel(facts.get("changes_after_loading")),
            "changedColumns": [
                {"column": str(column), **_camel(mark)}
                for column, mark in facts["changed_columns"].items()
            ],
            "repeatedRows": _camel(facts.get("repeated_rows")),
        }
        if code in files:
            codes, check = files[code]
            entry["fileCodes"] = codes
            entry["fileChangesAfterLoading"] = _camel(check)
        out.append(entry)
    return out


def span_attributes(run):
    """Fit-span attributes of the same figures, as lists parallel to
    ``sktraceprop.sources.code`` (attribute values are flat lists of one type).

    Per source: ``training_rows`` and ``distinct_training_rows`` (fewer: rows repeat),
    ``changes_checked`` (false also where no row of it reached the model, or the run did
    not record it), ``rows_compared`` (-1 where not known or no row of it reached the
    model) and ``changes_after_loading`` (the report's entry as JSON; ``"null"``: no row
    of it reached the model). Per changed column, parallel lists ``changed_columns.*``:
    the source code, the loaded column, the rows checked, changed, missing values
    filled, rows not known, and the whole mark as JSON. For an unlearner's copy of a run,
    whose counts are those of the fit (removed rows included),
    ``sktraceprop.changes_after_loading.counted_at_fit`` says so (the remark each JSON
    entry holds too, see :func:`~sktraceprop._lineage._trust.counted_at_fit`).

    Where a file's rows carry several codes (an alias), parallel lists say per source
    what the compliance report's one entry says of its file: ``file_codes`` (the file's
    codes, comma-separated; a source of one code, its own), ``file_changes_checked``
    and ``file_changes_after_loading`` (the file's check over all its codes, as JSON).
    """
    trust = source_trust(run)
    codes = sorted(trust)
    checks = [trust[c].get("changes_after_loading") for c in codes]
    attributes = {
        "sktraceprop.sources.training_rows": [trust[c]["training_rows"] for c in codes],
        "sktraceprop.sources.distinct_training_rows": [
            trust[c].get("repeated_rows", {}).get("distinct_rows", trust[c]["training_rows"])
            for c in codes
        ],
        "sktraceprop.sources.changes_checked": [bool(e and e["checked"]) for e in checks],
        "sktraceprop.sources.rows_compared": [
            -1 if e is None or e["rows_compared"] is None else int(e["rows_compared"])
            for e in checks
        ],
        "sktraceprop.sources.changes_after_loading": [
            json.dumps(e, sort_keys=True) for e in checks
        ],
    }
    files = file_checks(run, trust)
    if files:
        whole = [files[c][1] if c in files else e for c, e in zip(codes, checks)]
        attributes["sktraceprop.sources.file_codes"] = [
            ",".join(map(str, files[c][0] if c in files else [int(c)])) for c in codes
        ]
        attributes["sktraceprop.sources.file_changes_checked"] = [
            bool(e and e["checked"]) for e in whole
        ]
        attributes["sktraceprop.sources.file_changes_after_loading"] = [
            json.dumps(e, sort_keys=True) for e in whole
        ]
    marks = [(c, col, m) for c in codes for col, m in trust[c]["changed_columns"].items()]
    columns = {
        "code": [int(c) for c, _, _ in marks],
        "column": [str(col) for _, col, _ in marks],
        "rows_checked": [int(m["rows_checked"]) for _, _, m in marks],
        "rows_changed": [int(m["rows_changed"]) for _, _, m in marks],
        "missing_filled": [int(m["missing_filled"]) for _, _, m in marks],
        "rows_not_known": [int(m.get("rows_not_known", 0)) for _, _, m in marks],
        "mark": [json.dumps(m, sort_keys=True) for _, _, m in marks],
    }
    attributes.update({f"sktraceprop.changed_columns.{k}": v for k, v in columns.items()})
    remark = fit_counts_remark(run)
    if remark is not None:
        attributes["sktraceprop.changes_after_loading.counted_at_fit"] = remark
    return attributes
