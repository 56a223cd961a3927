"""The hash chain: audit events, and the digests that put every run and source under it.

Every event holds the SHA-256 of its predecessor. Saving a run appends, in the same
transaction, a ``store.source`` event for each source the store did not hold yet and a
``store.run`` event; each holds the digest of what was stored:

- run digest: SHA-256 of ``"sktraceprop-run-2\\n" + record + "\\n" + R + "\\n" + I``, where
  ``record`` is the run's canonical JSON (:func:`canonical_json` of
  :meth:`Lineage.to_dict <sktraceprop.Lineage.to_dict>`, as stored), ``R`` the hex
  SHA-256 of its row ids as little-endian int64 and ``I`` that of its input row ids
  (``-`` when there are none);
- source digest: SHA-256 of ``"sktraceprop-source-2\\n" + record + "\\n" + P``, with ``P``
  the hex SHA-256 of the merge or aggregate parents flattened (offsets, then parent
  ids) as little-endian int64, or ``-``.

So a run, a source, or a row id edited or deleted after it was stored no longer matches
its event, and an event edited or deleted breaks the chain: both are found and named by
``verify()``. What a chain cannot show alone (events cut from its end, a chain
re-computed after an edit) signed checkpoints show (see :mod:`._checkpoint`).
"""

import hashlib
import json

import numpy as np

from .._lineage._source import utc_now

GENESIS = "0" * 64
#: Kinds of the events the store writes itself (refused from ``append_event``).
RUN_EVENT = "store.run"
SOURCE_EVENT = "store.source"
RESERVED_PREFIX = "store."


def canonical_json(value):
    """The one JSON text of ``value`` that digests and signatures are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def ids_sha256(ids):
    """Hex SHA-256 of an int64 array as little-endian bytes; ``"-"`` for None."""
    if ids is None:
        return "-"
    return hashlib.sha256(np.ascontiguousarray(ids, dtype="<i8")).hexdigest()


def run_digest(record_text, row_ids, input_row_ids):
    body = f"sktraceprop-run-2\n{record_text}\n{ids_sha256(row_ids)}\n{ids_sha256(input_row_ids)}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def source_digest(record_text, parents_flat):
    body = f"sktraceprop-source-2\n{record_text}\n{ids_sha256(parents_flat)}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def event_hash(prev_hash, record):
    """SHA-256 linking an event to its predecessor."""
    body = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def payload_text(payload):
    """``(text, copy)``: the payload as stored, and an independent copy of it.

    The copy is what the event holds, so a caller mutating its dict afterwards changes
    neither the log nor the returned event.
    """
    try:
        text = json.dumps(payload, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"an audit event payload must be JSON-serialisable (dicts with str keys, "
            f"lists, str, int, float, bool, None): {exc}"
        ) from None
    return text, json.loads(text)


def make_event(prev_hash, kind, payload, run_id, seq):
    record = {
        "seq": seq,
        "run_id": run_id,
        "created_at": utc_now(),
        "kind": kind,
        "payload": payload,
    }
    return {**record, "prev_hash": prev_hash, "hash": event_hash(prev_hash, record)}


def stored_event_matches(row):
    """Whether a stored event row ``(seq, run_id, created_at, kind, payload text,
    prev_hash, hash)`` matches its own hash (its link is not checked here)."""
    seq, run_id, created_at, kind, text, prev_hash, stored = row
    try:
        payload = json.loads(text)
    except (TypeError, ValueError):
        return False
    record = {
        "seq": seq,
        "run_id": run_id,
        "created_at": created_at,
        "kind": kind,
        "payload": payload,
    }
    return event_hash(prev_hash, record) == stored
