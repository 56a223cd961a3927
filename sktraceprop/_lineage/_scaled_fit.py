"""The scaling ``a * c + b`` that maps a loaded column's witness values onto a column of
the data, found from pairs of their ends and checked to cover both ranges (see
:mod:`._scaled`)."""

import numpy as np

#: Distinct values of a loaded column that the scaled column must hold.
MIN_DISTINCT = 8
#: Share of the column's values allowed beyond the scaled range of the witness values,
#: and of those beyond the column's (a load's witness rows are a sample: the extremes of
#: a large load may be missed; the data a subset of the rows: theirs may be).
OUTSIDE = 0.1
#: Share of the loaded values within the column's range that must map onto its values,
#: of the share the data's rows could hold (their number over the load's).
COVERED = 0.5
#: Values at each end of a sorted column tried as the partners of the other's (more
#: of the one with more values, up to ``MAX_ENDS``).
ENDS = 4
MAX_ENDS = 32
#: Most distinct values of the column per distinct witness value searched: more (a
#: large load, whose witness rows are a sample) leaves the scaling not found.
MAX_RATIO = 8
#: Loaded values a scaling is first scored on.
PROBES = 16
#: Rounding of float64 values.
EPS = float(np.finfo(np.float64).eps)


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
