"""Packed row ids: one int64 per row, ``source code << LINE_BITS | line``.

The source code occupies bits 36..62 and is never zero, so a plain integer index
(``0 .. n-1``, what ``reset_index(drop=True)`` or a plain ``merge`` leaves behind)
never decodes to a registered source and lost ids are detectable. Lines go up to
2**36 - 1 (68.7 billion); codes up to 2**27 - 1, derived from a source's id and the
SHA-256 of its content, so two processes give the same source the same code.
"""

import contextvars

import numpy as np
import pandas as pd

#: Name of the pandas index that carries row ids.
ROW_INDEX_NAME = "stp_row_id"
#: Key in ``DataFrame.attrs`` marking a frame that carried row ids at some point.
TRACED_ATTR = "sktraceprop_traced"

LINE_BITS = 36
SOURCE_BITS = 27
MAX_LINE = (1 << LINE_BITS) - 1
MAX_CODE = (1 << SOURCE_BITS) - 1


def pack(code, lines):
    """Pack a source code and 1-based line numbers into int64 row ids."""
    lines = np.asarray(lines, dtype=np.int64)
    if not 1 <= int(code) <= MAX_CODE:
        raise ValueError(f"source code must be in [1, {MAX_CODE}], got {code}")
    if lines.size and (lines.min() < 1 or lines.max() > MAX_LINE):
        raise ValueError(f"line numbers must be in [1, {MAX_LINE}]")
    return (np.int64(code) << np.int64(LINE_BITS)) | lines


def codes_of(ids):
    """Source code of each packed row id."""
    return np.asarray(ids, dtype=np.int64) >> np.int64(LINE_BITS)


#: ``[ids, their distinct codes or None]`` of the traced fit under way (:class:`codes_held`).
_HELD = contextvars.ContextVar("sktraceprop_distinct_codes", default=None)


class codes_held:
    """Context manager of a traced fit of rows ``ids``: :func:`distinct_codes` of that
    very object is computed once, on its first call, and given again by later calls
    inside the block (about nine per fit, each a pass over every id: 0.6 ms per million
    rows). Keyed by identity (``is``), as :func:`._fit_context._identified` is: the fit
    does not write into its row ids, and another array, equal or not, is computed
    afresh. Threads the fit starts do not see it (a context variable)."""

    def __init__(self, ids):
        self.ids = ids

    def __enter__(self):
        self.token = _HELD.set([self.ids, None])
        return self

    def __exit__(self, *exc):
        _HELD.reset(self.token)
        return False


def distinct_codes(ids):
    """Sorted distinct source codes of packed row ids (int64 array)."""
    held = _HELD.get()
    if held is None or held[0] is not ids:
        return _distinct_codes(ids)
    if held[1] is None:
        held[1] = _distinct_codes(ids)
    return held[1].copy()  # (the caller's to keep or change)


def _distinct_codes(ids):
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size == 0:
        return np.zeros(0, np.int64)
    # The code is in the high bits, so the codes of the smallest and largest id bound
    # every code: one source (the common case) needs no array of codes.
    first, last = codes_of([ids.min(), ids.max()])
    if first == last:
        return np.array([first])
    return few_distinct(codes_of(ids))


def few_distinct(values):
    """Sorted distinct values of an int64 array that holds few of them (source codes)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return np.zeros(0, np.int64)
    # The smallest and largest are two of them: one value (one source, the common case)
    # or two (a merge's two sides) need no sort or hash of a large array.
    first, last = values.min(), values.max()
    if first == last:
        return np.array([first])
    ends = (values == first) | (values == last)
    if ends.all():
        return np.array([first, last])
    # more: a hash of the others (a sort of every value costs several times more)
    return np.concatenate(([first], np.sort(pd.unique(values[~ends])), [last]))


def lines_of(ids):
    """1-based line (or row position) of each packed row id."""
    return np.asarray(ids, dtype=np.int64) & np.int64(MAX_LINE)
