"""Loading a stored run, bounded and checked against its digests in the hash chain.

A run's row ids and its sources' merge parents are decoded only up to the counts the
rows declare (:mod:`._codec`); the record, row ids and parents must match the digests
their ``store.run`` and ``store.source`` events hold, and each event must be its own
and unaltered, so an altered run is never returned. :func:`read_run` and
:func:`decode_source` are also what the whole-store audit (:mod:`._audit`) decodes with.
"""

import json

from .._lineage._run import Lineage
from .._lineage._run_decode import scheme_from
from .._lineage._source import DERIVED_KINDS, Parents, Source
from ..exceptions import CorruptStoreError, UnknownRunError
from ._chain import (
    RUN_EVENT,
    SOURCE_EVENT,
    loads_stored,
    run_digest,
    source_digest,
    stored_event_matches,
    text_problem,
)
from ._codec import decode_ids
from ._sealed import is_sealed
from ._sealed_runs import unseal_stored


def load_run(store, run_id):
    """See :meth:`BaseStore.load_run`."""
    if not isinstance(run_id, str) or text_problem(run_id):
        # no run has such an id (and the database could not be asked for it)
        raise UnknownRunError(f"no run {run_id!r} in {store!r}")
    with store._snapshot():
        lineage, digest, event_seq, source_events = read_run(store, run_id, cache=None)
        check_event(store, event_seq, RUN_EVENT, digest, run_id=run_id)
        for key, (seq, sdigest) in source_events.items():
            check_event(store, seq, SOURCE_EVENT, sdigest, source_key=key)
    return lineage


def load_scheme(store, run_id):
    """See :meth:`BaseStore._fingerprint_scheme`: the scheme of the run's record as
    :func:`load_run` reads it, the record and row ids checked against its audit event,
    without decoding its sources or building the run."""
    if not isinstance(run_id, str) or text_problem(run_id):
        raise UnknownRunError(f"no run {run_id!r} in {store!r}")
    with store._snapshot():
        record_text, record, row_ids, inputs, event_seq = _read_row(store, run_id)
        digest = run_digest(record_text, row_ids, inputs)
        check_event(store, event_seq, RUN_EVENT, digest, run_id=run_id)
    try:
        return scheme_from(record.get("fingerprint_scheme"))
    except ValueError as exc:  # (as Lineage.from_dict refuses it in load_run)
        raise store._corrupt(
            f"run {run_id}: its record is not readable ({exc!r})", run_id=run_id
        ) from None


def _read_row(store, run_id):
    """``(record_text, record, row_ids, input_row_ids, event_seq)`` of a stored run,
    its row ids decoded up to the counts the row declares."""
    row = store._raw_run(run_id)
    if row is None:
        raise UnknownRunError(f"no run {run_id!r} in {store!r}")
    record_text, n_samples, n_input, blob, input_blob, event_seq = row
    name = f"run {run_id}"
    try:
        record = json.loads(record_text)
        declared = (record["run_id"], int(record["n_samples"]))
    except (TypeError, ValueError, KeyError) as exc:
        raise store._corrupt(
            f"{name}: its record is not readable ({exc!r})", run_id=run_id
        ) from None
    if declared != (run_id, n_samples):
        raise store._corrupt(
            f"{name}: its record says run {declared[0]} with {declared[1]} rows; its row "
            f"says {run_id} with {n_samples}",
            run_id=run_id,
        )
    try:
        row_ids = decode_ids(blob, n_samples, f"row ids of {name}")
        inputs = None
        if n_input is not None:
            inputs = decode_ids(input_blob, n_input, f"input row ids of {name}")
        elif input_blob is not None:
            raise CorruptStoreError(f"{name} has input row ids but declares none")
    except CorruptStoreError as exc:
        raise store._corrupt(str(exc), run_id=run_id) from None
    return record_text, record, row_ids, inputs, event_seq


def read_run(store, run_id, cache):
    """``(lineage, digest, event_seq, {source key: (event_seq, digest)})``, bounded."""
    record_text, record, row_ids, inputs, event_seq = _read_row(store, run_id)
    name = f"run {run_id}"
    if is_sealed(record):
        record = unseal_stored(store, run_id, record)
    sources, source_events = {}, {}
    for entry in record.get("sources", ()):
        key = (entry.get("source_id"), entry.get("sha256"))
        found = None if cache is None else cache.get(key)
        if found is None:
            found = read_source(store, *key)
            if cache is not None:
                cache[key] = found
        parents, sdigest, sseq, rows = found
        # A file's rows depend on the read (nrows, usecols...): another process may
        # have stored another read of the same bytes. Derived rows are laid out by
        # their stored parents, so their count must match.
        if (parents is not None or entry.get("kind") in DERIVED_KINDS) and rows != entry.get(
            "n_rows"
        ):
            raise store._corrupt(
                f"{name}: source {key[0]!r} holds {rows} rows; the run says {entry.get('n_rows')}",
                run_id=run_id,
            )
        source_events[key] = (sseq, sdigest)
        try:
            sources[int(entry["code"])] = Source.from_dict(entry, parents=parents)
        except (TypeError, ValueError, KeyError) as exc:
            raise store._corrupt(
                f"{name}: source {key[0]!r} is not readable ({exc!r})", run_id=run_id
            ) from None
    try:
        lineage = Lineage.from_dict(record, row_ids, inputs, sources=sources)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise store._corrupt(
            f"{name}: its record is not readable ({exc!r})", run_id=run_id
        ) from None
    return lineage, run_digest(record_text, row_ids, inputs), event_seq, source_events


def read_source(store, source_id, sha256):
    """``(parents or None, digest, event_seq, n_rows)`` of a stored source."""
    row = store._raw_source(source_id, sha256)
    if row is None:
        raise store._corrupt(
            f"source {source_id!r} (sha256 {str(sha256)[:12]}...) is missing from the store",
            source_id=source_id,
        )
    return decode_source(store, source_id, sha256, *row)


def decode_source(store, source_id, sha256, record_text, n_parent_ids, blob, event_seq):
    """Decode a source row, merge parents bounded by the counts it declares."""
    name = f"source {source_id!r} (sha256 {str(sha256)[:12]}...)"
    try:
        stored = json.loads(record_text)
        rows = int(stored["n_rows"])
        if (stored["source_id"], stored["sha256"]) != (source_id, sha256):
            raise ValueError("its record names another source")
    except (TypeError, ValueError, KeyError) as exc:
        raise store._corrupt(f"{name}: its record is not readable ({exc})") from None
    parents = flat = None
    if blob is not None or n_parent_ids is not None:
        try:
            if n_parent_ids is None or blob is None or int(n_parent_ids) < 0 or rows < 0:
                raise CorruptStoreError(f"merge parents of {name} are incomplete")
            flat = decode_ids(blob, rows + 1 + int(n_parent_ids), f"parents of {name}")
            parents = Parents.from_flat(flat, rows)
        except (CorruptStoreError, ValueError) as exc:
            raise store._corrupt(f"{name}: {exc}", source_id=source_id) from None
    return parents, source_digest(record_text, flat), event_seq, rows


def check_event(store, seq, kind, digest, run_id=None, source_key=None):
    """The event a run or source row points at must be its own, unaltered."""
    row = None if seq is None else store._raw_event(seq)
    if run_id is not None:
        what, where = f"run {run_id}", {"run_id": run_id}
    else:
        what = f"source {source_key[0]!r} (sha256 {str(source_key[1])[:12]}...)"
        where = {"source_id": source_key[0]}
    if row is None:
        raise store._corrupt(
            f"{what} has no audit event: it was inserted outside sktraceprop, or its "
            "event was removed",
            **where,
        )
    payload = loads_stored(row[4]) if stored_event_matches(row) else None
    if payload is None:
        raise store._corrupt(f"{what}: its audit event {seq} was altered", **where)
    if (
        row[3] != kind
        or not isinstance(payload, dict)
        or (run_id is not None and row[1] != run_id)
    ):
        raise store._corrupt(f"{what}: audit event {seq} is not its event", **where)
    if source_key is not None and (
        payload.get("source_id"),
        payload.get("sha256"),
    ) != tuple(source_key):
        raise store._corrupt(f"{what}: audit event {seq} is not its event", **where)
    if payload.get("digest") != digest:
        raise store._corrupt(
            f"{what} was altered after it was stored: it no longer matches the digest "
            f"in audit event {seq}",
            **where,
        )
