"""The training rows of a stored run that erasure requests named, read back from the
store's erasure and redaction events."""

import numpy as np

from .._removal_events import removal_events
from ._erase_match import hit_rows, removed_in
from ._erase_rows import ERASURE_EVENT
from ._sealed import REDACTION_EVENT


def _read(store, run):
    """The store's erasure events (kept by :func:`~sktraceprop._removal_events.
    removal_events`, read again only where one was appended) and ``run``'s redactions."""
    return [e for e in removal_events(store) if e["kind"] == ERASURE_EVENT], store.events(
        run.run_id, kind=REDACTION_EVENT, include_store_events=True
    )


def erased_rows(store, run, events=None, *, listed_only=False):
    """``{training row position: erasure event}``: the rows of ``run`` (a stored run) that
    an erasure request (:meth:`BaseStore.erase_rows`) named, or that were built from
    rows it named; the earliest request for each (carried out, if one was). Each event
    has ``carried_out``: whether a ``store.redaction`` event of the run names it (not so
    where a writer of an older sktraceprop stopped, or failed, between recording the
    request and erasing, nor for a run the request does not list).

    A request names rows (by source identity and line, or sources), not runs: a run it
    does not list (stored after it, or in another store, on the same file lines) holds
    erased rows all the same, as :mod:`sktraceprop._lineage._erasures_seen` marks them.
    ``listed_only``: only the requests that list ``run`` (what was recorded for it).

    ``events``: the store's events already read (its erasure and redaction events among
    them, decoded), as a compliance report's read of the chain holds them; None: read
    from ``store``.
    """
    out = {}
    if events is None:
        events, redactions = _read(store, run)
    else:
        redactions = [
            e for e in events if e["kind"] == REDACTION_EVENT and e["run_id"] == run.run_id
        ]
        events = [e for e in events if e["kind"] == ERASURE_EVENT]
    reasons = [e["payload"].get("reason", "") for e in redactions]
    for event in events:
        payload = event["payload"]
        if listed_only and run.run_id not in payload.get("runs", ()):
            continue
        named = f"(erasure event {event['seq']})"
        # a run that held nothing more of the rows (an earlier request had erased it) has
        # no redaction of this request: the request needed none to be carried out there
        done = run.run_id in (payload.get("erased_before") or ())
        done = done or any(str(r).endswith(named) for r in reasons)
        event = {**event, "carried_out": done}
        for position in named_positions(run, payload).tolist():
            if position not in out or (event["carried_out"] and not out[position]["carried_out"]):
                out[position] = event
    return out


def named_positions(run, payload):
    """The training row positions of ``run`` that an erasure request's ``payload`` (its
    sources, or its rows by source key and line) names, or that were built from rows it
    names."""
    if payload.get("source_ids") is not None:
        ids, codes = removed_in(run, source_ids=set(payload["source_ids"]))
    else:
        rows = {
            (r["source_id"], r["sha256"]): np.asarray(r["lines"], dtype=np.int64)
            for r in payload["rows"]
        }
        ids, codes = removed_in(run, rows=rows)
    if not ids.size and not codes:
        return np.zeros(0, np.int64)
    return np.flatnonzero(hit_rows(run, run.row_ids, ids, codes))
