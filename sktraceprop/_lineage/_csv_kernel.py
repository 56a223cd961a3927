"""Numba kernels behind ``read_csv``'s line numbers (numba only: arrays in, arrays out).

:func:`scan_records` is a port of the record-splitting state machine of pandas' C
tokenizer (``pandas/_libs/src/parser/tokenizer.c``: quotes, doubled quotes, escapes,
comments, blank and whitespace-only lines, ``\\r``, ``\\r\\n`` and ``\\n`` line ends, and
``skiprows``); it returns where each record pandas emits starts and ends, as byte
offsets. :func:`lines_at` turns byte offsets into physical 1-based line numbers, lines
being ended by ``\\n``, ``\\r\\n`` or a lone ``\\r``.
"""

import numpy as np
from numba import njit

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

#: Status codes of :func:`scan_records`.
OK = 0
EOF_IN_QUOTES = 1
EOF_AFTER_ESCAPE = 2
#: pandas itself would not finish: it reads a whitespace-led line of a ``\r``-ended file
#: again and again (see WHITESPACE_LINE), so the scan stops instead.
NO_PROGRESS = 3


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
def scan_records(
    buf,
    start,
    delim,
    quote,
    comment,
    escape,
    term,
    carriage,
    doublequote,
    skip_blank,
    skip,
    stop_field,
    stop_quoted,
):
    """Byte spans of the records pandas' C tokenizer emits from ``buf[start:]``.

    Parameters
    ----------
    buf : ndarray of uint8
        The UTF-8 bytes pandas tokenizes.
    start : int
        First byte to read (3 after a UTF-8 byte order mark).
    delim, quote, comment, escape, term, carriage : int
        Byte values; ``-1`` means none (no quoting, no comment character, ...).
        ``term`` is the record terminator (``10`` by default) and ``carriage`` is ``13``
        unless a custom line terminator disables ``\\r`` handling.
    doublequote, skip_blank : bool
        pandas' ``doublequote`` and ``skip_blank_lines``.
    skip : ndarray of bool
        ``skip[k]`` is True when logical line ``k`` (pandas' ``file_lines`` counter) is in
        ``skiprows``; lines past its end are kept.
    stop_field, stop_quoted : ndarray of bool of shape (256,)
        Bytes that end a run of plain bytes in an unquoted field (terminator, carriage
        return, escape, delimiter, comment) and in a quoted field (quote, escape).

    Returns
    -------
    starts, ends : ndarray of int64
        Byte offsets of each emitted record's first byte and of the byte that ended it
        (its line terminator, or ``buf.size``).
    status : int
        ``OK``; ``EOF_IN_QUOTES`` or ``EOF_AFTER_ESCAPE`` (pandas raises); ``NO_PROGRESS``.
    """
    n = buf.size
    cap = count_line_ends(buf) + 2
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    n_rec = 0
    file_lines = 0
    state = START_RECORD
    rec_start = start
    rec_end = start
    i = start
    furthest = start
    status = OK
    while i < n:
        if n_rec >= cap - 1:
            status = NO_PROGRESS
            break
        if state == START_FIELD and buf[i] != quote:
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
                starts[n_rec] = rec_start
                ends[n_rec] = i
                n_rec += 1
                file_lines += 1
                state = START_RECORD
            elif c == carriage:
                rec_end = i
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
            should_skip = file_lines < skip.size and skip[file_lines]
            if should_skip:
                if c == quote:
                    state = IN_QUOTED_FIELD_IN_SKIP_LINE
                else:
                    state = IN_FIELD_IN_SKIP_LINE
                    if c == term:
                        file_lines += 1  # end_line() of a skipped line
                        state = START_RECORD
                i += 1
                continue
            if c == term:
                if skip_blank:
                    file_lines += 1
                else:
                    starts[n_rec] = i
                    ends[n_rec] = i
                    n_rec += 1
                    file_lines += 1
                i += 1
                continue
            if c == carriage:
                if skip_blank:
                    file_lines += 1
                    state = EAT_CRNL_NOP
                else:
                    rec_start = i
                    rec_end = i
                    state = EAT_CRNL
                i += 1
                continue
            if c == comment:
                state = EAT_LINE_COMMENT
                i += 1
                continue
            if (c == 32 or c == 9) and c != delim and skip_blank:
                state = WHITESPACE_LINE
                i += 1
                continue
            rec_start = i
            state = START_FIELD
            # fall through: this byte is handled as the start of a field
        elif state == WHITESPACE_LINE:
            if c == term:
                file_lines += 1
                state = START_RECORD
            elif c == carriage:
                file_lines += 1
                state = EAT_CRNL_NOP
            elif (c == 32 or c == 9) and c != delim:
                pass
            else:
                # pandas backtracks to just after the previous terminator and reads the
                # line again as a record.
                if i < furthest:
                    status = NO_PROGRESS  # this line was backtracked over before
                    break
                furthest = i + 1
                j = i - 1
                while j >= start and buf[j] != term:
                    j -= 1
                i = j + 1
                rec_start = i
                state = START_FIELD
                continue
            i += 1
            continue
        elif state == EAT_CRNL:
            if c == 10:
                starts[n_rec] = rec_start
                ends[n_rec] = rec_end
                n_rec += 1
                file_lines += 1
                state = START_RECORD
                i += 1
            elif c == delim:
                # "\r," : the record ends, and the next one starts with an empty field.
                starts[n_rec] = rec_start
                ends[n_rec] = rec_end
                n_rec += 1
                file_lines += 1
                rec_start = i
                state = START_FIELD
                i += 1
            else:
                starts[n_rec] = rec_start
                ends[n_rec] = rec_end
                n_rec += 1
                file_lines += 1
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
                file_lines += 1
                state = START_RECORD
            elif c == carriage:
                file_lines += 1
                state = EAT_CRNL_NOP
            i += 1
            continue
        elif state == START_FIELD_IN_SKIP_LINE or state == IN_FIELD_IN_SKIP_LINE:
            if c == term:
                file_lines += 1
                state = START_RECORD
            elif c == carriage:
                file_lines += 1
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
                state = (
                    QUOTE_IN_QUOTED_FIELD_IN_SKIP_LINE if doublequote else IN_FIELD_IN_SKIP_LINE
                )
            i += 1
            continue
        elif state == QUOTE_IN_QUOTED_FIELD_IN_SKIP_LINE:
            if c == quote:
                state = IN_QUOTED_FIELD_IN_SKIP_LINE
            elif c == term:
                file_lines += 1
                state = START_RECORD
            elif c == carriage:
                file_lines += 1
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
                starts[n_rec] = rec_start
                ends[n_rec] = i
                n_rec += 1
                file_lines += 1
                state = START_RECORD
            elif c == carriage:
                rec_end = i
                state = EAT_CRNL
            elif c == quote:
                state = IN_QUOTED_FIELD
            elif c == escape:
                state = ESCAPED_CHAR
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
                starts[n_rec] = rec_start
                ends[n_rec] = i
                n_rec += 1
                file_lines += 1
                state = START_RECORD
            elif c == carriage:
                rec_end = i
                state = EAT_CRNL
            else:
                state = IN_FIELD
        elif state == EAT_COMMENT:
            if c == term:
                starts[n_rec] = rec_start
                ends[n_rec] = i
                n_rec += 1
                file_lines += 1
                state = START_RECORD
            elif c == carriage:
                rec_end = i
                state = EAT_CRNL
        i += 1

    if status != OK:
        pass
    elif state == IN_QUOTED_FIELD or state == ESCAPE_IN_QUOTED_FIELD:
        status = EOF_IN_QUOTES
    elif state == ESCAPED_CHAR:
        status = EOF_AFTER_ESCAPE
    elif (
        state == IN_FIELD
        or state == START_FIELD
        or state == QUOTE_IN_QUOTED_FIELD
        or state == EAT_COMMENT
    ):
        starts[n_rec] = rec_start
        ends[n_rec] = n
        n_rec += 1
    elif state == EAT_CRNL:
        starts[n_rec] = rec_start
        ends[n_rec] = rec_end
        n_rec += 1
    return starts[:n_rec].copy(), ends[:n_rec].copy(), status


@njit(cache=True, nogil=True)
def scan_lines(buf, start, delim, skip_blank, skip):
    """:func:`scan_records` for bytes without quotes, escapes, comments or ``\r``.

    Then every record is one physical line (``\n``-ended), pandas' logical line counter
    is the physical line index, and the only lines pandas drops are the skipped ones
    and, with ``skip_blank``, those holding nothing but spaces and tabs (other than the
    delimiter).

    Returns
    -------
    starts, ends, lines : ndarray of int64
        Byte span and physical 1-based line of each record.
    """
    n = buf.size
    cap = count_line_ends(buf) + 2
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    lines = np.empty(cap, np.int64)
    n_rec = 0
    line = 0
    s = start
    while s < n:
        e = s
        blank = True
        while e < n and buf[e] != 10:
            c = buf[e]
            if blank and not ((c == 32 or c == 9) and c != delim):
                blank = False
            e += 1
        if not (line < skip.size and skip[line]) and not (skip_blank and blank):
            starts[n_rec] = s
            ends[n_rec] = e
            lines[n_rec] = line + 1
            n_rec += 1
        line += 1
        s = e + 1
    return starts[:n_rec].copy(), ends[:n_rec].copy(), lines[:n_rec].copy()


@njit(cache=True, nogil=True)
def lines_at(buf, offsets):
    """Physical 1-based line of each byte offset (``offsets`` sorted ascending)."""
    n = buf.size
    out = np.empty(offsets.size, np.int64)
    line = 1
    pos = 0
    for k in range(offsets.size):
        target = offsets[k]
        while pos < target:
            c = buf[pos]
            if c == 10:
                line += 1
            elif c == 13 and (pos + 1 == n or buf[pos + 1] != 10):
                line += 1
            pos += 1
        out[k] = line
    return out
