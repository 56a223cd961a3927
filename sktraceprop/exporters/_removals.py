"""What a store recorded since a run's fit that the run as fitted no longer shows: the
removals of its training rows (``"unlearning"`` events, each with the fingerprint of
the model it left) and the erasure requests that named it or its rows (``store.erasure``
events, :meth:`~sktraceprop.stores.BaseStore.erase_rows`: a request recorded before the
run was stored names its rows all the same, and is listed as not carried out for it).
Every exporter states them per run,
so that an export never presents a model state that no longer exists as the current
one; where no store of the run is known, it says that they were not looked up.

An unpickled :class:`~sktraceprop.stores.MemoryStore` (one pickled with the model) is
a copy frozen when it was pickled: what the store recorded since is not in it. An
export that reads such a copy (and not the store itself) says so: ``checked`` false,
the current model unknown, the note in the words of
:data:`~sktraceprop._lineage._erasures_seen.SNAPSHOT_CHECKED`, and an
:class:`~sktraceprop.exceptions.ErasuresUnknownWarning`.

(An erasure of logged calls, ``erase_predictions``, removes no training row and names
no run: it is not listed.)
"""

import heapq
import warnings

import numpy as np

from .._exact_time import iso_ns
from .._lineage._erasures_seen import SNAPSHOT_CHECKED, is_snapshot
from .._lineage._ids import codes_of
from ..exceptions import ErasuresUnknownWarning, LineageError, StoreError
from ..utils._stack import user_stacklevel

#: Said where no store holding the run was given or saved to in this process.
NOT_CHECKED = (
    "no store holding this run was given, or saved or loaded in this process: removals "
    "(unlearning) and erasure requests recorded since the fit were not looked up, so "
    "the model this export describes may no longer exist as described; export with the "
    "store (store=, or the store itself) to have them listed"
)


def stores_of(run, store=None):
    """The stores to read the run's removals from: ``store`` if given, then every store
    of this process the run was saved to or loaded from (a removal recorded in any of
    them is one of the run's)."""
    from ..stores._saved import stores_of as saved

    given = [] if store is None else [store]
    return given + [s for s in saved(run.run_id) if s is not store]


def _name(store):
    """``store`` in words, for a note: its repr and store_id where it can be read."""
    shown = repr(store)
    try:
        store_id = store.store_id
    except (StoreError, OSError):
        return shown
    # (a MemoryStore's repr names it already)
    return shown if store_id and store_id in shown else f"{shown} (store_id {store_id})"


def _by_source(run, row_ids):
    """``[{"source_id", "rows"}]``: training rows ``row_ids`` counted per source."""
    codes, counts = np.unique(codes_of(np.asarray(row_ids, dtype=np.int64)), return_counts=True)
    # (a code the run does not hold: source_id None, counted rather than dropped)
    sources = {code: s.source_id for code, s in run.sources.items()}
    return [
        {"source_id": sources.get(int(c)), "rows": int(n)}
        for c, n in zip(codes.tolist(), counts.tolist())
    ]


def removals(run, store):
    """The events of ``store`` that removed rows of ``run`` from its model, or erased
    them from its record, oldest first: dicts with ``seq``, ``hash``, ``kind``
    (``"unlearning"`` or ``"erasure"``), ``created_at``, ``rows_removed`` (per source:
    ``{"source_id", "rows"}``, the run's training rows the event removed or names),
    ``n_rows`` (their total), ``model_fingerprint_after`` (the model an unlearning
    left, None where the event does not record it, and for an erasure, which changes
    the store's record, not the model) and ``carried_out`` (an erasure: whether a
    ``store.redaction`` event of the run names it, or the event says the run held
    nothing more of the rows, an earlier request having erased it; True for an
    unlearning)."""
    from ..stores._erase_rows import ERASURE_EVENT
    from ..stores._erased_rows import erased_rows

    out = []
    for event in store.events(run.run_id, kind="unlearning"):
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        if "row_ids" in payload:
            per_source = _by_source(run, payload["row_ids"])
        else:  # (an event that lists no row ids: its own counts per source)
            per_source = [
                {"source_id": s, "rows": int(n)} for s, n in (payload.get("sources") or {}).items()
            ]
        out.append(
            {
                "seq": int(event["seq"]),
                "hash": event["hash"],
                "kind": "unlearning",
                "created_at": event["created_at"],
                "rows_removed": per_source,
                "n_rows": sum(r["rows"] for r in per_source),
                "model_fingerprint_after": payload.get("model_fingerprint_after"),
                "carried_out": True,
            }
        )
    positions = {}
    for position, event in erased_rows(store, run).items():
        positions.setdefault(int(event["seq"]), []).append(position)
    reasons = [
        e["payload"].get("reason", "")
        for e in store.events(run.run_id, kind="store.redaction", include_store_events=True)
    ]
    for event in store.events(kind=ERASURE_EVENT, include_store_events=True):
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        # a request names rows, not runs: one recorded before this run was stored, on
        # the same file lines, is listed too, not carried out for it (erased_rows)
        if run.run_id not in (payload.get("runs") or ()) and int(event["seq"]) not in positions:
            continue
        hit = sorted(positions.get(int(event["seq"]), ()))
        per_source = _by_source(run, run.row_ids[hit]) if hit else []
        out.append(
            {
                "seq": int(event["seq"]),
                "hash": event["hash"],
                "kind": "erasure",
                "created_at": event["created_at"],
                "rows_removed": per_source,
                "n_rows": len(hit),
                "model_fingerprint_after": None,
                # (a run with nothing left to erase of the rows needs no redaction)
                "carried_out": run.run_id in (payload.get("erased_before") or ())
                or any(str(r).endswith(f"(erasure event {event['seq']})") for r in reasons),
            }
        )
    return sorted(out, key=lambda e: e["seq"])


def _instant(event):
    """The event's recorded time as a UTC instant in nanoseconds since the epoch (its
    text says its zone offset: two stores' clocks may write different ones, so the text
    does not sort; and it may have nine fractional digits, which datetime cuts to six)."""
    return iso_ns(str(event["created_at"]))


def _check_stamped(events, store):
    """Refuse, naming it, a removal event whose time names no instant.

    Every store writes an ISO 8601 time with its offset; another writer may write none
    (or no time). Read as UTC it could be hours off, and the exports would order the
    stores' removals, and name the model the last one left as the current model, by a
    guess (the facets' ``createdAt`` is an RFC 3339 date-time besides).
    """
    for event in events:
        text = event["created_at"]
        try:
            iso_ns(str(text))  # (a time with no offset, or finer than 1 ns, is refused)
            continue
        except ValueError:
            pass
        raise LineageError(
            f"removal event {event['seq']} ({event['kind']}) in {_name(store)} is stamped "
            f"{text!r}, not an ISO 8601 time with a UTC offset (such as "
            "2026-12-06T10:00:00+00:00): when it was recorded, and so the order of the "
            "removals and the current model, is not known. It was written by another "
            "writer; nothing was exported."
        )


def _in_time_order(per_store):
    """The events of several stores (each store's in seq order) merged by recorded
    instant: a store's own events keep their seq order, even where its clock was set
    back, and equal instants keep the order of the stores; an event found in two copies
    of a store (the same hash) is listed once, where first found."""
    if len(per_store) == 1:
        return list(per_store[0])
    keyed = [[(_instant(e), e) for e in events] for events in per_store]
    seen, out = set(), []
    for _, event in heapq.merge(*keyed, key=lambda pair: pair[0]):
        if event["hash"] not in seen:
            seen.add(event["hash"])
            out.append(event)
    return out


def _store_id(store):
    try:
        return store.store_id
    except (StoreError, OSError):
        return None


def _frozen(read):
    """The unpickled MemoryStores among ``read`` whose store itself was not read too
    (a copy frozen at pickling: what the store recorded since is not in it)."""
    live = {_store_id(s) for s in read if not is_snapshot(s)} - {None}
    return [s for s in read if is_snapshot(s) and _store_id(s) not in live]


def warn_frozen(frozen):
    """Warn, once, that removals were exported from the copies ``frozen`` (unpickled
    or copied MemoryStores, each named once) whose store itself was not read."""
    unique = {id(s): s for s in frozen}
    names = ", ".join(_name(s) for s in unique.values())
    warnings.warn(
        f"removals exported from {names}: {SNAPSHOT_CHECKED}; removals (unlearning) and "
        "erasure requests recorded there since are not listed, and the current model is "
        "not known: the export says so (removals checked false, its note). Export with "
        "the store itself (store=...), or keep the runs in an SQLiteStore or "
        "PostgresStore, which outlive a pickle.",
        ErasuresUnknownWarning,
        stacklevel=user_stacklevel(),
    )


def removal_record(run, store=None, frozen=None):
    """``{"checked", "note", "events", "model_fingerprint_now"}`` of ``run``: whether
    every store that can hold its removals (``store``, and the stores of this process
    it was saved to or loaded from) was read (``note`` says which were not, and why),
    their :func:`removals` (an event found in two copies of a store listed once), and
    the fingerprint of the model the last unlearning left (the run's own where none
    removed rows; None where that unlearning does not record it, or a store was not
    read; ``checked`` false and an
    :class:`~sktraceprop.exceptions.ErasuresUnknownWarning` where one read is an
    unpickled MemoryStore whose store itself was not read; ``frozen``, a list, gets those
    copies instead of the warning, for an export of several runs to warn once:
    :func:`warn_frozen`)."""
    found, read, unread = [], [], []
    for candidate in stores_of(run, store):
        try:
            events = removals(run, candidate)
        except (StoreError, OSError) as exc:  # closed for good, moved: not read
            if candidate is store:
                raise
            unread.append(f"{_name(candidate)}: {exc}")
            continue
        _check_stamped(events, candidate)
        read.append(candidate)
        found.append(events)
    if not read and not unread:
        return {"checked": False, "note": NOT_CHECKED, "events": [], "model_fingerprint_now": None}
    events = _in_time_order(found)
    unlearned = [e for e in events if e["kind"] == "unlearning"]
    now = unlearned[-1]["model_fingerprint_after"] if unlearned else run.model_fingerprint
    where = (
        "its store"
        if len(read) == 1 and not unread
        else f"the {len(read)} store(s) of it read ({', '.join(_name(s) for s in read)})"
    )
    note = (
        f"no removal or erasure request of this run is recorded in {where}"
        if not events
        else f"rows of this run were removed from its model (unlearning) or named by an "
        f"erasure request since its fit, as recorded in {where}: the rows, sources and "
        "model fingerprint the rest of this export gives are those of the fit, which the "
        "current model no longer holds all of where an unlearning removed rows; an "
        "erasure changes the store's record, not the fitted model"
    )
    copies = _frozen(read)
    if copies:
        if frozen is None:
            warn_frozen(copies)
        else:
            frozen.extend(copies)
        note = (
            f"{SNAPSHOT_CHECKED} ({', '.join(_name(s) for s in copies)}), so removals "
            "(unlearning) and erasure requests recorded there since are not listed and "
            "the current model is unknown; pass store= (the store itself, or an "
            f"SQLiteStore/PostgresStore) to check; {note}"
        )
    if unread:
        note = (
            f"{len(unread)} store(s) holding this run could not be read, so removals "
            f"(unlearning) and erasure requests recorded there are not listed and the "
            f"current model is unknown ({'; '.join(unread)}); {note}"
        )
    if unread or copies:
        return {"checked": False, "note": note, "events": events, "model_fingerprint_now": None}
    return {"checked": True, "note": note, "events": events, "model_fingerprint_now": now}


def openlineage_removals(run, store):
    """The body of the OpenLineage ``sktraceprop_removals`` run facet."""
    record = removal_record(run, store)
    return {
        "checked": record["checked"],
        "note": record["note"],
        "removals": [
            {
                "seq": e["seq"],
                "hash": e["hash"],
                "kind": e["kind"],
                "createdAt": e["created_at"],
                "rowsRemoved": [
                    {"sourceId": r["source_id"], "rows": r["rows"]} for r in e["rows_removed"]
                ],
                "nRows": e["n_rows"],
                "modelFingerprintAfter": e["model_fingerprint_after"],
                "carriedOut": e["carried_out"],
            }
            for e in record["events"]
        ],
        "modelFingerprintNow": record["model_fingerprint_now"],
    }


def span_removals(run, store):
    """The fit span's ``sktraceprop.removals.*`` attributes (OpenTelemetry attributes are
    primitives or arrays of one type: one array per field, one entry per event; the
    rows per source as ``"<source_id>=<rows>"`` strings joined by ``;``)."""
    record = removal_record(run, store)
    events = record["events"]
    out = {
        "sktraceprop.removals.checked": record["checked"],
        "sktraceprop.removals.note": record["note"],
        "sktraceprop.removals.event_seq": [e["seq"] for e in events],
        "sktraceprop.removals.event_hash": [e["hash"] for e in events],
        "sktraceprop.removals.kind": [e["kind"] for e in events],
        "sktraceprop.removals.created_at": [e["created_at"] for e in events],
        "sktraceprop.removals.n_rows": [e["n_rows"] for e in events],
        "sktraceprop.removals.rows_by_source": [
            ";".join(f"{r['source_id']}={r['rows']}" for r in e["rows_removed"]) for e in events
        ],
        # "" where the event records none (an erasure, or an unlearning logged before)
        "sktraceprop.removals.model_fingerprint_after": [
            e["model_fingerprint_after"] or "" for e in events
        ],
        "sktraceprop.removals.carried_out": [e["carried_out"] for e in events],
    }
    if record["model_fingerprint_now"] is not None:
        out["sktraceprop.removals.model_fingerprint_now"] = record["model_fingerprint_now"]
    return out
