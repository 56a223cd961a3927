"""A loaded column overwritten with its group's standard deviation
(``groupby(g).transform("std")``), seen from a sampled load's witness rows (see
:mod:`._over_rows`).

The group's standard deviation of the loaded values needs every row's, and a load of
more than 512 rows keeps a sample. The sample estimates it: on the witness rows the data
holds, grouped by their loaded key, the column now holds one positive value per group,
differing from the row's loaded value on at least ``MIN_ROWS`` rows, and each group's
value (in at least two groups of ``MIN_SAMPLE`` witness rows or more, holding half the
rows) is within ``SIGMAS`` standard errors of the standard deviation of the group's
witness rows' loaded values (its logarithm's standard error is about ``1 / sqrt(2 (k -
1))`` for ``k`` rows). A value looked up per group, a group's sum or mean is one value
per group too, and lies so near the spread of every group's values by chance only: the
evidence (:func:`._over_rows_groups.evidence`, the logarithm normal about the spread's
against a value unrelated to the data) must reach ``1 / ALPHA``, which such values do
with chance ``ALPHA`` at most (a lookup was warned of as a spread now and then). A
value also within ``SIGMAS`` standard errors of every group's mean is left to the group
mean's check (:mod:`._over_rows_groups`, tried after this one), whose warning names a
mean or another statistic within the group's values: a standard deviation lies within
them where the values span more than it, and was named a mean there. The warning says it
was checked on a sample, statistically, where another measure of spread (a scaled
interquartile range) looks the same.
"""

import numpy as np

from ._over_rows_groups import ALPHA, evidence, group_statistic

#: How the warning says a group standard deviation seen on a sample was checked.
CHECKED_SPREAD = (
    "checked on the load's witness rows, a sample: one value per group, near the spread "
    "of the loaded values of the group's rows compared (a standard deviation, or another "
    "measure of spread)"
)
#: Witness rows a group needs to be compared.
MIN_SAMPLE = 30
#: Standard errors a group's value may lie from its witness rows' standard deviation.
SIGMAS = 5.0


def group_std(load, name, rows, at, values):
    """``"groupby(key).transform('std')"`` where the column ``name`` is its group's
    standard deviation on the witness rows the data holds (``values``: the column now,
    in the data's order; ``rows``: positions there of witness rows, ``at``: their
    positions among the load's), as far as the sample can tell, else None."""
    return group_statistic(load, name, rows, at, values, _is_group_std, "std")


def _is_group_std(codes, loaded, here, scale):
    """Whether ``here`` is one positive value per group (``codes``) near the standard
    deviation of the group's ``loaded`` values, in two groups of ``MIN_SAMPLE`` rows
    or more holding half the rows at least."""
    if not codes.size:
        return False
    k = np.bincount(codes)
    order = np.argsort(codes, kind="stable")
    begin = np.concatenate([[0], np.cumsum(k)[:-1]])
    lo = np.minimum.reduceat(here[order], begin)
    hi = np.maximum.reduceat(here[order], begin)
    if not (np.abs(hi - lo) <= 1e-9 * scale).all():
        return False  # (not one value per group)
    mean = np.bincount(codes, weights=loaded) / k
    squares = np.bincount(codes, weights=(loaded - mean[codes]) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.sqrt(squares / (k - 1))
    big = k >= MIN_SAMPLE
    if int(big.sum()) < 2 or int(k[big].sum()) < codes.size // 2:
        return False
    value, spread, k = lo[big], spread[big], k[big]
    if not ((value > 0).all() and (spread > 0).all()):
        return False
    error = 1.0 / np.sqrt(2.0 * (k - 1))  # (of the logarithm)
    z = np.log(value / spread) / error
    if not (np.abs(z) <= SIGMAS).all():
        return False
    # (a value near each group's mean too, as in data whose mean and spread are alike,
    # is left to the group mean's check, which names both)
    if not (np.abs(value - mean[big]) > SIGMAS * spread / np.sqrt(k)).any():
        return False
    # (and a value per group unrelated to the data passes with chance ALPHA at most:
    # the logarithm normal about the spread's, against a value spread over the interval)
    lo, hi = spread * np.exp(-SIGMAS * error), spread * np.exp(SIGMAS * error)
    likelihood = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi) / (error * value) * (hi - lo)
    groups = np.flatnonzero(big)
    return evidence(codes, loaded, groups, lo, hi, likelihood) >= 1.0 / ALPHA
