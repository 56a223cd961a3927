"""The leaves of a fingerprint: how numbers, strings, arrays and tensors are written.

Every value is written as a type tag, then its length or item count, then its content
(``_lp``: a netstring), so the bytes hashed are a prefix-free encoding. The walk that
puts them together is ``_fingerprint_walk``; what it means is said in ``_fingerprint``.
"""

import numbers
import re
import struct

import numpy as np

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_LEAVES = (str, bytes, numbers.Number, type(None))
_DOUBLE = struct.Struct("<d")
_COMPLEX = struct.Struct("<dd")


def _lp(tag, data):
    """``tag``, the length of ``data`` and ``data``: a netstring, prefix-free."""
    return tag + b"%d:" % len(data) + data


def _int_bytes(value):
    return _lp(b"i", value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True))


#: The common leaves by their exact type (a logged predict fingerprints the model on
#: every call, and an ABC check such as numbers.Number costs more than the rest of a
#: leaf). Each gives its tagged, self-delimiting bytes.
_LEAF = {
    str: lambda v: _lp(b"s", v.encode("utf-8", "surrogatepass")),
    bytes: lambda v: _lp(b"b", v),
    bool: lambda v: b"T" if v else b"F",
    int: _int_bytes,
    float: lambda v: b"f" + _DOUBLE.pack(v),
    complex: lambda v: b"c" + _COMPLEX.pack(v.real, v.imag),
    type(None): lambda v: b"N",
}
_EXACT_LEAVES = frozenset(_LEAF)
_CLASS_BYTES = {}
_DTYPE_BYTES = {}


def _from_torch(obj):
    return any(c.__module__.split(".")[0] == "torch" for c in type(obj).__mro__)


def _class_bytes(obj):
    cls = type(obj)
    out = _CLASS_BYTES.get(cls)
    if out is None:
        out = _lp(b"", f"{cls.__module__}.{cls.__qualname__}".encode())
        _CLASS_BYTES[cls] = out
    return out


def _dtype_bytes(dtype):
    """A dtype by its byte order and size and by what it is (``repr``: the name of an
    ml_dtypes type, a structured dtype's fields and offsets, a datetime's unit)."""
    out = _DTYPE_BYTES.get(dtype)
    if out is None:
        out = _lp(b"", f"{dtype.str}|{dtype!r}".encode())
        _DTYPE_BYTES[dtype] = out
    return out


def _shape_bytes(shape):
    return b"%d:" % len(shape) + b"".join(b"%d," % n for n in shape)


def _feed_tensor(h, t):
    """A tensor's dtype, shape and bytes, whatever its dtype, layout and device."""
    import torch

    t = t.detach().cpu()
    h.update(_lp(b"t", f"{t.dtype}{tuple(t.shape)}{t.layout}".encode()))
    if t.layout != torch.strided:
        t = t.to_dense()
    data = t.contiguous().reshape(-1).view(torch.uint8).numpy()
    h.update(b"%d:" % data.nbytes)
    h.update(memoryview(data))


def _feed_array(h, array):
    """An array of numbers (or bytes, not objects): dtype, shape and memory."""
    h.update(b"A" + _dtype_bytes(array.dtype) + _shape_bytes(array.shape))
    h.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
