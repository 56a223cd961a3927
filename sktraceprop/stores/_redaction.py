"""Erasing what a stored run holds of its training data: :meth:`BaseStore.redact`.

Validated before anything is written (the run is loaded and checked, every name must be
one of its sealed values still held); then, in one transaction, a ``store.redaction``
event is appended (the run, the leaf numbers, the reason and how many of each kind:
never the values) and the values with their salts are deleted. A store then wipes what
its files keep of deleted rows (:meth:`BaseStore._scrub`).

:func:`redact_runs` erases from several runs in one transaction, after the event of the
request that asks for it (``store.erasure``) when there is one: a writer killed, or a
failure, part way leaves either all of it or none of it in the store, never a request
that says values were erased while runs still hold them.
"""

from typing import NamedTuple

from ..exceptions import CorruptStoreError, StoreError, UnknownRunError
from ._append import _Chain
from ._chain import loads_stored, payload_text
from ._sealed import REDACTION_EVENT, is_sealed, leaves_of
from ._wipe_marks import WIPE, new_wipe


class Request(NamedTuple):
    """The event appended before the erasures of :func:`redact_runs`, in its transaction.

    ``names_runs``: the runs erased from are added to its payload (``"runs"``), and with
    none left to erase from it is not written (an erasure request); else it is written
    whatever is erased (an unlearning event, which records a removal from a model).
    """

    kind: str
    payload: dict
    run_id: str = None
    names_runs: bool = True


def _names(value, what):
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise TypeError(f"{what} must be a list of strings, got {value!r}") from None
    wrong = [v for v in names if not isinstance(v, str)]
    if wrong:
        raise TypeError(f"{what} must be strings; got {wrong[0]!r}")
    return list(dict.fromkeys(names))


def _found(store, run_id, asked, held_only):
    """The leaf numbers (by kind) of the values ``asked`` of ``run_id``; a name it does
    not hold raises ``ValueError``, unless ``held_only`` (then it is left out: erased by
    another writer since the request was planned). Read in the caller's transaction."""
    record = loads_stored(store._raw_run(run_id)[0])
    values = store._raw_leaves(run_id)
    if not is_sealed(record):
        raise StoreError(
            f"run {run_id} in {store!r} was stored with its whole record under the hash "
            "chain (a store of schema version 2, or a run saved before sktraceprop sealed "
            "them): no part of it can be erased without breaking the chain. Nothing was "
            "changed. Runs saved to a new store are sealed."
        )
    found, unknown = leaves_of(record, values, notes_with=asked["features"], **asked)
    if any(unknown.values()):
        if not held_only:
            listed = "; ".join(
                f"{kind} {', '.join(map(repr, v))}" for kind, v in unknown.items() if v
            )
            raise ValueError(
                f"run {run_id} holds no {listed} (never there, or erased already); nothing "
                "was changed"
            )
        asked = {
            kind: [n for n in names if n not in unknown[kind]] for kind, names in asked.items()
        }
        found, _ = leaves_of(record, values, notes_with=asked["features"], **asked)
    return found


def _erase_one(store, chain, writer, run_id, found, reason):
    """Append ``run_id``'s ``store.redaction`` event and delete the values ``found``."""
    numbers = sorted(n for leaves in found.values() for n in leaves)
    payload = {
        "leaves": numbers,
        "reason": reason,
        "erased": {kind: len(leaves) for kind, leaves in found.items()},
    }
    wipe = new_wipe(writer)
    if wipe is not None:  # the event names its wipe mark: one deleted is found
        payload[WIPE] = wipe
    text, payload = payload_text(payload)
    event = chain.append(REDACTION_EVENT, payload, run_id, text)
    deleted = writer.delete_leaves(run_id, numbers, wipe)
    if deleted != len(numbers):
        raise CorruptStoreError(
            f"{store!r}: run {run_id} held {deleted} of the {len(numbers)} values being "
            "erased when they were deleted (the database did not delete what it was "
            "asked to); nothing was changed"
        )
    return {"run_id": run_id, "event_seq": event["seq"], "erased": len(numbers)}, event


def redact_runs(store, wanted, reason, *, request=None, held_only=False, failed=None):
    """Erase from each run of ``wanted`` (``(run_id, {"features": [...], "sources":
    [...], "fit_params": [...]})``) the values named, in one transaction.

    ``request``: a :class:`Request`, the event appended first, which ``reason`` (a
    callable then) turns into each redaction's reason. ``held_only``: values erased by
    another writer since ``wanted`` was planned are left out (a run left with nothing
    is not named; with nothing left at all, nothing is written), where otherwise a
    name a run does not hold raises.
    Every name is checked once before the transaction (a clear error, nothing written;
    with ``failed``, a :class:`StoreError` saying ``failed(run_id, asked, error)``) and
    again inside it, where no other writer can change the runs.

    Returns the summaries (``run_id``, ``event_seq``, ``erased``), one per run erased
    from, and the request's event (or None).
    """
    store._check_writable()
    for run_id, asked in wanted:
        try:
            store.load_run(run_id)  # raises on an unknown run, or one altered since stored
            with store._snapshot():
                _found(store, run_id, asked, held_only)
        except (ValueError, StoreError) as exc:
            if failed is None:
                raise
            raise StoreError(failed(run_id, asked, exc)) from exc
    made = {"first": None, "erased": []}

    def write(writer):
        made["first"], made["erased"] = None, []
        chain = _Chain(store, writer)
        todo = [(run_id, _found(store, run_id, asked, held_only)) for run_id, asked in wanted]
        todo = [(run_id, found) for run_id, found in todo if any(found.values())]
        if not todo and (request is None or request.names_runs):
            return [], None
        why = reason
        if request is not None:
            if request.run_id is not None and not writer.run_exists(request.run_id):
                raise UnknownRunError(
                    f"no run {request.run_id!r} in {store!r}: nothing was written"
                )
            payload = request.payload
            if request.names_runs:
                payload = {**payload, "runs": [r for r, _ in todo]}
            made["first"] = chain.append(request.kind, payload, request.run_id)
            why = reason(made["first"])
        for run_id, found in todo:
            made["erased"].append(_erase_one(store, chain, writer, run_id, found, why))
        chain.confirm()
        return [summary for summary, _ in made["erased"]], made["first"]

    def committed():
        if not made["erased"]:
            if made["first"] is None:
                return None
            event = made["first"]  # (a request written with nothing to erase)
        else:
            summary, event = made["erased"][-1]
            if set(event["payload"]["leaves"]) & set(store._raw_leaves(summary["run_id"])):
                return None
        row = store._raw_event(event["seq"])
        if row is None or row[6] != event["hash"]:
            return None
        return [s for s, _ in made["erased"]], made["first"]

    if not wanted and request is None:
        return [], None
    done, first = store._transact(write, committed)
    if done:
        store._scrub()
    return done, first


def redact(store, run_id, *, features, sources, fit_params, reason):
    """See :meth:`BaseStore.redact`."""

    if not isinstance(run_id, str):
        raise TypeError(f"run_id must be a string, got {type(run_id).__name__}")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must say why the values are erased (a non-empty string)")
    asked = {
        "features": _names(features, "features"),
        "sources": _names(sources, "sources"),
        "fit_params": _names(fit_params, "fit_params"),
    }
    if not any(asked.values()):
        raise ValueError("name what to erase: features=, sources= or fit_params=")
    (summary,), _ = redact_runs(store, [(run_id, asked)], reason.strip())
    return summary
