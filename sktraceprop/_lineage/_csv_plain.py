"""Numba fast path of ``read_csv``'s line scan, for chunks with no escape, comment or ``\\r``.

In such a chunk pandas' tokenizer (modelled by :func:`._csv_kernel.scan_chunk`) ends a
record at every ``\\n`` outside quoted fields and at nothing else, and a quote opens a
quoted field only at the start of a field. So each logical line is, whole, one of: a line
in ``skiprows``, a blank line, a whitespace-only line (both skipped under
``skip_blank_lines``), or one record. :func:`scan_plain` classifies each complete
line: in a chunk without quotes it finds the ``\\n`` bytes eight at a time; in a quoted
one it ends each line by quote parity over the chunk's bit masks
(:mod:`._csv_quoted`), and walks a line whose quotes the parity does not model from
quote to quote (a bit scan of the same masks); the state machine takes the
chunk's last, unfinished line, a record carried over from the previous chunk, a skipped
line that starts with the delimiter (pandas reads its fields differently), and every
chunk that does not qualify. Both read and write the same state vector, so they can take
turns within a file.
"""

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)
from ._csv_kernel_state import (
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
from ._csv_quoted import _ALL, _HIGHS, _ONES, NEWLINE, QUOTE, line_end, parity_lines


@njit(cache=True, nogil=True, inline="always")
def _next_of(buf, words, head, i, a, b):
    """Index of the first byte ``a`` or ``b`` at or after ``i`` (``buf.size`` if none).

    ``words`` is ``buf[head:]`` viewed as aligned uint64 (its whole words only): a word
    holds byte ``a`` when ``word ^ aa..aa`` has a zero byte, found with the classic
    ``(x - 0x01..01) & ~x & 0x80..80`` test.
    """
    n = buf.size
    end = head + 8 * words.size
    # Bytes before the next word boundary (and all of them outside the words).
    while i < n and (i < head or i >= end or (i - head) % 8):
        c = buf[i]
        if c == a or c == b:
            return i
        i += 1
    if i >= n:
        return n
    pa = np.uint64(a) * _ONES
    pb = np.uint64(b) * _ONES
    w = (i - head) // 8
    while w < words.size:
        xa = words[w] ^ pa
        xb = words[w] ^ pb
        if (((xa - _ONES) & ~xa) | ((xb - _ONES) & ~xb)) & _HIGHS:
            break
        w += 1
    i = head + 8 * w
    while i < n:
        c = buf[i]
        if c == a or c == b:
            return i
        i += 1
    return n


@njit(cache=True, nogil=True, inline="always")
def _next_set(masks, i, n):
    """Index of the first ``\\n`` or quote at or after ``i`` (``n`` if none), from the
    chunk's :func:`._csv_quoted.quote_masks`."""
    if i >= n:
        return n
    blk = i >> 6
    m = (masks[NEWLINE, blk] | masks[QUOTE, blk]) & (_ALL << np.uint64(i & 63))
    while m == 0:
        blk += 1
        if blk >= masks.shape[1]:
            return n
        m = masks[NEWLINE, blk] | masks[QUOTE, blk]
    return min((blk << 6) + trailing_zeros(m), n)


@njit(cache=True, nogil=True, inline="always")
def _next_stop(buf, words, head, masks, i, quote):
    """The next quote or ``\\n`` at or after ``i``: by bit scan where the chunk's masks
    were made (``masks.shape[1] > 0``), else by a byte search."""
    if masks.shape[1]:
        return _next_set(masks, i, buf.size)
    return _next_of(buf, words, head, i, 10, quote)


@njit(cache=True, nogil=True, inline="always")
def _line_end(buf, words, head, masks, i, quote, delim, doublequote):
    """End of the line (logical: quoted fields may hold ``\\n``) that starts at ``i``.

    Returns the index of the ``\\n`` that ends it and the ``\\n`` bytes inside its
    quoted fields, or ``buf.size`` when the chunk ends first (or before the byte that
    decides whether a closing quote is doubled). As in pandas' tokenizer, a quote opens
    a quoted field only at the start of a field: first on the line or after a
    delimiter; anywhere else it is a plain byte.
    """
    n = buf.size
    inner = 0
    if quote < 0:
        return _next_of(buf, words, head, i, 10, 10), inner
    if doublequote and masks.shape[1]:
        end, inner, ok = line_end(masks, i, n)
        if ok:
            return end, inner
        inner = 0  # a quote the parity does not model: walk the line
    start = i
    while True:
        j = _next_stop(buf, words, head, masks, i, quote)
        if j == n or buf[j] == 10:
            return j, inner
        if j > start and buf[j - 1] != delim:
            i = j + 1  # a quote inside an unquoted field
            continue
        k = j + 1
        while True:
            k = _next_stop(buf, words, head, masks, k, quote)
            if k >= n - 1:
                return n, inner
            if buf[k] == 10:
                inner += 1
                k += 1
            elif doublequote and buf[k + 1] == quote:
                k += 2  # a doubled quote: still inside
            else:
                break
        i = k + 1  # after the closing quote: a delimiter, "\n" or plain bytes


@njit(cache=True, nogil=True)
def scan_plain(
    buf,
    words,
    head,
    pos,
    base,
    st,
    max_records,
    delim,
    quote,
    doublequote,
    skip_blank,
    skip,
    starts,
    ends,
    lines,
    masks,
):
    """Scan the complete lines of a chunk free of special bytes; return what was done.

    Parameters
    ----------
    buf : ndarray of uint8
        The chunk: bytes ``base .. base + buf.size`` of the stream. The caller checked it
        holds no escape, comment or ``\\r`` byte, that ``\\n`` ends records, and, if it
        holds a quote, that ``skipinitialspace`` is off.
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
    quote : int
        The quote byte, ``-1`` when the chunk holds none (or quoting is off).
    doublequote, skip_blank : bool
        pandas' ``doublequote`` and ``skip_blank_lines``.
    skip : ndarray of bool
        ``skip[k]``: logical line ``k`` is in ``skiprows``.
    starts, ends, lines : ndarray of int64
        Outputs: byte span and physical line of each record completed.
    masks : ndarray of uint64
        :func:`._csv_quoted.quote_masks` of the chunk (used when ``quote`` is set), or
        an array of shape ``(4, 0)`` to search bytes instead.

    Returns
    -------
    n : int
        Records written to the outputs.
    stop : int
        Index in ``buf`` after the last line handled: the state is ``START_RECORD`` there
        and the lines are counted up to it. Equal to ``pos`` when nothing was done (the
        state, or a ``\\r`` just before ``pos``, does not allow this path).
    """
    state = st[S_STATE]
    if state != START_RECORD and (quote >= 0 or (state != IN_FIELD and state != START_FIELD)):
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
        # A record in progress (unquoted: no quote is in this chunk) ends at the first
        # "\n".
        nl = _next_of(buf, words, head, i, 10, 10)
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
    # The counters live in locals inside the loop: stores to ``st`` would make every
    # line reload them (the output arrays might alias it, as far as the compiler knows).
    n_rec = st[S_N_REC]
    fl = st[S_FILE_LINES]
    by_parity = quote >= 0 and doublequote and masks.shape[1] > 0
    while i < n and k < room and not (max_records >= 0 and n_rec >= max_records):
        if by_parity and fl >= skip.size:
            # the lines that are one record each, many at a time (past skiprows' lines)
            k0 = k
            i, k, n_rec, line = parity_lines(
                buf, masks, i, base, line, k, n_rec, max_records, starts, ends, lines
            )
            fl += k - k0
            if i >= n or k >= room or (max_records >= 0 and n_rec >= max_records):
                break
        skipped = fl < skip.size and skip[fl]
        if skipped and quote >= 0 and buf[i] == delim:
            # In a skipped line, pandas does not take a leading delimiter as the end of a
            # field, so a quote after it opens nothing (in a record it would): the state
            # machine's line.
            break
        # Blank, or only spaces and tabs that are not the delimiter: skipped under
        # skip_blank_lines (unless skiprows takes the line first). Any other byte starts
        # a record on this line.
        j = i
        if skip_blank:
            while j < n and (buf[j] == 32 or buf[j] == 9) and buf[j] != delim:
                j += 1
        if j < n and buf[j] == 10 and skip_blank:
            nl, inner = j, 0
        else:
            nl, inner = _line_end(buf, words, head, masks, i, quote, delim, doublequote)
        if nl == n:
            break  # the unfinished last line is the state machine's
        if not skipped and not (skip_blank and j == nl):
            starts[k] = base + i
            ends[k] = base + nl
            lines[k] = line
            k += 1
            n_rec += 1
        fl += 1
        line += 1 + inner
        i = nl + 1
    st[S_N_REC] = n_rec
    st[S_FILE_LINES] = fl
    st[S_STATE] = START_RECORD
    st[S_LINE] = line
    st[S_COUNTED] = base + i
    return k, i
