"""The walk of a fitted value that feeds a fingerprint (``_fingerprint``: what it means).

Containers, estimators, frames, torch modules, functions and other objects are walked
here, by content; leaves are written by ``_fingerprint_leaves``, and user code (by its
code) by ``_fingerprint_code``. ``_Path`` holds the ids on the current path (a cycle is
cut by how many levels up it points) and the scheme of the walk: earlier schemes are the
same walk with some of their own rules (``scheme``).
"""

import functools
import types

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from . import _fingerprint_bound as _bound
from . import _fingerprint_code as _code
from ._fingerprint_leaves import (
    _ADDRESS,
    _LEAF,
    _LEAVES,
    _class_bytes,
    _dtype_bytes,
    _feed_array,
    _feed_tensor,
    _from_torch,
    _lp,
    _shape_bytes,
)
from ._fingerprint_params import (
    as_before,
    fitted_state,
    own_params,
    sktraceprop_own,
    watched_state,
)

#: The scheme of the fingerprints ``_fingerprint.fingerprint`` makes.
SCHEME = 6
#: Levels of nesting walked; deeper values raise rather than hash alike.
MAX_DEPTH = 100


class _Path(dict):
    """The ids on the current path (-> their depth), and the scheme of the walk:
    ``by_name`` for scheme 2 (every function and class by module and qualified name),
    ``scheme`` 3 or 4 otherwise (what user code is and what of its classes is hashed);
    ``exact_frames`` for fit-parameter digests of scheme ``fit-param-3`` (pandas objects
    by :mod:`._exact_pandas`: a null apart from a NaN, a string dtype's storage); ``watch``
    for the step watch's digests (``_fitted_elsewhere``: an estimator by all it holds,
    ``_fingerprint_params.watched_state``, not by what a fingerprint takes): True, or
    ``{id(estimator): {attribute: value}}``, what it held before a call wrote those
    attributes (``_fingerprint_params.as_before``; ``_watch_calls``); ``by_id``, in the
    watch's digests, the ids of the estimators digested by identity alone (a step's parts
    watched as steps of their own: ``_watch_digests``)."""

    __slots__ = ("by_id", "by_name", "exact_frames", "scheme", "watch")

    def __init__(self, by_name=False, scheme=SCHEME, exact_frames=False, watch=False, by_id=None):
        super().__init__()
        self.by_name = by_name
        self.scheme = 2 if by_name else scheme
        self.exact_frames = exact_frames
        self.watch = watch
        self.by_id = by_id


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
        if memo.exact_frames:
            from ._exact_pandas import feed_pandas

            def fallback(h, values):
                _feed(h, [str(values.dtype), values.to_numpy()], depth + 1, memo)

            feed_pandas(h, obj, fallback)
            return
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
        # scheme 6: what the function reads of a module bound to an argument
        _bound.feed_bound(h, obj.func, obj.args, obj.keywords, depth, memo, _feed)
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
        if memo.watch:  # the step watch's digest: all it holds (not a fingerprint)
            if memo.by_id and id(obj) in memo.by_id:  # (digested as a step of its own)
                h.update(b"I%d:" % id(obj))
                return
            state = watched_state(obj)
            if memo.watch is not True and id(obj) in memo.watch:
                state = as_before(state, memo.watch[id(obj)])
            _feed(h, state, depth + 1, memo)
            return
        _user_class(h, obj, depth, memo)  # a user estimator's fit and transform
        _feed(h, {"params": own_params(obj), "state": fitted_state(obj)}, depth + 1, memo)
        if memo.scheme >= 6 and not memo.by_name:
            _feed_overrides(h, obj, depth, memo)
            # what func reads of a module passed in kw_args (FunctionTransformer)
            _bound.feed_transformer_kw_args(h, obj, depth, memo, _feed)
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


#: Methods a traced fit shadows on an estimator's instance while it runs: not part of
#: what the fitted model computes.
_FIT_NAMES = frozenset({"fit", "_fit", "fit_transform", "fit_predict", "partial_fit"})


def _feed_overrides(h, obj, depth, memo):
    """Scheme 6: methods replaced on the instance (``obj.transform = fn``, a
    ``types.MethodType``), which shadow its class's, by name and value; nothing where
    there are none (its bytes as before). Not the fit methods, nor what sktraceprop
    itself shadows there while a traced fit runs (a spy on ``fit``, skorch's
    ``get_split_datasets``): the fingerprint recorded during a fit is the fitted
    model's."""
    try:
        own = vars(obj)
    except TypeError:  # no instance dict
        return
    cls = type(obj)
    found = sorted(
        (k, v)
        for k, v in list(own.items())
        if isinstance(k, str)
        and k not in _FIT_NAMES
        and callable(v)
        and not sktraceprop_own(v)
        and _is_method(cls, k)
    )
    if found:
        h.update(b"j%d:" % len(found))
        for key, value in found:
            _feed(h, key, depth + 1, memo)
            _feed(h, value, depth + 1, memo)


def _is_method(cls, name):
    try:
        return callable(getattr(cls, name, None))
    except Exception:  # a class attribute whose descriptor raises when read
        return False
