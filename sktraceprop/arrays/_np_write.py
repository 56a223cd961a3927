"""Row rules of NumPy functions that write into an array in place (``np.put``,
``np.copyto``, ``a.flat[k] = v``, ...; see :mod:`._numpy_functions` for the dispatch)."""

import numpy as np

from . import _rowmap as rmap
from ._array import (
    TracedArray,
    node_of,
    rows_of,
    set_rows,
    split,
)
from ._graph import _MODE, NOT_RECORDED, record
from ._index import written_rows
from ._numpy_functions import (
    HANDLED,
    _arg,
    _out_plain,
    _unwrap,
)

# -- in place -----------------------------------------------------------------------------


def _write(target, written, value_map, value_aligned, name, nodes, choice=None):
    """New lineage of ``target`` after writing ``value`` at the ``written`` elements.

    ``choice`` is the ``(map, shape)`` of a traced mask that chose the elements (as
    ``np.where``'s condition): every row gains the parents of its mask row, or, when the
    mask is not aligned with the rows (``np.place`` fills in mask order), of every mask row.
    """
    mode = _MODE.get()
    if type(target) is not TracedArray:
        return
    if mode == "none":
        set_rows(target, NOT_RECORDED, None)
        return
    old = rmap.written_map(rows_of(target), written.shape)
    node = record(name, (node_of(target), *nodes), None, "numpy", mode)
    if old.n is None or not written.shape:
        new = old
        if value_map is not None:
            whole = rmap.collapse(value_map, name)
            new = whole if written.all() else rmap.merge([old, whole], None)
        if choice is not None:
            new = rmap.merge([new, rmap.collapse(choice[0], name)], None)
        set_rows(target, new, node)
        return
    full, touched = written_rows(written)
    if value_map is None:
        value = rmap.EMPTY
    elif value_aligned:
        value = value_map
    else:
        value = rmap.spread(rmap.collapse(value_map, name), written.shape[0])
    new = rmap.overwrite(old, full, touched, value)
    if choice is not None:
        n = written.shape[0]
        new = rmap.merge([new, rmap.spread(rmap.elementwise([choice], written.shape, name), n)], n)
    set_rows(target, new, node)


def _in_place(func, apply_mask, value_pos, value_name, name, mask=None):
    """An in-place function; ``mask`` is ``(position, keyword, aligned)`` of a boolean
    mask argument that chooses the written elements (aligned: element by element)."""

    def handle(*args, **kwargs):
        target = args[0]
        plain_args, plain_kwargs, maps, nodes = _unwrap(args, kwargs)
        plain_args[0] = _out_plain(target)
        result = func(*plain_args, **plain_kwargs)
        written = np.zeros(np.shape(plain_args[0]), bool)
        apply_mask(written, plain_args, plain_kwargs)
        value = maps.get(value_pos, maps.get(value_name, (None, None)))[0]
        choice = None if mask is None else maps.get(mask[0], maps.get(mask[1]))
        if choice is not None and not mask[2]:
            choice = (rmap.collapse(choice[0], name), ())
        _write(target, written, value, False, name, nodes, choice)
        return result

    return handle


HANDLED[np.put] = _in_place(
    np.put, lambda w, a, k: np.put(w, a[1], True, mode=k.get("mode", "raise")), 2, "v", "put"
)
HANDLED[np.place] = _in_place(
    np.place,
    lambda w, a, k: np.place(w, _arg(a, k, 1, "mask"), True),
    2,
    "vals",
    "place",
    mask=(1, "mask", False),
)
HANDLED[np.putmask] = _in_place(
    np.putmask,
    lambda w, a, k: np.putmask(w, _arg(a, k, 1, "mask"), True),
    2,
    "values",
    "putmask",
    mask=(1, "mask", True),
)
HANDLED[np.fill_diagonal] = _in_place(
    np.fill_diagonal,
    lambda w, a, k: np.fill_diagonal(w, True, wrap=_arg(a, k, 2, "wrap", False)),
    1,
    "val",
    "fill_diagonal",
)
HANDLED[np.put_along_axis] = _in_place(
    np.put_along_axis,
    lambda w, a, k: np.put_along_axis(w, a[1], True, _arg(a, k, 3, "axis")),
    2,
    "values",
    "put_along_axis",
)


def flat_write(target, key, value):
    """``target.flat[key] = value``: NumPy fills the elements in flat order, repeating
    the value when it is shorter, so the value's rows are pooled into the rows written."""
    _, _, maps, nodes = _unwrap((value,), {})
    plain = _out_plain(target)
    plain.flat[key] = split(value)[0]
    written = np.zeros(plain.shape, bool)
    written.flat[key] = True
    _write(target, written, maps.get(0, (None, None))[0], False, "flat", nodes)


def _copyto(dst, src, casting="same_kind", where=True):
    _, _, maps, nodes = _unwrap((dst, src), {"where": where})
    pd_, ps = _out_plain(dst), split(src)[0]
    pw = split(where)[0]
    np.copyto(pd_, ps, casting=casting, where=pw)
    if type(dst) is not TracedArray:
        return
    value, shape = maps.get(1, (None, None))
    written = np.broadcast_to(np.asarray(pw, bool), pd_.shape)
    aligned = (
        value is not None and value.n is not None and len(shape) == pd_.ndim and pd_.ndim >= 1
    )
    if aligned:
        value = value if shape[0] == pd_.shape[0] else rmap.spread(value, pd_.shape[0])
    _write(dst, np.array(written), value, aligned, "copyto", nodes, maps.get("where"))


HANDLED[np.copyto] = _copyto
