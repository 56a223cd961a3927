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
correlation, ``sqrt(rows) * r``, within ``Z``), and in one column or more the value now
is not (beyond ``Z``: a move of the rows passes that with chance about ``6e-5`` per
column). Where both hold it, as where flips of half the rows meet values spread evenly
over the two, the library cannot tell, and a move is warned of (a move unwarned names
lines whose values were not fitted; a warning of flips is a false alarm, said as such
in its text: "or values moved between rows").
"""

import numpy as np

#: The standard score beyond which a correlation over the rows compared is no chance.
Z = 4.0


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


def flipped_apart(was, now):
    """Whether columns of two values (``was``: each column's loaded cell keys, ``now``:
    its cell keys now, on the rows compared; None: missing) were flipped each on rows
    independent of its loaded value rather than the rows moved (see above)."""
    columns = two_value_columns(was, now)
    if columns is None:
        return False
    rejected = False
    for loaded, here in columns:
        if abs(_score(loaded, np.abs(loaded - here))) >= Z:
            return False  # (flips follow the loaded value: as a move's do)
        rejected |= abs(_score(loaded, here)) >= Z
    return rejected
