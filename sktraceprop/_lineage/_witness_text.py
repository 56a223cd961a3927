"""Loaded text compared with the numbers or times it spells.

pandas loads a column as text when one cell is not a number (a header line repeated
mid-file, where two exports were concatenated; a stray token), and users convert it
afterwards (``pd.to_numeric``, ``pd.to_datetime``, ``astype``). Each row then holds its
own record in another type. Compared cell by cell as they are, ``62 != "62"``: every
such row would count as changed (a note on the column), and a row whose converted
values another row's record happens to share would be taken for that row (a refusal
naming a line the row does not hold). A conversion is no change: a number equals text
that spells it, and a time text that spells it; anything else still differs.
"""

import numpy as np
import pandas as pd

#: Cells of object columns taken as numbers (bools are, as in a numeric column).
NUMBERS = (int, float, np.integer, np.floating)


def as_numbers(values):
    """float64 of each object cell: numbers as they are, text that spells a number
    parsed (as ``float`` reads it, surrounding blanks ignored), NaN for anything else."""
    out = np.full(len(values), np.nan)
    for k, value in enumerate(values):
        if isinstance(value, NUMBERS):
            try:
                out[k] = float(value)
            except OverflowError:  # an int beyond every float: never equal to one
                pass
        elif isinstance(value, str | bytes):
            try:
                out[k] = float(value)
            except ValueError:
                pass
    return out


def _time(value):
    if isinstance(value, pd.Timestamp):
        return value
    if isinstance(value, str):
        try:
            return pd.Timestamp(value.strip())
        except (ValueError, TypeError, OverflowError):
            return None
    return None


def times_equal(mine, theirs, eq):
    """``eq`` with the cells where one side holds a time and the other text spelling
    that time (a column parsed with ``pd.to_datetime`` after loading, or formatted back
    to text) set equal. Only cells not already equal are looked at."""
    for k in np.flatnonzero(~eq):
        x, y = mine[k], theirs[k]
        if isinstance(x, pd.Timestamp) == isinstance(y, pd.Timestamp):
            continue
        if not isinstance(x, pd.Timestamp | str) or not isinstance(y, pd.Timestamp | str):
            continue
        x, y = _time(x), _time(y)
        if x is None or y is None:
            continue
        try:
            eq[k] = bool(x == y)
        except TypeError:  # a zone-aware time and a naive one: not the same time
            pass
    return eq
