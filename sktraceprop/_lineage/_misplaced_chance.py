"""How many witness rows would share a row's values with a record by chance
(:mod:`._misplaced_index`): a match of another row's record is taken as a row moved
only beyond it (:data:`BY_CHANCE`).

In a file of a few rows, one row alone may hold a combination of low-cardinality values
(two 0/1 columns make four), and a recoding (bits flipped) lands other rows on it by
chance: such a match is no evidence. What a match is worth depends on how many values
each column draws from, not on how many rows the file has: the witness rows of a float
column all differ because its values are drawn from far more than are seen, so that
another row meets one of them by chance about once in as many values as its range holds
at the file's precision (a 3-row file of floats to five decimals: a hundred thousand),
never once in three. A column whose values repeat draws from about as many values as
make that many repeats likely; a value held by several rows is met as often as they hold
it.
"""

import math

import numpy as np

#: The most witness rows expected to share a row's values with a record by chance
#: (:func:`by_chance`) for the row to be taken as holding that record.
BY_CHANCE = 0.1

#: Decimals tried for a column's precision; past them, float32's own spacing.
_DECIMALS = 10


def by_chance(n, shared):
    """How many of ``n`` witness rows would hold, by chance, the values ``shared``:
    ``[(counts, domain, value)]`` per column where the row equals the record, with the
    column's :class:`~collections.Counter` of values and :func:`domain`."""
    chance = float(n)
    for counts, size, value in shared:
        p = 1.0 / size
        if counts[value] >= 2:  # (a value several rows hold is met as often as they hold it)
            p = max(p, counts[value] / sum(counts.values()))
        chance *= p
    return chance


def domain(counts):
    """How many values a column's witness values (``counts``: key -> rows holding it,
    missing left out) are drawn from: at least the distinct ones, at most the values its
    range holds at the column's precision (:func:`_grid`; unbounded for text), and where
    values repeat, the number of equally likely values that makes as many distinct in as
    many draws most likely (:func:`_uniform`). A column whose values all differ draws
    from its whole grid: the rows say no less."""
    n, d = sum(counts.values()), len(counts)
    if d == 0:
        return math.inf
    grid = max(_grid(list(counts)), float(d))
    if d == n:
        return grid
    return min(max(_uniform(n, d), float(d)), grid)


def _uniform(n, d):
    """The ``D`` for which ``n`` draws of ``D`` equally likely values hold ``d`` distinct
    on average (``d < n``): ``D (1 - (1 - 1/D)^n) = d``, solved by bisection."""
    if d <= 1:
        return float(d)

    def held(size):
        return -size * math.expm1(n * math.log1p(-1.0 / size))

    lo, hi = float(d), float(n) * n
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        if held(mid) < d:
            lo = mid
        else:
            hi = mid
    return hi


def _grid(keys):
    """How many values a numeric column's range holds at its precision (the fewest
    decimals that read every value back at float32, as the keys hold them; integers
    kept exact are whole): ``inf`` for text or a mix."""
    if not all(isinstance(k, tuple) and k[0] == "n" for k in keys):
        return math.inf
    values = [k[1] for k in keys]
    if any(isinstance(v, int) for v in values):  # (integers beyond float32, kept exact)
        return float(max(values) - min(values)) + 1.0
    held = np.asarray(values, dtype=np.float32)
    if not np.isfinite(held).all():
        return math.inf
    span = float(held.max()) - float(held.min())
    for decimals in range(_DECIMALS):
        if (np.round(held.astype(np.float64), decimals).astype(np.float32) == held).all():
            return span * 10.0**decimals + 1.0
    return span / float(np.spacing(np.abs(held).max())) + 1.0
