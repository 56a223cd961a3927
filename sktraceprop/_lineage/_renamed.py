"""Loaded columns under new names: identified by the values they hold on the witness rows.

The checks that compare a traced fit's data with what was loaded (:mod:`._witness`,
:mod:`._misplaced`) find a loaded column by its name. A column renamed outside the
pipeline (``rename``, ``add_suffix``, ``DataFrame.join(..., rsuffix=)``) is then compared
with nothing: ids moved off their rows (``df.index = df.index[::-1]``) and then every
column renamed would leave nothing to compare, and the fit would name the lines the
moved ids name, wrong lines for every row.

A column of the data that no load of a source has by name is taken for the loaded column
``c`` of that source when, on the witness rows of the data, most of its values are values
that ``c`` holds on the load's witness rows (a set, so rows permuted among themselves
still match), at least ``MIN_UNIQUE`` of them values that one witness row alone holds in
``c`` (a column of a few repeated values, 0/1 or small counts, names no column), and no
other loaded column fits the first condition (a match must be unambiguous). The checks
then compare it with ``c``.

In a load of more than 512 rows, a column renamed after its rows were moved holds, on
the witness rows, mostly values of rows that are not witnesses. Where fewer than
``MIN_COLUMNS`` columns of a source can be compared so (every column renamed), up to
``SEARCHED`` numeric columns are also searched whole: a column holding, in any rows,
more than half of the values that one witness row (of those whose ids the data has)
alone holds in ``c``, and no other loaded column's, is taken for ``c``. What is still
not identified, the run names as not checked.
"""

import threading
from collections import Counter

import numpy as np
import pandas as pd

from ._ids import codes_of, distinct_codes
from ._misplaced_columns import MIN_COLUMNS
from ._witness import WITNESSES, _take_columns, witness_mask
from ._witness import cell_keys as _keys
from ._witness_values import series_integers
from ._witness_view import tested_for

#: Values of the column that one witness row alone holds in the loaded column.
MIN_UNIQUE = 2
#: Numeric columns searched whole, per source, where too few could be compared.
SEARCHED = 4


class Renamed:
    """What :func:`loaded_names` found.

    Attributes
    ----------
    by_code : dict
        Source code -> {column of the data -> the loaded column it holds}.
    ambiguous : dict
        Column of the data -> the loaded columns whose values it holds, not identified:
        two or more of them, or one with too few distinct values (a 0/1 column).
    rows : dict
        Source code -> ``(witness rows, rows)`` of the data from that source: the rows
        whose values can be compared with what was loaded (its loads' witness rows), of
        all its rows.
    unloaded : list
        Codes of the data's sources whose loads this process does not keep (loaded in
        another process, or never kept): nothing of theirs can be compared.
    """

    __slots__ = ("ambiguous", "by_code", "rows", "unloaded")

    def __init__(self):
        self.by_code, self.ambiguous, self.rows, self.unloaded = {}, {}, {}, []

    def of(self, code):
        """Column of the data -> loaded column, for the rows of source ``code``."""
        return self.by_code.get(int(code), {})


def witness_rows(ids, code, loads, codes, tested):
    """Positions of the rows of ``ids`` from source ``code`` that are witness rows of one
    of its ``loads``. ``codes``: the code of each id (``None`` for one source);
    ``tested``: selector -> its answer for ``ids`` (see :func:`._witness.witness_mask`),
    filled as needed."""
    maybe = witness_mask(ids, loads, tested)
    if codes is not None:
        maybe &= codes == code
    return np.flatnonzero(maybe)


def loaded_names(X, ids, sources, skip=()):
    """Identify the columns of ``X`` that hold a loaded column under another name.

    Parameters
    ----------
    X : DataFrame
        The data, indexed by row ids.
    ids : ndarray of int64
        Its row ids, aligned with its rows.
    sources : dict
        Source code -> :class:`~sktraceprop._lineage._source.Source`, covering ``ids``.
    skip : iterable of str
        Columns not compared (written by a traced step outside the pipeline).

    Returns
    -------
    found : Renamed
    """
    found = Renamed()
    if X.columns.has_duplicates or not len(ids):
        return found
    names = [str(c) for c in X.columns]
    skip = set(skip)
    ids = np.asarray(ids, dtype=np.int64)
    distinct = distinct_codes(ids)
    codes = codes_of(ids) if len(distinct) > 1 else None
    tested = tested_for(ids)  # (in a fit: the answers its witness view has, or will)
    for code in distinct:
        source = sources.get(int(code))
        version, loads = (
            WITNESSES.loads_at(code, source.sha256) if source is not None else (None, [])
        )
        if not loads:
            found.unloaded.append(int(code))
            continue
        hit = witness_rows(ids, code, loads, codes, tested)
        total = len(ids) if codes is None else int((codes == code).sum())
        found.rows[int(code)] = (int(hit.size), total)
        loaded = {n for w in loads for n in w.columns}
        unknown = [j for j, n in enumerate(names) if n not in skip and n not in loaded]
        if not unknown or not hit.size:
            continue
        held = _held_values(int(code), loads, version)
        mine = _take_columns(X.iloc[:, unknown], hit)
        for j, column in zip(unknown, mine):
            keys = [k for k in _keys(column) if k is not None]
            fits = _fits(keys, held)
            if len(fits) == 1 and fits[0][1] >= MIN_UNIQUE:
                found.by_code.setdefault(int(code), {})[names[j]] = fits[0][0]
            elif fits:  # several columns, or too few distinct values to name one
                found.ambiguous[names[j]] = sorted(name for name, _ in fits)
        named = found.by_code.get(int(code), {})
        same = sum(n in loaded and n not in skip for n in names)
        if same + len(named) < MIN_COLUMNS:  # rows moved, then renamed: search them whole
            rest = [
                j for j in unknown if names[j] not in named and names[j] not in found.ambiguous
            ]
            rows = slice(None) if codes is None else np.flatnonzero(codes == code)
            for j in _numeric(X, rest)[:SEARCHED]:
                series = X.iloc[rows, j]
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
                exact = _integers(series)
                fits = _held_anywhere(values.astype(np.float32), loads, ids[hit], exact)
                if len(fits) == 1:
                    found.by_code.setdefault(int(code), {})[names[j]] = fits[0]
                elif fits:
                    found.ambiguous[names[j]] = fits
    return found


def _numeric(X, columns):
    """Of ``columns`` (positions), those of a numeric dtype."""
    return [
        j
        for j in columns
        if pd.api.types.is_numeric_dtype(X.dtypes.iloc[j])
        and not isinstance(X.dtypes.iloc[j], pd.CategoricalDtype)
    ]


def _integers(series):
    """An integer column's values as int64, missing ones dropped (None for others):
    float32 rounds integers past 2**24, and account numbers one apart were one value,
    found on no single witness row (a column renamed after its ids were moved named no
    column, and the fit named the moved ids' lines)."""
    found = series_integers(series)
    return None if found is None else found[0][~found[1]]


def _held_anywhere(values, loads, present, exact=None):
    """Loaded numeric columns of which ``values`` (float32, of any rows) hold more than
    half of the values that one witness row alone holds among the loaded column's
    witness rows, of the witness rows whose ids are ``present``. ``exact``: the
    values as int64 where the column holds integers (:func:`_integers`), compared
    exactly with a loaded integer column."""
    have = np.unique(values[np.isfinite(values)])
    have_exact = None if exact is None else np.unique(exact)
    fits = set()
    for w in loads:
        here = np.isin(w.ids, present)
        for name, column in w.columns.items():
            if not column.numeric or not have.size:
                continue
            if have_exact is not None and column.exact is not None:
                v, ok, pool = column.exact, ~column.missing, have_exact
            else:
                v, pool = column.values.astype(np.float32), have
                ok = ~column.missing & np.isfinite(v)
            uniq, counts = np.unique(v[ok], return_counts=True)
            mine = np.intersect1d(uniq[counts == 1], v[ok & here])
            if mine.size < MIN_UNIQUE:
                continue
            at = np.minimum(np.searchsorted(pool, mine), pool.size - 1)
            if 2 * int((pool[at] == mine).sum()) > mine.size:
                fits.add(name)
    return sorted(fits)


#: Source code -> ``(version, index)``, the index of the loads kept at ``version`` of
#: :data:`WITNESSES`. Under ``_LOCK``: threads fitting while others read files or forget
#: rows share it (read and cleared key by key, an entry could vanish between writing and
#: reading it, a KeyError in ``fit``, or outlive the rows forgotten).
_CACHE = {}
_LOCK = threading.Lock()


class _ForgetCache:
    """Empties :data:`_CACHE` when witness rows are forgotten or cleared: it indexes
    their values (a removed or erased row's too), which must not outlive them."""

    def forget(self, ids):
        with _LOCK:
            _CACHE.clear()

    def clear(self):
        with _LOCK:
            _CACHE.clear()


WITNESSES.follow(_ForgetCache())


def _held_values(code, loads, version):
    """Value key -> {loaded column -> witness rows holding it (the most over loads)}, for
    the ``loads`` of source ``code``, kept at ``version`` of :data:`WITNESSES` (the two
    read together: :meth:`~._witness._Witnesses.loads_at`): kept until the loads kept
    change."""
    with _LOCK:
        entry = _CACHE.get(code)
    if entry is not None and entry[0] == version:
        return entry[1]
    held = _index(loads)
    with _LOCK:
        # kept only while current: rows forgotten meanwhile were cleared after the
        # version changed, and an index holding them is not kept
        if WITNESSES.version == version:
            for other in [c for c, (v, _) in _CACHE.items() if v != version]:
                del _CACHE[other]
            _CACHE[code] = (version, held)
    return held


def _index(loads):
    held = {}
    for w in loads:
        for name, column in w.columns.items():
            for key, n in Counter(_keys(column)).items():
                if key is not None:
                    by_name = held.setdefault(key, {})
                    by_name[name] = max(by_name.get(name, 0), n)
    return held


def _fits(keys, held):
    """``[(loaded column, values of keys one witness row alone holds there)]`` for the
    loaded columns holding more than half of ``keys``."""
    found, unique = Counter(), Counter()
    for key, n in Counter(keys).items():
        for name, rows in held.get(key, {}).items():
            found[name] += n
            unique[name] += rows == 1
    return [(name, unique[name]) for name, k in found.items() if 2 * k > len(keys)]
