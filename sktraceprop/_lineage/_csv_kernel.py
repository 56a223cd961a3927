"""Numba kernel behind ``read_csv``'s line numbers (numba only: arrays in, arrays out).

:func:`scan_chunk` is a port of the record-splitting state machine of pandas' C tokenizer
(``pandas/_libs/src/parser/tokenizer.c``: quotes, doubled quotes, escapes, comments,
blank and whitespace-only lines, ``\\r``, ``\\r\\n`` and ``\\n`` line ends, ``skiprows``).
It reads a file chunk by chunk, carrying its state between calls, and gives each record
pandas emits its byte span and the physical 1-based line it starts on (lines end with
``\\n``, ``\\r\\n`` or a lone ``\\r``).

One deliberate difference: on a whitespace-only line that turns out to hold data, pandas
backtracks to the byte after the previous ``\\n`` and reads again from there; the kernel
resumes at the start of the line instead. The two agree except when the previous line
ended with a lone ``\\r``, where pandas reads earlier records again (or never finishes);
``read_csv``'s checks then refuse the file.
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
S_WS_TAB = 11  # a tab was among its blanks
N_SLOTS = 12


def new_state(start=0):
    """State vector for a scan starting at byte ``start`` (3 after a UTF-8 BOM)."""
    st = np.zeros(N_SLOTS, np.int64)
    st[S_STATE] = START_RECORD
    st[S_REC_START] = start
    st[S_COUNTED] = start
    st[S_LINE] = 1
    return st


@njit(cache=True, nogil=True)
def count_line_ends(buf):
    """Number of ``\\n`` and ``\\r`` bytes: a bound on the records and logical lines."""
    n = 0
    for i in range(buf.size):
        c = buf[i]
        if c == 10 or c == 13:
            n += 1
    return n


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


@njit(cache=True, nogil=True)
def scan_chunk(
    buf,
    pos,
    base,
    st,
    max_records,
    delim,
    quote,
    comment,
    escape,
    term,
    carriage,
    doublequote,
    skip_blank,
    skipinitialspace,
    skip,
    stop_field,
    stop_quoted,
    starts,
    ends,
    lines,
):
    """Scan one chunk; write the records it completes; return how many.

    Parameters
    ----------
    buf : ndarray of uint8
        The chunk: bytes ``base .. base + buf.size`` of the UTF-8 stream pandas tokenizes.
    pos : int
        Index in ``buf`` to resume at (0 for a new chunk).
    base : int
        Absolute offset of ``buf[0]``.
    st : ndarray of int64
        State vector (see :func:`new_state`), updated in place.
    max_records : int
        Stop once this many records were emitted in total (``-1``: no limit).
    delim, quote, comment, escape, term, carriage : int
        Byte values; ``-1`` means none. ``term`` ends a record (``10`` by default) and
        ``carriage`` is ``13`` unless a custom line terminator disables ``\\r`` handling.
    doublequote, skip_blank, skipinitialspace : bool
        pandas' ``doublequote``, ``skip_blank_lines`` and ``skipinitialspace``.
    skip : ndarray of bool
        ``skip[k]``: logical line ``k`` is in ``skiprows`` (lines past its end are kept).
    stop_field, stop_quoted : ndarray of bool of shape (256,)
        Bytes that end a run of plain bytes in an unquoted field (terminator, carriage
        return, escape, delimiter, comment) and in a quoted field (quote, escape).
    starts, ends, lines : ndarray of int64
        Outputs: byte span and physical line of each record completed. The scan stops
        early when they are full; call again from the returned index.

    Returns
    -------
    n : int
        Records written to the outputs.
    stop : int
        Index in ``buf`` where the scan stopped (``buf.size`` once the chunk is done).
    """
    n = buf.size
    k = 0
    state = st[S_STATE]
    i = max(pos, st[S_COUNTED] - base)  # past a byte order mark at the start
    room = starts.size - 1  # one record may complete per byte handled below
    while i < n:
        if (max_records >= 0 and st[S_N_REC] >= max_records) or k >= room:
            break
        if state == START_FIELD:
            first = buf[i]
            if skipinitialspace and first == 32:
                i += 1  # a skippable space: still at the start of the field
                continue
            if first != quote:
                # Outside quotes a field's first byte is handled exactly as in IN_FIELD.
                state = IN_FIELD
        if state == IN_FIELD:
            # Plain bytes cannot change the state: skip to the next one that can.
            while i < n and not stop_field[buf[i]]:
                i += 1
            if i == n:
                break
            c = np.int64(buf[i])
            if c == term:
                k = _emit(st, base + i, starts, ends, lines, k)
                state = START_RECORD
            elif c == carriage:
                st[S_REC_END] = base + i
                state = EAT_CRNL
            elif c == escape:
                state = ESCAPED_CHAR
            elif c == delim:
                state = START_FIELD
            else:  # the comment character
                state = EAT_COMMENT
            i += 1
            continue
        if state == IN_QUOTED_FIELD:
            while i < n and not stop_quoted[buf[i]]:
                i += 1
            if i == n:
                break
        c = np.int64(buf[i])
        if state == START_RECORD:
            fl = st[S_FILE_LINES]
            if fl < skip.size and skip[fl]:
                if c == quote:
                    state = IN_QUOTED_FIELD_IN_SKIP_LINE
                else:
                    state = IN_FIELD_IN_SKIP_LINE
                    if c == term:
                        st[S_FILE_LINES] += 1  # end_line() of a skipped line
                        state = START_RECORD
                i += 1
                continue
            if c == term:
                if skip_blank:
                    st[S_FILE_LINES] += 1
                else:
                    _begin(buf, base, st, base + i)
                    k = _emit(st, base + i, starts, ends, lines, k)
                i += 1
                continue
            if c == carriage:
                if skip_blank:
                    st[S_FILE_LINES] += 1
                    state = EAT_CRNL_NOP
                else:
                    _begin(buf, base, st, base + i)
                    st[S_REC_END] = base + i
                    state = EAT_CRNL
                i += 1
                continue
            if c == comment:
                state = EAT_LINE_COMMENT
                i += 1
                continue
            if (c == 32 or c == 9) and c != delim and skip_blank:
                st[S_WS_START] = base + i
                st[S_WS_LINE] = _count_to(buf, base, st, base + i)
                st[S_WS_TAB] = c == 9
                state = WHITESPACE_LINE
                i += 1
                continue
            _begin(buf, base, st, base + i)
            state = START_FIELD
            # fall through: this byte is handled as the start of a field
        elif state == WHITESPACE_LINE:
            if c == term:
                st[S_FILE_LINES] += 1
                state = START_RECORD
            elif c == carriage:
                st[S_FILE_LINES] += 1
                state = EAT_CRNL_NOP
            elif (c == 32 or c == 9) and c != delim:
                if c == 9:
                    st[S_WS_TAB] = 1
            else:
                # The line holds data: it is a record from its first byte. The blanks read
                # so far are plain bytes of its first field, or, all spaces skipped by
                # skipinitialspace, leave the field not yet started.
                st[S_REC_START] = st[S_WS_START]
                st[S_REC_LINE] = st[S_WS_LINE]
                state = START_FIELD if skipinitialspace and st[S_WS_TAB] == 0 else IN_FIELD
                continue
            i += 1
            continue
        elif state == EAT_CRNL:
            if c == 10:
                k = _emit(st, st[S_REC_END], starts, ends, lines, k)
                state = START_RECORD
                i += 1
            elif c == delim:
                # "\r," : the record ends, and the next one starts with an empty field.
                k = _emit(st, st[S_REC_END], starts, ends, lines, k)
                _begin(buf, base, st, base + i)
                state = START_FIELD
                i += 1
            else:
                k = _emit(st, st[S_REC_END], starts, ends, lines, k)
                state = START_RECORD  # read this byte again
            continue
        elif state == EAT_CRNL_NOP:
            state = START_RECORD
            if c != 10 and c != delim:
                continue  # read this byte again
            i += 1
            continue
        elif state == EAT_LINE_COMMENT:
            if c == term:
                st[S_FILE_LINES] += 1
                state = START_RECORD
            elif c == carriage:
                st[S_FILE_LINES] += 1
                state = EAT_CRNL_NOP
            i += 1
            continue
        elif state == START_FIELD_IN_SKIP_LINE or state == IN_FIELD_IN_SKIP_LINE:
            if c == term:
                st[S_FILE_LINES] += 1
                state = START_RECORD
            elif c == carriage:
                st[S_FILE_LINES] += 1
                state = EAT_CRNL_NOP
            elif state == START_FIELD_IN_SKIP_LINE and c == quote:
                state = IN_QUOTED_FIELD_IN_SKIP_LINE
            elif c == delim:
                state = START_FIELD_IN_SKIP_LINE
            else:
                state = IN_FIELD_IN_SKIP_LINE
            i += 1
            continue
        elif state == IN_QUOTED_FIELD_IN_SKIP_LINE:
            if c == quote:
                if doublequote:
                    state = QUOTE_IN_QUOTED_FIELD_IN_SKIP_LINE
                else:
                    state = IN_FIELD_IN_SKIP_LINE
            i += 1
            continue
        elif state == QUOTE_IN_QUOTED_FIELD_IN_SKIP_LINE:
            if c == quote:
                state = IN_QUOTED_FIELD_IN_SKIP_LINE
            elif c == term:
                st[S_FILE_LINES] += 1
                state = START_RECORD
            elif c == carriage:
                st[S_FILE_LINES] += 1
                state = EAT_CRNL_NOP
            elif c == delim:
                state = START_FIELD_IN_SKIP_LINE
            else:
                state = IN_FIELD_IN_SKIP_LINE
            i += 1
            continue

        # States inside a record.
        if state == START_FIELD:
            if c == term:
                k = _emit(st, base + i, starts, ends, lines, k)
                state = START_RECORD
            elif c == carriage:
                st[S_REC_END] = base + i
                state = EAT_CRNL
            elif c == quote:
                state = IN_QUOTED_FIELD
            elif c == escape:
                state = ESCAPED_CHAR
            elif skipinitialspace and c == 32:
                pass
            elif c == delim:
                pass
            elif c == comment:
                state = EAT_COMMENT
            else:
                state = IN_FIELD
        elif state == ESCAPED_CHAR:
            state = IN_FIELD
        elif state == IN_QUOTED_FIELD:
            if c == escape:
                state = ESCAPE_IN_QUOTED_FIELD
            elif c == quote:
                state = QUOTE_IN_QUOTED_FIELD if doublequote else IN_FIELD
        elif state == ESCAPE_IN_QUOTED_FIELD:
            state = IN_QUOTED_FIELD
        elif state == QUOTE_IN_QUOTED_FIELD:
            if c == quote:
                state = IN_QUOTED_FIELD
            elif c == delim:
                state = START_FIELD
            elif c == term:
                k = _emit(st, base + i, starts, ends, lines, k)
                state = START_RECORD
            elif c == carriage:
                st[S_REC_END] = base + i
                state = EAT_CRNL
            else:
                state = IN_FIELD
        elif state == EAT_COMMENT:
            if c == term:
                k = _emit(st, base + i, starts, ends, lines, k)
                state = START_RECORD
            elif c == carriage:
                st[S_REC_END] = base + i
                state = EAT_CRNL
        i += 1
    st[S_STATE] = state
    if i >= n:
        _count_to(buf, base, st, base + n)
    return k, i
