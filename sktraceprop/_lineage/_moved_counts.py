"""Columns of two values whose counts a move kept exactly, told from flips by chance.

Rows moved among themselves (``set_axis`` with a permutation, a frame rebuilt from
``to_numpy()`` in another order) keep every column's values, each on another row: over
the rows compared, each column holds as many of each value as it was loaded with. Where
the loaded values of two columns of two values are spread unevenly, a move is warned of
by :mod:`._moved_rows` only where the few rows differing in both columns happen to hold
each value about as often (a few rows: chance often says otherwise), and was not warned
of otherwise, naming for most rows a line whose values they do not hold.

Columns flipped each on a condition of its own (of columns outside the data,
independent of the loaded values: :mod:`._moved_flips`) keep the counts by chance only.
Given a column's ``m`` rows flipped among ``n`` rows compared, ``n1`` of them loaded
with the one value, the flipped rows are any ``m`` rows alike (rows drawn alike: given
the counts, the loaded values are in any order alike, whatever rows are flipped), and
the counts are kept where half of them held each value: the hypergeometric chance
``C(n1, m/2) C(n - n1, m/2) / C(n, m)`` (none for ``m`` odd). :func:`kept_chance` is
its product over the columns (loaded columns independent of each other; the same
rows flipped in columns loaded equal, which keeps both or neither, leave each loaded
record beside two records now, and are not taken: :mod:`._moved_rows`); flips reach a
chance of ``ALPHA`` or less with chance ``ALPHA`` at most (the sum of the chances of the
outcomes so rare), so a move is warned of there. Above it the rows compared cannot
tell a move from flips (values spread evenly over the two, or few rows): the run says
so in a note (:data:`UNDECIDED`), and does not warn.
"""

import numpy as np

from ._moved_flips import two_value_columns

#: The largest chance that columns flipped on conditions of their own keep every
#: column's counts, for a warning of rows moved.
ALPHA = 1e-3

#: How the run's note says the rows compared could not tell a move from flips.
UNDECIDED = (
    "could not tell from the rows compared: each column holds exactly the counts of its "
    "two values it was loaded with, as after rows moved among themselves (set_axis, "
    "df.index = ..., a frame rebuilt from to_numpy() in another order), but columns "
    "flipped each on a condition of its own keep them so by chance as often (values "
    "spread about evenly over the two, or too few rows to say)"
)


def _log_choose(n, k):
    from scipy.special import gammaln  # (scipy.special alone: light to import)

    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def kept_chance(was, now):
    """The chance that columns of two values (``was``: each column's loaded cell keys,
    ``now``: its cell keys now, on the rows compared; None: missing), flipped each on
    rows independent of its loaded value, keep every column's counts of its two values
    as exactly as they are; None where they are not kept exactly (or not two values, or
    no row flipped), on the rows where no column is missing."""
    columns = two_value_columns(was, now)
    if columns is None:
        return None
    log_chance = 0.0
    for loaded, here in columns:
        if int(loaded.sum()) != int(here.sum()):
            return None
        n, n1, m = loaded.size, int(loaded.sum()), int((loaded != here).sum())
        if m == 0:
            return None
        half = m // 2  # (m is even: as many flipped each way)
        log_chance += _log_choose(n1, half) + _log_choose(n - n1, half) - _log_choose(n, m)
    return float(np.exp(log_chance))
