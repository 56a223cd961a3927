"""``skiprows`` as the line finder reads it: a mask over pandas' logical line counter,
grown chunk by chunk only as far as the lines scanned, never to the size of a value
(``skiprows={3, 10**9}`` once allocated a gigabyte, ``[3, 2**40]`` a terabyte), and an
``int`` larger than the file has lines bounded by them (pandas makes it a set of that
many line numbers before it reads a byte: about 60 bytes a line number)."""

import codecs
import contextlib
import zipfile

import numpy as np

from ._csv_files import _decompressed, compression_of


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


#: An ``int`` ``skiprows`` up to this is given to pandas as it is: its set of line
#: numbers (about 4 MB) costs less than a look at the file.
SMALL = 1 << 16


def bounded_skiprows(path, kwargs):
    """``kwargs`` with an ``int`` ``skiprows`` larger than the lines the file has replaced
    by a bound on those lines: the same lines skipped (every one), so pandas returns what
    it returns for the value given, without first building a set of that many line
    numbers (``skiprows=10**12`` ran out of memory; ``10**9``, minutes in tens of
    gigabytes; a value below a large file's size but past its lines, a set of up to
    its bytes: 60 GB for a 1 GB file).

    A value up to :data:`SMALL` is taken as it is. Above, the file's text as pandas
    reads it (decompressed, decoded with ``encoding`` and ``encoding_errors``) is
    scanned until its ``\n`` and ``\r`` characters, which end every line pandas counts
    (a quoted line end ends none: fewer), show it has as many lines (the value is then
    pandas' own, a set no larger than the lines it skips); past its end, the bound is
    one more than them. Where the text does not decode, its decompressed bytes bound
    its lines (no character is less than a byte), pandas then failing on the text as
    it would. A file that cannot be opened so is left to the read, which says why.
    """
    skiprows = kwargs.get("skiprows")
    if not isinstance(skiprows, int | np.integer) or isinstance(skiprows, bool):
        return kwargs
    if int(skiprows) <= SMALL:
        return kwargs
    try:
        bound = _lines_bound(path, kwargs, int(skiprows))
    except (OSError, EOFError, ValueError, ImportError, LookupError, zipfile.BadZipFile):
        return kwargs
    return dict(kwargs, skiprows=bound) if int(skiprows) > bound else kwargs


def _lines_bound(path, kwargs, enough):
    """One more than the line ends of the file's text as pandas reads it (or than its
    decompressed bytes, where it does not decode), or ``enough`` once the part read
    shows at least that many: see :func:`bounded_skiprows`. (Both counts only grow,
    and the bytes are never fewer than the line ends: stopping early is safe.)"""
    method = compression_of(path, kwargs.get("compression", "infer"))
    decoder = codecs.getincrementaldecoder(kwargs.get("encoding") or "utf-8")(
        kwargs.get("encoding_errors", "strict")
    )
    n_bytes, ends = 0, 0
    with open(path, "rb") as fh, contextlib.closing(_decompressed(fh, method, path)) as raw:
        while chunk := raw.read(1 << 20):
            n_bytes += len(chunk)
            if decoder is not None:
                try:
                    text = decoder.decode(chunk)
                except UnicodeError:
                    decoder = None
                else:
                    ends += text.count("\n") + text.count("\r")
            if (n_bytes if decoder is None else ends) + 1 >= enough:
                return enough
    if decoder is not None:
        try:
            text = decoder.decode(b"", final=True)
        except UnicodeError:
            decoder = None
        else:
            return ends + text.count("\n") + text.count("\r") + 1
    return n_bytes + 1
