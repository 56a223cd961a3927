"""Numba fast path of ``read_csv``'s line scan, for chunks with no special bytes.

In a chunk holding no quote, escape, comment or ``\\r`` byte, pandas' tokenizer (modelled
by :func:`._csv_kernel.scan_chunk`) ends a record at every ``\\n`` and at nothing else,
so each line is, whole, one of: a line in ``skiprows``, a blank line, a whitespace-only
line (both skipped under ``skip_blank_lines``), or one record. :func:`scan_plain` finds
the ``\\n`` bytes eight at a time and classifies each complete line; the state machine
takes the chunk's last, unfinished line and every chunk that does not qualify. Both
read and write the same state vector, so they can take turns within a file.
"""

import numpy as np
from numba import njit

from ._csv_kernel import (
    IN_FIELD,
    S_COUNTED,
    S_FILE_LINES,
    S_LINE,
    S_N_REC,
    S_PREV_CR,
    S_REC_LINE,
    S_REC_START,
    S_STATE,
    START_FIELD,
    START_RECORD,
    _count_to,
)

_ONES = np.uint64(0x0101010101010101)
_HIGHS = np.uint64(0x8080808080808080)
_NEWLINES = np.uint64(0x0A0A0A0A0A0A0A0A)


@njit(cache=True, nogil=True, inline="always")
def _next_newline(buf, words, head, i):
    """Index of the first ``\\n`` at or after ``i`` in ``buf`` (``buf.size`` if none).

    ``words`` is ``buf[head:]`` viewed as aligned uint64 (its whole words only): a word
    holds a ``\\n`` when ``word ^ 0x0a..0a`` has a zero byte, found with the classic
    ``(x - 0x01..01) & ~x & 0x80..80`` test.
    """
    n = buf.size
    end = head + 8 * words.size
    # Bytes before the next word boundary (and all of them outside the words).
    while i < n and (i < head or i >= end or (i - head) % 8):
        if buf[i] == 10:
            return i
        i += 1
    if i >= n:
        return n
    w = (i - head) // 8
    while w < words.size:
        x = words[w] ^ _NEWLINES
        if (x - _ONES) & ~x & _HIGHS:
            break
        w += 1
    i = head + 8 * w
    while i < n:
        if buf[i] == 10:
            return i
        i += 1
    return n


@njit(cache=True, nogil=True)
def scan_plain(
    buf, words, head, pos, base, st, max_records, delim, skip_blank, skip, starts, ends, lines
):
    """Scan the complete lines of a chunk free of special bytes; return what was done.

    Parameters
    ----------
    buf : ndarray of uint8
        The chunk: bytes ``base .. base + buf.size`` of the stream. The caller checked it
        holds no quote, escape, comment or ``\\r`` byte, and that ``\\n`` ends records.
    words : ndarray of uint64
        ``buf[head:]`` viewed as aligned words (whole words only).
    head : int
        Index in ``buf`` of ``words[0]``.
    pos : int
        Index in ``buf`` to resume at.
    base : int
        Absolute offset of ``buf[0]``.
    st : ndarray of int64
        The state vector of :mod:`._csv_kernel`, updated in place.
    max_records : int
        Stop once this many records were emitted in total (``-1``: no limit).
    delim : int
        The delimiter byte (a delimiter blank is data, not whitespace).
    skip_blank : bool
        pandas' ``skip_blank_lines``.
    skip : ndarray of bool
        ``skip[k]``: logical line ``k`` is in ``skiprows``.
    starts, ends, lines : ndarray of int64
        Outputs: byte span and physical line of each record completed.

    Returns
    -------
    n : int
        Records written to the outputs.
    stop : int
        Index in ``buf`` after the last line handled: the state is ``START_RECORD`` there
        and the lines are counted up to it. Equal to ``pos`` when nothing was done (the
        state, or a ``\r`` just before ``pos``, does not allow this path).
    """
    state = st[S_STATE]
    if state != START_RECORD and state != IN_FIELD and state != START_FIELD:
        return 0, pos
    if st[S_COUNTED] < base or (max_records >= 0 and st[S_N_REC] >= max_records):
        return 0, pos
    i = max(pos, st[S_COUNTED] - base)  # past a byte order mark at the start
    line = _count_to(buf, base, st, base + i)
    if st[S_PREV_CR]:
        return 0, pos  # a "\n" first in the chunk would end no line: the kernel's case
    n = buf.size
    room = starts.size
    k = 0
    if state != START_RECORD:
        # A record in progress (unquoted, as no quote is in this chunk) ends at the
        # first "\n".
        nl = _next_newline(buf, words, head, i)
        if nl == n:
            return 0, pos
        starts[k] = st[S_REC_START]
        ends[k] = base + nl
        lines[k] = st[S_REC_LINE]
        k += 1
        st[S_N_REC] += 1
        st[S_FILE_LINES] += 1
        line += 1
        i = nl + 1
    while i < n and k < room and not (max_records >= 0 and st[S_N_REC] >= max_records):
        nl = _next_newline(buf, words, head, i)
        if nl == n:
            break  # the unfinished last line is the state machine's
        fl = st[S_FILE_LINES]
        record = True
        if fl < skip.size and skip[fl]:
            record = False
        elif skip_blank:
            # Blank, or only spaces and tabs that are not the delimiter: skipped.
            record = False
            for j in range(i, nl):
                c = buf[j]
                if not ((c == 32 or c == 9) and c != delim):
                    record = True
                    break
        if record:
            starts[k] = base + i
            ends[k] = base + nl
            lines[k] = line
            k += 1
            st[S_N_REC] += 1
        st[S_FILE_LINES] += 1
        line += 1
        i = nl + 1
    st[S_STATE] = START_RECORD
    st[S_LINE] = line
    st[S_COUNTED] = base + i
    return k, i
