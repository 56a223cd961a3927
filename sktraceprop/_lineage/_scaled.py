"""Untraced data whose columns are loaded columns scaled: found by their values, unscaled.

A scaler fitted outside a traced pipeline (``StandardScaler().fit_transform(df[cols])``,
``MinMaxScaler``, ``RobustScaler``, ``MaxAbsScaler``) returns a NumPy array without the
rows' ids, each column ``a * c + b`` of a loaded column ``c``. The checks that compare
data with what was loaded (:mod:`._content` for data without ids, :mod:`._array_rows`
for ids given as ``sample_id=``) compare values exactly, so scaled values matched
nothing: a fit on them recorded an anonymous source without a word, and ids given in
another order than the rows (the array shuffled or split after scaling) were taken as
given, naming a wrong line for every row.

A column of the data is taken for ``c`` scaled when one ``a > 0`` and ``b`` map at least
``MIN_DISTINCT`` distinct values of ``c`` on its load's witness rows exactly (to within
a few units of rounding, float32's for float32 data) onto values of the column, and a
good share of those that fall in its range; at most ``OUTSIDE`` of the column's values
lie beyond the scaled range of ``c``'s witness values, and of those beyond the column's
range; and no other loaded column fits (two columns of consecutive counts map onto each
other in part, so a column filling most of a grid names nothing). The row
correspondence is not needed: ``a`` and ``b`` are found from pairs of a low and a high
value of each (the rows of the data are a subset of the load's, in any order, so the
lowest and highest values of one are near those of the other in rank). The column is
then given back unscaled, each value within rounding of a witness value made that
value, for the exact checks. A column found nowhere is left as it is. In a large load (more than
``MAX_RATIO`` distinct values of the column per distinct witness value: a file of more
than a few thousand rows) the witness rows are too sparse a sample to find the
partners of, and a scaling is not searched for. Other transforms
(encoders, projections, quantile maps) are not recognised: data made by them stays an
anonymous source without a warning, and ids given for it are taken as given, which the
run's notes say (:func:`._array_rows.array_notes`).

The loaded columns searched are listed by :mod:`._scaled_candidates`; the scaling of one
loaded column onto one column of the data is found by :mod:`._scaled_fit`.
"""

import numpy as np
import pandas as pd

from ._scaled_candidates import _candidates, _profile, _source_name
from ._scaled_fit import EPS, MAX_RATIO, MIN_DISTINCT, _fit, _nearest, _plausible, _tolerance
from ._witness import WITNESSES

#: Rows of the data read per column, evenly spread.
SAMPLED = 1 << 16
#: Columns of the data examined.
MAX_COLUMNS = 64
#: Largest difference of two decile profiles of columns that may be one scaled.
PROFILE = 0.3


class Scaled:
    """One column of the data found to be a loaded column scaled.

    Attributes
    ----------
    position : int
        The column's position among the numeric columns of the data.
    source_id, column : str
        The loaded column it holds.
    a, b : float
        The scaling: the data's value is ``a * loaded + b``.
    """

    __slots__ = ("a", "b", "column", "position", "source_id")

    def __init__(self, position, source_id, column, a, b):
        self.position, self.source_id, self.column = position, source_id, column
        self.a, self.b = a, b


def numeric_matrix(X):
    """The numeric columns of a 2-D array or DataFrame as float64 (NaN where missing),
    or None where there are fewer than two."""
    if isinstance(X, pd.DataFrame):
        at = [
            j
            for j, dtype in enumerate(X.dtypes)
            if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
        ]
        if len(at) < 2:
            return None
        return X.iloc[:, at].to_numpy(dtype=np.float64, na_value=np.nan)
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "iuf" and X.shape[1] >= 2:
        return np.asarray(X, dtype=np.float64)
    return None


def precision(X):
    """The rounding unit of the data's values: float32 data (a cast for torch) carries
    float32's, far coarser than float64's."""
    dtypes = X.dtypes if isinstance(X, pd.DataFrame) else [getattr(X, "dtype", None)]
    widths = [
        np.dtype(t).itemsize
        for t in dtypes
        if isinstance(t, np.dtype) and t.kind == "f" and t.itemsize < 8
    ]
    return float(np.finfo(f"f{min(widths)}").eps) if widths else EPS


def any_candidates():
    """Whether any loaded column could be found scaled (:func:`find_scaled` searches)."""
    return bool(_candidates())


def find_scaled(matrix, eps=EPS):
    """The columns of ``matrix`` (float64, from :func:`numeric_matrix`) found to be a
    loaded column scaled: ``[Scaled]``, each column at most once, and never one that
    holds loaded values as they are (left to the exact checks).

    A loaded column whose decile profile is too far from the column's, or with too few
    witness values for the column's (``MAX_RATIO``), is never a fit: a column with no
    other candidate is passed over before anything else is computed for it."""
    candidates = _candidates()
    if not candidates:
        return []
    profiles = np.array([theirs for _, _, _, theirs, _ in candidates])
    sizes = np.array([cs.size for _, _, cs, _, _ in candidates])
    rows = slice(None, None, max(1, -(-matrix.shape[0] // SAMPLED)))
    found = []
    for j in range(min(matrix.shape[1], MAX_COLUMNS)):
        values = matrix[rows, j]
        values = values[np.isfinite(values)]
        xs = np.unique(values)
        if xs.size < MIN_DISTINCT:
            continue
        profile = _profile(values)
        if profile is None:
            continue
        near = np.abs(profiles - profile).max(axis=1) <= PROFILE
        tried = np.flatnonzero(near & (xs.size / sizes <= MAX_RATIO))
        if not tried.size:
            continue  # (no loaded column could fit: _fit refuses each)
        if any(np.isin(xs, cs).mean() > 0.5 for _, _, cs, _, _ in candidates):
            continue  # loaded values as they are: left to the exact checks
        fits = []
        for k in tried:
            source_id, name, cs, _, loaded_rows = candidates[k]
            fit = _fit(xs, cs, eps)
            if fit is None:
                continue
            share = min(1.0, matrix.shape[0] / loaded_rows)
            if _plausible(fit, values, xs, cs, eps, share):
                fits.append((source_id, name, fit[0], fit[1]))
        if len({(s, n) for s, n, _, _ in fits}) != 1:
            continue  # found nowhere, or in two loaded columns: not identified
        source_id, name, a, b = fits[0]
        if abs(a - 1) <= 1e-12 and abs(b) <= 1e-12 * max(1.0, np.abs(xs).max()):
            continue  # the loaded values themselves
        found.append(Scaled(j, source_id, name, a, b))
    return found


def scaled_at_ids(matrix, ids, eps=EPS):
    """The columns of ``matrix`` that are a loaded column scaled *at the rows ``ids``
    name*: ``[Scaled]`` as :func:`find_scaled` gives, or None where this cannot tell.

    The cheap case of a fit given ids (``sample_id=``): on the witness rows among
    ``ids``, a column of the data that is exactly ``a * c + b`` of one loaded column
    ``c`` (at least ``MIN_DISTINCT`` distinct values of ``c``, ``a > 0``, every pair
    within rounding) is that column scaled, and the ids agree with it there. None (the
    caller then searches as :func:`find_scaled` does) where fewer than two columns are
    found so, a column fits two loaded columns, or too few witness rows are among the
    ids: a wrong id, or a scaling this does not see, is left to that search and to the
    exact comparison that follows either (which the ids must then pass)."""
    from ._source import REGISTRY

    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1 or ids.size != matrix.shape[0]:
        return None
    _, loads = WITNESSES.every_load()
    width = min(matrix.shape[1], MAX_COLUMNS)
    fits = [[] for _ in range(width)]
    for code, w in loads:
        at = w.positions(ids)
        rows = np.flatnonzero(at >= 0)
        if rows.size < MIN_DISTINCT:
            continue
        x_all = matrix[rows, :width]
        for name, column in w.columns.items():
            if not column.numeric:
                continue
            c = column.values[at[rows]]
            usable = ~column.missing[at[rows]] & np.isfinite(c)
            cs = c[usable]
            if np.unique(cs).size < MIN_DISTINCT:
                continue
            xs = x_all[usable]
            finite = np.isfinite(xs).all(axis=0)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                cm = cs - cs.mean()
                a = (cm @ np.where(np.isfinite(xs), xs, 0.0)) / (cm @ cm)
                b = np.where(np.isfinite(xs), xs, 0.0).mean(axis=0) - a * cs.mean()
                err = np.abs(a[None, :] * cs[:, None] + b[None, :] - xs).max(axis=0)
                tol = (
                    64
                    * eps
                    * np.maximum(
                        np.maximum(np.abs(a) * np.abs(cs).max(), np.abs(b)), np.abs(xs).max(axis=0)
                    )
                )
            good = finite & (a > 0) & np.isfinite(err) & (err <= tol)
            for j in np.flatnonzero(good):
                fits[j].append((_source_name(REGISTRY, code), name, float(a[j]), float(b[j])))
    # only columns unscaled() can snap back to loaded values (see _candidates)
    snappable = {(sid, name) for sid, name, _, _, _ in _candidates()}
    found = []
    for j, here in enumerate(fits):
        here = [f for f in here if (f[0], f[1]) in snappable]
        if not here:
            continue
        if len({(sid, name) for sid, name, _, _ in here}) != 1:
            return None  # a column fits two loaded columns: not identified here
        source_id, name, a, b = here[0]
        if abs(a - 1) <= 1e-12 and abs(b) <= 1e-12 * max(1.0, np.nanmax(np.abs(matrix[:, j]))):
            continue  # the loaded values themselves: left to the exact checks
        found.append(Scaled(j, source_id, name, a, b))
    from ._misplaced_columns import MIN_COLUMNS

    return found if len(found) >= MIN_COLUMNS else None


def unscaled(matrix, found, eps=EPS):
    """``matrix`` with each column of ``found`` mapped back to loaded values: a value
    within rounding of a witness value of its loaded column becomes that value."""
    if not found:
        return matrix
    by_name = {(s, n): cs for s, n, cs, _, _ in _candidates()}
    out = matrix.copy()
    for f in found:
        values = (matrix[:, f.position] - f.b) / f.a
        cs = by_name.get((f.source_id, f.column))
        if cs is not None and cs.size >= 2:
            finite = np.isfinite(values)
            dist, at = _nearest(cs, values[finite])
            close = dist <= _tolerance(1.0, 0.0, cs, cs, eps) + 64 * eps * np.abs(
                matrix[finite, f.position] / f.a
            )
            snapped = values[finite]
            snapped[close] = cs[at[close]]
            values[finite] = snapped
        out[:, f.position] = values
    return out


def scaler_guess(matrix, found):
    """The scikit-learn scaler whose output the found columns look like (its class
    name), or None: the statistics of a fit on other rows than these say nothing."""
    cols = matrix[:, [f.position for f in found]]
    with np.errstate(invalid="ignore"):
        mean, std = np.nanmean(cols, axis=0), np.nanstd(cols, axis=0)
        lo, hi = np.nanmin(cols, axis=0), np.nanmax(cols, axis=0)
    if np.allclose(mean, 0, atol=1e-7) and np.allclose(std, 1, atol=1e-7):
        return "StandardScaler"
    if np.allclose(lo, 0, atol=1e-12) and np.allclose(hi, 1, atol=1e-12):
        return "MinMaxScaler"
    if all(abs(f.b) <= 1e-12 for f in found) and np.allclose(np.nanmax(np.abs(cols), 0), 1):
        return "MaxAbsScaler"
    return None


def describe(found):
    """The found columns in words: ``column 0 (age of train), ...``."""
    return ", ".join(f"column {f.position} ({f.column} of {f.source_id})" for f in found)
