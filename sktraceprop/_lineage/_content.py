"""Untraced data that holds rows of a loaded source: lineage lost, found by content.

``df.to_numpy()``, ``pd.DataFrame(df.values, columns=[...])`` or a plain merge leave
data with no row ids and, once renamed, nothing that says where it came from: a traced
fit records it as an anonymous source. The witness rows of each load (see
:mod:`._witness`) still recognise their values. A row of such data that holds, in at
least two numeric columns and more than half of those compared, the values of one
witness row, found by a value that no other witness row of its load has (where the data
holds it in several rows, as a many-to-many merge repeats a row, its first), was copied
from that row. Half of the witness row's own numeric
values count as well: a row of a plain merge holds a whole loaded row beside the other
side's columns (one-hot columns, suffixed copies), more columns than the loaded row has.
Only loaded columns of at least ``INFORMATIVE`` distinct values count (not labels,
flags, small codes), each value of the row once; and at least half the rows tried
against a load (rows holding a value that one witness row of it alone holds; up to 64 a
column), and ``MIN_ROWS``, must hold their witness row so. Small integers, codes and
labels are held by many rows, and rows of other data holding two of them named a line
by chance (a copy of a file of integers 0 to 9 was said to hold a line of another file
of integers 0 to 99: a 0 or 1 of the row equal to the loaded label and flag), while a
copy of a load holds, on nearly every row tried, the row its value names.

Integer, boolean and object arrays are searched as floats are: ``to_numpy()`` of a frame
of integers gives int64, of a frame with a text column an object array, whose columns of
numbers are compared (:func:`searchable`).
"""

import threading

import numpy as np
import pandas as pd

from ._witness import WITNESSES
from ._witness_values import _take_columns, exact_integers

#: Numeric columns of the data searched for witness values.
SEARCHED = 2
#: Rows of the data searched, evenly spread (a copy of a load holds all its witness
#: rows, a few hundred: some are among them).
SAMPLED = 1 << 16
#: Numeric values of a row that must equal those of one witness row.
MIN_SHARED = 2
#: Distinct values a loaded column must hold on the witness rows to count as evidence.
INFORMATIVE = 16
#: Rows of the data that must each hold a witness row of one load so (all, in data of
#: fewer rows).
MIN_ROWS = 3


class _Numeric:
    """The numeric columns of the data, read as float32 (NaN where missing) when asked:
    a few whole columns; and single rows, their integers exact."""

    def __init__(self, X):
        self.X = X
        if isinstance(X, pd.DataFrame):
            self.at = [
                j
                for j, dtype in enumerate(X.dtypes)
                if pd.api.types.is_numeric_dtype(dtype)
                and not isinstance(dtype, pd.CategoricalDtype)
            ]
        elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "iuf":
            self.at = list(range(X.shape[1]))
        else:
            self.at = []

    def column(self, j, rows=slice(None)):
        if isinstance(self.X, pd.DataFrame):
            values = self.X.iloc[rows, self.at[j]].to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values = self.X[rows, self.at[j]]
        return np.asarray(values, dtype=np.float32)

    def row_exact(self, position):
        """Row ``position``'s numeric values, not missing: ``(integers, floats)``, the
        integer columns' values as int64 (exact: float32 and float64 round them past
        2**24 and 2**53) and the other columns' as float32."""
        if isinstance(self.X, pd.DataFrame):
            columns = _take_columns(self.X, [position])
            columns = [columns[j] for j in self.at]
            ints = [c.exact for c in columns if c.exact is not None and not c.missing[0]]
            floats = [c.values for c in columns if c.exact is None and not c.missing[0]]
            ints = np.concatenate(ints) if ints else np.zeros(0, np.int64)
            floats = np.concatenate(floats) if floats else np.zeros(0)
        else:
            values = self.X[position, self.at]
            ints = exact_integers(values)
            ints, floats = (
                (ints, np.zeros(0)) if ints is not None else (np.zeros(0, np.int64), values)
            )
        floats = np.asarray(floats, dtype=np.float32)
        return ints, floats[~np.isnan(floats)]


def searchable(X):
    """``X`` as :func:`loaded_row_in` reads it: a boolean or object NumPy array as a
    frame of its columns, each of the type its cells share (an object column of numbers
    as numbers, of text as text); anything else unchanged."""
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "bO":
        return pd.DataFrame(X).infer_objects()
    return X


def _informative(w):
    """The names of a load's numeric columns holding at least ``INFORMATIVE`` distinct
    values on its witness rows: a label, a flag or a small code is held by many rows of
    any data, and a row equal to one there is no evidence. A load of fewer witness rows
    (a file under 16 rows) counts its columns whose values all differ: there, a value
    names one row as a column of many distinct values does (else a plain merge of small
    files lost its lineage without a word)."""
    out = set()
    for name, column in w.columns.items():
        if column.numeric:
            values = column.exact if column.exact is not None else column.values
            present = values[~column.missing]
            distinct = np.unique(present).size
            if distinct >= INFORMATIVE or (distinct >= 2 and distinct == present.size):
                out.add(name)
    return out


def _shared(w, k, ints, floats, informative):
    """How many of witness row ``k``'s numeric values the row ``(ints, floats)`` (of
    :meth:`_Numeric.row_exact`) holds: an integer of an integer column equal exactly to
    one of the row's integers, or any value equal as float32 to one of its floats (an
    integer column cast to float holds its values as well as float32 can tell); the
    row's integers equal as float32 to other loaded values; in ``informative`` columns
    only (:func:`_informative`), whose count is returned too. Each value of the row counts
    once: a 0 of the row equal to a loaded 0 of a label and of a flag is one value held,
    not three."""
    columns = [c for n, c in w.columns.items() if n in informative and not c.missing[k]]
    loaded_ints = np.array([c.exact[k] for c in columns if c.exact is not None], np.int64)
    loaded = np.array([c.values[k] for c in columns if c.exact is None], np.float32)
    held = np.isin(loaded_ints, ints) | np.isin(loaded_ints.astype(np.float32), floats)
    every = np.concatenate([floats, ints.astype(np.float32)])
    of_loaded = int(held.sum()) + int(np.isin(loaded, every).sum())
    all_loaded = np.concatenate([loaded, loaded_ints.astype(np.float32)])
    of_row = int((np.isin(ints, loaded_ints) | np.isin(ints.astype(np.float32), loaded)).sum())
    of_row += int(np.isin(floats, all_loaded).sum())
    return min(of_loaded, of_row), len(columns)


#: ``"entry"``: ``(version, values, where, loads, informative)``, written and read as one
#: tuple: read key by key, a thread could take one version's values with another's
#: positions while threads reading files changed the loads kept.
_CACHE = {"entry": None}
_LOCK = threading.Lock()


class _ForgetCache:
    """Empties :data:`_CACHE` when witness rows are forgotten or cleared: it holds their
    values, which must not outlive them."""

    def forget(self, ids):
        with _LOCK:
            _CACHE["entry"] = None

    def clear(self):
        with _LOCK:
            _CACHE["entry"] = None


WITNESSES.follow(_ForgetCache())


def _witness_values():
    """Every numeric witness value unique in its load's column, sorted: ``(values,
    where, loads, informative)``, ``where`` holding the load (position in ``loads``) and
    row of each, ``informative`` each load's :func:`_informative`. Kept until the loads
    kept change."""
    version, loads = WITNESSES.every_load()
    entry = _CACHE["entry"]
    if entry is not None and entry[0] == version:
        return entry[1:]
    values, where = [np.zeros(0, np.float32)], [np.zeros((0, 2), np.int64)]
    for at, (_, w) in enumerate(loads):
        for column in w.columns.values():
            if not column.numeric:
                continue
            v = column.values.astype(np.float32)
            ok = ~column.missing & np.isfinite(v)
            uniq, first, counts = np.unique(v[ok], return_index=True, return_counts=True)
            rows = np.flatnonzero(ok)[first[counts == 1]]
            values.append(uniq[counts == 1])
            where.append(np.column_stack([np.full(rows.size, at), rows]).astype(np.int64))
    values, where = np.concatenate(values), np.concatenate(where)
    order = np.argsort(values, kind="stable")
    informative = [_informative(w) for _, w in loads]
    entry = (version, values[order], where[order], loads, informative)
    with _LOCK:
        # kept only while current: rows forgotten meanwhile were cleared after the
        # version changed, and values holding them are not kept
        if WITNESSES.version == version:
            _CACHE["entry"] = entry
    return entry[1:]


def loaded_row_in(X):
    """A row of untraced ``X`` found holding a loaded row's values, or None.

    Returns
    -------
    found : tuple or None
        ``(position, row_id, shared)``: row ``position`` of ``X`` holds ``shared``
        numeric values of the loaded row ``row_id``: more than half of the
        numeric columns of ``X``, or of the loaded row's numeric values; and so do at
        least half the rows of ``X`` tried against that load, and ``MIN_ROWS``.
    """
    numeric = _Numeric(searchable(X))
    if len(numeric.at) < MIN_SHARED:
        return None
    values, where, loads, informative = _witness_values()
    if not values.size:
        return None
    # the columns whose first values are the most distinct first: a count repeats
    ranked = sorted(
        range(len(numeric.at)), key=lambda j: -np.unique(numeric.column(j, slice(1000))).size
    )
    rows = slice(None, None, max(1, -(-len(X) // SAMPLED)))
    tried, matched = {}, {}  # per load: rows tried (and the first found), rows found
    for j in ranked[:SEARCHED]:
        column = numeric.column(j, rows)
        at = np.minimum(np.searchsorted(values, column), values.size - 1)
        hit = np.flatnonzero(values[at] == column)
        if not hit.size:
            continue
        # the rows holding a value the rows searched hold once first; every row holding
        # it counts (a row of a many-to-many merge repeats one loaded row's values, and
        # other data holds a small integer a witness row alone has on many rows)
        _, inverse, counts = np.unique(column[hit], return_inverse=True, return_counts=True)
        order = np.argsort(counts[inverse.ravel()] > 1, kind="stable")
        for found in hit[order][:64]:
            load_at, k = where[at[found]]
            position = found * rows.step
            _, w = loads[load_at]
            shared, loaded = _shared(w, k, *numeric.row_exact(position), informative[load_at])
            held = shared >= MIN_SHARED and 2 * shared > min(len(numeric.at), loaded)
            tries, first_held = tried.get(load_at, (0, None))
            if held and first_held is None:
                first_held = (int(position), int(w.ids[k]), shared)
            tried[load_at] = (tries + 1, first_held)
            matched[load_at] = matched.get(load_at, 0) + held
    # a copy of a load's rows holds the row each of its values names, mostly; other data
    # holds one by chance on a few of the rows tried
    for load_at, (tries, first_held) in tried.items():
        enough = matched[load_at] >= min(MIN_ROWS, len(X))
        if first_held is not None and enough and 2 * matched[load_at] >= tries:
            return first_held
    return None
