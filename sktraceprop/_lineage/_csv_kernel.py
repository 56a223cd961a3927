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
ended with a lone ``\\r``, where pandas before 3.0 reads earlier records again (or never
finishes), its row count unchanged, unless that line ended the first data record (read
right there): the kernel notes the first other such line (``S_CR_BLANK``) and the scan
refuses it there (pandas 3 reads it as the kernel does).
"""

import numpy as np
from numba import njit

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)
from ._csv_kernel_state import (  # noqa: F401 (re-exported for the scan's callers)
    EAT_COMMENT,
    EAT_CRNL,
    EAT_CRNL_NOP,
    EAT_LINE_COMMENT,
    ESCAPE_IN_QUOTED_FIELD,
    ESCAPED_CHAR,
    IN_FIELD,
    IN_FIELD_IN_SKIP_LINE,
    IN_QUOTED_FIELD,
    IN_QUOTED_FIELD_IN_SKIP_LINE,
    N_SLOTS,
    QUOTE_IN_QUOTED_FIELD,
    QUOTE_IN_QUOTED_FIELD_IN_SKIP_LINE,
    S_COUNTED,
    S_CR_BLANK,
    S_FILE_LINES,
    S_FIRST_DATA,
    S_LINE,
    S_N_REC,
    S_PREV_CR,
    S_REC_END,
    S_REC_LINE,
    S_REC_START,
    S_STATE,
    S_WS_LINE,
    S_WS_START,
    S_WS_TAB,
    START_FIELD,
    START_FIELD_IN_SKIP_LINE,
    START_RECORD,
    WHITESPACE_LINE,
    _begin,
    _count_to,
    _emit,
    new_state,
)


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
def _after_first_row(st):
    """Whether the lone ``\r`` before the whitespace-led line being read ended the first
    data record, after which pandas before 3.0 reads the line right (measured against
    pandas 3.1 on drawn files: after any other record, or a skipped, comment or blank
    line, it fails, loops or reads earlier records again)."""
    return st[S_N_REC] == st[S_FIRST_DATA] + 1 and st[S_REC_END] == st[S_WS_START] - 1


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
    python_lines,
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
    python_lines : bool
        Lines skipped, blank or commented out end as pandas' python engine ends them
        (its csv reader reads each physical line apart): a skipped line that is a lone
        ``\\r`` ends there, where the C tokenizer reads the ``\\r`` as a field and skips
        the next line with it; and a delimiter after such a line's ``\\r`` starts the
        next line's first field, where the C tokenizer drops it.
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
                if python_lines and c == carriage:
                    st[S_FILE_LINES] += 1  # a blank line skipped alone
                    state = EAT_CRNL_NOP
                elif c == quote:
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
                st[S_WS_TAB] = (c == 9) + 2 * st[S_PREV_CR]
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
                    st[S_WS_TAB] |= 1
            else:
                # The line holds data: it is a record from its first byte. The blanks read
                # so far are plain bytes of its first field, or, all spaces skipped by
                # skipinitialspace, leave the field not yet started.
                st[S_REC_START] = st[S_WS_START]
                st[S_REC_LINE] = st[S_WS_LINE]
                if st[S_WS_TAB] & 2 and st[S_CR_BLANK] == 0 and not _after_first_row(st):
                    st[S_CR_BLANK] = st[S_WS_LINE]  # (pandas 2 reads it otherwise)
                state = START_FIELD if skipinitialspace and st[S_WS_TAB] & 1 == 0 else IN_FIELD
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
            if c != 10 and (python_lines or c != delim):
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
