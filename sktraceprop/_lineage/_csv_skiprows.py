"""``skiprows`` as the line finder reads it: a mask over pandas' logical line counter,
grown chunk by chunk only as far as the lines scanned, never to the size of a value
(``skiprows={3, 10**9}`` once allocated a gigabyte, ``[3, 2**40]`` a terabyte), and the
refusal of an ``int`` larger than the file can have lines (pandas makes it a set of
that many line numbers before it reads a byte)."""

import os

import numpy as np

from ._csv_files import compression_of


class SkipRows:
    """``skiprows`` (None, an int, line numbers, or a callable) as a mask made on demand.

    :meth:`upto` gives a mask covering the logical lines below ``bound`` (lines past its
    end are kept: the scan kernels read it so); an int or line numbers grow it at least
    twofold at a time (one pass per doubling, not per chunk), and never past the last
    line they skip; a callable is asked for each line once, as far as ``bound``.
    """

    def __init__(self, skiprows):
        self._func, self._end, self._rows = None, 0, None
        if callable(skiprows):
            self._func, self._end = skiprows, np.inf
        elif isinstance(skiprows, int | np.integer):
            self._end = max(int(skiprows), 0)
        elif skiprows is not None:
            rows = np.unique(np.asarray(list(skiprows), dtype=np.int64))
            self._rows = rows[rows >= 0]
            self._end = int(self._rows[-1]) + 1 if self._rows.size else 0
        self.mask = np.zeros(0, bool)

    @property
    def complete(self):
        """Whether the mask holds every line ``skiprows`` skips (no bound needed)."""
        return self.mask.size >= self._end

    def upto(self, bound):
        """The mask, covering at least the lines below ``bound`` that ``skiprows`` can skip."""
        if self.complete or self.mask.size >= bound:
            return self.mask
        if self._func is not None:
            self.mask = np.concatenate([self.mask, self._asked(self.mask.size, bound)])
            return self.mask
        size = int(min(max(bound, 2 * self.mask.size), self._end))
        if self._rows is None:
            self.mask = np.ones(size, bool)
        else:
            self.mask = np.zeros(size, bool)
            self.mask[self._rows[: np.searchsorted(self._rows, size)]] = True
        return self.mask

    def _asked(self, start, bound):
        answers = []
        for k in range(start, bound):
            try:
                answers.append(bool(self._func(k)))
            except Exception:
                # ``bound`` overshoots the file (a mask list as long as the file raises
                # IndexError past it). pandas asks for every line the scan needs: had it
                # failed on one, pandas would have raised. Lines past the mask are kept.
                self._end = start + len(answers)
                break
        return np.array(answers, bool)


def check_skiprows(path, kwargs):
    """Refuse an ``int`` ``skiprows`` larger than the lines an uncompressed file of its
    size can have (one more than its bytes): it skips every line, and pandas first
    builds a set of that many line numbers (``skiprows=10**9`` ran for minutes, in tens
    of gigabytes, before pandas' "No columns to parse from file")."""
    skiprows = kwargs.get("skiprows")
    if not isinstance(skiprows, int | np.integer):
        return
    if compression_of(path, kwargs.get("compression", "infer")) is not None:
        return  # (its lines are not bounded by its size)
    most = os.path.getsize(path) + 1
    if int(skiprows) > most:
        raise ValueError(
            f"sktraceprop.read_csv: skiprows={int(skiprows)} skips more lines than "
            f"{path} ({most - 1} bytes) can have (at most {most}): every line, leaving "
            "no header and no rows, and pandas would first build a set of that many line "
            "numbers. Give the number of lines to skip at the top of the file."
        )
