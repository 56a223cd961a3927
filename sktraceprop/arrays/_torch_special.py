"""In-place writes to traced tensors that torch does not give a row rule: ``x[k] = v``,
``copy_``, ``fill_``/``zero_`` and random fills, ``x.data = y`` and ``set_``.

Each writes through torch with function handling disabled, then gives the target its
new lineage (:func:`~._torch_tensor._set_rows`): the written rows gain the value's
parents; a tensor whose memory was replaced has its rows dropped.
"""

import torch

from . import _rowmap as rmap
from ._graph import _MODE, NOT_RECORDED, operand, record
from ._index import assign_map
from ._torch_keys import _LIST_KEY, UNREADABLE, _torch_key
from ._torch_tensor import _Disabled, _owner, _rows_of, _set_rows, _shape, _split


def _dispatch_setitem(args, kwargs):
    target, key, value = args
    mode = _MODE.get()
    plain_value, rv, nv = _split(value)
    with _Disabled():
        torch.Tensor.__setitem__(target, key, plain_value)
        shape = tuple(target.shape)
        value_shape = _shape(plain_value)
    if mode == "none":
        _set_rows(target, NOT_RECORDED, None)
        return None
    old = _rows_of(target, writer=value)  # x[k] += v writes through x[k], then back
    parts = key if isinstance(key, tuple) else (key,)
    keep = any(getattr(k, "_stp_rows", None) is not None for k in parts)  # a traced key
    key = _torch_key(key, shape)
    if key is UNREADABLE:
        new = _LIST_KEY
    else:
        value_map = rmap.EMPTY if rv is None else rv
        new = assign_map(old, key, shape, value_map, value_shape, keep=keep)
    node = record(
        "__setitem__",
        (target.__dict__.get("_stp_node"), *nv),
        {"key": operand(key)},
        "torch",
        mode,
    )
    _set_rows(target, new, node)
    return None


def _copy_(args, kwargs):
    target, src = args[0], args[1]
    mode = _MODE.get()
    plain_src, rs, ns = _split(src)
    with _Disabled():
        torch.Tensor.copy_(target, plain_src, *args[2:], **kwargs)
        shape = tuple(target.shape)
        src_shape = _shape(plain_src)
    if mode == "none":
        _set_rows(target, NOT_RECORDED, None)
        return target
    new = rmap.EMPTY if rs is None else rmap.elementwise([(rs, src_shape)], shape, "copy_")
    node = record("copy_", (target.__dict__.get("_stp_node"), *ns), None, "torch", mode)
    _set_rows(target, new, node)
    return target


def _fill(value_kind):
    def handle(args, kwargs):
        target = args[0]
        mode = _MODE.get()
        value = args[1] if len(args) > 1 else kwargs.get("value")
        plain, rv, nv = _split(value) if value is not None else (None, None, ())
        with _Disabled():
            getattr(torch.Tensor, value_kind)(target, *([plain] if value is not None else []))
        if mode == "none":
            _set_rows(target, NOT_RECORDED, None)
            return target
        new = rmap.EMPTY if rv is None else rmap.collapse(rv, value_kind)
        node = record(value_kind, (target.__dict__.get("_stp_node"), *nv), None, "torch", mode)
        _set_rows(target, new, node)
        return target

    return handle


_REPLACED = (
    "the tensor's memory was replaced in place (set_, or assigning .data), so its row "
    "ids were dropped rather than guessed"
)


def _replace_data(args, kwargs):
    """``x.data = y``: ``x`` now holds ``y``'s memory; its rows are dropped."""
    target, value = args[0], args[1]
    with _Disabled():
        torch.Tensor.data.__set__(target, _split(value)[0])
    node = record(".data =", (target.__dict__.get("_stp_node"),), None, "torch", _MODE.get())
    _set_rows(target, rmap.dropped(_REPLACED), node)
    _share(target, value)


def _share(target, source):
    """``target`` now uses ``source``'s memory: writes through it reach ``source``."""
    if isinstance(source, torch.Tensor):
        target.__dict__["_stp_owner"] = _owner(source)


def _set_(self, *args, **kwargs):
    """``x.set_(source)``: as ``torch.Tensor.set_``; ``x``'s rows are dropped (its memory
    is now another tensor's or storage's; torch does not route ``set_`` through
    ``__torch_function__``)."""
    with _Disabled():
        args = tuple(_split(a)[0] for a in args)
        torch.Tensor.set_(self, *args, **kwargs)
    node = record("set_", (self.__dict__.get("_stp_node"),), None, "torch", _MODE.get())
    _set_rows(self, rmap.dropped(_REPLACED), node)
    source = args[0] if args else kwargs.get("source")
    _share(self, source)
    return self


SPECIAL = {
    torch.Tensor.data.__set__: _replace_data,
    torch.Tensor.__setitem__: _dispatch_setitem,
    torch.Tensor.copy_: _copy_,
    torch.Tensor.fill_: _fill("fill_"),
    torch.Tensor.zero_: _fill("zero_"),
    torch.Tensor.uniform_: _fill("uniform_"),
    torch.Tensor.normal_: _fill("normal_"),
}
