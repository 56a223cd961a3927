"""Fingerprints of fitted state and JSON-safe parameter records.

A fingerprint must change whenever the fitted state changes and must not change when
nothing did (a pickle round trip, another process). So every value is hashed by its
content: arrays by their dtype, shape and bytes, torch modules and optimizers by their
``state_dict``, tensors and JAX arrays by their bytes (never by ``repr``, which elides
large arrays), other objects by their class and attributes, and a ``repr`` only for
leaves that keep no other state, with memory addresses removed.

Every value is written as a type tag, then its length or item count, then its content,
so the bytes hashed are a prefix-free encoding: two values of the types walked here that
differ (``[1, 23]`` and ``[12, 3]``, ``"1"`` and ``1``, a ``bfloat16`` array and a
``float16`` one) feed different bytes. Scheme 1 (``_fingerprint_v1``) did not.

Scheme 5 (this module) hashes functions and classes of user code by their code
(``_fingerprint_code``: two lambdas of one function, an edited function, closures over
other values, an edited class constant differ), leaves out the containers a user class's
own code fills (a class-level cache: ``_fingerprint_state``), takes a module for the
standard library only when read from its folder, and names functions and classes of
packages installed from a package index with their distribution and the SHA-256 of their
module's file (``_install_origin``). Scheme 4 (``fingerprint_v4``) hashed a class cache's
contents (a model read as changed after a ``predict``), took a user's ``statistics.py``
for the standard library, and named an index package's code by module and qualified
name only (edited in place, not seen); scheme 3 (``fingerprint_v3``) also named the
non-function attributes of user classes and the code of packages installed into
site-packages from a folder or an archive; scheme 2 named every function and class by
module and qualified name only (``fingerprint_v2``: the same walk, functions by name).
Each writes what it adds with tags the earlier one never wrote and everything else
exactly as it did, after the same first bytes: a model without user code or packages
from an index has the fingerprint scheme 2 gave it, one whose user classes hold only
functions (and no code installed from a folder or an index) the fingerprint scheme 3
gave it, and one without class caches, index packages or modules of standard library
names the fingerprint scheme 4 gave it. Records of earlier schemes are compared with
``_fingerprint_match``. What a fingerprint cannot tell apart: functions and classes of
the standard library, of the packages whose versions a run records and C functions of
builtin modules are named by module and qualified name (the standard library, or a
recorded package whose RECORD lists no hash, edited in place is not seen; a recorded
package's file that is no longer the SHA-256 its RECORD lists is named with its SHA-256
too), objects with no state but their ``repr`` by that ``repr`` without
addresses, and values nested deeper than ``MAX_DEPTH`` are refused (``ValueError``),
never cut short.
"""

import functools
import hashlib
import numbers
import re
import struct
import types

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.metaestimators import _BaseComposition

from . import _fingerprint_code as _code

#: The scheme of the fingerprints this module makes.
SCHEME = 5
#: The first bytes hashed, scheme 2's: a value without user code is hashed as scheme 2
#: hashed it (schemes 3 and 4 write user code with tags of their own).
_PREFIX = b"sktraceprop fingerprint scheme 2\0"
#: Levels of nesting walked; deeper values raise rather than hash alike.
MAX_DEPTH = 100
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


class _Path(dict):
    """The ids on the current path (-> their depth), and the scheme of the walk:
    ``by_name`` for scheme 2 (every function and class by module and qualified name),
    ``scheme`` 3 or 4 otherwise (what user code is and what of its classes is hashed)."""

    __slots__ = ("by_name", "scheme")

    def __init__(self, by_name=False, scheme=SCHEME):
        super().__init__()
        self.by_name = by_name
        self.scheme = 2 if by_name else scheme


def _user_class(h, obj, depth, memo):
    """The code of ``obj``'s user classes (schemes 3 to 5), and from scheme 5 the file of
    each of its classes installed from a package index (nothing for the standard
    library's and the recorded packages')."""
    if memo.by_name:
        return
    if _code.is_user(type(obj), memo.scheme):
        _code.feed_class_code(h, type(obj), depth, memo, _feed)
    else:  # scheme 5: its classes installed from a package index, by file
        _code.feed_bases(h, type(obj), memo.scheme)


def _feed_callable(h, obj, depth, memo):
    """A function, method or class: user code by its code (scheme 3), the rest, and
    everything in scheme 2, by module and qualified name."""
    name = _lp(b"", f"{getattr(obj, '__module__', '')}.{obj.__qualname__}".encode())
    if not memo.by_name:
        if isinstance(obj, types.MethodType):
            # the function and what it is bound to (a fitted object's method)
            h.update(b"W")
            _feed(h, (obj.__func__, obj.__self__), depth + 1, memo)
            return
        if isinstance(obj, types.FunctionType) and _code.is_user(obj, memo.scheme):
            h.update(b"Y" + name)
            _code.feed_function(h, obj, depth, memo, _feed)
            return
        if isinstance(obj, type) and _code.is_user(obj, memo.scheme):
            h.update(b"K" + name)
            _code.feed_class_code(h, obj, depth, memo, _feed)
            return
    h.update(b"F" + name)
    if not memo.by_name:  # scheme 5: installed from a package index, by its file
        if isinstance(obj, type):
            _code.feed_bases(h, obj, memo.scheme)
        else:
            _code.feed_installed(h, obj, memo.scheme)
    wrapped = getattr(obj, "__wrapped__", None)
    if not memo.by_name and wrapped is not obj and _code.is_user(wrapped, memo.scheme):
        # a compiled wrapper of a user function (jax.jit): the function it runs
        h.update(b"V")
        _feed(h, wrapped, depth + 1, memo)


class _Collect:
    """A hasher stand-in that keeps the bytes (to order dict keys and set items)."""

    __slots__ = ("parts",)

    def __init__(self):
        self.parts = []

    def update(self, data):
        self.parts.append(bytes(data))

    def value(self):
        return b"".join(self.parts)


def _encoded(obj, depth, memo):
    out = _Collect()
    _feed(out, obj, depth, memo)
    return out.value()


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


def _feed_other_leaf(h, obj, memo):
    """Leaves that are not of an exact common type: NumPy scalars by their dtype and
    bytes, subclasses of the common types (enums) by class and value, other numbers
    (``Decimal``, ``Fraction``) by class and ``repr``."""
    if isinstance(obj, np.generic):
        h.update(b"g")
        array = np.asarray(obj)
        if array.dtype.hasobject:  # a structured scalar with object fields
            _feed_object_array(h, array, 0, memo)
        else:
            _feed_array(h, array)
        return
    for base, plain in (
        (str, str.__str__),
        (bytes, bytes),
        (int, int.__int__),
        (float, float.__float__),
        (complex, complex),
    ):
        if isinstance(obj, base):
            h.update(b"x" + _class_bytes(obj) + _LEAF[base](plain(obj)))
            return
    h.update(b"r" + _class_bytes(obj) + _lp(b"", _ADDRESS.sub("", repr(obj)).encode()))


def _feed_object(h, obj, depth, memo):
    """Objects that are not arrays, containers or estimators."""
    import pandas as pd

    from ..stores._base import BaseStore

    if isinstance(obj, types.ModuleType) and not memo.by_name:
        # a module a user function holds (a closure over torch): by name, not its
        # namespace (scheme 2 walked it, where it was reached at all)
        h.update(b"m" + _lp(b"", obj.__name__.encode()))
    elif isinstance(obj, BaseStore):
        # Where records go, not fitted state: its contents change with every event.
        h.update(b"S" + _class_bytes(obj) + _lp(b"", repr(obj).encode()))
    elif isinstance(obj, pd.DataFrame | pd.Series | pd.Index):
        h.update(b"P" + _class_bytes(obj))
        frame = obj.to_frame() if isinstance(obj, pd.Series | pd.Index) else obj
        index = frame.index
        _feed(h, [list(frame.columns), list(frame.columns.names)], depth + 1, memo)
        _feed(h, [index.to_numpy(), list(index.names)], depth + 1, memo)
        for _, column in frame.items():
            dtype = column.dtype
            kind = [str(dtype), column.to_numpy()]
            if isinstance(dtype, pd.CategoricalDtype):
                kind += [dtype.categories.to_numpy(), bool(dtype.ordered)]
            _feed(h, kind, depth + 1, memo)
    elif _from_torch(obj) and hasattr(obj, "detach") and not isinstance(obj, type):
        _feed_tensor(h, obj)
    elif (
        _from_torch(obj)
        and callable(getattr(obj, "state_dict", None))
        and not isinstance(obj, type)  # (torch's legacy tensor types: classes)
    ):
        # Modules and optimizers: the architecture (or settings) and every weight.
        h.update(b"M" + _class_bytes(obj) + _lp(b"", _ADDRESS.sub("", repr(obj)).encode()))
        _user_class(h, obj, depth, memo)  # a user module's forward
        _feed(h, obj.state_dict(), depth + 1, memo)
    elif hasattr(obj, "__array__") and hasattr(obj, "shape") and hasattr(obj, "dtype"):
        # JAX arrays: their values, not their (elided) repr.
        h.update(b"J" + _class_bytes(obj))
        _feed(h, np.asarray(obj), depth + 1, memo)
    elif isinstance(obj, functools.partial):
        h.update(b"p" + _class_bytes(obj))
        _feed(h, (obj.func, obj.args, obj.keywords), depth + 1, memo)
    elif callable(obj) and hasattr(obj, "__qualname__"):
        _feed_callable(h, obj, depth, memo)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        h.update(b"o" + _class_bytes(obj))
        _user_class(h, obj, depth, memo)
        _feed(h, vars(obj), depth + 1, memo)
    elif isinstance(obj, set | frozenset):
        h.update(b"Z" + _class_bytes(obj) + b"%d:" % len(obj))
        for part in sorted(_encoded(item, depth + 1, memo) for item in obj):
            h.update(part)
    else:
        reduced = _reduced(obj)
        if reduced is None:
            h.update(b"r" + _class_bytes(obj) + _lp(b"", _ADDRESS.sub("", repr(obj)).encode()))
        else:
            # Extension objects (a fitted tree's nodes) show no state in their repr:
            # what pickling keeps of them is their content.
            h.update(b"k" + _class_bytes(obj))
            _user_class(h, obj, depth, memo)
            _feed(h, reduced, depth + 1, memo)


def _reduced(obj):
    """Constructor arguments and state that pickling keeps of ``obj``, or None."""
    if isinstance(obj, type):
        return None
    try:
        reduced = obj.__reduce_ex__(4)
    except Exception:  # objects that cannot be pickled (locks): their repr
        return None
    if not isinstance(reduced, tuple) or len(reduced) < 2:
        return None
    return list(reduced[1:3])


def _feed(h, obj, depth=0, memo=None):
    """Hash ``obj`` by content into ``h``; ``memo`` maps the ids on the current path to
    their depth."""
    cls = type(obj)
    leaf = _LEAF.get(cls)
    if leaf is not None:
        h.update(leaf(obj))
        return
    if cls is np.ndarray and not obj.dtype.hasobject:
        # holds no objects, so it is never on its own path: no cycle to look for
        _feed_array(h, obj)
        return
    if isinstance(obj, _LEAVES):
        _feed_other_leaf(h, obj, _Path() if memo is None else memo)
        return
    if depth > MAX_DEPTH:
        raise ValueError(
            f"cannot fingerprint a value nested deeper than {MAX_DEPTH} levels (a "
            f"{cls.__module__}.{cls.__qualname__} at that depth): the fingerprint would not "
            "cover it, and models that differ there would be named alike"
        )
    memo = _Path() if memo is None else memo
    # Only cycles are cut short (by how many levels up they point): shared references
    # are hashed again at each place, because pickling need not keep them shared.
    key = id(obj)
    seen = memo.get(key)
    if seen is not None:
        h.update(b"C%d:" % (depth - seen))
        return
    memo[key] = depth
    try:
        if cls is dict:
            _feed_dict(h, obj, depth, memo)
        elif cls is list:
            _feed_items(h, b"L", obj, depth, memo)
        elif cls is tuple:
            _feed_items(h, b"U", obj, depth, memo)
        else:
            _feed_value(h, obj, depth, memo)
    finally:
        del memo[key]


def _feed_array(h, array):
    """An array of numbers (or bytes, not objects): dtype, shape and memory."""
    h.update(b"A" + _dtype_bytes(array.dtype) + _shape_bytes(array.shape))
    h.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _feed_object_array(h, array, depth, memo):
    """An array holding objects (or variable-width strings): dtype, shape, each item."""
    h.update(b"O" + _dtype_bytes(array.dtype) + _shape_bytes(array.shape))
    items = array.ravel().tolist()  # the same objects, for an object array
    try:
        # one update for an array of plain values (a category array: a thousand items)
        h.update(b"".join([_LEAF[type(item)](item) for item in items]))
    except KeyError:
        for item in items:
            _feed(h, item, depth + 1, memo)


def _feed_dict(h, obj, depth, memo):
    h.update(b"D%d:" % len(obj))
    if all(type(key) is str for key in obj):
        # the common case (attributes, parameters): in the order of the keys
        for key in sorted(obj):
            h.update(_LEAF[str](key))
            _feed(h, obj[key], depth + 1, memo)
        return
    # other keys in the order of their encoding (equal keys cannot both be in a dict)
    keyed = [(_encoded(key, depth + 1, memo), key) for key in obj]
    keyed.sort(key=lambda pair: pair[0])
    for encoded, key in keyed:
        h.update(encoded)
        _feed(h, obj[key], depth + 1, memo)


def _feed_items(h, tag, obj, depth, memo):
    h.update(tag + b"%d:" % len(obj))
    for item in obj:
        _feed(h, item, depth + 1, memo)


def _feed_value(h, obj, depth, memo):
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            _feed_object_array(h, obj, depth, memo)
        else:
            _feed_array(h, obj)
    elif sp.issparse(obj):
        csr = obj.tocsr()
        h.update(b"Q" + _class_bytes(obj) + _lp(b"", obj.format.encode()))
        h.update(_shape_bytes(csr.shape))
        for part in (csr.data, csr.indices, csr.indptr):
            _feed(h, part, depth + 1, memo)
    elif isinstance(obj, BaseEstimator):
        h.update(b"E" + _class_bytes(obj))
        _user_class(h, obj, depth, memo)  # a user estimator's fit and transform
        _feed(h, {"params": own_params(obj), "state": fitted_state(obj)}, depth + 1, memo)
    elif isinstance(obj, np.random.RandomState):
        h.update(b"R")
        _feed(h, obj.get_state(legacy=False), depth + 1, memo)
    elif isinstance(obj, dict):
        h.update(b"d" + _class_bytes(obj))
        _feed_dict(h, obj, depth, memo)
    elif isinstance(obj, list | tuple):
        h.update(b"l" + _class_bytes(obj))
        _feed_items(h, b"U" if isinstance(obj, tuple) else b"L", obj, depth, memo)
    else:
        _feed_object(h, obj, depth, memo)


#: scikit-learn's private settings and caches (not learnt by fit; the text
#: vectorizers' ``_stop_words_id`` is an ``id()`` set by transform).
_SETTINGS = frozenset(
    {"_sklearn_output_config", "_metadata_request", "_sklearn_version", "_stop_words_id"}
)


def own_params(estimator):
    """``get_params(deep=False)`` without methods patched on the instance.

    A traced fit shadows fit methods on the final estimator's instance while it runs
    (to see the rows that reach it), and skorch lists instance attributes as
    parameters: they are not parameters, and must not make the fingerprint recorded
    during the fit differ from the fitted model's.
    """
    cls = type(estimator)
    if cls.get_params is BaseEstimator.get_params or (
        isinstance(estimator, _BaseComposition) and cls.get_params in _COMPOSITE_GET_PARAMS
    ):
        # what BaseEstimator.get_params(deep=False) returns, without inspecting the
        # signature at every call (a logged predict checks the model's fingerprint)
        return {k: getattr(estimator, k) for k in _param_names(cls)}
    return {
        k: v
        for k, v in estimator.get_params(deep=False).items()
        if not callable(getattr(cls, k, None))
    }


_PARAM_NAMES = {}
#: scikit-learn's composites whose get_params(deep=False) is BaseEstimator's
_COMPOSITE_GET_PARAMS = (
    Pipeline.get_params,
    ColumnTransformer.get_params,
    FeatureUnion.get_params,
)


def _param_names(cls):
    names = _PARAM_NAMES.get(cls)
    if names is None:
        names = tuple(k for k in cls._get_param_names() if not callable(getattr(cls, k, None)))
        _PARAM_NAMES[cls] = names
    return names


def fitted_state(estimator):
    """Fitted attributes of an estimator.

    Public names ending in ``_`` and, for scikit-learn's own estimators, private ones
    too: a histogram gradient boosting model predicts from ``_predictors``, a KNN
    imputer or classifier from ``_fit_X`` and ``_y``, and scikit-learn's estimator
    checks keep private state unchanged by predict and transform.
    """
    own = type(estimator).__module__.startswith("sklearn.")
    return {
        k: v
        for k, v in vars(estimator).items()
        if k != "lineage_"
        and (
            (k.endswith("_") and not k.startswith("_"))
            or (own and k.startswith("_") and not k.startswith("__") and k not in _SETTINGS)
        )
    }


def fingerprint(estimator):
    """SHA-256 of an estimator's class, parameters and fitted state (scheme 5)."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator)
    return h.hexdigest()


def fingerprint_v4(estimator):
    """The scheme-4 fingerprint of ``estimator`` (a class cache's contents hashed, a
    user module of a standard library name and packages from a package index named), to
    compare with records made before scheme 5."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator, 0, _Path(scheme=4))
    return h.hexdigest()


def fingerprint_v3(estimator):
    """The scheme-3 fingerprint of ``estimator`` (user classes' attributes other than
    functions named, packages installed into site-packages from a folder named), to
    compare with records made before scheme 4."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator, 0, _Path(scheme=3))
    return h.hexdigest()


def fingerprint_v2(estimator):
    """The scheme-2 fingerprint of ``estimator`` (every function and class named by
    module and qualified name only), to compare with records made before scheme 3."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator, 0, _Path(by_name=True))
    return h.hexdigest()


def json_safe(value):
    """A JSON-serialisable stand-in for a parameter value."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if np.isfinite(value) else repr(value)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, BaseEstimator):
        return {"class": class_path(value), "params": json_params(value)}
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def json_params(estimator):
    """Shallow parameters of an estimator, JSON-safe."""
    return {k: json_safe(v) for k, v in own_params(estimator).items()}


def class_path(obj):
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"
