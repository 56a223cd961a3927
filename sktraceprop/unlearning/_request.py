"""What a removal request reaches: the training rows named by source ids, row ids or a mask.

A request (``forget=`` at fit, :meth:`GradientCorrectionUnlearner.unlearn
<sktraceprop.GradientCorrectionUnlearner.unlearn>` later) names sources, packed row ids
or a mask over the training rows. Each training row is named by its own id and, when
merged, by the ids of every row it was merged from at any depth (the merged rows of an
inner merge and the file lines: :func:`~sktraceprop._lineage._merged_parents.levels`); a
request reaches a row through any of them, and a source id names every version of it.
:class:`Resolver` turns a request into positions among the training rows of one fitted
unlearner, and says what it named that reaches no training row (rows of a skorch
validation split, which the unlearner keeps as a calibration holdout, are told apart:
:func:`~._holdout_dropped.drop_validation_only`). The ``forget=`` parameter is checked
and resolved at fit by :mod:`._forget_at_fit`.
"""

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._lineage._capture import describe_id
from .._lineage._ids import codes_of, lines_of
from .._lineage._merged_parents import rows_behind
from .._lineage._rows import index_ids
from .._lineage._source import REGISTRY
from .._lineage._uri_path import same_file_uri
from ..exceptions import LineageError, LineageWarning, UnlearningError
from ._aggregated import aggregate_members, aggregated_into, aggregated_message
from ._attached import refuse_attached, unknown_columns_said

__all__ = ["Request", "Resolver", "source_record"]

_NO_IDS = np.empty(0, np.int64)


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


def _refuse_misaligned(mask_ids, train_ids):
    """Refuse a mask whose own row ids (a traced Series' index) are not the training rows
    in their order: a mask is taken by position, so it would remove other rows."""
    k = int(np.flatnonzero(mask_ids != train_ids)[0])  # (their shapes are equal)
    where = (
        f"row {k} of the training rows is {describe_id(train_ids[k])} but row {k} of "
        f"mask is {describe_id(mask_ids[k])}"
    )
    raise UnlearningError(
        f"mask is indexed by row ids that are not the training rows in their order "
        f"({where}): a mask is taken by position (train_row_ids_), so it would remove "
        "other rows than the ones it marks. Pass sample_id=mask.index[mask] (the row ids "
        "it marks), or mask.reindex(unlearner.train_row_ids_); nothing was changed."
    )


def _warn_if_several_files(name, sources, stacklevel):
    """Say so when one source id names the rows of several files (two folders'
    ``data.csv``, both ``data`` by default): a request by that id removes the rows of
    all of them. Versions of one file (read again after an edit) are one source."""
    # (one file's URI as an older record wrote it and as a new one does: one file)
    uris = sorted({same_file_uri(s.uri): s.uri for s in sources}.values())
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
        (:func:`~sktraceprop._lineage._merged_parents.rows_behind`), called when a request
        needs them.
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
        index = getattr(mask, "index", None)
        mask_ids = index_ids(index) if isinstance(index, pd.Index) else None
        mask = np.asarray(mask)
        n = self.train_ids.shape[0]
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(
                f"mask must be a boolean array of shape ({n},) aligned with the training "
                f"rows (train_row_ids_); got dtype {mask.dtype} and shape {mask.shape}"
            )
        if mask_ids is not None and not np.array_equal(mask_ids, self.train_ids):
            _refuse_misaligned(mask_ids, self.train_ids)
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


def _source_id_of(code):
    """The source id of a row id's code, or None where no source in this process has it
    (ids made up, or of a source read elsewhere): a refusal names what it can."""
    try:
        return REGISTRY.by_code(code).source_id
    except (LookupError, LineageError):  # unknown, or a code two processes gave
        return None
