"""Saving a run: its record (sealed), row ids and new sources, under the hash chain.

Everything is prepared and checked before the write transaction: the record sealed
(:mod:`._sealed`) and serialised, row ids and merge parents encoded, the digests made.
In one transaction, a ``store.source`` event for each source the store does not hold
yet, then the run's ``store.run`` event, each with the digest of what is stored beside
it; a run id already stored is refused (runs are append-only).
"""

import json
import warnings

import numpy as np

from .._lineage._source import Source, earlier_scheme_message, legacy_digest
from ..exceptions import CorruptStoreError, LineageWarning, StoreError
from ..utils._stack import user_stacklevel
from ._append import _Chain
from ._chain import (
    RUN_EVENT,
    SOURCE_EVENT,
    canonical_json,
    check_text,
    run_digest,
    source_digest,
)
from ._saved import note_saved
from ._sealed import seal


def save_run(store, lineage):
    """See :meth:`BaseStore.save_run`."""
    store._check_writable()
    check_text(lineage.run_id, "run id")
    for source in lineage.sources.values():
        check_text(source.source_id, "source id")
    record, leaves = lineage.to_dict(), None
    if store._seals_runs:
        record, leaves = seal(record)
    record_text = canonical_json(record)
    row_ids = np.ascontiguousarray(lineage.row_ids, dtype=np.int64)
    inputs = lineage.input_row_ids
    inputs = None if inputs is None else np.ascontiguousarray(inputs, dtype=np.int64)
    digest = run_digest(record_text, row_ids, inputs)
    sources = []
    for source in lineage.sources.values():
        if source.parents is not None and source.parents.n_rows != source.n_rows:
            raise ValueError(
                f"source {source.source_id!r} has parents for {source.parents.n_rows} "
                f"rows but {source.n_rows} rows; nothing was stored"
            )
        text = canonical_json(source.to_dict())
        flat = None if source.parents is None else source.parents.to_flat()
        encoded = None if flat is None else store._encode(flat)
        sources.append((source, text, flat, source_digest(text, flat), encoded))
    stored_ids = store._encode(row_ids)
    stored_inputs = None if inputs is None else store._encode(inputs)
    n_input = None if inputs is None else int(inputs.size)
    _check_sizes(store, lineage, record_text, stored_ids, stored_inputs, sources)

    def write(writer):
        if writer.run_exists(lineage.run_id):
            raise StoreError(
                f"run {lineage.run_id} is already stored in {store!r}; runs are append-only"
            )
        chain = _Chain(store, writer)
        for source, text, flat, sdigest, parents in sources:
            if writer.source_exists(source.source_id, source.sha256):
                continue
            n_parent_ids = None if flat is None else int(flat.size - source.n_rows - 1)
            event = chain.append(
                SOURCE_EVENT,
                {
                    "source_id": source.source_id,
                    "sha256": source.sha256,
                    "n_rows": int(source.n_rows),
                    "n_parent_ids": n_parent_ids,
                    "digest": sdigest,
                },
            )
            writer.insert_source(
                source.source_id, source.sha256, text, n_parent_ids, parents, event["seq"]
            )
        event = chain.append(
            RUN_EVENT,
            {
                "digest": digest,
                "n_samples": lineage.n_samples,
                "n_input": n_input,
                "estimator": lineage.estimator,
                "purpose": lineage.purpose,
            },
            run_id=lineage.run_id,
        )
        writer.insert_run(
            lineage.run_id,
            lineage.created_at,
            record_text,
            lineage.n_samples,
            n_input,
            stored_ids,
            stored_inputs,
            event["seq"],
        )
        if leaves:
            writer.insert_leaves(lineage.run_id, leaves)
        chain.confirm()
        if not writer.run_exists(lineage.run_id):
            message = (
                f"run {lineage.run_id} was not stored as written: the database drops "
                "what is written (a trigger or rule added outside sktraceprop)"
            )
            store._refuse_writes(message)
            raise CorruptStoreError(f"{store!r}: {message}; nothing was written")
        return lineage.run_id

    def committed():
        return lineage.run_id if store._raw_run(lineage.run_id) is not None else None

    _warn_earlier_schemes(store, lineage.sources.values())
    run_id = store._transact(write, committed)
    note_saved(store, run_id)
    return run_id


def _check_sizes(store, lineage, record_text, stored_ids, stored_inputs, sources):
    """Refuse, before writing anything, a row larger than the store holds (SQLite and
    PostgreSQL: about 1 GB a value, and a row or a statement's parameters together; 8
    bytes a row id of shuffled rows of several sources, so about 125 million of them),
    naming its parts: the database's own error came after the events were made, and
    said nothing of why."""
    limit = store._max_value_bytes
    if limit is None:
        return
    rows = [
        [
            ("its record", len(record_text.encode("utf-8"))),
            ("its row ids", _size(stored_ids)),
            ("its input row ids", _size(stored_inputs)),
        ]
    ]
    for source, text, _, _, parents in sources:
        where = f"source {source.source_id!r}"
        rows.append(
            [
                (f"the record of {where}", len(text.encode("utf-8"))),
                (f"the merge parents of {where}", _size(parents)),
            ]
        )
    for parts in rows:
        total = sum(size for _, size in parts)
        if total > limit:
            named = " and ".join(f"{what} ({size:,} bytes)" for what, size in parts if size)
            raise StoreError(
                f"run {lineage.run_id} cannot be saved in {store!r}: {named} would take "
                f"{total:,} bytes, more than the {limit:,} bytes that one value, or one "
                "row, may hold there (about 1 GB in SQLite and PostgreSQL: some 125 "
                "million row ids of shuffled rows of several sources); nothing was "
                "written. Fit on fewer rows per run, or keep the lineage of such a run "
                "outside the store"
            )


def _size(value):
    return 0 if value is None else len(value)


def _warn_earlier_schemes(store, sources):
    """Warn of a new version of a source beside stored versions whose digests were made
    by an earlier scheme (see :func:`~sktraceprop._lineage._source.legacy_digest`):
    the two cannot be compared, and the store will hold both."""
    for source in sources:
        if source.digest_scheme is None or store._raw_source(*source.key) is not None:
            continue
        earlier = []
        for text in store._raw_source_versions(source.source_id):
            try:
                stored = Source.from_dict(json.loads(text))
            except (TypeError, ValueError, KeyError):
                continue  # verify() names a record that cannot be read; not for here
            if legacy_digest(stored):
                earlier.append(stored)
        if earlier:
            warnings.warn(
                earlier_scheme_message(source, earlier, f"in {store!r}"),
                LineageWarning,
                stacklevel=user_stacklevel(),
            )
