"""Runs as Parquet tables: sources, ops, feature lineage and row lineage, typed.

An export is a folder of seven Parquet files; every table but ``parents`` has a
``run_id`` column, so one folder holds one run or every run of a store:

``runs``
    One row per run: ``created_at``, ``estimator``, ``params`` and ``versions`` (JSON),
    ``n_samples``, ``n_input_rows`` (null when the final estimator saw the rows given
    to ``fit``), ``model_fingerprint``, ``notes``, ``purpose``, ``name``, ``tags``
    (JSON), ``parent_run_id``, ``source_stats`` (JSON), ``selection`` (JSON, null
    for a fit scikit-learn's model selection did not make) with its ``search_role``
    (``"cv_fold"``, ``"refit"``) and ``search_id``, and ``fit_params`` (JSON: the
    sample weights and other parameters ``fit`` was given, by digest and counts; null
    when none were), ``renamed_columns`` (JSON: input columns identified by their
    values as a loaded column under another name, ``{column: [[code, loaded column],
    ...]}``; null when none were), ``attached_columns`` (JSON: input columns identified
    by their values as another source's column attached by position, see
    ``Lineage.attached_columns``; null when none were; absent from files written before
    it was kept), ``changed_columns`` (JSON: the loaded columns found
    changed after loading, per source, with the witness rows checked, changed and
    missing values filled; ``[]`` when none was found, null when not recorded),
    ``rows_compared`` (JSON: per source of the rows given to fit, the witness rows
    compared with what was loaded, ``[{code, rows}, ...]``; null when not recorded),
    ``fingerprint_scheme`` (the scheme that made ``model_fingerprint``, as the run
    records it; null where it does not, and absent from folders written before).
``sources``
    One row per source of a run: ``code``, ``source_id``, ``uri``, ``sha256``,
    ``n_rows``, ``columns``, ``dtypes``, ``loaded_at``, ``kind``, ``max_line``; for
    merges and aggregates ``parent_codes`` and ``columns_from`` (column -> the
    ``parent_code``/``parent_column`` its values come from), and ``has_parents``; for a
    file read more than once, ``other_reads`` (JSON: the other reads' rows, columns,
    dtypes and times); ``digest_scheme`` (the scheme that made ``sha256``: ``file-bytes``,
    ``frame-2``, ``polars-1``, ``array-bytes``, ``anonymous-content``, ``derived``, or an earlier
    sktraceprop's ``frame-1``, ``array-bytes-1``, ``joblib-sha1``), ``digest_exact``
    (whether different data never share the digest: false for those three and for a
    scheme this sktraceprop does not know) and ``digest_note`` (what it names, in words:
    the compliance report's ``digest_scheme`` and ``digest_note``). Folders written
    before ``digest_note`` held ``digest_scheme`` only where the record did
    (``Source.digest_scheme``), null for every other source; they are read as before.
``parents``
    Row-level parents of derived sources, one row per derived row: ``source_id``,
    ``sha256``, ``line`` (1-based) and ``parents`` (the parent row ids: a compressed
    sparse row list, as :class:`~sktraceprop._lineage._source.Parents` holds them).
    Written once per source version, whatever number of runs use it.
``ops``
    One row per fitted step, in order: ``position``, ``name``, ``class``, ``params``
    (JSON), ``fingerprint``, ``features_in``, ``features_out``, ``sources`` (null:
    every training row), ``source_keys`` (JSON ``[[source_id, sha256], ...]``) and
    ``rows`` (JSON: the set of row ids that went through a step fitted on some rows of
    its sources only, ``Op.rows``; null where every row of its sources did).
``features``
    One row per final-estimator feature: ``columns`` (its input columns; null when
    unknown), and, derived from the sources and checked on reading, ``sources`` and
    ``aggregates`` (:meth:`~sktraceprop.Lineage.feature_sources`,
    :meth:`~sktraceprop.Lineage.feature_aggregates`).
``rows``, ``input_rows``
    One row per training row (per row given to ``fit``, where they differ):
    ``train_index`` (``input_index``), ``row_id`` (int64), ``source_code``, ``line``
    and ``source_id``. A merged row names its merge source and its line there; the
    ``parents`` table leads to the file lines.
"""

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from .._lineage._digest_schemes import KINDS, NOTES, RECORDED, digest_facts, digest_scheme, exact
from .._lineage._ids import codes_of, lines_of
from .._lineage._row_sets import from_json, to_json
from .._lineage._run import Lineage, Op, attached_from, changed_from, compared_from, scheme_from
from .._lineage._source import Parents, Source
from ..exceptions import LineageError
from ._optional import require

__all__ = ["read_parquet", "to_parquet"]

#: Version of the folder layout; reading refuses other versions.
FORMAT = 1
_META_KEY = b"sktraceprop.export"
TABLES = ("runs", "sources", "parents", "ops", "features", "rows", "input_rows")


def _pyarrow():
    pa = require("pyarrow", "parquet", "Parquet export")
    pq = require("pyarrow.parquet", "parquet", "Parquet export")
    return pa, pq


def _schemas(pa):
    from .. import __version__

    s, i64 = pa.string(), pa.int64()
    names = pa.list_(s)
    ref = pa.struct([("parent_code", i64), ("parent_column", s)])
    label = pa.dictionary(pa.int32(), s)

    def rows(position):
        return [
            ("run_id", label),
            (position, i64),
            ("row_id", i64),
            ("source_code", i64),
            ("line", i64),
            ("source_id", label),
        ]

    fields = {
        "runs": [
            ("run_id", s),
            ("created_at", s),
            ("estimator", s),
            ("params", s),
            ("versions", s),
            ("n_samples", i64),
            ("n_input_rows", i64),
            ("model_fingerprint", s),
            ("notes", names),
            ("purpose", s),
            ("name", s),
            ("tags", s),
            ("parent_run_id", s),
            ("source_stats", s),
            ("selection", s),
            ("search_role", s),
            ("search_id", s),
            ("fit_params", s),
            ("renamed_columns", s),
            ("attached_columns", s),
            ("changed_columns", s),
            ("rows_compared", s),
            ("fingerprint_scheme", i64),
        ],
        "sources": [
            ("run_id", s),
            ("code", i64),
            ("source_id", s),
            ("uri", s),
            ("sha256", s),
            ("n_rows", i64),
            ("columns", names),
            ("dtypes", names),
            ("loaded_at", s),
            ("kind", s),
            ("max_line", i64),
            ("parent_codes", pa.list_(i64)),
            ("columns_from", pa.map_(s, pa.list_(ref))),
            ("has_parents", pa.bool_()),
            ("other_reads", s),
            ("digest_scheme", s),
            ("digest_exact", pa.bool_()),
            ("digest_note", s),
        ],
        "parents": [
            ("source_id", s),
            ("sha256", s),
            ("line", i64),
            ("parents", pa.large_list(i64)),
        ],
        "ops": [
            ("run_id", s),
            ("position", i64),
            ("name", s),
            ("class", s),
            ("params", s),
            ("fingerprint", s),
            ("features_in", names),
            ("features_out", names),
            ("sources", names),
            ("source_keys", s),
            ("rows", s),
        ],
        "features": [
            ("run_id", s),
            ("position", i64),
            ("feature", s),
            ("columns", names),
            ("sources", names),
            ("aggregates", names),
        ],
        "rows": rows("train_index"),
        "input_rows": rows("input_index"),
    }
    return {
        name: pa.schema(
            columns,
            metadata={
                _META_KEY: json.dumps(
                    {"format": FORMAT, "table": name, "sktraceprop": __version__}
                )
            },
        )
        for name, columns in fields.items()
    }


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


# -- decoding -------------------------------------------------------------------------------
def _corrupt(where, message):
    return LineageError(f"{where} is not a consistent sktraceprop Parquet export: {message}")


def _row_set(text, where):
    """An op's ``rows`` from its JSON text (a malformed one is corruption)."""
    try:
        return from_json(json.loads(text))
    except ValueError as e:
        raise _corrupt(where, f"an op's rows: {e}") from None


def _decode_parents(table, where):
    """``{(source_id, sha256): Parents}`` from rows of the parents table."""
    pc = require("pyarrow.compute", "parquet", "Parquet export")
    out = {}
    if table.num_rows == 0:
        return out
    keys = table.select(["source_id", "sha256"]).to_pylist()
    order = {}
    for k, key in enumerate(keys):
        order.setdefault((key["source_id"], key["sha256"]), []).append(k)
    for key, rows in order.items():
        part = table.take(rows)
        lines = part["line"].to_numpy()
        if not np.array_equal(lines, np.arange(1, lines.size + 1)):
            raise _corrupt(where, f"the parents of {key[0]!r} are not lines 1..{lines.size}")
        lists = part["parents"].combine_chunks()
        if lists.null_count:
            raise _corrupt(where, f"the parents of {key[0]!r} have missing lists")
        lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
        indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        ids = np.asarray(lists.flatten().to_numpy(zero_copy_only=False), dtype=np.int64)
        out[key] = Parents(indptr=indptr, ids=ids)
    return out


def _source_of(d, parents, where):
    """A :class:`Source` from its row. A row with ``digest_note`` states its scheme
    (``digest_scheme``) whether or not the record holds it: the record holds it where
    the scheme cannot be inferred from the rest (a frame's ``frame-2``), and the stated
    scheme, exactness and note must be what the record gives (an edited one would
    present another digest as exact). A row of a folder written before holds the
    record's own ``digest_scheme``."""
    if "digest_note" not in d:
        return Source.from_dict(d, parents=parents)
    stated = {k: d.pop(k) for k in ("digest_scheme", "digest_exact", "digest_note")}
    scheme = stated["digest_scheme"]
    source = Source.from_dict({**d, "digest_scheme": None}, parents=parents)
    if scheme not in NOTES:
        # a scheme a later sktraceprop recorded: kept as it is, with what it says of it
        # (this one cannot check a note or an exactness it does not know)
        return Source.from_dict({**d, "digest_scheme": scheme}, parents=parents)
    if scheme != digest_scheme(source) and scheme in RECORDED:
        # a scheme only the record can say
        source = Source.from_dict({**d, "digest_scheme": scheme}, parents=parents)
    if _digest_columns(source) != stated or scheme not in KINDS.get(source.kind, (scheme,)):
        raise _corrupt(
            where,
            f"source {d['source_id']!r} states digest scheme {stated['digest_scheme']!r} "
            f"(exact: {stated['digest_exact']}) where its record gives "
            f"{_digest_columns(source)['digest_scheme']!r}, or its note is not that "
            "scheme's: it was altered",
        )
    return source


def _scheme(value, where):
    """A run's ``fingerprint_scheme`` (null, or absent from folders written before it
    was exported: not recorded)."""
    try:
        return scheme_from(value)
    except ValueError as e:
        raise _corrupt(where, str(e)) from None


def _decode_rows(table, position, expected, where):
    if table.num_rows != expected:
        raise _corrupt(where, f"{table.num_rows} rows where the run records {expected}")
    index = table[position].to_numpy()
    ids = np.asarray(table["row_id"].to_numpy(), dtype=np.int64)
    if not np.array_equal(index, np.arange(expected)):
        raise _corrupt(where, f"{position} is not 0..{expected - 1} in order")
    if not np.array_equal(table["source_code"].to_numpy(), codes_of(ids)) or not np.array_equal(
        table["line"].to_numpy(), lines_of(ids)
    ):
        raise _corrupt(where, "source_code or line disagrees with row_id")
    return ids


def _decode(tables, parents, where):
    """A :class:`Lineage` from the tables of one run (see :func:`_encode`)."""
    (record,) = tables["runs"].to_pylist()
    rid = record["run_id"]
    where = f"{where} (run {rid})"
    sources = {}
    for s in tables["sources"].to_pylist():
        d = dict(s)
        if s["columns_from"] is not None:
            d["columns_from"] = {
                column: [[r["parent_code"], r["parent_column"]] for r in refs]
                for column, refs in s["columns_from"]
            }
        d["parent_codes"] = s["parent_codes"] or ()
        d["other_reads"] = json.loads(s["other_reads"]) if s.get("other_reads") else ()
        found = None
        if s["has_parents"]:
            found = parents.get((s["source_id"], s["sha256"]))
            if found is None and s["n_rows"] == 0:
                # No rows, so the parents table holds none: nothing can be missing.
                found = Parents(indptr=np.zeros(1, np.int64), ids=np.empty(0, np.int64))
            if found is None:
                raise _corrupt(where, f"the parents of source {s['source_id']!r} are missing")
        sources[int(s["code"])] = _source_of(d, found, where)
    ops = [
        Op(
            name=o["name"],
            cls=o["class"],
            params=json.loads(o["params"]),
            fingerprint=o["fingerprint"],
            features_in=list(o["features_in"]),
            features_out=list(o["features_out"]),
            sources=None if o["sources"] is None else list(o["sources"]),
            source_keys=None if o.get("source_keys") is None else json.loads(o["source_keys"]),
            rows=None if o.get("rows") is None else _row_set(o["rows"], where),
        )
        for o in sorted(tables["ops"].to_pylist(), key=lambda o: o["position"])
    ]
    features = sorted(tables["features"].to_pylist(), key=lambda f: f["position"])
    row_ids = _decode_rows(tables["rows"], "train_index", record["n_samples"], where)
    input_row_ids = None
    if record["n_input_rows"] is not None:
        input_row_ids = _decode_rows(
            tables["input_rows"], "input_index", record["n_input_rows"], where
        )
    elif tables["input_rows"].num_rows:
        raise _corrupt(where, "input rows are present but the run records none")
    for ids in (row_ids, input_row_ids):
        if ids is not None:
            unknown = set(np.unique(codes_of(ids)).tolist()) - set(sources)
            if unknown:
                raise _corrupt(where, f"row ids name source code(s) {sorted(unknown)[:5]}")
    run = Lineage(
        run_id=rid,
        created_at=record["created_at"],
        estimator=record["estimator"],
        params=json.loads(record["params"]),
        versions=json.loads(record["versions"]),
        sources=sources,
        ops=ops,
        feature_lineage={
            f["feature"]: None if f["columns"] is None else list(f["columns"]) for f in features
        },
        row_ids=row_ids,
        input_row_ids=input_row_ids,
        model_fingerprint=record["model_fingerprint"],
        notes=list(record["notes"]),
        purpose=record.get("purpose"),
        name=record.get("name"),
        tags=json.loads(record.get("tags") or "{}"),
        parent_run_id=record.get("parent_run_id"),
        source_stats=json.loads(record.get("source_stats") or "{}"),
        selection=None if record.get("selection") is None else json.loads(record["selection"]),
        fit_params=json.loads(record.get("fit_params") or "{}"),
        renamed_columns=json.loads(record.get("renamed_columns") or "{}"),
        attached_columns=attached_from(json.loads(record.get("attached_columns") or "[]")),
        changed_columns=changed_from(
            None
            if record.get("changed_columns") is None
            else json.loads(record["changed_columns"])
        ),
        rows_compared=compared_from(
            None if record.get("rows_compared") is None else json.loads(record["rows_compared"])
        ),
        fingerprint_scheme=_scheme(record.get("fingerprint_scheme"), where),
    )
    selection = run.selection or {}
    if (record.get("search_role"), record.get("search_id")) != (
        selection.get("role"),
        selection.get("search_id"),
    ):
        raise _corrupt(where, "search_role or search_id differs from the selection record")
    leaf_sources, through = run.feature_sources(), run.feature_aggregates()
    for f in features:
        want = (leaf_sources[f["feature"]], through.get(f["feature"], []))
        if (list(f["sources"]), list(f["aggregates"])) != want:
            raise _corrupt(
                where,
                f"feature {f['feature']!r} lists sources {f['sources']} and aggregates "
                f"{f['aggregates']}; its columns lead to {want[0]} and {want[1]}",
            )
    return run


# -- public API -----------------------------------------------------------------------------
def _runs_of(run_or_store):
    from ..stores import BaseStore

    if isinstance(run_or_store, Lineage):
        yield run_or_store
    elif isinstance(run_or_store, BaseStore):
        for run_id in run_or_store.list_runs()["run_id"]:
            yield run_or_store.load_run(run_id)
    else:
        raise TypeError(
            "to_parquet exports a run (sktraceprop.Lineage, such as a traced estimator's "
            f"lineage_) or a store (sktraceprop.stores.BaseStore); got {type(run_or_store)}"
        )


def to_parquet(run_or_store, path):
    """Write a run, or every run of a store, as a folder of typed Parquet tables.

    The folder holds ``runs``, ``sources``, ``parents``, ``ops``, ``features``, ``rows``
    and ``input_rows`` tables (see :mod:`sktraceprop.exporters._parquet` for their
    columns); :func:`read_parquet` reads each run back, equal to the original. Each run
    is checked to read back equal before anything is written, and the folder appears
    only once complete.

    Parameters
    ----------
    run_or_store : Lineage or BaseStore
        One run (a traced estimator's ``lineage_``, or ``store.load_run(run_id)``), or a
        store, whose runs are read with ``list_runs()`` and ``load_run()``.
    path : str or path-like
        Folder to create; it must not exist (nothing is overwritten).

    Returns
    -------
    path : Path
        The folder written.

    Raises
    ------
    FileExistsError
        If ``path`` exists.
    LineageError
        If a run cannot be written faithfully (a parameter that is not JSON, row ids of
        sources the run does not hold, merge parents that contradict each other).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> import sktraceprop as stp
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = stp.from_numpy(np.random.default_rng(0).normal(size=(30, 2)), "doc_parquet")
    >>> run = stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    >>> folder = stp.exporters.to_parquet(run, pathlib.Path(tempfile.mkdtemp()) / "run")
    >>> stp.exporters.read_parquet(folder) == run
    True
    """
    pa, pq = _pyarrow()
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise FileExistsError(
            f"{path} exists; to_parquet writes a new folder and overwrites nothing"
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent} is not a folder")
    schemas = _schemas(pa)
    runs = _runs_of(run_or_store)
    if isinstance(run_or_store, Lineage):
        from ..stores._saved import refuse_erased

        refuse_erased(run_or_store, "a Parquet export")
    partial = path.parent / f".{path.name}.{uuid.uuid4().hex}.partial"
    partial.mkdir()
    try:
        writers = {
            name: pq.ParquetWriter(partial / f"{name}.parquet", schemas[name]) for name in TABLES
        }
        try:
            written = {}
            for run in runs:
                try:
                    tables, parents = _encode(pa, schemas, run)
                except pa.ArrowException as exc:  # a value of the wrong type
                    raise LineageError(
                        f"run {run.run_id} cannot be written to Parquet: {exc}"
                    ) from None
                decoded = {}
                for table, _ in parents.values():
                    decoded.update(_decode_parents(table, "the encoded run"))
                back = _decode(tables, decoded, "the encoded run")
                problems = _differences(run, back)
                if problems:
                    raise LineageError(
                        f"run {run.run_id} would not read back equal from Parquet (it differs "
                        f"in {', '.join(problems)}): values such as tuples, non-string keys "
                        "or numpy scalars have no exact Parquet/JSON form"
                    )
                for name, table in tables.items():
                    writers[name].write_table(table)
                for key, (table, digest) in parents.items():
                    if key in written:
                        if written[key] != digest:
                            raise LineageError(
                                f"two runs hold different row parents for source {key[0]!r} "
                                f"(sha256 {key[1][:12]}...): the export would be ambiguous"
                            )
                        continue
                    written[key] = digest
                    writers["parents"].write_table(table)
        finally:
            for writer in writers.values():
                writer.close()
        try:
            os.rename(partial, path)
        except OSError as exc:
            raise FileExistsError(
                f"{path} could not be created ({exc}); nothing was written"
            ) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return path


def _read(pq, path, name, filters=None):
    file = path / f"{name}.parquet"
    if not file.is_file():
        raise _corrupt(path, f"{file.name} is missing")
    meta = pq.read_schema(file).metadata or {}
    try:
        info = json.loads(meta[_META_KEY])
    except (KeyError, ValueError):
        raise _corrupt(path, f"{file.name} was not written by sktraceprop") from None
    if info.get("format") != FORMAT or info.get("table") != name:
        raise _corrupt(
            path,
            f"{file.name} is table {info.get('table')!r} of format {info.get('format')}; this "
            f"sktraceprop reads format {FORMAT}",
        )
    return pq.read_table(file, filters=filters)


def read_parquet(path, run_id=None):
    """Read one run back from a folder written by :func:`to_parquet`.

    The tables are checked against each other (row ids against their codes and lines,
    sources named by the rows, parents, feature sources) and an inconsistency raises.

    Parameters
    ----------
    path : str or path-like
        The folder.
    run_id : str, default=None
        The run to read; required when the folder holds several runs (the ``run_id``
        column of ``runs.parquet`` lists them).

    Returns
    -------
    run : Lineage
        Equal (``==``) to the run that was written.
    """
    pa, pq = _pyarrow()
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder written by to_parquet")
    runs = _read(pq, path, "runs")
    ids = runs["run_id"].to_pylist()
    if run_id is None:
        if len(ids) != 1:
            listed = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
            raise ValueError(
                f"{path} holds {len(ids)} runs; pass run_id= (one of: {listed or 'none'})"
            )
        run_id = ids[0]
    if ids.count(run_id) != 1:
        if run_id in ids:
            raise _corrupt(path, f"run {run_id} is recorded {ids.count(run_id)} times")
        raise KeyError(f"no run {run_id!r} in {path}")
    # A folder of one run needs no filter (and reads faster without one).
    only = [("run_id", "=", run_id)] if len(ids) > 1 else None
    pc = require("pyarrow.compute", "parquet", "Parquet export")
    tables = {"runs": runs.filter(pc.equal(runs["run_id"], run_id))}
    for name in ("sources", "ops", "features", "rows", "input_rows"):
        tables[name] = _read(pq, path, name, only)
    keys = {
        (s["source_id"], s["sha256"])
        for s in tables["sources"].select(["source_id", "sha256", "has_parents"]).to_pylist()
        if s["has_parents"]
    }
    parents = {}
    if keys:
        table = _read(pq, path, "parents", [("sha256", "in", sorted(k[1] for k in keys))])
        parents = {k: v for k, v in _decode_parents(table, path).items() if k in keys}
    return _decode(tables, parents, path)
