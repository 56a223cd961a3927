"""Reading SQLite stores of schema version 1 (sktraceprop 0.1), read-only.

Version 1 kept runs outside the hash chain, and its row ids come in two layouts: the
first releases packed ``code << 40 | line`` (23-bit codes), later ones ``code << 36 |
line`` (the current layout), both under version 1. Each run is decoded in the layout
in which every id names one of the run's own sources and a line that source has;
a run valid in both layouts, or in neither, is refused rather than guessed. Old-layout
ids are re-packed into the current layout. Merge parents of the old layout were stored
as (left, right) pairs, with 0 for a missing side; such a column had gone through
float64 in pandas, which rounds ids, so pairs with a missing side are refused.
"""

import json
import zlib

import numpy as np

from .._lineage._ids import LINE_BITS, MAX_CODE, MAX_LINE
from .._lineage._run import Lineage
from .._lineage._source import Parents, Source
from ..exceptions import CorruptStoreError, StoreError, UnknownRunError
from ._audit_chain import _check_chain
from ._chain import RUN_EVENT
from ._codec import LEGACY_MAGIC, decode_ids

TABLES = ("stp_meta", "schema_version", "sources", "runs", "events")
OLD_LINE_BITS = 40


def _inflate_upto(blob, limit, what):
    """Decode a version-1 blob of unknown length, refusing more than ``limit`` ids."""
    blob = bytes(blob)
    if not blob.startswith(LEGACY_MAGIC):
        raise CorruptStoreError(f"{what} are corrupt: unknown encoding")
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(blob[len(LEGACY_MAGIC) :], 8 * limit + 1)
    except zlib.error as exc:
        raise CorruptStoreError(f"{what} are corrupt: {exc}") from None
    if len(raw) > 8 * limit or inflate.unconsumed_tail or not inflate.eof or len(raw) % 8:
        raise CorruptStoreError(
            f"{what} are corrupt: more than the {limit} ids its sources can hold, or truncated"
        )
    return np.cumsum(np.frombuffer(raw, dtype="<i8"), dtype=np.int64)


def _valid(ids, bits, sources):
    """Whether every id, split at ``bits``, names a source of the run and a line it has."""
    if ids.size == 0:
        return True
    codes = ids >> np.int64(bits)
    lines = ids & np.int64((1 << bits) - 1)
    for code in np.unique(codes):
        source = sources.get(int(code))
        if source is None:
            return False
        mine = lines[codes == code]
        if mine.min() < 1 or mine.max() > int(source.get("max_line", source["n_rows"])):
            return False
    return True


def _repack(ids, bits, what):
    if bits == LINE_BITS:
        return ids
    codes = ids >> np.int64(bits)
    lines = ids & np.int64((1 << bits) - 1)
    if ids.size and (codes.max() > MAX_CODE or lines.max() > MAX_LINE):
        raise StoreError(f"{what} do not fit the current row-id layout; refused")
    return (codes << np.int64(LINE_BITS)) | lines


def _layout(arrays, sources, name):
    ids = np.concatenate([a for a in arrays if a is not None])
    new, old = _valid(ids, LINE_BITS, sources), _valid(ids, OLD_LINE_BITS, sources)
    if new and old and ids.size:
        raise StoreError(
            f"{name}: its row ids name valid lines of its sources in both the old "
            "(code << 40) and the current (code << 36) layout; it is refused rather than "
            "guessed"
        )
    if new:
        return LINE_BITS
    if old:
        return OLD_LINE_BITS
    raise CorruptStoreError(f"{name}: its row ids name no source of the run in either layout")


def load_run(store, run_id):
    rows = store._query(
        "SELECT record, n_samples, row_ids, input_row_ids FROM runs WHERE run_id = ?", (run_id,)
    )
    if not rows:
        raise UnknownRunError(f"no run {run_id!r} in {store!r}")
    record_text, n_samples, blob, input_blob = rows[0]
    name = f"run {run_id} (schema version 1)"
    if any(row[3] == RUN_EVENT for row in store._raw_events(run_id)):
        # only version 2 writes them: a version-2 store rewritten as version 1
        raise store._corrupt(
            f"{name} has a {RUN_EVENT} audit event, which only schema version 2 writes: the "
            "store's version was altered outside sktraceprop; the run is not read unchecked",
            run_id=run_id,
        )
    try:
        record = json.loads(record_text)
        entries = {int(s["code"]): s for s in record["sources"]}
        if (record["run_id"], int(record["n_samples"])) != (run_id, n_samples):
            raise ValueError("its record and its row disagree on the run id or row count")
        limit = max(int(n_samples), sum(int(s["n_rows"]) for s in entries.values()))
        row_ids = decode_ids(blob, n_samples, f"row ids of {name}")
        inputs = None if input_blob is None else _inflate_upto(input_blob, limit, name)
        bits = _layout([row_ids, inputs], entries, name)
        row_ids = _repack(row_ids, bits, f"row ids of {name}")
        inputs = None if inputs is None else _repack(inputs, bits, f"input row ids of {name}")
        sources = {
            code: Source.from_dict(entry, parents=_parents(store, entry, entries, bits, name))
            for code, entry in entries.items()
        }
        run = Lineage.from_dict(record, row_ids, inputs, sources=sources)
        if run.fingerprint_scheme is None:
            # 0.1 stores are read-only and predate fingerprint scheme 2: certainly 1
            run.fingerprint_scheme = 1
        return run
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise store._corrupt(f"{name} is corrupt: {exc!r}", run_id=run_id) from None
    except CorruptStoreError as exc:
        raise store._corrupt(str(exc), run_id=run_id) from None


def _parents(store, entry, entries, bits, name):
    if entry.get("kind") not in ("merge", "aggregate"):
        return None
    found = store._query(
        "SELECT parents FROM sources WHERE source_id = ? AND sha256 = ?",
        (entry["source_id"], entry["sha256"]),
    )
    if not found or found[0][0] is None:
        return None
    n_rows = int(entry["n_rows"])
    what = f"merge parents of source {entry['source_id']!r} in {name}"
    if bits == OLD_LINE_BITS:
        pairs = _inflate_upto(found[0][0], 2 * n_rows, what)
        if pairs.size != 2 * n_rows:
            raise CorruptStoreError(f"{what} are corrupt: not one (left, right) pair per row")
        pairs = pairs.reshape(-1, 2)
        if np.any(pairs == 0):
            raise StoreError(
                f"{what} were stored by sktraceprop 0.1 for an outer merge: its ids went "
                "through float64 and may be rounded, so they are refused rather than read"
            )
        if not _valid(pairs.ravel(), OLD_LINE_BITS, entries):
            raise CorruptStoreError(f"{what} name no source of the run")
        return Parents.from_columns(*(_repack(pairs[:, k], bits, what) for k in (0, 1)))
    total = sum(int(s["n_rows"]) for s in entries.values())
    flat = _inflate_upto(found[0][0], n_rows + 1 + 2 * n_rows + total, what)
    parents = Parents.from_flat(flat, n_rows)
    if not _valid(parents.ids, LINE_BITS, entries):
        raise CorruptStoreError(f"{what} name no source of the run")
    return parents


def audit(store):
    """``(problems, counts)``: the event chain and every run of a version-1 store."""
    problems, report = [], {"events": 0, "runs": 0, "last_seq": 0, "chain_head": None}
    _, run_events, source_events, _ = _check_chain(store, set(), problems, report)
    for seq, _ in (*run_events.values(), *source_events.values()):
        problems.append(
            {
                "check": "schema",
                "seq": seq,
                "message": f"audit event {seq} is a store's own event, which only schema "
                "version 2 writes: the store's version was altered outside sktraceprop",
            }
        )
    for run_id, *_ in store._raw_run_list():
        report["runs"] += 1
        try:
            load_run(store, run_id)
        except StoreError as exc:
            problems.append(
                {"check": "runs", "run_id": run_id, "message": f"cannot be loaded: {exc}"}
            )
    return problems, report
