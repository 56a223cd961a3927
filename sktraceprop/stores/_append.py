"""Appending audit events inside one write transaction, and confirming they were stored.

Every write of a store (a run saved, an event, a redaction, an erasure request) appends
through :class:`_Chain`: it checks that the log's last event still matches its hash
before linking a new event to it, and, before the transaction commits, that the log
ends with what was appended (a trigger or rule added outside sktraceprop could drop or
change the row as it is inserted).
"""

import warnings
import weakref

from .._exact_time import exact_time, iso_ns
from ..exceptions import ClockWarning, CorruptStoreError
from ..utils._stack import user_stacklevel
from ._chain import GENESIS, make_event, payload_text, stored_event_matches

#: Per store handle, the last event row it appended: known to match its hash. Kept out
#: of the store's attributes, which are pickled and fingerprinted with the estimator
#: that holds the store.
_CHECKED_TIP = weakref.WeakKeyDictionary()


class _Chain:
    """Appends events inside one write transaction, after checking the log's last event.

    ``writer`` is what a store's ``_writer()`` yields: ``last_event(known=None)`` (the
    row of the last event or None; ``known`` itself where the last row is ``known``
    exactly, compared without reading its payload out of the database) and
    ``insert_event(row)``, rows being ``(seq, run_id, created_at, kind, payload_text,
    prev_hash, hash)``.

    The last row is compared, not read, where this handle knows what it should be: a
    payload of some hundred kilobytes (a logged ``predict_proba``) was read out twice
    per append, once to confirm it was stored and once more, by the next append, to
    link to it.
    """

    def __init__(self, store, writer):
        self.store, self.writer = store, writer
        tip = _CHECKED_TIP.get(store)
        last = writer.last_event(tip)
        self.time = None if last is None else last[2]
        if last is None:
            self.seq, self.head = 0, GENESIS
        else:
            # The row this handle last appended (or checked) is known to match its hash:
            # an identical row need not be hashed again (a changed one is).
            if last is not tip and not stored_event_matches(last):
                store._refuse_writes(
                    f"its last audit event ({last[0]}) does not match its hash: the log "
                    "was altered"
                )
                store._check_writable()
            self.seq, self.head = int(last[0]), last[6]

    def append(self, kind, payload, run_id=None, text=None):
        """Append one event; ``text`` is the payload's canonical JSON when known
        (from :func:`payload_text`, or a caller that made sure it is canonical)."""
        if text is None:
            text, payload = payload_text(payload)
        event = make_event(self.head, kind, payload, run_id, self.seq + 1, text)
        if set_back(self.time, event["created_at"]):
            # (before the insert: a warning turned into an error writes nothing)
            warnings.warn(
                f"{self.store!r}: audit event {event['seq']} is stamped "
                f"{event['created_at']}, earlier than event {self.seq} before it "
                f"({self.time}): this process's clock was set back, or writers whose "
                "clocks differ share the store. It is stored with the time the clock "
                "read; the log's order is its seq numbers, not its times.",
                ClockWarning,
                stacklevel=user_stacklevel(),
            )
        row = (
            event["seq"],
            run_id,
            event["created_at"],
            kind,
            text,
            event["prev_hash"],
            event["hash"],
        )
        self.writer.insert_event(row)
        self.row = row
        self.seq, self.head, self.time = event["seq"], event["hash"], event["created_at"]
        return event

    def confirm(self):
        """Check, before the transaction commits, that the log ends with what was appended.

        A trigger or rule added to the database outside sktraceprop can drop or change
        a row as it is inserted (SQLite's ``RAISE(IGNORE)``): the event would be
        reported as written, and a checkpoint signed later would cover a log without
        it. Raising rolls the transaction back.
        """
        row = getattr(self, "row", None)
        if row is None:
            return
        if self.writer.last_event(row) is not row:
            message = (
                f"audit event {row[0]} was not stored as written: the database changes or "
                "drops what is written (a trigger or rule added outside sktraceprop)"
            )
            self.store._refuse_writes(message)
            raise CorruptStoreError(f"{self.store!r}: {message}; nothing was written")
        _CHECKED_TIP[self.store] = row


def known_row(row, known):
    """Whether ``row``, the last event row read with its payload replaced by the
    database's comparison of it with ``known``'s (1, or true, where equal), is
    ``known``: every other column equal as Python compares them (as the rows read whole
    were), and the payload equal in the database, byte for byte (a binary collation)."""
    return (
        row is not None
        and row[4] == 1
        and tuple(row[:4]) + tuple(row[5:]) == tuple(known[:4]) + tuple(known[5:])
    )


def set_back(before, after):
    """Whether the ISO 8601 time ``after`` is earlier than ``before`` (False where
    either is not such a time: what a time stored that way means is not known)."""
    try:
        # to the nanosecond: a stored time may have nine fractional digits, which
        # datetime would cut to six (a clock set back by 500 ns unseen); the library's
        # own stamps read by datetime alone (a store's chain walk compares every one)
        try:
            return exact_time(after, naive_utc=False) < exact_time(before, naive_utc=False)
        except OverflowError:  # (before year 1 or after 9999 in UTC: no datetime there)
            return iso_ns(after) < iso_ns(before)
    except (TypeError, ValueError):
        return False
