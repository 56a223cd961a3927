"""The ``forget=`` parameter: checked before anything is fitted, then resolved among the
rows the unlearner just fitted on (:class:`~._request.Resolver`, non-strictly: items that
reach no training row are warned about and recorded in the event's ``request``)."""

import warnings

import numpy as np

from .._lineage._capture import validate_ids
from .._lineage._ids import codes_of
from .._lineage._record import source_table
from .._lineage._source import REGISTRY
from ..exceptions import UnlearningError
from ..utils._stack import user_stacklevel
from ._aggregated import aggregate_members, aggregated_into, aggregated_message
from ._holdout_dropped import drop_validation_only

__all__ = [
    "check_parents_here",
    "forget_at_fit",
    "jsonable",
    "split_forget",
    "warn_not_in_training_data",
]


def split_forget(forget):
    """``(source ids, row ids)`` of the parameter ``forget``, checked: an unknown source
    id, or a row id of no registered source (or past its last row), raises."""
    items = [forget] if isinstance(forget, str | int | np.integer) else list(forget)
    sources = [f for f in items if isinstance(f, str)]
    ids = [f for f in items if not isinstance(f, str)]
    bad = [f for f in ids if not isinstance(f, int | np.integer) or isinstance(f, bool)]
    if bad:
        raise TypeError(f"forget must hold source ids (str) and row ids (int), got {bad[0]!r}")
    for s in sources:
        REGISTRY.versions(s)  # an unknown source id raises
    # an id of no registered source, or past its last row, raises: a fit that forgets
    # only the rows it has must not take a mistyped id for one it does not have
    return sources, validate_ids(np.asarray(ids, dtype=np.int64), REGISTRY)


def jsonable(forget):
    """The parameter ``forget`` as the event's ``request`` records it."""
    items = [forget] if isinstance(forget, str | int | np.integer) else list(forget)
    return [f if isinstance(f, str) else int(f) for f in items]


def check_parents_here(forget, ids):
    """Raise when this process lacks the parent rows of merged training rows ``ids``,
    which ``forget`` must follow (see ``GradientCorrectionUnlearner._parents_travel``)."""
    missing = sorted(
        s.source_id
        for s in source_table(ids).values()
        if s.derived and REGISTRY.complete(s).parents is None
    )
    if missing:
        raise UnlearningError(
            f"forget={forget!r} must follow the training rows of {', '.join(missing)} to "
            "the rows they were merged or aggregated from, which this process does not "
            "hold: it did not make them (a joblib worker of GridSearchCV or cross_validate "
            "with n_jobs > 1, say). An unfitted unlearner pickled with forget= set carries "
            "them: give forget= to the unlearner handed to the search, not through its "
            "parameter grid, or use n_jobs=1. Nothing was fitted or stored."
        )


def _named(items):
    """The ``forget=`` items ``items`` (source ids, row ids) as a phrase."""
    sources = [a for a in items if isinstance(a, str)]
    ids = [a for a in items if not isinstance(a, str)]
    named = []
    if sources:
        named.append(f"source(s) {', '.join(map(repr, sources))}")
    if ids:
        shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
        named.append(f"{len(ids)} row id(s) ({shown})")
    return " and ".join(named)


def warn_not_in_training_data(absent, removed, held=(), aggregated=0):
    """Warn that the ``forget=`` items ``absent`` reach no training row of this fit, nor
    a group statistic one holds, and, apart, that the items ``held`` are in no training
    row but averaged into statistics ``aggregated`` training rows hold."""
    for items, key in ((absent, "not_in_training_data"), (held, "held_in_aggregates")):
        if not items:
            continue
        if key == "held_in_aggregates":
            said = aggregated_message(f"forget= names {_named(items)}: in", aggregated, False)
            said += ". Nothing was removed for them. "
        else:
            said = (
                f"forget= names {_named(items)} that no training row of this fit holds "
                "or was merged from, nor was averaged into a group statistic one holds: "
                "the model never trained on them, so nothing was removed for them (in a "
                "cross-validation fold: they are in its test rows, or in no split). "
            )
        warnings.warn(
            said
            + (
                f"The removal event lists them under request[{key!r}]."
                if removed
                else "Nothing else was asked, so no removal event was logged."
            ),
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def forget_at_fit(unl, forget, ids):
    """Resolve ``forget=`` (``(sources, ids)`` of :func:`split_forget`) among the rows the
    unlearner ``unl`` just fitted on (row ids ``ids``): ``(positions, named, request)`` of
    the removal, or None when it reaches no training row (rows of a skorch validation
    split it names are dropped, and said). Items that reach no training row are named in
    a warning at the user's call."""
    resolver = unl._resolver()
    positions, named = resolver.resolve(*forget, strict=False)
    # (before rows of a skorch validation split the request names go)
    absent = resolver.not_in_training_data(named)
    dropped = resolver.validation_only(positions, named)
    if dropped is not None:
        drop_validation_only(unl, dropped, f"forget={unl.forget!r}")
    if positions.size == ids.shape[0]:
        raise UnlearningError(
            f"forget={unl.forget!r} names every training row of this fit; "
            "nothing was fitted or stored."
        )
    held, n = [], 0
    if absent:
        absent, held = _split_aggregated(resolver, absent)
        if held:
            asked = np.asarray([a for a in held if not isinstance(a, str)], dtype=np.int64)
            n = aggregated_into(
                resolver.train_ids, resolver.retained, resolver.source, asked, _codes_of(held)
            )
        warn_not_in_training_data(absent, bool(positions.size), held, n)
    if not positions.size:
        return None
    request = {
        "forget": jsonable(unl.forget),
        **({"not_in_training_data": absent} if absent else {}),
        # in no training row, but averaged into statistics training rows hold: apart,
        # never as "not in the training data" (an erasure request closed on it would
        # leave the model with values they helped compute)
        **({"held_in_aggregates": {"items": held, "training_rows": n}} if held else {}),
    }
    return positions, named, request


def _codes_of(items):
    """Source codes of every version of the source ids among ``items``."""
    return [int(v.code) for a in items if isinstance(a, str) for v in REGISTRY.versions(a)]


def _split_aggregated(resolver, items):
    """``(absent, held)``: the ``forget=`` items that reach no training row, split by
    whether group statistics the training rows hold were computed over them (a row id
    among the statistics' members, a source with a member row), in their order."""
    members = aggregate_members(resolver.train_ids, resolver.retained, resolver.source)
    if not members.size:
        return list(items), []
    member_codes = set(np.unique(codes_of(members)).tolist())
    absent, held = [], []
    for item in items:
        if isinstance(item, str):
            hit = bool(member_codes & set(_codes_of([item])))
        else:
            hit = bool(np.isin(np.int64(item), members))
        (held if hit else absent).append(item)
    return absent, held
