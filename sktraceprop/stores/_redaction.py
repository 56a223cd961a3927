"""Erasing what a stored run holds of its training data: :meth:`BaseStore.redact`.

Validated before anything is written (the run is loaded and checked, every name must be
one of its sealed values still held); then, in one transaction, a ``store.redaction``
event is appended (the run, the leaf numbers, the reason and how many of each kind:
never the values) and the values with their salts are deleted. A store then wipes what
its files keep of deleted rows (:meth:`BaseStore._scrub`).
"""

from ..exceptions import CorruptStoreError, StoreError
from ._append import _Chain
from ._chain import loads_stored, payload_text
from ._sealed import REDACTION_EVENT, is_sealed, leaves_of


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


def redact(store, run_id, *, features, sources, fit_params, reason):
    """See :meth:`BaseStore.redact`."""

    if not isinstance(run_id, str):
        raise TypeError(f"run_id must be a string, got {type(run_id).__name__}")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must say why the values are erased (a non-empty string)")
    features = _names(features, "features")
    sources = _names(sources, "sources")
    fit_params = _names(fit_params, "fit_params")
    if not (features or sources or fit_params):
        raise ValueError("name what to erase: features=, sources= or fit_params=")
    store._check_writable()
    store.load_run(run_id)  # raises on an unknown run, or one altered since it was stored
    with store._snapshot():
        row = store._raw_run(run_id)
        record = loads_stored(row[0])
        values = store._raw_leaves(run_id)
    if not is_sealed(record):
        raise StoreError(
            f"run {run_id} in {store!r} was stored with its whole record under the hash "
            "chain (a store of schema version 2, or a run saved before sktraceprop sealed "
            "them): no part of it can be erased without breaking the chain. Nothing was "
            "changed. Runs saved to a new store are sealed."
        )
    found, unknown = leaves_of(
        record,
        values,
        features=features,
        sources=sources,
        fit_params=fit_params,
        notes_with=features,
    )
    if unknown:
        listed = "; ".join(f"{kind} {', '.join(map(repr, v))}" for kind, v in unknown.items())
        raise ValueError(
            f"run {run_id} holds no {listed} (never there, or erased already); nothing was changed"
        )
    numbers = sorted(n for leaves in found.values() for n in leaves)
    payload = {
        "leaves": numbers,
        "reason": reason.strip(),
        "erased": {kind: len(leaves) for kind, leaves in found.items()},
    }
    text, payload = payload_text(payload)
    made = []

    def write(writer):
        chain = _Chain(store, writer)
        made.append(chain.append(REDACTION_EVENT, payload, run_id, text))
        deleted = writer.delete_leaves(run_id, numbers)
        chain.confirm()
        if deleted != len(numbers):
            raise CorruptStoreError(
                f"{store!r}: run {run_id} held {deleted} of the {len(numbers)} values being "
                "erased when they were deleted (changed by another writer); nothing was changed"
            )
        return made[-1]

    def committed():
        if not made or set(numbers) & set(store._raw_leaves(run_id)):
            return None
        row = store._raw_event(made[-1]["seq"])
        return made[-1] if row is not None and row[6] == made[-1]["hash"] else None

    event = store._transact(write, committed)
    store._scrub()
    return {"run_id": run_id, "event_seq": event["seq"], "erased": len(numbers)}
