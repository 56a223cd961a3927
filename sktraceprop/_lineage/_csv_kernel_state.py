"""The state of ``read_csv``'s line scan, carried from chunk to chunk (numba only).

The states of pandas' tokenizer, the slots of the int64 vector that carries a scan's
state between chunks (see :func:`new_state`), and the jitted helpers the scan kernels
(:mod:`._csv_kernel`, :mod:`._csv_plain`, :mod:`._csv_count`) share to count physical
lines and emit records.
"""

import numpy as np
from numba import njit

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)

# States, named as in pandas' tokenizer.
START_RECORD = 0
START_FIELD = 1
ESCAPED_CHAR = 2
IN_FIELD = 3
IN_QUOTED_FIELD = 4
ESCAPE_IN_QUOTED_FIELD = 5
QUOTE_IN_QUOTED_FIELD = 6
EAT_CRNL = 7
EAT_CRNL_NOP = 8
EAT_COMMENT = 9
EAT_LINE_COMMENT = 10
WHITESPACE_LINE = 11
START_FIELD_IN_SKIP_LINE = 12
IN_FIELD_IN_SKIP_LINE = 13
IN_QUOTED_FIELD_IN_SKIP_LINE = 14
QUOTE_IN_QUOTED_FIELD_IN_SKIP_LINE = 15

# Slots of the state vector carried from one chunk to the next.
S_STATE = 0
S_FILE_LINES = 1  # pandas' logical line counter (what skiprows counts)
S_REC_START = 2  # byte offset where the record in progress starts
S_REC_END = 3  # byte offset of the byte that ended it (for "\r" endings)
S_REC_LINE = 4  # physical line of S_REC_START
S_COUNTED = 5  # line ends are counted up to this byte offset
S_LINE = 6  # physical line at S_COUNTED
S_PREV_CR = 7  # the byte before S_COUNTED was "\r"
S_N_REC = 8  # records emitted so far
S_WS_START = 9  # start of the whitespace-only line being read
S_WS_LINE = 10  # its physical line
S_WS_TAB = 11  # bit 1: a tab was among its blanks; bit 2: a lone "\r" ended the line before
S_CR_BLANK = 12  # the first line of data led by blanks after a lone "\r" (0: none)
S_FIRST_DATA = 13  # records before the first data record (the header's, as pandas counts)
N_SLOTS = 14


def new_state(start=0, first_data=0):
    """State vector for a scan starting at byte ``start`` (3 after a UTF-8 BOM), of a
    file whose first data record is record ``first_data``."""
    st = np.zeros(N_SLOTS, np.int64)
    st[S_FIRST_DATA] = first_data
    st[S_STATE] = START_RECORD
    st[S_REC_START] = start
    st[S_COUNTED] = start
    st[S_LINE] = 1
    return st


@njit(cache=True, nogil=True)
def _count_to(buf, base, st, upto):
    """Advance the physical line counter to absolute offset ``upto``; return the line."""
    line = st[S_LINE]
    prev_cr = st[S_PREV_CR]
    for pos in range(st[S_COUNTED] - base, upto - base):
        # Branch-free: "\r" ends a line, "\n" does unless it follows "\r".
        c = buf[pos]
        cr = np.int64(c == 13)
        line += cr + (np.int64(c == 10) & (prev_cr ^ 1))
        prev_cr = cr
    st[S_LINE] = line
    st[S_PREV_CR] = prev_cr
    if upto > st[S_COUNTED]:
        st[S_COUNTED] = upto
    return line


@njit(cache=True, nogil=True)
def _begin(buf, base, st, pos):
    st[S_REC_START] = pos
    st[S_REC_LINE] = _count_to(buf, base, st, pos)


@njit(cache=True, nogil=True)
def _emit(st, end, starts, ends, lines, k):
    starts[k] = st[S_REC_START]
    ends[k] = end
    lines[k] = st[S_REC_LINE]
    st[S_N_REC] += 1
    st[S_FILE_LINES] += 1
    return k + 1
