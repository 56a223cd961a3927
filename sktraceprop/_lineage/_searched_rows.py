"""Rows of arrays already searched for scaled loaded columns: new arrays of them reuse it.

``GridSearchCV`` and ``cross_val_score`` fit on each fold's rows, ``X[train]``: a new
array, whose content (and so the SHA-256 under which :mod:`._untraced` remembers an
answer) no fit has seen, though every row of it is a row of ``X``. Searching it again for
loaded columns scaled (:func:`._scaled.find_scaled`: every pair of its columns and
loaded columns, 0.4 to 1 s on 30 columns) made a grid search 8 to 20 times slower than
a plain one. What that search finds is a property of the columns' values: column ``j``
holds loaded column ``c`` of a source as ``a * c + b``, at every row, or no column does.
Rows taken from arrays whose searches found the same have it too, so an array all of
whose rows are rows of such arrays is given their answer without a search.

Rows are compared by a digest of their bytes (the float64 values the search reads):
SipHash-2-4-128 (:mod:`.._siphash`) under a key drawn at random once per process, a
pseudorandom function, so two different rows share a digest with a chance of about
``2 ** -128`` whatever the data (no row can be made to collide without the key). Kept per
array searched: the sorted distinct digests (16 bytes a row, at most ``MAX_ROWS`` rows
in all, about 32 MiB; the oldest arrays are dropped first) and the columns found; no
value of the rows. An array is answered so only where every row is found, the arrays
whose rows it holds were searched at the same state of the loads kept, with the same
number of columns and rounding unit, and their answers agree (the same columns, the same
loaded columns, scalings equal to within ``AGREE``); anything else (a row found nowhere,
answers that differ) is searched. Where a row holds a loaded row's values is always
checked on the array's own rows, after its columns are unscaled (:mod:`._untraced`):
what is reused is which columns are scaled copies, never a row position.

A part of an array inherits what the array's search saw: a search of the part alone,
with fewer rows, can find less (fewer than ``_scaled_fit.MIN_DISTINCT`` values of a column)
and, rarely, more (a part whose values of a column no longer fit two loaded columns).
"""

import os
import threading
from collections import OrderedDict

import numpy as np

from ._witness import WITNESSES

#: Rows whose digests are kept, over every array remembered (16 bytes each).
MAX_ROWS = 1 << 21
#: Largest relative difference of two arrays' scalings of a column taken as one.
AGREE = 1e-9
#: Arrays whose rows an array holds answer it with the columns all of them found alike,
#: where none of them found more than one in ``DIFFER`` of its columns otherwise.
DIFFER = 10

_LOCK = threading.Lock()
#: ``id`` -> ``(version, width, eps, sorted first halves, second halves, scaled)``.
_SEARCHED = OrderedDict()
_STATE = {"rows": 0, "next": 0, "key": None, "pid": None}


class _Forget:
    """Empties :data:`_SEARCHED` when witness rows are forgotten or cleared."""

    def forget(self, ids):
        _drop_all()

    def clear(self):
        _drop_all()


def _drop_all():
    with _LOCK:
        _SEARCHED.clear()
        _STATE["rows"] = 0


WITNESSES.follow(_Forget())


def _key():
    """The process's digest key (drawn again in a forked child)."""
    with _LOCK:
        if _STATE["pid"] != os.getpid():
            k0, k1 = np.frombuffer(os.urandom(16), np.uint64)
            _STATE["key"], _STATE["pid"] = (k0, k1), os.getpid()
        return _STATE["key"]


def row_digests(matrix):
    """The digest of each row of ``matrix`` (float64, from :func:`._scaled.numeric_matrix`):
    ``(n, 2)`` uint64, or None for more rows than are kept."""
    if matrix.shape[0] > MAX_ROWS or matrix.shape[0] == 0:
        return None
    from .._siphash import sip128_words  # (numba: not at import)

    words = np.ascontiguousarray(matrix, dtype=np.float64).view(np.uint64)
    k0, k1 = _key()
    return sip128_words(k0, k1, words)


def _same(f, g):
    """Whether two searches found a column alike (:class:`._scaled.Scaled`)."""
    return (
        (f.position, f.source_id, f.column) == (g.position, g.source_id, g.column)
        and abs(f.a - g.a) <= AGREE * abs(f.a)
        and abs(f.b - g.b) <= AGREE * max(abs(f.b), abs(g.b), abs(f.a))
    )


def _common(answers):
    """The columns every one of ``answers`` found alike, or None where one of them found
    more than a tenth of its columns otherwise (their searches disagree on the data)."""
    common = [f for f in answers[0] if all(any(_same(f, g) for g in o) for o in answers[1:])]
    if any(len(a) - len(common) > len(a) // DIFFER for a in answers):
        return None
    return common


def answer(digests, width, eps, version):
    """What the searches of earlier arrays say of an array whose rows have ``digests``
    (``[Scaled]``, empty where they found no column), or None where it must be searched:
    a row found in none of them, or answers that differ."""
    if digests is None:
        return None
    hi, lo = digests[:, 0], digests[:, 1]
    missing = np.arange(hi.size)
    used = []
    with _LOCK:
        entries = list(_SEARCHED.items())
    for key, (v, w, e, kept_hi, kept_lo, scaled) in reversed(entries):  # (newest first)
        if v != version or w != width or e != eps or not kept_hi.size:
            continue
        at = np.minimum(np.searchsorted(kept_hi, hi[missing]), kept_hi.size - 1)
        found = (kept_hi[at] == hi[missing]) & (kept_lo[at] == lo[missing])
        if found.any():
            used.append((key, scaled))
            missing = missing[~found]
            if not missing.size:
                break
    if missing.size or not used:
        return None
    common = _common([scaled for _, scaled in used])
    if common is None:
        return None
    with _LOCK:
        for key, _ in used:
            if key in _SEARCHED:
                _SEARCHED.move_to_end(key)
    return common


def remember(digests, width, eps, version, scaled):
    """Keep the rows of an array searched at ``version`` of the loads kept, and what
    its search found (``[Scaled]``)."""
    if digests is None:
        return
    # sorted by the first half; a row is found only where both halves equal those at
    # the first place of its first half (two rows sharing one, one chance in 2**64:
    # one of them is never found, so searched)
    order = np.argsort(digests[:, 0], kind="stable")
    d = digests[order]
    keep = np.ones(d.shape[0], bool)
    keep[1:] = (d[1:, 0] != d[:-1, 0]) | (d[1:, 1] != d[:-1, 1])  # (repeated rows once)
    d = d[keep]
    with _LOCK:
        if WITNESSES.version != version:
            return  # (rows forgotten meanwhile: the answer is of loads no longer kept)
        key = _STATE["next"]
        _STATE["next"] += 1
        _SEARCHED[key] = (
            version,
            width,
            eps,
            np.ascontiguousarray(d[:, 0]),
            np.ascontiguousarray(d[:, 1]),
            tuple(scaled),
        )
        _STATE["rows"] += d.shape[0]
        while _STATE["rows"] > MAX_ROWS and _SEARCHED:
            _, old = _SEARCHED.popitem(last=False)
            _STATE["rows"] -= old[3].size
