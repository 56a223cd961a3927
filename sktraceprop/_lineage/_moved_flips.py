"""Columns of two values each flipped on a condition of its own, told from rows moved.

In columns of two values a row's record now is its loaded record with some of its
values flipped, whatever was done: a move and a recoding differ only in which rows are
flipped where. Rows moved (every row given another row's record) hold a record drawn
independently of their own: in each column the value now is independent of the loaded
one, and which rows are flipped depends on the loaded value (a value seen more often is
flipped less often). A column flipped on a condition of columns outside the data (say,
``c0`` where ``x > 0``, ``c1`` where ``z < 1``) is flipped on rows independent of its
loaded value, and the value now then follows the loaded one (stays on the rows not
flipped) unless half the rows are flipped.

:func:`flipped_apart` tells the second from the first on every row compared: in each
column the flips are independent of the loaded value (the standard score of their
correlation, ``sqrt(rows) * r``, within ``Z``), and the values now are not: in one
column beyond ``Z``, or over the columns together (:func:`_follow`: the scores of all
columns, each short of ``Z``, by as much evidence; a move of the rows passes either
with chance about ``6e-5``, :data:`CHANCE`). Flips of each of two columns on two rows in
five (values spread evenly), of 500 rows, leave each column's score about ``4.5``,
short of ``Z`` one time in three: taken one column at a time, such flips were taken
for a move in 19 of 300 seeds; over both columns together (their evidence about
``6.3``, the threshold about ``4.4``) in 4 (``tests/_lineage/test_moved_flips.py``).
Where neither holds, as where flips of half the rows meet values spread evenly
over the two, the library cannot tell, and a move is warned of (a move unwarned names
lines whose values were not fitted; a warning of flips is a false alarm, said as such
in its text: "or values moved between rows").
"""

import numpy as np

#: The standard score beyond which a correlation over the rows compared is no chance.
Z = 4.0
#: The chance a standard score reaches ``Z`` either way (two-sided): the chance of
#: :func:`_follow` over the columns together.
CHANCE = 6.334e-5


def _score(x, y):
    """``sqrt(n) * r``: the standard score of the correlation of 0/1 vectors (0 where
    either is constant)."""
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return 0.0
    r = float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))
    return r * np.sqrt(x.size)


def two_value_columns(was, now):
    """Each column's ``(loaded, here)``: whether its loaded cell and its cell now hold
    its first value, as float arrays over the rows where no column is missing (``was``:
    each column's loaded cell keys, ``now``: its cell keys now; None: missing); None
    where fewer than two such rows, or a column not of exactly two values on them."""
    full = [
        r
        for r in range(len(was[0]))
        if all(w[r] is not None and v[r] is not None for w, v in zip(was, now))
    ]
    if len(full) < 2:
        return None
    columns = []
    for w, v in zip(was, now):
        values = {w[r] for r in full} | {v[r] for r in full}
        if len(values) != 2:
            return None
        first = next(iter(values))
        loaded = np.array([w[r] == first for r in full], dtype=np.float64)
        here = np.array([v[r] == first for r in full], dtype=np.float64)
        columns.append((loaded, here))
    return columns


def _follow(loaded, scores):
    """Whether the values now follow the loaded ones over the columns together: the
    scores' Mahalanobis square beyond what a move reaches with chance :data:`CHANCE`.
    Rows moved (one permutation for every column) give each column a score of about
    a standard normal, two columns' correlated as the square of their loaded columns'
    correlation (one-hot bits, or columns loaded equal, move together); the square is
    then chi-squared with as many degrees as the rank of that correlation."""
    from scipy.special import chdtri  # (scipy.special alone: light to import)

    rho = np.corrcoef(np.stack(loaded)) ** 2 if len(loaded) > 1 else np.ones((1, 1))
    rank = int(np.linalg.matrix_rank(rho, hermitian=True))
    square = float(scores @ np.linalg.pinv(rho, hermitian=True) @ scores)
    return square >= chdtri(rank, CHANCE)


def flipped_apart(was, now):
    """Whether columns of two values (``was``: each column's loaded cell keys, ``now``:
    its cell keys now, on the rows compared; None: missing) were flipped each on rows
    independent of its loaded value rather than the rows moved (see above)."""
    columns = two_value_columns(was, now)
    if columns is None:
        return False
    loaded, scores = [], []
    for was_first, here in columns:
        if abs(_score(was_first, np.abs(was_first - here))) >= Z:
            return False  # (flips follow the loaded value: as a move's do)
        if was_first.std() > 0:  # (a column loaded constant tells nothing)
            loaded.append(was_first)
            scores.append(_score(was_first, here))
    if not scores:
        return False
    scores = np.array(scores)
    return bool(np.max(np.abs(scores)) >= Z or _follow(loaded, scores))
