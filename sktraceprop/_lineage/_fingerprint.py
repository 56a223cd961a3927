"""Fingerprints of fitted state and JSON-safe parameter records.

A fingerprint must change whenever the fitted state changes and must not change when
nothing did (a pickle round trip, another process). So every value is hashed by its
content: arrays by their bytes, torch modules and optimizers by their ``state_dict``,
tensors and JAX arrays by their bytes (never by ``repr``, which elides large arrays),
other objects by their attributes, and a ``repr`` only for leaves, with memory addresses
removed.
"""

import functools
import hashlib
import numbers
import operator
import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.metaestimators import _BaseComposition

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_LEAVES = (str, bytes, numbers.Number, type(None))
#: The common leaves, told apart by their exact type (no ABC check).
_EXACT_LEAVES = frozenset({str, bytes, int, float, bool, type(None)})
_FIRST = operator.itemgetter(0)


def _from_torch(obj):
    return any(c.__module__.split(".")[0] == "torch" for c in type(obj).__mro__)


def _feed_tensor(h, t, depth, memo):
    """A tensor's dtype, shape and bytes, whatever its dtype, layout and device."""
    import torch

    t = t.detach().cpu()
    h.update(f"tensor{t.dtype}{tuple(t.shape)}{t.layout}".encode())
    if t.layout != torch.strided:
        t = t.to_dense()
    h.update(memoryview(t.contiguous().reshape(-1).view(torch.uint8).numpy()))


def _feed_object(h, obj, depth, memo):
    """Objects that are not arrays, containers or estimators."""
    import pandas as pd

    from ..stores._base import BaseStore

    if isinstance(obj, BaseStore):
        # Where records go, not fitted state: its contents change with every event.
        h.update(_class_bytes(obj) + repr(obj).encode())
    elif isinstance(obj, pd.DataFrame | pd.Series | pd.Index):
        h.update(_class_bytes(obj))
        frame = obj.to_frame() if isinstance(obj, pd.Series | pd.Index) else obj
        _feed(h, [list(frame.columns), frame.index.to_numpy()], depth + 1, memo)
        for _, column in frame.items():
            _feed(h, [str(column.dtype), column.to_numpy()], depth + 1, memo)
    elif _from_torch(obj) and hasattr(obj, "detach"):
        _feed_tensor(h, obj, depth, memo)
    elif _from_torch(obj) and callable(getattr(obj, "state_dict", None)):
        # Modules and optimizers: the architecture (or settings) and every weight.
        h.update(_class_bytes(obj) + _ADDRESS.sub("", repr(obj)).encode())
        _feed(h, obj.state_dict(), depth + 1, memo)
    elif hasattr(obj, "__array__") and hasattr(obj, "shape") and hasattr(obj, "dtype"):
        # JAX arrays, NumPy scalars: their values, not their (elided) repr.
        _feed(h, np.asarray(obj), depth + 1, memo)
    elif isinstance(obj, functools.partial):
        h.update(b"partial")
        _feed(h, (obj.func, obj.args, obj.keywords), depth + 1, memo)
    elif callable(obj) and hasattr(obj, "__qualname__"):
        h.update(f"{getattr(obj, '__module__', '')}.{obj.__qualname__}".encode())
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        h.update(_class_bytes(obj))
        _feed(h, vars(obj), depth + 1, memo)
    elif isinstance(obj, set | frozenset):
        h.update(_class_bytes(obj))
        _feed(h, sorted(obj, key=repr), depth + 1, memo)
    else:
        reduced = _reduced(obj)
        if reduced is None:
            h.update(_ADDRESS.sub("", repr(obj)).encode())
        else:
            # Extension objects (a fitted tree's nodes) show no state in their repr:
            # what pickling keeps of them is their content.
            h.update(_class_bytes(obj))
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


def _class_bytes(obj):
    return f"<{type(obj).__module__}.{type(obj).__qualname__}>".encode()


def _feed(h, obj, depth=0, memo=None):
    """Hash ``obj`` by content into ``h``; ``memo`` holds the ids on the current path."""
    cls = type(obj)
    # exact types first: a logged predict fingerprints the model on every call, and an
    # ABC check (numbers.Number) costs more than the rest of a leaf
    if cls in _EXACT_LEAVES or isinstance(obj, _LEAVES):
        h.update(repr(obj).encode())
        return
    if depth > 20:
        h.update(b"<deep>")
        return
    if cls is np.ndarray and obj.dtype != object:
        # holds no objects, so it is never on its own path: no cycle to look for
        _feed_bytes(h, obj)
        return
    memo = set() if memo is None else memo
    # Only cycles are cut short: shared references are hashed again at each place,
    # because pickling need not keep them shared (skorch does not).
    key = id(obj)
    if key in memo:
        h.update(b"<cycle>")
        return
    memo.add(key)
    try:
        if cls is dict:
            _feed_dict(h, obj, depth, memo)
        elif cls is list or cls is tuple:
            _feed_items(h, obj, depth, memo)
        else:
            _feed_value(h, obj, depth, memo)
    finally:
        memo.discard(key)


def _feed_bytes(h, array):
    """An array of numbers (or bytes, not objects): dtype, shape and memory."""
    h.update(f"nd{array.dtype.str}{array.shape}".encode())
    h.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _feed_dict(h, obj, depth, memo):
    # keys in the order of their repr (stable among equal reprs, as sorted(key=repr))
    keyed = [(repr(key), key) for key in obj]
    keyed.sort(key=_FIRST)
    h.update(b"{")
    for text, key in keyed:
        h.update(text.encode())
        _feed(h, obj[key], depth + 1, memo)
    h.update(b"}")


def _feed_items(h, obj, depth, memo):
    h.update(b"[")
    for item in obj:
        _feed(h, item, depth + 1, memo)
    h.update(b"]")


def _feed_value(h, obj, depth, memo):
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            h.update(f"nd{obj.dtype.str}{obj.shape}".encode())
            items = obj.ravel().tolist()  # the same objects, for an object array
            if all(isinstance(item, _LEAVES) for item in items):
                # what feeding each leaf gives (one category array: a thousand calls)
                h.update("".join(map(repr, items)).encode())
            else:
                for item in items:
                    _feed(h, item, depth + 1, memo)
        else:
            _feed_bytes(h, obj)
    elif sp.issparse(obj):
        csr = obj.tocsr()
        for part in (csr.data, csr.indices, csr.indptr):
            _feed(h, part, depth + 1, memo)
    elif isinstance(obj, BaseEstimator):
        h.update(type(obj).__qualname__.encode())
        _feed(h, {"params": own_params(obj), "state": fitted_state(obj)}, depth + 1, memo)
    elif isinstance(obj, np.random.RandomState):
        _feed(h, obj.get_state(legacy=False), depth + 1, memo)
    elif isinstance(obj, dict):
        _feed_dict(h, obj, depth, memo)
    elif isinstance(obj, list | tuple):
        _feed_items(h, obj, depth, memo)
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
    """SHA-256 of an estimator's class, parameters and fitted state."""
    h = hashlib.sha256(type(estimator).__module__.encode())
    _feed(h, estimator)
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
