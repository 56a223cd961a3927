"""Decoding one run from the Parquet export's tables, checking them against each other
(an inconsistency is corruption)."""

import json

import numpy as np

from .._lineage._digest_schemes import KINDS, NOTES, RECORDED, digest_scheme
from .._lineage._ids import codes_of, lines_of
from .._lineage._row_sets import from_json
from .._lineage._run import Lineage, Op, attached_from, changed_from, compared_from, scheme_from
from .._lineage._source import Parents, Source
from ..exceptions import LineageError
from ._optional import require
from ._parquet_encode import _digest_columns


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
