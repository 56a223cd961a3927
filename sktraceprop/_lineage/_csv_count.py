"""Counting fast path of ``read_csv``'s line scan: runs of lines that are one record each.

In a run of complete lines holding no quote, escape or comment byte and no byte below
``0x21`` other than ``\\n`` and the delimiter (so no ``\\r``, and no space or tab that
could make a line blank or whitespace-only), and with no two ``\\n`` in a row, pandas'
tokenizer (modelled by :func:`._csv_kernel.scan_chunk`) ends a record at every ``\\n``
and nowhere else, and skips no line. Unless ``skiprows`` names one of its lines, the
records of the run are its lines, in order: the record count is the ``\\n`` count and
the physical lines are consecutive. Numeric exports are made of such runs.

:func:`census` checks a run and counts its ``\\n`` bytes in one pass over 64-bit words
(SWAR, which LLVM vectorises further), recording the count at block boundaries;
:func:`line_spans` then finds the byte spans of the few records whose bytes are kept
for the content check.
"""

import numpy as np
from numba import njit

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)
from ._csv_kernel_state import (
    S_COUNTED,
    S_FILE_LINES,
    S_LINE,
    S_N_REC,
    S_PREV_CR,
    S_STATE,
    START_RECORD,
    _count_to,
)
from ._csv_quoted import _HIGHS, _ONES

#: Words per block of :func:`census`; at most 255, so a byte lane of the per-block
#: accumulator cannot overflow.
BLOCK_WORDS = 255

_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_PAIRS = np.uint64(0x00FF00FF00FF00FF)


@njit(cache=True, nogil=True, inline="always")
def _equal(word, byte):
    """High bit of each byte of ``word`` equal to ``byte`` (exact, no carries between bytes)."""
    x = word ^ (np.uint64(byte) * _ONES)
    return ~(((x & _LOW7) + _LOW7) | x) & _HIGHS


@njit(cache=True, nogil=True, inline="always")
def _below_33(word):
    """High bit of each byte of ``word`` below ``0x21`` (controls and the space)."""
    return ~(((word & _LOW7) + np.uint64(128 - 33) * _ONES) | word) & _HIGHS


@njit(cache=True, nogil=True, inline="always")
def _bad_byte(c, prev, specials, delim):
    """Whether byte ``c`` (after ``prev``) disqualifies a run: see the module docstring."""
    if c == specials[0] or c == specials[1] or c == specials[2]:
        return True
    if c == 10:
        return prev == 10
    return c < 33 and c != delim


@njit(cache=True, nogil=True)
def census(buf, words, head, start, end, specials, delim, block, counts, offsets):
    """Count the ``\\n`` bytes of the run ``buf[start:end]``, or ``-1`` if it disqualifies.

    Parameters
    ----------
    buf : ndarray of uint8
        The chunk.
    words : ndarray of uint64
        ``buf[head:]`` viewed as aligned words (whole words only).
    head : int
        Index in ``buf`` of ``words[0]``.
    start, end : int
        The run: ``buf[start]`` starts a line and ``buf[end - 1]`` is ``\\n``.
    specials : ndarray of uint8 of shape (3,)
        Quote, comment and escape bytes (``0`` for a missing one: a NUL byte disqualifies
        a run anyway).
    delim : int
        The delimiter byte (a delimiter below ``0x21`` is allowed).
    block : int
        Words per block (1 to :data:`BLOCK_WORDS`).
    counts, offsets : ndarray of int64
        Outputs, at least ``(end - start) // (8 * block) + 4`` long: ``counts[b]`` is the
        number of ``\\n`` bytes in ``buf[start : offsets[b]]``.

    Returns
    -------
    n : int
        ``\\n`` bytes (= lines = records) in the run, or ``-1``.
    n_counts : int
        Entries written to ``counts`` and ``offsets``.
    """
    # Bytes up to the end of the first whole word after start, one by one; then words
    # from the next one (each paired with the word before it, for "\n\n" across their
    # boundary); then the last bytes.
    k0 = max((start - head + 7) // 8 + 1, 1)
    k1 = (end - head) // 8
    if k0 >= k1 or k1 > words.size:
        k0 = k1 = 0
    scalar_end = end if k0 == k1 else head + 8 * k0
    total = 0
    prev = 10
    for j in range(start, scalar_end):
        c = buf[j]
        if _bad_byte(c, prev, specials, delim):
            return -1, 0
        total += c == 10
        prev = c
    counts[0] = 0
    offsets[0] = start
    n_counts = 1
    # Loop invariants, which LLVM unswitches (one loop for each case): the delimiter is
    # tested only if it is below 0x21, the second and third special bytes only if given
    # (a missing one is 0: a NUL is below 0x21 anyway).
    low_delim = 0 <= delim < 33
    d = np.uint64(delim) if low_delim else np.uint64(10)
    s0, s1, s2 = np.uint64(specials[0]), np.uint64(specials[1]), np.uint64(specials[2])
    extra = specials[1] != 0 or specials[2] != 0
    k = k0
    while k < k1:
        counts[n_counts] = total
        offsets[n_counts] = head + 8 * k
        n_counts += 1
        stop = min(k + block, k1)
        lanes = np.uint64(0)  # "\n" bytes per byte lane in this block
        bad = np.uint64(0)
        prev_nl = _equal(words[k - 1], 10)
        for j in range(k, stop):
            w = words[j]
            nl = _equal(w, 10)
            after_nl = (nl << np.uint64(8)) | (prev_nl >> np.uint64(56))
            prev_nl = nl
            # A control byte or space other than "\n" and the delimiter, or a special byte,
            # or "\n" just after "\n".
            allowed = nl | _equal(w, d) if low_delim else nl
            bad |= (_below_33(w) & ~allowed) | _equal(w, s0) | (after_nl & nl)
            if extra:
                bad |= _equal(w, s1) | _equal(w, s2)
            lanes += nl >> np.uint64(7)
        if bad:
            return -1, 0
        lanes = (lanes & _PAIRS) + ((lanes >> np.uint64(8)) & _PAIRS)
        total += int((lanes * np.uint64(0x0001000100010001)) >> np.uint64(48))
        k = stop
    if k0 < k1:
        counts[n_counts] = total
        offsets[n_counts] = head + 8 * k1
        n_counts += 1
        prev = buf[head + 8 * k1 - 1]
        for j in range(head + 8 * k1, end):
            c = buf[j]
            if _bad_byte(c, prev, specials, delim):
                return -1, 0
            total += c == 10
            prev = c
    return total, n_counts


@njit(cache=True, nogil=True)
def _nth_line_end(buf, counts, offsets, n_counts, want):
    """Index of the ``want``-th (0-based) ``\\n`` of a run :func:`census` counted."""
    # Its block: the last one with at most ``want`` "\n" bytes before it.
    lo, hi = 0, n_counts - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if counts[mid] <= want:
            lo = mid
        else:
            hi = mid - 1
    seen = counts[lo]
    j = offsets[lo]
    while True:
        if buf[j] == 10:
            if seen == want:
                return j
            seen += 1
        j += 1


@njit(cache=True, nogil=True)
def line_spans(buf, counts, offsets, n_counts, picks, starts, ends):
    """Byte spans in ``buf`` of lines ``picks`` (0-based) of a run :func:`census` counted.

    Line ``m`` ends at the run's ``m``-th ``\\n`` and starts after the one before it
    (line 0 at the run's start); each is found from the block counts, reading at most
    one block.
    """
    for q in range(picks.size):
        m = picks[q]
        if m == 0:
            starts[q] = offsets[0]
        else:
            starts[q] = _nth_line_end(buf, counts, offsets, n_counts, m - 1) + 1
        ends[q] = _nth_line_end(buf, counts, offsets, n_counts, m)


def count_run(chunk, buf, words, head, pos, base, st, max_records, skip, specials, delim):
    """Take the complete lines of a chunk from ``pos`` on as one counted run, if it qualifies.

    Parameters
    ----------
    chunk : bytes
        The chunk; ``buf`` is its bytes as uint8, ``words``/``head`` as in :func:`census`.
    pos, base, st, max_records, skip
        As in :func:`._csv_plain.scan_plain` (``st`` is updated when the run is taken).
    specials, delim
        As in :func:`census`.

    Returns
    -------
    run : tuple or None
        ``None`` when the run does not qualify (the state is not at a record's start,
        the chunk holds no complete line from ``pos``, the census refuses, ``skiprows``
        names one of its lines, or ``nrows`` ends inside it); the state is then as
        before, its line count at most advanced to ``pos``. Otherwise ``(n, stop, line,
        spans)``: the records taken (their physical lines are ``line .. line + n - 1``),
        the index after the run, and a function from record indices (in the run) to
        their absolute byte spans.
    """
    if st[S_STATE] != START_RECORD or st[S_COUNTED] < base:
        return None
    i = max(pos, st[S_COUNTED] - base)  # past a byte order mark at the start
    end = chunk.rfind(b"\n", i) + 1
    if end == 0:
        return None
    line = _count_to(buf, base, st, base + i)
    if st[S_PREV_CR]:
        return None
    size = (end - i) // (8 * BLOCK_WORDS) + 4
    counts, offsets = np.empty(size, np.int64), np.empty(size, np.int64)
    n, n_counts = census(buf, words, head, i, end, specials, delim, BLOCK_WORDS, counts, offsets)
    fl = st[S_FILE_LINES]
    if n < 0 or (max_records >= 0 and st[S_N_REC] + n > max_records) or skip[fl : fl + n].any():
        return None
    st[S_N_REC] += n
    st[S_FILE_LINES] += n
    st[S_LINE] = line + n
    st[S_COUNTED] = base + end

    def spans(picks):
        starts, ends = np.empty(picks.size, np.int64), np.empty(picks.size, np.int64)
        line_spans(buf, counts, offsets, n_counts, picks.astype(np.int64), starts, ends)
        return starts + base, ends + base

    return n, end, int(line), spans
