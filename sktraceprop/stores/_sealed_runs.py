"""Sealed runs as a store holds them: their values put back, and what was erased.

A sealed record (:mod:`._sealed`) holds commitments; the values (leaves) are kept
beside it until a ``store.redaction`` event erases some. These read a run's leaves and
its redaction events back: the record with its values (or the placeholders of erased
ones), a fitted run shown as its stored copy now reads, and which named values a run
still holds.
"""

from .._lineage._run import Lineage
from ._chain import loads_stored
from ._sealed import as_redacted, is_sealed, leaves_of, unseal


def unseal_stored(store, run_id, record):
    """A sealed record with its leaves back (or the placeholders of erased ones)."""
    name = f"run {run_id}"
    try:
        redacted = redactions(store, run_id)
        whole, problems = unseal(record, store._raw_leaves(run_id), redacted)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise store._corrupt(
            f"{name}: its sealed record is not readable ({exc!r})", run_id=run_id
        ) from None
    if problems:
        raise store._corrupt(f"{name}: {'; '.join(problems)}", run_id=run_id)
    return whole


def as_stored(store, run):
    """``run`` (a Lineage as its fit made it) as this store shows it now, with the
    placeholders of the values erased from its stored copy; None if the store holds
    no erasure of it, or a record of another layout."""
    with store._snapshot():
        row = store._raw_run(run.run_id)
        redacted = redactions(store, run.run_id) if row is not None else {}
    if not redacted:
        return None
    record = loads_stored(row[0])
    if not is_sealed(record):
        return None
    view = as_redacted(run.to_dict(), record, redacted)
    if view is None:
        return None
    return Lineage.from_dict(view, run.row_ids, run.input_row_ids, sources=run.sources)


def is_sealed_run(store, run_id):
    """Whether the stored run ``run_id`` is sealed (False when not stored)."""
    with store._snapshot():
        row = store._raw_run(run_id)
    try:
        return row is not None and is_sealed(loads_stored(row[0]))
    except (TypeError, ValueError):
        return False


def held_values(store, run_id, *, features=(), sources=(), fit_params=()):
    """The named values the sealed run ``run_id`` still holds (by kind)."""
    with store._snapshot():
        record = loads_stored(store._raw_run(run_id)[0])
        values = store._raw_leaves(run_id)
    _, unknown = leaves_of(
        record, values, features=features, sources=sources, fit_params=fit_params
    )
    return {
        "features": [f for f in features if f not in unknown.get("features", ())],
        "sources": [s for s in sources if s not in unknown.get("sources", ())],
        "fit_params": [p for p in fit_params if p not in unknown.get("fit_params", ())],
    }


def redactions(store, run_id):
    """``{leaf: {"event_seq", "reason"}}`` erased by the run's redaction events."""
    out = {}
    for row in store._raw_redaction_events(run_id):
        payload = loads_stored(row[4])
        for n in payload["leaves"]:
            if not isinstance(n, int) or isinstance(n, bool) or n in out:
                raise ValueError(f"redaction event {row[0]} lists leaf {n!r} again or wrongly")
            out[n] = {"event_seq": row[0], "reason": payload["reason"]}
    return out
