"""A loaded column overwritten with its group's mean (``groupby(g).transform("mean")``),
seen from a sampled load's witness rows (see :mod:`._over_rows`).

A load of more than 512 rows keeps a sample of witness rows (picked by a hash of the
ids: a random sample of any set of rows, a share ``1 / stride`` of them), so the group's
mean of the loaded values cannot be computed; the sample estimates it. On the witness
rows the data holds, grouped by their loaded key (a column of the load with few distinct
values), the column now holds one value per group, differing from the row's loaded one
on at least ``MIN_ROWS`` rows, in at least two groups of two witness rows or more, with
different values; each group's value lies within the loaded values of the group's
witness rows and within a Student ``t`` interval of their mean (its standard error
shrunk by the share sampled; a true mean falls outside with chance ``MISS`` per group).

A value looked up per group (``g.map(table)``) is one per group too, and was warned of
where it happened to lie within each group's values: a false warning (it holds no other
row's value). Within the intervals it is told from a mean by the evidence
(:func:`evidence`): the likelihood ratio of the values being the groups' means (normal
about the sample means) against values unrelated to the data, spread like the group's
own values or over their range (:func:`chance`). For unrelated values its expectation
is at most 1, so it reaches ``1 / ALPHA`` with chance ``ALPHA`` at most (Markov's
inequality): a lookup so drawn is warned of with chance ``1e-3`` at most. A value looked
up near each group's mean (within ``NEAR`` standard errors of it, evenly either way)
passed that too, and was warned of as "a mean, or a median": the likelihood ratio
against such values (:func:`near_evidence`) must reach ``1 / ALPHA`` as well, which
they do with chance ``ALPHA`` at most. Each group adds little to it (a mean's ``z`` is
as likely under a value so near), so with some 400 witness rows twenty groups often tell
a mean, eight rarely. Below either bound the sample cannot tell (:func:`group_mean`'s
verdict not sure, :data:`UNDECIDED`): the run's note says so. A sum or a count per group
(not within the values) is left to the run's note of a changed column.

What stays possible: a statistic near the mean (a median of values spread evenly about
it) and a value looked up per group closer to each group's mean than ``NEAR`` standard
errors of its sample (well within one, say) look the same as a mean there: the warning
says the statistic was checked on a sample, and names a median beside the mean.
"""

import numpy as np
import pandas as pd

from ._over_rows_chain import MIN_ROWS

#: The chance a group's true mean lies outside the interval checked around its witness
#: rows' mean (per group; a miss is a note, not a warning).
MISS = 1e-4
#: The largest chance that a value per group unrelated to the data (looked up per
#: group) passes every group's check, for a warning: above it, the sample cannot tell.
ALPHA = 1e-3

#: Standard errors either way of a group's mean within which a value looked up near it
#: is told from the mean by the evidence (:func:`near_evidence`).
NEAR = 3.0

#: How the warning says a group mean seen on a sample was checked.
CHECKED = (
    "checked on the load's witness rows, a sample: one value per group, within the "
    "loaded values of the group's rows compared (a mean, or another statistic within "
    "them, a median)"
)

#: How a run's note says the sample could not tell a group mean from a lookup.
UNDECIDED = (
    "could not tell from the load's witness rows, a sample: one value per group, near "
    "the mean of the loaded values of each group's rows compared, but as near as a "
    "value looked up per group (g.map(table)) would be by chance, or one looked up "
    "within a few standard errors of each group's mean; too few groups or rows per "
    "group to say"
)


def _keys(load, name):
    """``(key name, column)`` of the load's columns with few distinct values on its
    witness rows (more than one, at most a third of the rows)."""
    for key, column in load.columns.items():
        if key == name:
            continue
        present = column.values[~column.missing]
        distinct = np.unique(present).size if column.numeric else len(set(present.tolist()))
        if 1 < distinct <= max(2, column.values.size // 3):
            yield key, column


def _close(a, b, scale):
    return np.abs(a - b) <= 1e-9 * scale


def group_mean(load, name, rows, at, values):
    """``("groupby(key).transform('mean')", sure)`` where the column ``name`` may be its
    group's mean on the witness rows the data holds (``values``: the column now, in the
    data's order; ``rows``: positions there of witness rows, ``at``: their positions
    among the load's): ``sure`` where the sample tells it from a value looked up per
    group, else False (:data:`UNDECIDED`, for the run's note: the first such key);
    None where it is not. One walk over the keys gives both verdicts."""
    share = witness_share(load)
    first = None
    for key, codes, loaded, here, scale in _by_key(load, name, rows, at, values):
        sure = _mean_verdict(codes, loaded, here, scale, share)
        if sure:
            return f"groupby({key}).transform('mean')", True
        if sure is not None and first is None:
            first = f"groupby({key}).transform('mean')", False
    return first


def witness_share(load):
    """The share of any set of the load's rows that are witnesses, where they are picked
    by a hash of the ids (a random sample), else 0 (rows chosen otherwise: a sample of
    no known share, taken as of a large population)."""
    return 1.0 / load.stride if load.chosen is None else 0.0


def group_statistic(load, name, rows, at, values, is_statistic, label):
    """``"groupby(key).transform('<label>')"`` for the first key of the load (a column of
    few values, :func:`_keys`) by whose groups ``is_statistic(codes, loaded, here,
    scale)`` holds of the column ``name`` on the witness rows the data holds, differing
    from their loaded values on ``MIN_ROWS`` rows or more; else None."""
    for key, codes, loaded, here, scale in _by_key(load, name, rows, at, values):
        if is_statistic(codes, loaded, here, scale):
            return f"groupby({key}).transform('{label}')"
    return None


def _by_key(load, name, rows, at, values):
    """Per key of the load (a column of few values, :func:`_keys`): ``(key, codes,
    loaded, here, scale)``, the column ``name``'s loaded values and values now on the
    witness rows the data holds where both are finite and the key is not missing, the
    key's group codes there; none where fewer than ``MIN_ROWS`` rows differ."""
    if rows.size < MIN_ROWS:
        return
    column = load.columns[name]
    loaded = np.where(column.missing[at], np.nan, column.values[at]).astype(np.float64)
    here = np.asarray(values[rows], dtype=np.float64)
    finite = np.isfinite(loaded) & np.isfinite(here)
    if not finite.any():
        return
    scale = max(float(np.abs(loaded[finite]).max()), float(np.abs(here[finite]).max()), 1.0)
    differ = finite & ~_close(loaded, here, scale)
    if int(differ.sum()) < MIN_ROWS:
        return
    for key, kept in _keys(load, name):
        ok = finite & ~kept.missing[at]
        codes, _ = pd.factorize(pd.Series(kept.values[at][ok]), use_na_sentinel=False)
        yield key, codes, loaded[ok], here[ok], scale


def _stats(codes, loaded):
    """Per group of ``codes``: ``(rows, order, first positions in it, mean, standard
    deviation (0 for one row))`` of ``loaded``."""
    k = np.bincount(codes)
    order = np.argsort(codes, kind="stable")
    begin = np.concatenate([[0], np.cumsum(k)[:-1]])
    mean = np.bincount(codes, weights=loaded) / k
    squares = np.bincount(codes, weights=(loaded - mean[codes]) ** 2)
    spread = np.sqrt(squares / np.maximum(k - 1, 1))
    return k, order, begin, mean, spread


def chance(codes, loaded, groups, lo, hi):
    """The chance that a value per group unrelated to the data lies in ``[lo, hi]``
    (per group of ``groups``) in every one of them: the product over the groups of the
    larger of the share of the group's ``loaded`` values there and the share of their
    range (a value looked up like one of the group's rows, or anywhere in its range)."""
    out = 1.0
    for g, a, b in zip(groups, lo, hi):
        mine = loaded[codes == g]
        low, high = float(mine.min()), float(mine.max())
        share = float(np.mean((mine >= a) & (mine <= b)))
        width = (min(b, high) - max(a, low)) / (high - low) if high > low else 1.0
        out *= min(1.0, max(share, width, 0.0))
    return out


def _mean_verdict(codes, loaded, here, scale, share=0.0):
    """Whether ``here`` is one value per group (``codes``), the mean of the group's
    ``loaded`` values, as far as the witness rows (a share ``share`` of the group's
    rows, hash-picked) can tell: True where it may be (:func:`_mean_odds`) and a value
    per group unrelated to the data, or looked up near each group's mean, would pass
    with chance ``ALPHA`` at most; False where it may be but the rows cannot tell; None
    where it is not."""
    odds = _mean_odds(codes, loaded, here, scale, share)
    return None if odds is None else bool(min(odds) >= 1.0 / ALPHA)


def _mean_odds(codes, loaded, here, scale, share):
    """``(evidence, near evidence)`` (:func:`evidence`, :func:`near_evidence`) that
    ``here`` is one value per group (``codes``), the mean of the group's ``loaded``
    values, where it may be: within the group's values and within a Student ``t``
    interval of their mean (a group's true mean falls outside with chance
    ``MISS``), in groups of two rows or more holding at least half the rows (and
    ``MIN_ROWS``), two such groups or more of different values; else None."""
    if not codes.size:
        return None
    counts, order, begin, mean, spread = _stats(codes, loaded)
    lo = np.minimum.reduceat(here[order], begin)
    hi = np.maximum.reduceat(here[order], begin)
    if not _close(lo, hi, scale).all():
        return None  # (not one value per group)
    low = np.minimum.reduceat(loaded[order], begin)
    high = np.maximum.reduceat(loaded[order], begin)
    several = counts >= 2
    if int(several.sum()) < 2 or int(counts[several].sum()) < max(MIN_ROWS, codes.size // 2):
        return None
    value = lo[several]
    within = (value >= low[several] - 1e-9 * scale) & (value <= high[several] + 1e-9 * scale)
    if not within.all() or np.unique(value).size < 2:
        return None
    k = counts[several]
    error = spread[several] / np.sqrt(k) * np.sqrt(max(0.0, 1.0 - share))
    half = _t(k - 1) * error + 1e-9 * scale
    centre = mean[several]
    if not (np.abs(value - centre) <= half).all():
        return None  # (not its witness rows' mean, beyond chance)
    with np.errstate(divide="ignore", invalid="ignore"):  # (normal about the mean)
        z = np.where(error > 0, (value - centre) / error, 0.0)
        width = np.where(error > 0, 2.0 * half / error, 1.0)  # (a constant group: none)
    likelihood = width * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    groups = np.flatnonzero(several)
    unrelated = evidence(codes, loaded, groups, centre - half, centre + half, likelihood)
    return unrelated, near_evidence(z)


def near_evidence(z):
    """The likelihood ratio of values per group ``z`` standard errors from the groups'
    witness means being the groups' means (``z`` standard normal) against values looked
    up near them: the group's mean moved by up to ``NEAR`` standard errors either way,
    evenly (``z`` then spread as a standard normal plus that). Where the values are so
    looked up its expectation is 1: it reaches ``1 / ALPHA`` with chance ``ALPHA`` at
    most."""
    from scipy.special import ndtr  # (scipy.special alone: light to import)

    z = np.asarray(z, dtype=np.float64)
    spread = (ndtr(z + NEAR) - ndtr(z - NEAR)) / (2.0 * NEAR)
    density = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    return float(np.exp(np.sum(np.log(density) - np.log(np.maximum(spread, 1e-300)))))


def evidence(codes, loaded, groups, lo, hi, likelihood):
    """The likelihood ratio of the values per group of ``groups`` being the group's
    statistic against values unrelated to the data, each in ``[lo, hi]``: the product of
    ``likelihood`` (the statistic's density at the value, times ``hi - lo``) over
    :func:`chance` of the intervals (an unrelated value spread over each). Where the
    values are unrelated its expectation is at most 1, so it reaches ``1 / ALPHA`` with
    chance ``ALPHA`` at most (Markov's inequality)."""
    odds = float(np.prod(np.minimum(likelihood, 1e6)))
    return odds / max(chance(codes, loaded, groups, lo, hi), 1e-300)


def _t(df):
    """The two-sided Student ``t`` quantile for a chance ``MISS`` (``df`` degrees)."""
    from scipy.special import stdtrit  # (scipy.special alone: light to import)

    return stdtrit(df.astype(np.float64), 1.0 - MISS / 2)
