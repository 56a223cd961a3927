"""Fingerprints of fitted state and JSON-safe parameter records."""

import hashlib
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator


def _feed(h, obj, depth=0):
    if depth > 20:
        h.update(b"<deep>")
    elif isinstance(obj, np.ndarray):
        h.update(f"nd{obj.dtype.str}{obj.shape}".encode())
        if obj.dtype == object:
            for item in obj.ravel():
                _feed(h, item, depth + 1)
        else:
            h.update(memoryview(np.ascontiguousarray(obj)).cast("B"))
    elif sp.issparse(obj):
        csr = obj.tocsr()
        for part in (csr.data, csr.indices, csr.indptr):
            _feed(h, part, depth + 1)
    elif isinstance(obj, BaseEstimator):
        h.update(type(obj).__qualname__.encode())
        _feed(h, {"params": obj.get_params(deep=False), "state": fitted_state(obj)}, depth + 1)
    elif isinstance(obj, np.random.RandomState):
        _feed(h, obj.get_state(legacy=False), depth + 1)
    elif callable(obj) and hasattr(obj, "__qualname__"):
        h.update(f"{getattr(obj, '__module__', '')}.{obj.__qualname__}".encode())
    elif isinstance(obj, dict):
        h.update(b"{")
        for key in sorted(obj, key=repr):
            h.update(repr(key).encode())
            _feed(h, obj[key], depth + 1)
        h.update(b"}")
    elif isinstance(obj, list | tuple):
        h.update(b"[")
        for item in obj:
            _feed(h, item, depth + 1)
        h.update(b"]")
    else:
        h.update(repr(obj).encode())


def fitted_state(estimator):
    """Public fitted attributes (names ending in ``_``) of an estimator."""
    return {
        k: v
        for k, v in vars(estimator).items()
        if k.endswith("_") and not k.startswith("_") and k != "lineage_"
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
    return {k: json_safe(v) for k, v in estimator.get_params(deep=False).items()}


def class_path(obj):
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"
