"""What a removal request reaches: the training rows named by source ids, row ids or a mask.

A request (``forget=`` at fit, :meth:`GradientCorrectionUnlearner.unlearn
<sktraceprop.GradientCorrectionUnlearner.unlearn>` later) names sources, packed row ids
or a mask over the training rows. Each training row is named by its own id and, when
merged, by the ids of every row it was merged from at any depth (the merged rows of an
inner merge and the file lines: :func:`~sktraceprop._lineage._rows.levels`); a request
reaches a row through any of them, and a source id names every version of it.
:class:`Resolver` turns a request into positions among the training rows of one fitted
unlearner, and says what it named that reaches no training row (rows of a skorch
validation split, which the unlearner keeps as a calibration holdout, are told apart:
:func:`drop_validation_only`).
"""

import warnings
from typing import NamedTuple

import numpy as np

from .._lineage._capture import validate_ids
from .._lineage._ids import codes_of, lines_of
from .._lineage._record import source_table
from .._lineage._rows import rows_behind
from .._lineage._source import REGISTRY
from ..exceptions import LineageError, LineageWarning, UnlearningError
from ._aggregated import aggregate_members, aggregated_into, aggregated_message
from ._attached import refuse_attached, unknown_columns_said
from ._event import row_ids_digest
from ._record import event_store

_NO_IDS = np.empty(0, np.int64)


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


def source_record(sources, code):
    """The source record of ``code`` from the table ``sources`` (completed there with its
    parents when anyone has them), else from the registry."""
    code = int(code)
    source = sources.get(code)
    if source is None:
        return REGISTRY.by_code(code)
    if source.derived and source.parents is None:
        source = sources[code] = REGISTRY.complete(source)
    return source


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


def warn_not_in_training_data(absent, removed, stacklevel, held=(), aggregated=0):
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
            stacklevel=stacklevel + 1,
        )


def _warn_if_several_files(name, sources, stacklevel):
    """Say so when one source id names the rows of several files (two folders'
    ``data.csv``, both ``data`` by default): a request by that id removes the rows of
    all of them. Versions of one file (read again after an edit) are one source."""
    uris = sorted({s.uri for s in sources})
    if len(uris) > 1:
        warnings.warn(
            f"source_id {name!r} names the training rows of {len(uris)} files "
            f"({', '.join(uris)}): the rows of every one of them are removed, each counted "
            "apart in the event. To remove one file's rows, pass sample_id= with its row "
            "ids (sktraceprop.row_ids of the frame read from it), or read files "
            "under distinct source_id= names.",
            LineageWarning,
            stacklevel=stacklevel + 1,
        )


class Request(NamedTuple):
    """A request resolved: ``positions`` of the retained training rows it reaches, what
    it ``named`` (see :meth:`Resolver.resolve`) and the event's ``request`` field; or,
    when it names only rows of a skorch validation split (never trained on), ``dropped``,
    the mask of those rows, and ``what``, the request in words."""

    positions: np.ndarray
    named: dict
    request: dict = None
    dropped: np.ndarray = None
    what: str = None


class Resolver:
    """The training rows of one fitted unlearner, as a removal request sees them.

    Parameters
    ----------
    train_ids : ndarray of int64
        The training rows' ids, in order (``train_row_ids_``).
    retained : ndarray of bool
        Which of them the model holds (``retained_mask_``).
    parents : callable
        Returns ``(parent_ids, rows)`` of the merged training rows
        (:func:`~sktraceprop._lineage._rows.rows_behind`), called when a request needs them.
    source : callable
        Code -> source record, with its parents (:func:`source_record`).
    validation_ids : ndarray of int64 or None
        Rows of a skorch validation split the removal method keeps (never trained on).
    attached : list of dict, default=()
        The run's ``attached_columns``: a request for their sources is refused.
    unsourced : list of str or None, default=None
        Input columns of no known source, named where a source is refused as never
        trained on (they may hold its values).
    """

    def __init__(
        self, train_ids, retained, parents, source, validation_ids, attached=(), unsourced=None
    ):
        self.train_ids = train_ids
        self.retained = retained
        self.parents = parents
        self.source = source
        self.validation_ids = validation_ids
        self.attached = attached
        self.unsourced = unsourced

    def resolve(self, sources, ids, strict, stacklevel=1):
        """Positions (into the training rows) of the retained rows the request reaches,
        and what it named: ``codes`` of the sources, row ``ids``, ``n_parents``, how
        many of those ids are parents of merged rows rather than training rows, and
        ``unmatched``, the source ids and row ids that reach no training row (non-strict
        requests only: a strict one raises). A warning names the files of a source id
        that names several, ``stacklevel`` frames above this call.
        """
        train_ids, retained = self.train_ids, self.retained
        parent_ids, parent_rows = self.parents()
        names = np.concatenate([train_ids, parent_ids])
        rows = np.concatenate([np.arange(train_ids.shape[0]), parent_rows])
        hit = np.zeros(train_ids.shape[0], dtype=bool)
        codes, unmatched = [], []
        if sources:
            name_codes = codes_of(names)
            known = {int(c): self.source(c).source_id for c in np.unique(name_codes)}
        for s in sources:
            versions = [int(v.code) for v in REGISTRY.versions(s)]  # unknown ids raise
            of_s_codes = [c for c, name in known.items() if name == s]
            codes += sorted(set(versions) | set(of_s_codes))
            of_s = rows[np.isin(name_codes, of_s_codes)]
            if not of_s.size:
                refuse_attached(s, self.attached)
            if strict and not of_s.size:
                n = aggregated_into(train_ids, retained, self.source, codes=versions)
                if n:
                    raise UnlearningError(
                        aggregated_message(f"source {s!r} has", n) + "; nothing was changed."
                    )
                raise UnlearningError(
                    f"source {s!r} has no retained training rows in this model: it was "
                    "never trained on, directly or through a merge; nothing was changed."
                    + unknown_columns_said(s, self.unsourced)
                )
            if strict and not retained[of_s].any():
                raise UnlearningError(
                    f"source {s!r} has no retained training rows in this model "
                    f"({np.unique(of_s).size} trained on, all removed before); nothing was "
                    "changed."
                )
            if not of_s.size:
                unmatched.append(s)
            if strict:
                _warn_if_several_files(
                    s, [self.source(c) for c in of_s_codes], stacklevel=stacklevel + 1
                )
            hit[of_s] = True
        n_parents = 0
        if ids.size:
            named = np.isin(names, ids)
            present = np.isin(ids, names)
            if strict and not present.all():
                bad = ids[~present]
                # those held in statistics (as forget= splits them), said apart from
                # those never trained on
                in_stats = np.isin(bad, aggregate_members(train_ids, retained, self.source))
                held, never = bad[in_stats], bad[~in_stats]
                if held.size:
                    n = aggregated_into(train_ids, retained, self.source, ids=held)
                    first = self.source(int(codes_of(held[:1])[0])).source_id
                    never_said = (
                        f"; {never.size} other(s) were never trained on by this model, "
                        "directly, through a merge or in group statistics (first: "
                        f"{int(never[0])})"
                        if never.size
                        else ""
                    )
                    raise UnlearningError(
                        aggregated_message(
                            f"{held.size} of the {ids.size} row ids (first: {int(held[0])}, "
                            f"{first} line {int(lines_of(held[:1])[0])}) name",
                            n,
                        )
                        + never_said
                        + "; nothing was changed."
                    )
                for code in np.unique(codes_of(bad)).tolist() if self.attached else ():
                    refuse_attached(_source_id_of(code), self.attached)
                raise UnlearningError(
                    f"{bad.size} of the {ids.size} row ids were never trained on by this "
                    f"model, directly or through a merge (first: {int(bad[0])}); nothing "
                    "was changed."
                    + unknown_columns_said(
                        _source_id_of(int(codes_of(bad[:1])[0])), self.unsourced
                    )
                )
            if strict:
                live = np.isin(ids, names[named & retained[rows]])
                removed = ids[~live]
                if removed.size:
                    raise UnlearningError(
                        f"{removed.size} of the row ids were already removed (first: "
                        f"{int(removed[0])}); nothing was changed."
                    )
            hit[rows[named]] = True
            n_parents = int(np.sum(~np.isin(ids, train_ids) & present))
            unmatched += ids[~present].tolist()
        named = {"codes": codes, "ids": ids, "n_parents": n_parents, "unmatched": unmatched}
        return np.flatnonzero(hit & retained), named

    def not_in_training_data(self, named):
        """The items of a request resolved non-strictly (source ids, row ids) that reach
        no training row of this fit, directly or through a merge, nor a row of a skorch
        validation split the unlearner keeps (those are dropped, and said, apart)."""
        unmatched = named["unmatched"]
        ids = self.validation_ids
        if not unmatched or ids is None:
            return unmatched
        held = np.concatenate([ids, rows_behind(ids, self.source)[0]])
        held_sources = {self.source(c).source_id for c in np.unique(codes_of(held))}
        return [
            u
            for u in unmatched
            if (u not in held_sources if isinstance(u, str) else not np.isin(u, held))
        ]

    def validation_rows_named(self, named):
        """Mask over the rows of a skorch validation split that the method keeps (never
        trained on) of the sources or rows the request names, directly or as parents;
        None when it keeps none."""
        ids = self.validation_ids
        if ids is None or not (len(named["codes"]) or named["ids"].size):
            return None
        behind, rows = rows_behind(ids, self.source)
        hit = np.isin(codes_of(behind), named["codes"]) | np.isin(behind, named["ids"])
        mask = np.isin(codes_of(ids), named["codes"]) | np.isin(ids, named["ids"])
        mask[np.unique(rows[hit])] = True
        return mask

    def validation_only(self, positions, named):
        """The mask of :meth:`validation_rows_named` when the request reaches no training
        row but some rows of the validation split, else None."""
        if positions.size:
            return None
        dropped = self.validation_rows_named(named)
        return dropped if dropped is not None and dropped.any() else None

    def positions_from_mask(self, mask):
        """Positions of the rows ``mask`` (aligned with the training rows) selects."""
        mask = np.asarray(mask)
        n = self.train_ids.shape[0]
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(
                f"mask must be a boolean array of shape ({n},) aligned with the training "
                f"rows (train_row_ids_); got dtype {mask.dtype} and shape {mask.shape}"
            )
        gone = mask & ~self.retained
        if gone.any():
            raise UnlearningError(
                f"the mask selects {int(gone.sum())} rows that were already removed; "
                "nothing was changed."
            )
        return np.flatnonzero(mask)

    def request(self, source_id=None, sample_id=None, mask=None, stacklevel=1):
        """The :class:`Request` of ``unlearn(source_id=, sample_id=, mask=)`` (exactly
        one given), checked strictly: it must reach retained training rows only, unless
        it names only rows of the validation split. Warnings point ``stacklevel`` frames
        above this call."""
        if source_id is not None:
            sources = [source_id] if isinstance(source_id, str) else list(source_id)
            positions, named = self.resolve(sources, _NO_IDS, strict=False)
            dropped = self.validation_only(positions, named)
            if dropped is not None:
                return Request(positions, named, dropped=dropped, what=f"source_id={source_id!r}")
            positions, named = self.resolve(sources, _NO_IDS, True, stacklevel + 1)
            return Request(positions, named, {"source_id": sources})
        if sample_id is not None:
            return self._by_row_ids(sample_id, stacklevel + 1)
        positions = self.positions_from_mask(mask)
        named = {"codes": [], "ids": np.empty(0, np.int64)}
        return Request(positions, named, {"mask": int(positions.size)})

    def _by_row_ids(self, sample_id, stacklevel):
        ids = np.atleast_1d(np.asarray(sample_id))
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"sample_id must hold int64 row ids, got dtype {ids.dtype}")
        ids = ids.astype(np.int64)
        valid = self.validation_ids
        in_valid = np.isin(ids, valid) if valid is not None else np.zeros(ids.size, bool)
        if ids.size and in_valid.all():
            # every id is a row of the validation split, none trained on
            positions, named = self.resolve([], ids, strict=False)
            dropped = self.validation_only(positions, named)
            if dropped is not None:
                what = f"sample_id ({ids.size} row ids)"
                return Request(positions, named, dropped=dropped, what=what)
        # ids of the validation split (never trained on) are dropped with the removal
        positions, named = self.resolve([], ids[~in_valid], True, stacklevel + 1)
        named = {**named, "ids": ids}
        request = {"sample_id": int(ids.size)}
        if named["n_parents"]:
            request["parents_of_merged_rows"] = named["n_parents"]
        return Request(positions, named, request)


def drop_validation_only(unl, dropped, what, stacklevel):
    """For a request that reaches no training row: drop the rows ``dropped`` (a mask) of
    the skorch validation split it names (never trained on, kept as the calibration
    holdout) and warn. The model is unchanged, so no unlearning event is logged; a store
    gets an ``unlearning.holdout_dropped`` event (the rows, the request), so that the
    record shows the request was carried out."""
    n = int(dropped.sum())
    ids = np.asarray(unl._method.validation_ids, dtype=np.int64)[dropped]
    store = event_store(unl)
    logged = ""
    if store is not None:
        event = store.append_event(
            "unlearning.holdout_dropped",
            {
                "request": what,
                "n_rows": n,
                "row_ids": ids.tolist(),
                "row_ids_sha256": row_ids_digest(ids),
            },
            run_id=getattr(unl, "run_id_", None),
        )
        logged = f"; the store logged unlearning.holdout_dropped event seq {event['seq']}"
    unl._method = unl._method.without_validation(dropped)
    warnings.warn(
        f"{what} names no row the model trained on, but {n} row(s) of its skorch "
        "validation split (never trained on, kept as the calibration holdout): those "
        "were dropped from what the unlearner keeps. The model is unchanged (it never "
        f"trained on them), so no unlearning event was logged{logged}.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def forget_at_fit(unl, forget, ids, stacklevel):
    """Resolve ``forget=`` (``(sources, ids)`` of :func:`split_forget`) among the rows the
    unlearner ``unl`` just fitted on (row ids ``ids``): ``(positions, named, request)`` of
    the removal, or None when it reaches no training row (rows of a skorch validation
    split it names are dropped, and said). Items that reach no training row are named in
    a warning ``stacklevel`` frames above the caller."""
    resolver = unl._resolver()
    positions, named = resolver.resolve(*forget, strict=False)
    # (before rows of a skorch validation split the request names go)
    absent = resolver.not_in_training_data(named)
    dropped = resolver.validation_only(positions, named)
    if dropped is not None:
        drop_validation_only(unl, dropped, f"forget={unl.forget!r}", stacklevel + 1)
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
        warn_not_in_training_data(absent, bool(positions.size), stacklevel + 1, held, n)
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


def _source_id_of(code):
    """The source id of a row id's code, or None where no source in this process has it
    (ids made up, or of a source read elsewhere): a refusal names what it can."""
    try:
        return REGISTRY.by_code(code).source_id
    except (LookupError, LineageError):  # unknown, or a code two processes gave
        return None
