"""Encoding one run as the Parquet export's tables (and checking what would not read
back equal)."""

import json

import numpy as np

from .._lineage._digest_schemes import digest_facts, exact
from .._lineage._ids import codes_of, lines_of
from .._lineage._row_sets import to_json
from ..exceptions import LineageError


def _json(value, what, run_id):
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise LineageError(
            f"run {run_id}: {what} is not JSON ({exc}); it cannot be exported"
        ) from None


# -- encoding -------------------------------------------------------------------------------
def _row_table(pa, schema, run, ids):
    ids = np.asarray(ids, dtype=np.int64)
    codes = codes_of(ids)
    unique = np.unique(codes)
    missing = [int(c) for c in unique if int(c) not in run.sources]
    if missing:
        raise LineageError(
            f"run {run.run_id}: row ids name source code(s) {missing[:5]}, which the run "
            "has no source for; it cannot be exported"
        )
    # Versions of one source share a source_id: the dictionary holds each name once.
    names, which = np.unique(
        np.asarray([run.sources[int(c)].source_id for c in unique], dtype=object),
        return_inverse=True,
    )
    label = which[np.searchsorted(unique, codes)].astype(np.int32)
    n = ids.size
    columns = [
        pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, np.int32)), pa.array([run.run_id], pa.string())
        ),
        pa.array(np.arange(n, dtype=np.int64)),
        pa.array(ids),
        pa.array(codes),
        pa.array(lines_of(ids)),
        pa.DictionaryArray.from_arrays(pa.array(label), pa.array(list(names), pa.string())),
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _parents_table(pa, schema, source):
    parents = source.parents
    n = parents.n_rows
    if n != source.n_rows:
        raise LineageError(
            f"{source.kind} source {source.source_id!r} has {source.n_rows} rows but parents "
            f"for {n}; it cannot be exported"
        )
    return pa.Table.from_arrays(
        [
            pa.array([source.source_id] * n, pa.string()),
            pa.array([source.sha256] * n, pa.string()),
            pa.array(np.arange(1, n + 1, dtype=np.int64)),
            pa.LargeListArray.from_arrays(
                pa.array(np.asarray(parents.indptr, np.int64)),
                pa.array(np.asarray(parents.ids, np.int64)),
            ),
        ],
        schema=schema,
    )


def _digest_columns(source):
    """``digest_scheme``, ``digest_exact`` and ``digest_note`` of a source's row: every
    source's scheme, stated (the record holds it only where it cannot be inferred)."""
    facts = digest_facts(source)
    return {
        "digest_scheme": facts["digest_scheme"],
        "digest_exact": exact(facts["digest_scheme"]),
        "digest_note": facts["digest_note"],
    }


def _encode(pa, schemas, run):
    """The tables of one run, and ``{source key: (parents table, digest)}``."""
    rid = run.run_id
    for code, source in run.sources.items():
        if int(code) != source.code:
            raise LineageError(
                f"run {rid}: source {source.source_id!r} is kept under code {code} but "
                f"records code {source.code}; it cannot be exported"
            )
    leaf_sources, through = run.feature_sources(), run.feature_aggregates()
    sources, parents = [], {}
    for code in sorted(run.sources):
        s = run.sources[code]
        derived = s.derived
        columns_from = None
        if derived:
            columns_from = [
                (
                    str(column),
                    [{"parent_code": int(c), "parent_column": str(pc)} for c, pc in refs],
                )
                for column, refs in (s.columns_from or {}).items()
            ]
        sources.append(
            {
                "run_id": rid,
                "code": int(code),
                "source_id": s.source_id,
                "uri": s.uri,
                "sha256": s.sha256,
                "n_rows": int(s.n_rows),
                "columns": list(s.columns),
                "dtypes": list(s.dtypes),
                "loaded_at": s.loaded_at,
                "kind": s.kind,
                "max_line": int(s.max_line),
                "parent_codes": [int(c) for c in s.parent_codes] if derived else None,
                "columns_from": columns_from,
                "has_parents": s.parents is not None,
                "other_reads": (
                    _json(list(s.other_reads), "the reads of a source", rid)
                    if s.other_reads
                    else None
                ),
                **_digest_columns(s),
                "encoding": s.encoding,
            }
        )
        if s.parents is not None:
            digest = s.parents.digest().hexdigest()
            parents[s.key] = (_parents_table(pa, schemas["parents"], s), digest)
    ops = [
        {
            "run_id": rid,
            "position": k,
            "name": op.name,
            "class": op.cls,
            "params": _json(op.params, f"the parameters of op {op.name!r}", rid),
            "fingerprint": op.fingerprint,
            "features_in": list(op.features_in),
            "features_out": list(op.features_out),
            "sources": None if op.sources is None else list(op.sources),
            # JSON [[source_id, sha256], ...]; null for an op of every row (absent from
            # folders written before ops kept them)
            "source_keys": None if op.source_keys is None else json.dumps(op.source_keys),
            # JSON (sktraceprop._lineage._row_sets); null where every row of its sources
            # went through (absent from folders written before ops kept them)
            "rows": None if op.rows is None else json.dumps(to_json(op.rows)),
        }
        for k, op in enumerate(run.ops)
    ]
    features = [
        {
            "run_id": rid,
            "position": k,
            "feature": feature,
            "columns": None if columns is None else list(columns),
            "sources": leaf_sources[feature],
            "aggregates": through.get(feature, []),
        }
        for k, (feature, columns) in enumerate(run.feature_lineage.items())
    ]
    has_input = run.input_row_ids is not None
    runs = [
        {
            "run_id": rid,
            "created_at": run.created_at,
            "estimator": run.estimator,
            "params": _json(run.params, "the estimator's parameters", rid),
            "versions": _json(run.versions, "the library versions", rid),
            "n_samples": run.n_samples,
            "n_input_rows": int(len(run.input_row_ids)) if has_input else None,
            "model_fingerprint": run.model_fingerprint,
            "notes": list(run.notes),
            "purpose": run.purpose,
            "name": run.name,
            "tags": _json(run.tags, "the run's tags", rid),
            "parent_run_id": run.parent_run_id,
            "source_stats": _json(run.source_stats, "the per-source statistics", rid),
            "selection": (
                None
                if run.selection is None
                else _json(run.selection, "the model-selection record", rid)
            ),
            "search_role": (run.selection or {}).get("role"),
            "search_id": (run.selection or {}).get("search_id"),
            "fit_params": (
                _json(run.fit_params, "the fit parameters' record", rid)
                if run.fit_params
                else None
            ),
            "renamed_columns": (
                _json(run.renamed_columns, "the renamed columns' record", rid)
                if run.renamed_columns
                else None
            ),
            "attached_columns": (
                _json(run.attached_columns, "the attached columns' record", rid)
                if run.attached_columns
                else None
            ),
            "changed_columns": (
                None
                if run.changed_columns is None
                else _json(run.changed_columns, "the changed columns' record", rid)
            ),
            "rows_compared": (
                None
                if run.rows_compared is None
                else _json(run.rows_compared, "the rows compared record", rid)
            ),
            "fingerprint_scheme": run.fingerprint_scheme,
        }
    ]
    tables = {
        name: pa.Table.from_pylist(records, schema=schemas[name])
        for name, records in (
            ("runs", runs),
            ("sources", sources),
            ("ops", ops),
            ("features", features),
        )
    }
    tables["rows"] = _row_table(pa, schemas["rows"], run, run.row_ids)
    tables["input_rows"] = _row_table(
        pa, schemas["input_rows"], run, run.input_row_ids if has_input else np.empty(0, np.int64)
    )
    return tables, parents


def _differences(run, back):
    a, b = run.to_dict(), back.to_dict()
    fields = [k for k in a if a[k] != b.get(k)]
    if "sources" not in fields and run.sources != back.sources:
        fields.append("merge/aggregate parents")
    if not np.array_equal(run.row_ids, back.row_ids):
        fields.append("row_ids")
    if (run.input_row_ids is None) != (back.input_row_ids is None) or (
        run.input_row_ids is not None and not np.array_equal(run.input_row_ids, back.input_row_ids)
    ):
        fields.append("input_row_ids")
    return fields
