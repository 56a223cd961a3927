"""The store interface and the hash chain over audit events."""

import hashlib
import json
import zlib
from abc import ABC, abstractmethod

import numpy as np
import pandas as pd

from .._lineage._source import utc_now
from ..exceptions import CorruptStoreError

GENESIS = "0" * 64


def encode_ids(ids):
    """Row ids as bytes: zlib over little-endian deltas (runs of lines compress to ~0)."""
    ids = np.asarray(ids, dtype=np.int64)
    deltas = np.diff(ids, prepend=np.int64(0)).astype("<i8")
    return b"STPI1" + zlib.compress(deltas.tobytes(), 1)


def decode_ids(blob):
    if blob is None:
        return None
    blob = bytes(blob)
    if not blob.startswith(b"STPI1"):
        raise CorruptStoreError("stored row ids have an unknown encoding")
    try:
        deltas = np.frombuffer(zlib.decompress(blob[5:]), dtype="<i8")
    except zlib.error as exc:
        raise CorruptStoreError(f"stored row ids are corrupt: {exc}") from None
    return np.cumsum(deltas, dtype=np.int64)


def event_hash(prev_hash, record):
    """SHA-256 linking an event to its predecessor."""
    body = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def make_event(prev_hash, kind, payload, run_id, seq):
    record = {
        "seq": seq,
        "run_id": run_id,
        "created_at": utc_now(),
        "kind": kind,
        "payload": payload,
    }
    return {**record, "prev_hash": prev_hash, "hash": event_hash(prev_hash, record)}


def verify_chain(events):
    """Check the hash chain of stored events; raise :class:`CorruptStoreError` if broken."""
    prev = GENESIS
    for event in events:
        record = {k: event[k] for k in ("seq", "run_id", "created_at", "kind", "payload")}
        if event["prev_hash"] != prev or event_hash(prev, record) != event["hash"]:
            raise CorruptStoreError(
                f"audit event {event['seq']} does not match its hash: the log was altered"
            )
        prev = event["hash"]
    return True


class BaseStore(ABC):
    """Where runs and audit events are kept. Append-only: nothing stored is overwritten.

    A store is a handle on a shared resource: copying it (``clone`` deep-copies
    parameters) returns the same handle, so every clone in a grid search writes to it.
    """

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    @abstractmethod
    def save_run(self, lineage):
        """Append a run; raise if a run with the same id is stored."""

    @abstractmethod
    def load_run(self, run_id):
        """The :class:`~sktraceprop.Lineage` of a stored run."""

    @abstractmethod
    def _run_rows(self):
        """(run_id, created_at, estimator, n_samples, source_ids) per stored run."""

    def list_runs(self):
        """Stored runs, oldest first.

        Returns
        -------
        runs : DataFrame
            Columns ``run_id``, ``created_at``, ``estimator``, ``n_samples``, ``sources``.
        """
        return pd.DataFrame(
            self._run_rows(),
            columns=["run_id", "created_at", "estimator", "n_samples", "sources"],
        )

    @abstractmethod
    def append_event(self, kind, payload, run_id=None):
        """Append an audit event (hash-chained) and return it as a dict."""

    @abstractmethod
    def events(self, run_id=None):
        """Audit events, oldest first, optionally of one run."""

    def verify(self):
        """Check the audit log's hash chain; raise :class:`CorruptStoreError` if altered."""
        return verify_chain(self.events())
