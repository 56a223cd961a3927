"""The witness rows of the data given to one traced fit or transform, taken once.

Which upstream steps a fit's rows went through (:func:`._upstream_outputs.identify`),
which of its rows they did not transform (:class:`._upstream_rows._Cells`) and which of
its columns changed after loading (:func:`._witness.changed_columns`) all read the same
few hundred witness rows of the data and compare them, column by column, with the same
loads and the same kept outputs of steps. Taking those rows and making each comparison
once per fit (and once per ``transform`` that keeps its output) is what
:func:`taken_once` arranges: inside the block, :func:`witness_view` of the same ``X`` and
``ids`` objects returns the same :class:`WitnessView`, holding the values ``X`` held when
first asked (a step with ``copy=False`` may write into ``X`` during the fit: the record
is of the data given). Outside such a block every call takes them afresh.

A comparison is kept with the objects it was made from (the load or kept output, its
sorted ids, its column): a load that drops rows (:meth:`._witness._Witnesses.forget`)
gets new ids and columns, a step that keeps more output a new ``_Kept``, and the next
question compares again.
"""

import contextlib
import contextvars

import numpy as np

from ._ids import codes_of, distinct_codes
from ._witness import WITNESSES, _equal, _take_columns, positions_in, selected, selector

#: While a :func:`taken_once` block runs: ``(id(X), id(ids)) -> (X, ids, codes,
#: {selectors: view})``.
_VIEWS = contextvars.ContextVar("sktraceprop_witness_views", default=None)


@contextlib.contextmanager
def taken_once():
    """Within the block, :func:`witness_view` of the same ``X`` and ``ids`` (the same
    objects) is taken once. Each block is its own: a block inside another starts empty."""
    token = _VIEWS.set({})
    try:
        yield
    finally:
        _VIEWS.reset(token)


def _selectors(codes, sources):
    """``((code, its loads' selectors), ...)`` for the source ``codes`` (distinct, of
    some ids): what decides which of those rows are witness rows (the strides of the
    hash, or the rows a merge chose: :func:`._witness.selector`)."""
    out = []
    for code in codes:
        source = sources.get(int(code))
        loads = WITNESSES.loads(code, source.sha256) if source is not None else []
        out.append((int(code), frozenset(selector(w) for w in loads)))
    return tuple(out)


def tested_for(ids):
    """Selector (:func:`._witness.selector`) -> its answer for ``ids`` (which of them are
    witness rows, :func:`._witness.selected`), to fill as asked: inside a
    :func:`taken_once` block one dict per ``ids`` object, kept with it, so the hash of a
    fit's ids is taken once (its witness view and the search for renamed columns,
    :func:`._renamed.loaded_names`, ask the same: 0.9 ms per million rows each). Keyed
    by identity, as :func:`witness_view` is: the fit does not write into its row ids.
    Outside a block, a fresh dict."""
    held = _VIEWS.get()
    if held is None:
        return {}
    key = ("selected", id(ids))
    entry = held.get(key)
    if entry is None or entry[0] is not ids:
        entry = held[key] = (ids, _Answers())  # (holding ids: its id() stays its own)
    return entry[1]


class _Answers(dict):
    """Selector -> its answer, each read-only: shared by the questions of one block, an
    answer written into by one of them would be wrong for the others."""

    def __setitem__(self, key, answer):
        answer.flags.writeable = False
        super().__setitem__(key, answer)


def witness_positions(ids, selectors):
    """Positions of the rows of ``ids`` that are witnesses of their source's loads
    (``selectors``: from :func:`_selectors`)."""
    hit = np.zeros(len(ids), dtype=bool)
    codes = codes_of(ids) if len(selectors) > 1 else None
    tested = tested_for(ids)  # selector -> its answer for ids, once each
    for code, keys in selectors:
        maybe = np.zeros(len(ids), dtype=bool)
        for key in keys:
            if key not in tested:
                tested[key] = selected(ids, key)
            maybe |= tested[key]
        if codes is not None:
            maybe &= codes == code
        hit |= maybe
    return np.flatnonzero(hit)


def witness_view(X, ids, sources):
    """The :class:`WitnessView` of DataFrame ``X`` (row ids ``ids``), or None when none of
    its rows is a witness row. Inside :func:`taken_once`, taken once per ``X`` and
    ``ids`` (and the selectors of their sources' loads)."""
    ids = np.asarray(ids, dtype=np.int64)
    held = _VIEWS.get()
    if held is None:
        return _make(X, ids, _selectors(distinct_codes(ids), sources))
    key = (id(X), id(ids))
    entry = held.get(key)
    if entry is None or entry[0] is not X or entry[1] is not ids:
        # (holding X and ids, whose id() then stays theirs)
        entry = held[key] = (X, ids, distinct_codes(ids), {})
    selectors = _selectors(entry[2], sources)  # (a load added since: other witness rows)
    if selectors not in entry[3]:
        entry[3][selectors] = _make(X, ids, selectors)
    return entry[3][selectors]


def _make(X, ids, selectors):
    hit = witness_positions(ids, selectors)
    return WitnessView(X, ids, hit) if hit.size else None


class WitnessView:
    """The witness rows of a DataFrame: their positions ``hit``, ``ids``, column
    ``names`` and ``columns`` (name -> ``_Column``; ``at``: name -> its position in
    ``names``), and their comparisons with a candidate (a load, or a step's kept
    output: anything with sorted ``ids`` and ``columns``), each made once."""

    def __init__(self, X, ids, hit):
        self.hit = hit
        self.ids = ids[hit]
        self.names = [str(c) for c in X.columns]
        self.columns = dict(zip(self.names, _take_columns(X, hit)))
        self.at = {name: j for j, name in enumerate(self.names)}  # (of names[j]: columns)
        self._codes = None
        self._positions = {}
        self._equal = {}
        self._cells = {}
        self._matrix = None  # (values, missing, bits) of every column, stacked

    @property
    def codes(self):
        """The source code of each witness row."""
        if self._codes is None:
            self._codes = codes_of(self.ids)
        return self._codes

    def positions(self, candidate):
        """Position of each witness row among ``candidate``'s rows, -1 where absent."""
        key = id(candidate)
        found = self._positions.get(key)
        if found is None or found[0] is not candidate or found[1] is not candidate.ids:
            found = (candidate, candidate.ids, _frozen(positions_in(candidate.ids, self.ids)))
            self._positions[key] = found
        return found[2]

    def equal(self, candidate, name, theirs=None):
        """``(at, eq)``: the witness rows ``candidate`` holds (positions among them) and
        whether column ``name`` equals ``candidate``'s column ``theirs`` (default: the
        same name) there; None when either has no such column."""
        theirs = name if theirs is None else theirs
        mine, other = self.columns.get(name), candidate.columns.get(theirs)
        if mine is None or other is None:
            return None
        key = (id(candidate), name, theirs)
        found = self._equal.get(key)
        if (
            found is None
            or found[0] is not candidate
            or found[1] is not candidate.ids
            or found[2] is not other
        ):
            here = self.positions(candidate)
            at = np.flatnonzero(here >= 0)
            eq = _equal(mine.take(at), other.take(here[at]))
            found = (candidate, candidate.ids, other, _frozen(at), _frozen(eq))
            self._equal[key] = found
        return found[3], found[4]

    def cells(self, candidate):
        """``(agree, compared)``: bool arrays of shape (witness rows, ``names``): whether
        each cell was compared with ``candidate``'s cell of the same row and column (it
        holds both), and found equal (as :func:`~._witness._equal` finds; the numeric
        columns compared at once)."""
        key = id(candidate)
        found = self._cells.get(key)
        if (
            found is None
            or found[0] is not candidate
            or found[1] is not candidate.ids
            or found[2] is not candidate.columns
        ):
            agree, compared = self._cells_of(candidate)
            found = (candidate, candidate.ids, candidate.columns, agree, compared)
            self._cells[key] = found
        return found[3], found[4]

    def _cells_of(self, candidate):
        shape = (self.ids.size, len(self.names))
        agree, compared = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
        here = self.positions(candidate)
        at = np.flatnonzero(here >= 0)
        numeric, theirs = [], []
        for j, name in enumerate(self.names):
            other = candidate.columns.get(name)
            if other is None:
                continue
            compared[at, j] = True
            if self.columns[name].numeric and other.numeric:
                numeric.append(j)
                theirs.append(other)
            else:
                agree[at, j] = self.equal(candidate, name)[1]
        if numeric:
            agree[np.ix_(at, numeric)] = self._numeric_equal(numeric, theirs, at, here[at])
        return _frozen(agree), _frozen(compared)

    def _numeric_equal(self, numeric, theirs, at, there):
        """:func:`~._witness._equal` of the numeric columns ``numeric`` (positions in
        ``names``) at witness rows ``at`` with the columns ``theirs`` at their rows
        ``there``, as one array (rows, columns)."""
        if self._matrix is None:
            columns = [self.columns[name] for name in self.names]
            blank = np.zeros(self.ids.size)  # (in place of a column of objects)
            self._matrix = (
                np.column_stack([c.values if c.numeric else blank for c in columns]),
                np.column_stack([c.missing for c in columns]),
                np.array([c.bits for c in columns]),
            )
        values, missing, bits = self._matrix
        mine_values, mine_missing = values[np.ix_(at, numeric)], missing[np.ix_(at, numeric)]
        their_values = np.column_stack([c.values[there] for c in theirs])
        their_missing = np.column_stack([c.missing[there] for c in theirs])
        bits = np.minimum(bits[numeric], [c.bits for c in theirs])
        with np.errstate(invalid="ignore", over="ignore"):
            eq = mine_values == their_values
            for narrow in np.unique(bits[bits < 64]):
                # a cast to a narrower float (float32 for torch) rounds, it does not change
                kind = np.float32 if narrow == 32 else np.float16
                cols = np.flatnonzero(bits == narrow)
                eq[:, cols] |= mine_values[:, cols].astype(kind) == their_values[:, cols].astype(
                    kind
                )
        either = mine_missing | their_missing
        return (eq & ~either) | (mine_missing & their_missing)


def _frozen(array):
    """``array``, read-only: what a view hands out is shared by every question asked."""
    array.flags.writeable = False
    return array
