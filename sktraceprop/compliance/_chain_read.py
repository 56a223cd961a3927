"""The store's chain read for a report, or for its check, one event at a time.

A store logs one event per call of its models for months: held as decoded events, 200,000
calls took about half a gigabyte. A report copies no call; it needs each call's seq,
run, time, kind and hash (retention, counts, the digest), and of its own model's calls
the figures their payloads give (rows, methods, classes, which were erased). So each
call is held as a :class:`Call` (those fields and three flags, no payload), its own
model's payloads summed while read (:class:`Tally`), and every other event held whole,
as :func:`~._evidence.all_events` gives it. What is built from them is the same.

A report reads the chain as ``store.verify()`` checks it (:func:`verified_chain_events`):
one read of every event, not one to check and one to report.
"""

from ..stores._audit_chain import watching_chain
from ..stores._chain import EVENT_COLUMNS
from ..stores._events import decoded
from ..stores._salt_digests import packed_digest

__all__ = ["Call", "Tally", "chain_events", "verified_chain_events"]

_UNREAD = object()  # (an event handed over with its payload not yet decoded)

#: The payload keys a report reads of a call, beyond what it sums (erasure evidence).
_FLAGS = ("input_commitment", "input_sha256")
_FLAG_SETS = {}


class Call:
    """A ``"prediction"`` event without its payload: ``seq``, ``run_id``,
    ``created_at``, ``kind`` and ``hash`` (read as ``event[key]``), its row count where
    its run is the one read for (``n_rows``; None otherwise or where the payload holds
    none that reads as a number) and which of :data:`_FLAGS` its payload holds."""

    __slots__ = ("seq", "run_id", "created_at", "kind", "hash", "n_rows", "flags")

    def __getitem__(self, key):
        if key not in self.__slots__[:5]:
            # (loud: a reader of a call's payload must be given the whole event)
            raise KeyError(f"a call held by chain_events has no {key!r}: its payload was summed")
        value = getattr(self, key)
        return value.hex() if key == "hash" and isinstance(value, bytes) else value

    def holds(self, key):
        """Whether the call's payload holds ``key`` (one of :data:`_FLAGS`)."""
        return key in self.flags


def _call(event, rows):
    call = Call()
    call.seq, call.run_id, call.created_at = event["seq"], event["run_id"], event["created_at"]
    # (its hash as 32 bytes where it is a lower-case hex SHA-256: 65 bytes, not 113)
    packed = packed_digest(event["hash"])
    call.hash = event["hash"] if packed is None else packed
    call.kind, call.n_rows = "prediction", rows
    payload = event["payload"] if isinstance(event["payload"], dict) else {}
    held = tuple(k for k in _FLAGS if k in payload)
    call.flags = _FLAG_SETS.setdefault(held, frozenset(held))
    return call


class Tally:
    """The record-keeping figures of one run's calls, summed as they are read (see
    :func:`~._log_evidence.prediction_figures`)."""

    def __init__(self):
        from ._log_evidence import PredictionFigures

        self.figures = PredictionFigures()
        self.error = None  # the first payload that could not be read, raised at the end

    def add(self, event):
        if self.error is not None:
            return
        try:
            self.figures.add(event)
        except Exception as exc:  # (a ComplianceError naming the event)
            self.error = exc

    def summary(self, fingerprint_scheme):
        if self.error is not None:
            raise self.error
        return self.figures.summary(fingerprint_scheme)


class _Reader:
    """What :func:`chain_events` keeps of the events handed to it one at a time
    (:meth:`add`), each payload decoded already or here."""

    def __init__(self, store, run_id, upto):
        self.store, self.run_id, self.upto = store, run_id, upto
        self.walks = 0  # (the integrity check's walks of the chain handed over)
        self._clear()

    def _clear(self):
        self.events, self.tally = [], Tally()
        self.kinds, self.runs = {}, {}

    def start(self):
        """Begin a walk of the whole chain (a later one replaces an earlier)."""
        self._clear()
        self.walks += 1

    def add(self, row, payload=_UNREAD):
        from ._log_evidence import rows_or_none

        event = dict(zip(EVENT_COLUMNS, row))
        if payload is _UNREAD:
            event = decoded(self.store, event)
        else:
            event["payload"] = payload
        # one string per kind and run, not one per event
        event["kind"] = self.kinds.setdefault(event["kind"], event["kind"])
        event["run_id"] = self.runs.setdefault(event["run_id"], event["run_id"])
        if event["kind"] != "prediction":
            self.events.append(event)
            return
        rows = None
        if event["run_id"] == self.run_id and (self.upto is None or event["seq"] <= self.upto):
            self.tally.add(event)
            rows = rows_or_none(event)
        self.events.append(_call(event, rows))


def chain_events(store, run_id, upto=None):
    """``(events, tally)``: every event of the store's chain, its own bookkeeping events
    included, oldest first, each call (``"prediction"`` event) as a :class:`Call`; and
    the :class:`Tally` of the calls of ``run_id`` up to seq ``upto`` (None: all).

    Every payload is decoded, as :func:`~._evidence.all_events` does (a payload that is
    not JSON is a corrupt store), and only a call's figures are kept.
    """
    reader = _Reader(store, run_id, upto)
    with store._snapshot():
        for row in store._raw_events():
            reader.add(row)
    return reader.events, reader.tally


def verified_chain_events(store, run_id, upto=None):
    """``store.verify()``, then :func:`chain_events` of what it read: the chain is
    read once, by the check (each payload decoded once), in one snapshot of the store.

    Raises what ``verify()`` raises (``CorruptStoreError``...).
    """
    reader = _Reader(store, run_id, upto)
    with store._snapshot(), watching_chain(store, reader):
        store.verify()
        if reader.walks == 0:  # (a store whose check did not walk the chain: read it)
            return chain_events(store, run_id, upto)
    return reader.events, reader.tally
