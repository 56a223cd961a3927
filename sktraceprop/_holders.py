"""Fitted objects in this process that keep training rows' data, found by row id.

An unlearner corrects its own model; an :class:`~sktraceprop.InfluenceExplainer`, a
:class:`~sktraceprop.KNNShapleyValuer`, another unlearner or a traced model
(:class:`~sktraceprop.TracedPipeline`, :class:`~sktraceprop.TracedEstimator`: its
fitted steps learnt from its training rows, an encoder their categories) fitted on the
same rows keeps its own copies of them, which no removal reaches. Each registers itself
here when fitted (a weak reference: the registry keeps nothing alive), and a removal
names those that hold any removed row (see :func:`held_elsewhere`), and so does one
loaded from a pickle or copied in this process (:class:`HolderMixin`). An object held
by another one named (an explainer's fitted pipeline) is named as held by it: it may be
in use elsewhere too. Objects in other processes are not seen. Objects that can drop
rows (``_forget_rows``: a valuer, an explainer) drop those removed first (see
:func:`held_elsewhere`'s ``dropped``), and are named only for what they still hold.
"""

import gc
import sys
import threading
import weakref

import numpy as np

from ._earlier_pickle import warn_missing_params
from ._reachable import reached

_LOCK = threading.Lock()
_HOLDERS = weakref.WeakValueDictionary()  # id(obj) -> obj


def hold(obj):
    """Register a fitted ``obj`` whose ``_held_row_ids()`` names the rows it keeps."""
    with _LOCK:
        _HOLDERS[id(obj)] = obj


class HolderMixin:
    """Registers an object loaded from a pickle (or deep-copied) that holds rows, as
    its ``fit`` registers a fitted one; ``_held_row_ids()`` names the rows."""

    def __setstate__(self, state):
        if isinstance(state, dict):
            warn_missing_params(self, state)
        super().__setstate__(state)
        try:
            held = self._held_row_ids()
        except AttributeError:  # not fitted
            return
        if held is not None:
            hold(self)


def held_elsewhere(removed_ids, exclude, asked=(), dropped=None, by=None):
    """``{name: removed rows held}`` over the registered objects other than ``exclude``
    (an object, or a tuple of them) that keep data of any of ``removed_ids`` (the rows
    themselves, or merged rows built from them at any depth): per name,
    the number of distinct removed rows that any object of that name holds (never more
    than were removed: three pipelines holding the same three rows hold 3, not 9). The
    name is the class name, or ``"<class> in <class of its holder>"`` for an object held
    by another one named (an explainer's fitted pipeline), which discarding the holder
    frees only where nothing else uses it (the same pipeline in use, say).

    ``asked`` are rows a request named besides ``removed_ids``: the file lines behind
    removed merged rows, or an erasure request's rows (file lines, merged rows, rows of
    whole sources). An object holding such a row (a valuer fitted on that file's rows)
    holds data asked to be removed, and it counts as a removed row where the object holds
    no other removed or asked row built from it (one holding the merged row and so its
    line holds one row, not two).

    ``dropped``, a dict, asks the objects that can drop rows to drop those of
    ``removed_ids`` and ``asked`` they hold, merged rows built from them included (see
    :func:`_forget`), and gets ``{name: rows dropped}``; what they still hold after
    that (a valuer's transformer fitted on the rows) is named. ``by`` says what removes
    them, in the words of the errors of an explainer that dropped its fit."""
    removed = np.unique(np.asarray(removed_ids, dtype=np.int64))
    asked = np.setdiff1d(np.asarray(asked, dtype=np.int64), removed)
    wanted = np.concatenate([removed, asked])
    exclude = exclude if isinstance(exclude, tuple) else (exclude,)
    # weak references: the matches must not keep alive what the collection below frees
    matched = [(weakref.ref(obj), held) for obj, held in _matches(wanted, exclude)]
    if not matched:
        return {}
    _drop_garbage([ref for ref, _ in matched], sys._getframe(1))
    found = [(ref(), held) for ref, held in matched]
    found = [(obj, held) for obj, held in found if obj is not None]
    holder_of = {}  # (before objects drop rows: a model an explainer was given stays)
    for obj, _ in found:
        for v in parts_of(obj):
            holder_of.setdefault(id(v), obj)
    if dropped is not None:
        found = _forget(found, wanted, dropped, by)
    union = {}
    for obj, held in found:
        name = getattr(obj, "holder_name", type(obj).__name__)
        holder = holder_of.get(id(obj))
        if holder is not None and holder is not obj:
            name = f"{name} in {type(holder).__name__}"
        union[name] = union[name] | held if name in union else held
    return {name: _count(held, removed, asked) for name, held in union.items()}


def _forget(found, wanted, dropped, by):
    """``found`` after the objects among it that can drop rows (a
    ``_forget_rows(row_ids, by=)`` method: a :class:`~sktraceprop.KNNShapleyValuer`, an
    :class:`~sktraceprop.InfluenceExplainer`) drop
    those they hold of ``wanted`` or built from one of them through merges (a merged
    row keeps its parents' values); ``dropped`` gets ``{name: rows dropped}``. The masks
    of those objects are recomputed from the rows they hold after it, and an object that
    holds none of ``wanted`` then is left out: a row said to be forgotten is not kept
    there, and what still holds one is named."""
    out = []
    for obj, held in found:
        forget = getattr(obj, "_forget_rows", None)
        ids = _held_ids(obj) if forget is not None else None
        if ids is None:
            out.append((obj, held))
            continue
        n = forget(_gone_rows(ids, wanted), by=by)
        if n:
            name = getattr(obj, "holder_name", type(obj).__name__)
            dropped[name] = dropped.get(name, 0) + int(n)
            ids = _held_ids(obj)
            held = np.zeros(wanted.size, bool) if ids is None else None
            if held is None:
                held = np.isin(wanted, _with_rows_behind(ids))
        if held.any():
            out.append((obj, held))
    return out


def _gone_rows(ids, wanted):
    """The rows of ``ids`` that are of ``wanted`` or built from one of them through
    merges, at any depth."""
    gone = np.isin(ids, wanted)
    if np.isin(_rows_behind(ids[~gone]), wanted).any():
        for i in np.flatnonzero(~gone):
            gone[i] = np.isin(_rows_behind(ids[i : i + 1]), wanted).any()
    return ids[gone]


def _drop_garbage(refs, frame):
    """Free the objects of ``refs`` (weak references) that are garbage: let go but still
    in reference cycles, which no removal must name as holders. A collection frees
    objects and makes none, so those that survive it are all the holders there are. A
    full collection costs in proportion to every object in the process: none is run
    where each object is reached from a live root (:func:`~._reachable.reached`, from
    ``frame``, the caller's, up), a young one first where some is not, and a full one
    only where some not reached survives that."""
    pairs = [(ref, ref()) for ref in refs]
    pairs = [(ref, obj) for ref, obj in pairs if obj is not None]
    found = reached([obj for _, obj in pairs], frame)
    undecided = [ref for ref, obj in pairs if id(obj) not in found]
    del pairs
    if not undecided:
        return
    gc.collect(1)
    if any(ref() is not None for ref in undecided):
        gc.collect()


def _count(held, removed, asked):
    """Removed rows held (``held``: a mask over ``removed`` then ``asked``), each asked
    row counted only where no other removed or asked row held was built from it (at any
    depth of merges: an object holding a merged row holds one row, not one per row of
    the request behind it)."""
    rows, lines = held[: removed.size], held[removed.size :]
    if not lines.any():
        return int(rows.sum())
    behind = np.concatenate([_rows_behind(removed[rows]), _rows_behind(asked[lines])])
    covered = np.isin(asked, behind)
    return int(rows.sum() + (lines & ~covered).sum())


def parts_of(obj):
    """The objects ``obj`` holds: its attributes and, for estimators among them (and
    ``obj``), their parameters, nested steps included."""
    out = list(vars(obj).values())
    for v in [obj, *out]:
        if hasattr(v, "get_params") and not isinstance(v, type):
            out += list(v.get_params(deep=True).values())
    return out


def _matches(removed, exclude):
    """``[(obj, mask over removed of the rows it holds)]`` over the registered objects
    but ``exclude``."""
    with _LOCK:
        holders = [obj for obj in _HOLDERS.values() if not any(obj is other for other in exclude)]
    out = []
    for obj in holders:
        ids = _held_ids(obj)
        if ids is None:
            continue
        held = np.isin(removed, _with_rows_behind(ids))
        if held.any():
            out.append((obj, held))
    return out


def _held_ids(obj):
    """The row ids a registered object holds (int64), or None where it holds none
    (refitted into a state that holds none, unfitted, or an empty set)."""
    try:
        ids = obj._held_row_ids()
    except AttributeError:
        return None
    if ids is None or not len(ids):
        return None
    return np.asarray(ids, dtype=np.int64)


def _with_rows_behind(ids):
    """``ids`` and every row behind them through merges (``sktraceprop.merge``, traced
    arrays' merged rows), at every level: an object fitted on merged rows keeps the
    values of their parent rows, so removing a parent reaches it. (Not the reverse: a
    merged row removed for one parent's sake says nothing of the other parent's rows
    an object keeps.) Where the parents are not in this process (a record from a
    pickle), the ids themselves."""
    return np.concatenate([ids, _rows_behind(ids)])


def _rows_behind(ids):
    """Every row behind ``ids`` through merges, at every level, not ``ids`` themselves
    (unless a row is also behind another); none where the parents are not in this
    process."""
    from ._lineage._ids import codes_of, lines_of
    from ._lineage._source import REGISTRY
    from .exceptions import LineageError

    found, current = [ids[:0]], ids
    try:
        while current.size:
            codes = codes_of(current)
            merges = [c for c in np.unique(codes) if REGISTRY.by_code(c).kind == "merge"]
            parents = [
                REGISTRY.by_code(c).require_parents().of(lines_of(current[codes == c]) - 1)[1]
                for c in merges
            ]
            current = np.concatenate(parents) if parents else current[:0]
            found.append(current)
    except LineageError:  # (unknown or ambiguous codes too)
        return ids[:0]
    return np.concatenate(found)


def rows_held_of(codes):
    """The rows of the sources ``codes`` (this process's codes) that registered objects
    hold: their own rows, or rows behind merged rows they hold at any depth. A request
    to erase whole sources looks for these (see :func:`held_elsewhere`'s ``asked``)."""
    from ._lineage._ids import codes_of

    codes = np.asarray(sorted(codes), dtype=np.int64)
    with _LOCK:
        holders = list(_HOLDERS.values())
    found = [np.zeros(0, np.int64)]
    for obj in holders:
        ids = _held_ids(obj)
        if ids is None:
            continue
        rows = _with_rows_behind(ids)
        found.append(rows[np.isin(codes_of(rows), codes)])
    return np.unique(np.concatenate(found))


def held_elsewhere_caveat(held):
    """The caveat and warning text for :func:`held_elsewhere`'s result."""
    named = ", ".join(f"{name} ({n} removed row(s))" for name, n in sorted(held.items()))
    inside = any(" in " in name for name in held)
    return (
        f"other fitted objects in this process keep data of removed rows: {named}; this "
        "removal does not reach them (an explainer's or valuer's copies of the rows, "
        "features or gradients, a traced model's steps fitted on them): refit or discard "
        "them"
        + (
            " (an object 'in' another is held by it: discarding the holder leaves it "
            "wherever else it is used, such as a model in use)"
            if inside
            else ""
        )
        + cache_advice(held)
        + ". Objects in other processes cannot be seen"
    )


def cache_advice(held):
    """What to do of the ``memory=`` caches among ``held``'s names (see
    :mod:`sktraceprop._cache_holders`), or nothing."""
    if not any(name.startswith("the memory= cache") for name in held):
        return ""
    return (
        "; a memory= cache's files keep the fitted steps and the data given to them, "
        "also once its pipeline is gone: clear them (joblib.Memory(location).clear())"
    )
