"""Line ends of quoted CSV chunks from bit masks: quote parity instead of a byte walk.

For a chunk that :func:`._csv_plain.scan_plain` may take (no escape, comment or ``\\r``
byte, ``\\n`` ends records), :func:`quote_masks` makes four bit masks per 64 bytes in
one pass: newlines, quotes, delimiters, and the parity of the quotes up to each byte
(a prefix XOR). From a line start, a ``\\n`` whose parity equals the parity before the
line is outside every quoted field, so the first such ``\\n`` ends the line, and the
``\\n`` bytes before it with the other parity are inside quoted fields.

That reading holds only where every quote toggles a quoted field the way pandas'
tokenizer does with ``doublequote=True``: a quote that opens a field stands first on the
line, after a delimiter, or right after a closing quote (a doubled quote), and a quote
that closes one is followed by a delimiter, a ``\\n`` or another quote.
:func:`line_end` checks both for every quote of the line and, where any quote breaks
them (a quote inside an unquoted field, bytes after a closing quote, a chunk ending
before the byte that decides), says so, and the caller walks that line byte by byte
(:func:`._csv_plain._line_end`).
"""

import sys

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)

_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ONE = np.uint64(1)
_TOP = np.uint64(63)
#: Rows of the masks array.
NEWLINE, QUOTE, DELIM, PARITY = 0, 1, 2, 3
_ONES = np.uint64(0x0101010101010101)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGHS = np.uint64(0x8080808080808080)
#: Gathers the top bit of each byte (shifted down to bit 8k) into bits 56-63.
_GATHER = np.uint64(0x0102040810204080)


def quote_masks(buf, quote, delim):
    """``masks[row, j // 64]`` bit ``j % 64``: ``buf[j]`` is ``\\n`` (row 0), the quote
    (1), the delimiter (2); row 3 is the parity of the quotes in ``buf[0 .. j]``."""
    n = buf.size
    masks = np.zeros((4, (n + 63) >> 6), np.uint64)
    aligned = buf.ctypes.data % 8 == 0 and sys.byteorder == "little"
    words = buf[: n // 8 * 8].view(np.uint64) if aligned else np.zeros(0, np.uint64)
    _classify(buf, words, np.uint8(quote), np.int64(delim), masks)
    _parity(masks[QUOTE], masks[PARITY])
    return masks


@njit(cache=True, nogil=True, inline="always")
def _equal8(word, pattern):
    """One bit per byte of ``word`` (bit ``k``: byte ``k``) equal to ``pattern``'s byte,
    exactly (no carry between bytes), from eight at a time."""
    t = word ^ pattern
    high = ~(((t & _LOW7) + _LOW7) | t) & _HIGHS
    return ((high >> np.uint64(7)) * _GATHER) >> np.uint64(56)


@njit(cache=True, nogil=True)
def _classify(buf, words, quote, delim, masks):
    """Rows 0-2 of :func:`quote_masks`: whole 64-byte blocks eight bytes at a time from
    ``words`` (``buf`` as aligned uint64, or empty), the rest byte by byte."""
    n = buf.size
    p_nl = np.uint64(10) * _ONES
    p_qt = np.uint64(quote) * _ONES
    p_dl = np.uint64(delim if delim >= 0 else 10) * _ONES
    full = words.size >> 3
    for blk in range(full):
        nl = np.uint64(0)
        qt = np.uint64(0)
        dl = np.uint64(0)
        for k in range(8):
            w = words[(blk << 3) + k]
            shift = np.uint64(k << 3)
            nl |= _equal8(w, p_nl) << shift
            qt |= _equal8(w, p_qt) << shift
            dl |= _equal8(w, p_dl) << shift
        masks[NEWLINE, blk] = nl
        masks[QUOTE, blk] = qt
        masks[DELIM, blk] = dl if delim >= 0 else np.uint64(0)
    for j in range(full << 6, n):
        c = buf[j]
        bit = _ONE << np.uint64(j & 63)
        if c == 10:
            masks[NEWLINE, j >> 6] |= bit
        elif c == quote:
            masks[QUOTE, j >> 6] |= bit
        elif c == delim:
            masks[DELIM, j >> 6] |= bit


@njit(cache=True, nogil=True)
def _parity(quotes, out):
    """``out``: the parity of the quote bits up to and including each bit (prefix XOR)."""
    carry = np.uint64(0)
    for blk in range(quotes.size):
        p = quotes[blk]
        p ^= p << np.uint64(1)
        p ^= p << np.uint64(2)
        p ^= p << np.uint64(4)
        p ^= p << np.uint64(8)
        p ^= p << np.uint64(16)
        p ^= p << np.uint64(32)
        if carry:
            p = ~p
        carry = p >> _TOP
        out[blk] = p


@njit(cache=True, nogil=True, inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True, nogil=True)
def line_end(masks, i, n):
    """``(end, inner, ok)`` for the line starting at ``i`` of a chunk of ``n`` bytes.

    ``end`` is the index of the ``\\n`` ending the line (``n`` when the chunk ends
    first) and ``inner`` the ``\\n`` bytes inside its quoted fields; ``ok`` is False when
    a quote of the line does not toggle a field as the parity assumes (the caller then
    walks the line byte by byte).
    """
    nb = masks.shape[1]
    blk = i >> 6
    first = np.uint64(i & 63)
    # the parity before the line: the quotes of the chunk before ``i``
    flip = np.uint64(0)
    if i > 0:
        before = i - 1
        if (masks[PARITY, before >> 6] >> np.uint64(before & 63)) & _ONE:
            flip = _ALL
    low = _ALL << first  # bits at or after i, in the first block
    line_start = _ONE << first
    carry = np.uint64(0)  # bit 0: the byte before the block is a delimiter or closing quote
    inner = 0
    while blk < nb:
        nl = masks[NEWLINE, blk]
        qt = masks[QUOTE, blk]
        dl = masks[DELIM, blk]
        inside = masks[PARITY, blk] ^ flip  # 1: inside a quoted field after this byte
        closing = qt & ~inside
        ends = nl & ~inside & low
        span = low
        if ends:
            span &= _ALL >> (_TOP - np.uint64(trailing_zeros(ends)))
        quotes = qt & span
        if quotes:
            field_start = ((dl | closing) << _ONE) | carry | line_start
            if quotes & inside & ~field_start:
                return n, 0, False  # a quote that opens nothing: inside an unquoted field
            after = (nl | qt | dl) >> _ONE
            if blk + 1 < nb:
                nxt = masks[NEWLINE, blk + 1] | masks[QUOTE, blk + 1] | masks[DELIM, blk + 1]
                after |= (nxt & _ONE) << _TOP
            if quotes & closing & ~after:
                return n, 0, False  # bytes after a closing quote, or the chunk ends there
        carry = (dl | closing) >> _TOP
        held = nl & inside & span
        if held:
            inner += _popcount(held)
        if ends:
            return (blk << 6) + trailing_zeros(ends), inner, True
        blk += 1
        low = _ALL
        line_start = np.uint64(0)
    return n, inner, True


@njit(cache=True, nogil=True)
def parity_lines(buf, masks, i, base, line, k, n_rec, max_records, starts, ends, lines):
    """Records of the lines from ``i`` on that quote parity ends, block by block.

    What :func:`line_end` finds one line at a time, for every line of a run at once: the
    line ends are the ``\\n`` bytes outside quoted fields, and every quote of the run is
    checked as there. The run stops before the first line that is not one record ended
    this way (a quote the parity does not model, a line that starts with ``\\n``, a
    space or a tab, which may be blank), when ``starts`` is full or ``max_records``
    reached, and at the chunk's unfinished last line: the caller takes the line there.
    Every line of the run is one record and one of pandas' logical lines.

    Parameters
    ----------
    buf : ndarray of uint8
        The chunk, whose :func:`quote_masks` are ``masks``.
    i : int
        A line start in ``buf``.
    base : int
        Absolute offset of ``buf[0]``.
    line : int
        Physical line of ``i``.
    k, n_rec : int
        Records written to the outputs so far, and emitted in all.
    max_records : int
        Stop once ``n_rec`` reaches it (``-1``: no limit).
    starts, ends, lines : ndarray of int64
        Outputs: byte span and physical line of each record, from index ``k``.

    Returns
    -------
    stop : int
        Index in ``buf`` of the line start where the run stopped.
    k, n_rec, line : int
        The counters after the run (``line``: the physical line of ``stop``).
    """
    nb = masks.shape[1]
    flip = np.uint64(0)
    if i > 0:
        before = i - 1
        if (masks[PARITY, before >> 6] >> np.uint64(before & 63)) & _ONE:
            flip = _ALL
    first_line = line
    seen = 0  # "\n" bytes from i to the start of the block
    s = i  # the start of the current line
    blk = i >> 6
    low = _ALL << np.uint64(i & 63)  # bits at or after i, in the first block
    carry = _ONE << np.uint64(i & 63)  # field starts from before the block, and i
    while blk < nb:
        nl = masks[NEWLINE, blk]
        qt = masks[QUOTE, blk]
        dl = masks[DELIM, blk]
        inside = masks[PARITY, blk] ^ flip  # 1: inside a quoted field after this byte
        closing = qt & ~inside
        found = nl & ~inside & low  # line ends
        bounds = dl | closing | found  # a field starts after each
        # As in line_end: a quote that opens a field must start it, one that closes it
        # must be followed by a delimiter, a "\n" or a quote.
        bad = qt & inside & ~((bounds << _ONE) | carry)
        after = (nl | qt | dl) >> _ONE
        if blk + 1 < nb:
            nxt = masks[NEWLINE, blk + 1] | masks[QUOTE, blk + 1] | masks[DELIM, blk + 1]
            after |= (nxt & _ONE) << _TOP
        bad = (bad | (closing & ~after)) & low
        if bad:
            found &= ~(_ALL << np.uint64(trailing_zeros(bad)))  # the lines before it
        while found:
            b = trailing_zeros(found)
            c = buf[s]
            if c == 10 or c == 32 or c == 9:
                return s, k, n_rec, line  # blank, or it may be: the caller's
            if k >= starts.size or (max_records >= 0 and n_rec >= max_records):
                return s, k, n_rec, line
            e = (blk << 6) + b
            starts[k] = base + s
            ends[k] = base + e
            lines[k] = line
            k += 1
            n_rec += 1
            # the next line's: one more than the "\n" bytes up to this one
            line = first_line + seen + _popcount(nl & low & (_ALL >> (_TOP - np.uint64(b))))
            s = e + 1
            found &= found - _ONE
        if bad:
            return s, k, n_rec, line
        seen += _popcount(nl & low)
        carry = bounds >> _TOP
        blk += 1
        low = _ALL
    return s, k, n_rec, line
