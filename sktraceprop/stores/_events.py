"""Audit events of the user's own kinds: appended to the hash chain, and listed.

Kinds starting with ``store.`` are the store's own (runs, sources, redactions,
erasures) and refused here. An event about a run must go to the store that holds the
run. Listing returns events as stored, without checking the chain (``verify()`` does).
"""

import json

from ..exceptions import UnknownRunError
from ._append import _Chain
from ._chain import EVENT_COLUMNS, RESERVED_PREFIX, check_text, payload_text, text_problem


def append_event(store, kind, payload, run_id=None):
    """See :meth:`BaseStore.append_event`."""
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a non-empty string, got {kind!r}")
    if kind.startswith(RESERVED_PREFIX):
        raise ValueError(
            f"event kinds starting with {RESERVED_PREFIX!r} are written by the store "
            f"itself; got {kind!r}"
        )
    if run_id is not None and not isinstance(run_id, str):
        raise TypeError(f"run_id must be a string or None, got {type(run_id).__name__}")
    check_text(kind, "kind")
    if run_id is not None:
        check_text(run_id, "run_id")
    # refuse what cannot be stored before taking the write lock
    text, payload = payload_text(payload)
    return append_event_text(store, kind, payload, text, run_id)


def append_event_text(store, kind, payload, text, run_id, salt=None):
    """Append an event whose payload's canonical JSON is ``text`` (see
    :func:`payload_text`); ``payload`` is what the returned event holds. ``salt``: the
    salt of a salted prediction event (see :mod:`._prediction_salts`), stored beside
    the chain in the same transaction."""
    store._check_writable()
    made = []
    known = store.__dict__.setdefault("_known_runs", set())

    def write(writer):
        if run_id is not None and run_id not in known:
            # An event about a run this store does not hold could never be matched
            # to its model or data: refused, not written. Runs are append-only, so
            # a run once found stays known to this handle.
            if not writer.run_exists(run_id):
                raise UnknownRunError(
                    f"no run {run_id!r} in {store!r}: an audit event about a run must "
                    "go to the store that holds the run (fit the estimator with this "
                    "store); nothing was written"
                )
            known.add(run_id)
        chain = _Chain(store, writer)
        made.append(chain.append(kind, payload, run_id, text))
        if salt is not None:
            writer.insert_salt(made[-1]["seq"], salt)
        chain.confirm()
        return made[-1]

    def committed():
        row = store._raw_event(made[-1]["seq"]) if made else None
        return made[-1] if row is not None and row[6] == made[-1]["hash"] else None

    return store._transact(write, committed)


def events(store, run_id=None, *, kind=None, include_store_events=False):
    """See :meth:`BaseStore.events`."""
    out = []
    if run_id is not None and (not isinstance(run_id, str) or text_problem(run_id)):
        return out  # no run has such an id (and the database could not be asked)
    with store._snapshot():
        if isinstance(kind, str) and not text_problem(kind):
            # (selected by the database: the prediction log of a large store, or of the
            # run, is not read to list its few erasures or redactions; a kind no text
            # could be matches nothing below)
            if run_id is None:
                rows = list(store._raw_events_of_kinds((kind,)))
            else:
                rows = list(store._raw_events_of_kinds((kind,), run_id))
        else:
            rows = list(store._raw_events(run_id))
    for row in rows:
        event = dict(zip(EVENT_COLUMNS, row))
        if kind is not None and event["kind"] != kind:
            continue
        if not include_store_events and str(event["kind"]).startswith(RESERVED_PREFIX):
            continue
        out.append(decoded(store, event))
    return out


def decoded(store, event):
    """``event`` (a dict of :data:`EVENT_COLUMNS`) with its payload read from JSON;
    a payload that is not JSON is a corrupt store (``store._corrupt``)."""
    try:
        event["payload"] = json.loads(event["payload"])
    except (ValueError, TypeError, RecursionError) as exc:
        raise store._corrupt(
            f"audit event {event['seq']} in {store!r} is corrupt: {exc}", seq=event["seq"]
        ) from None
    return event
