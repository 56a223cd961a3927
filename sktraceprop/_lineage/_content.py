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


def _shared(w, k, ints, floats):
    """How many of witness row ``k``'s numeric values the row ``(ints, floats)`` (of
    :meth:`_Numeric.row_exact`) holds: an integer of an integer column equal exactly to
    one of the row's integers, or any value equal as float32 to one of its floats (an
    integer column cast to float holds its values as well as float32 can tell); the
    row's integers equal as float32 to other loaded values."""
    columns = [c for c in w.columns.values() if c.numeric and not c.missing[k]]
    loaded_ints = np.array([c.exact[k] for c in columns if c.exact is not None], np.int64)
    loaded = np.array([c.values[k] for c in columns if c.exact is None], np.float32)
    held = np.isin(loaded_ints, ints) | np.isin(loaded_ints.astype(np.float32), floats)
    every = np.concatenate([floats, ints.astype(np.float32)])
    return int(held.sum()) + int(np.isin(loaded, every).sum()), len(columns)


#: ``"entry"``: ``(version, values, where, loads)``, written and read as one tuple: read
#: key by key, a thread could take one version's values with another's positions while
#: threads reading files changed the loads kept.
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
    where, loads)``, ``where`` holding the load (position in ``loads``) and row of each.
    Kept until the loads kept change."""
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
    entry = (version, values[order], where[order], loads)
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
        numeric columns of ``X``, or of the loaded row's numeric values.
    """
    numeric = _Numeric(X)
    if len(numeric.at) < MIN_SHARED:
        return None
    values, where, loads = _witness_values()
    if not values.size:
        return None
    # the columns whose first values are the most distinct first: a count repeats
    ranked = sorted(
        range(len(numeric.at)), key=lambda j: -np.unique(numeric.column(j, slice(1000))).size
    )
    rows = slice(None, None, max(1, -(-len(X) // SAMPLED)))
    for j in ranked[:SEARCHED]:
        column = numeric.column(j, rows)
        at = np.minimum(np.searchsorted(values, column), values.size - 1)
        hit = np.flatnonzero(values[at] == column)
        if not hit.size:
            continue
        # each value once (a row of a many-to-many merge repeats one loaded row's values),
        # those the rows searched hold once first
        _, first, counts = np.unique(column[hit], return_index=True, return_counts=True)
        first = first[np.argsort(counts > 1, kind="stable")]
        for found in hit[first][:64]:
            load_at, k = where[at[found]]
            position = found * rows.step
            _, w = loads[load_at]
            shared, loaded = _shared(w, k, *numeric.row_exact(position))
            if shared >= MIN_SHARED and 2 * shared > min(len(numeric.at), loaded):
                return int(position), int(w.ids[k]), shared
    return None
