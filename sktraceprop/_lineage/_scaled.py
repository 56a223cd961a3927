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
"""

import numpy as np
import pandas as pd

from ._witness import WITNESSES

#: Distinct values of a loaded column that the scaled column must hold.
MIN_DISTINCT = 8
#: Share of the column's values allowed beyond the scaled range of the witness values,
#: and of those beyond the column's (a load's witness rows are a sample: the extremes of
#: a large load may be missed; the data a subset of the rows: theirs may be).
OUTSIDE = 0.1
#: Share of the loaded values within the column's range that must map onto its values,
#: of the share the data's rows could hold (their number over the load's).
COVERED = 0.5
#: Rows of the data read per column, evenly spread.
SAMPLED = 1 << 16
#: Columns of the data examined.
MAX_COLUMNS = 64
#: Values at each end of a sorted column tried as the partners of the other's (more
#: of the one with more values, up to ``MAX_ENDS``).
ENDS = 4
MAX_ENDS = 32
#: Most distinct values of the column per distinct witness value searched: more (a
#: large load, whose witness rows are a sample) leaves the scaling not found.
MAX_RATIO = 8
#: Loaded values a scaling is first scored on.
PROBES = 16
#: Largest difference of two decile profiles of columns that may be one scaled.
PROFILE = 0.3

_DECILES = np.linspace(0.1, 0.9, 9)
#: Rounding of float64 values.
EPS = float(np.finfo(np.float64).eps)


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


def _profile(values):
    """Deciles of ``values`` relative to their median and spread; None if all equal."""
    p = np.quantile(values, _DECILES)
    spread = p[-1] - p[0]
    return None if spread <= 0 else (p - p[4]) / spread


def _nearest(sorted_values, wanted):
    """Distance from each of ``wanted`` to the nearest of ``sorted_values``, and where."""
    pos = np.clip(np.searchsorted(sorted_values, wanted), 1, sorted_values.size - 1)
    left, right = sorted_values[pos - 1], sorted_values[pos]
    take_left = np.abs(wanted - left) <= np.abs(wanted - right)
    at = np.where(take_left, pos - 1, pos)
    return np.abs(wanted - sorted_values[at]), at


def _tolerance(a, b, cs, xs, eps):
    """Rounding allowed between ``a * c + b`` computed two ways (a few units of the
    largest magnitude involved)."""
    scale = np.maximum(np.abs(a) * np.abs(cs).max(), np.abs(b))
    return 64 * eps * np.maximum(scale, np.abs(xs).max())


def _fit(xs, cs, eps):
    """``(a, b, hits)`` of the best scaling of loaded values ``cs`` onto column values
    ``xs`` (both sorted, distinct), or None: hits are the loaded values mapped exactly."""
    # the lowest (highest) values of one are partners of values among the lowest
    # (highest) of the other, more of the one with more values (a subset of the rows,
    # or a sample of them: the witness rows of a large load)
    ratio = xs.size / cs.size
    if ratio > MAX_RATIO:
        return None  # the partners of the witness values lie too deep among the column's
    n_c = int(min(MAX_ENDS, max(ENDS, ENDS / ratio), cs.size // 2))
    n_x = int(min(MAX_ENDS, max(ENDS, ENDS * ratio), xs.size // 2))
    # scored first on a few spread values (every pair of ends: see _scaled_kernel),
    # then the best few on all of them
    probe = cs[np.unique(np.linspace(0, cs.size - 1, PROBES).astype(np.intp))]
    from ._scaled_kernel import hits_of, probe_scores  # (numba: not at import)

    cs_max, xs_max = float(np.abs(cs).max()), float(np.abs(xs).max())
    a, b, score = probe_scores(xs, cs, n_c, n_x, probe, float(eps), cs_max, xs_max)
    if not a.size:
        return None
    top = np.argsort(-score, kind="stable")[:16]
    hits = hits_of(xs, cs, a[top], b[top], float(eps), cs_max, xs_max)
    k = int(np.argmax(hits))
    best = (int(hits[k]), float(a[top[k]]), float(b[top[k]]))
    if best[0] < MIN_DISTINCT:
        return None
    # refitted on the values it maps (the two it was made from may carry rounding)
    _, a0, b0 = best
    dist, at = _nearest(xs, a0 * cs + b0)
    inliers = dist <= _tolerance(a0, b0, cs, xs, eps)
    a1, b1 = np.polyfit(cs[inliers], xs[at[inliers]], 1)
    dist, _ = _nearest(xs, a1 * cs + b1)
    hits = int((dist <= _tolerance(a1, b1, cs, xs, eps)).sum())
    if hits < best[0]:
        a1, b1, hits = a0, b0, best[0]
    return float(a1), float(b1), hits


def _plausible(fit, values, xs, cs, eps, share):
    """Whether a scaling found covers both ranges: hardly any of the column's values
    beyond the scaled loaded values, hardly any scaled loaded value beyond the column's,
    and the loaded values within the column's range mapped exactly, a good share of the
    part of them the data's rows can hold (a column of counts maps onto part of another
    column of counts, which these leave out)."""
    a, b, hits = fit
    slack = _tolerance(a, b, cs, xs, eps)
    mapped = a * cs + b
    lo, hi = mapped[0] - slack, mapped[-1] + slack
    if np.mean((values < lo) | (values > hi)) > OUTSIDE:
        return False
    inside = (mapped >= xs[0] - slack) & (mapped <= xs[-1] + slack)
    if np.mean(~inside) > OUTSIDE:
        return False
    # a loaded value in range is hit when one of its rows is in the data: most are, where
    # the data holds most of the load's rows (``share``, its rows over the load's)
    return hits >= MIN_DISTINCT and hits >= COVERED * share * int(inside.sum())


class _ForgetCache:
    """Empties :data:`_CACHE` when witness rows are forgotten or cleared: it holds their
    values, which must not outlive them."""

    def forget(self, ids):
        _CACHE["entry"] = None

    def clear(self):
        _CACHE["entry"] = None


#: ``"entry"``: ``(version, candidates)``, written and read as one tuple.
_CACHE = {"entry": None}
WITNESSES.follow(_ForgetCache())


def _candidates():
    """``[(source_id, column name, sorted distinct witness values, decile profile, rows
    of the load)]`` of every numeric loaded column kept with at least ``MIN_DISTINCT``
    distinct values (the load's rows estimated from its witness rows and stride); kept
    until the loads kept change."""
    version, loads = WITNESSES.every_load()
    entry = _CACHE["entry"]
    if entry is not None and entry[0] == version:
        return entry[1]
    out = _read_candidates(loads)
    if WITNESSES.version == version:  # (rows forgotten meanwhile are not kept)
        _CACHE["entry"] = (version, out)
    return out


def any_candidates():
    """Whether any loaded column could be found scaled (:func:`find_scaled` searches)."""
    return bool(_candidates())


def _read_candidates(loads):
    from ._source import REGISTRY

    out, seen = [], set()
    for code, w in loads:
        for name, column in w.columns.items():
            if not column.numeric:
                continue
            values = column.values[~column.missing & np.isfinite(column.values)]
            cs = np.unique(values)
            if cs.size < MIN_DISTINCT or _dense_lattice(cs):
                continue
            key = (code, name, cs.tobytes())
            if key in seen:  # (a source read twice with the same values)
                continue
            seen.add(key)
            profile = _profile(values)
            if profile is not None:
                rows = w.ids.size * max(1, int(w.stride or 1))
                out.append((_source_name(REGISTRY, code), name, cs, profile, rows))
    return out


def _dense_lattice(cs):
    """Whether sorted distinct values ``cs`` fill most points of an evenly spaced grid
    (counts, ages in years): any other such column maps onto it in part, so a match
    says nothing of which column the data holds."""
    step = np.diff(cs).min()
    return (cs[-1] - cs[0]) / step + 1 <= 2 * cs.size


def _source_name(registry, code):
    source = registry.by_code(code)
    return f"source {code}" if source is None else source.source_id


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
