"""The fingerprint scheme of sktraceprop up to 0.x (scheme 1), kept to read old records.

Runs, prediction events, removal records and reports written before scheme 2 hold
fingerprints made this way. It fed leaves as their ``repr`` with no type tag and no
length, so some different values fed the same bytes (``[1, 23]`` and ``[12, 3]``,
``"1"`` and ``1``, ml_dtypes arrays of one ``dtype.str``, anything nested deeper than
20 levels): a stored scheme-1 fingerprint that matches a model says less than a
scheme-2 one. Never used to make new records; see ``_fingerprint_match``.

Scheme 1 changed once without a new number (c4997b1, 1 December 2026): before it, an
estimator's fitted state was its public attributes only (scikit-learn's private ones,
a OneHotEncoder's ``_infrequent_enabled``, not fed), and a set or an object with
neither a ``__dict__`` nor a value type (a fitted tree's nodes) was fed as its
``repr``. :func:`fingerprint_v1_early` makes those: records written before that change
with such a model (a one-hot encoder, say) hold them. Before 9e45841 (30 November 2026)
it fed every value that was not an array, estimator or container by its ``repr``, and a
class (a ``dtype=np.float64`` parameter) by its name: :func:`fingerprint_v1_original`
makes those (any record of a model with such a parameter, a one-hot encoder's default
``dtype``, written by sktraceprop of then). Neither form saw what a fitted tree, a KNN
model or a histogram boosting model learnt (a refit on other rows kept the
fingerprint): for those they raise, so no record is matched by them.
"""

import contextvars
import functools
import hashlib
import numbers
import operator
import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from ._fingerprint import fitted_state, own_params

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_LEAVES = (str, bytes, numbers.Number, type(None))
#: The common leaves, told apart by their exact type (no ABC check).
_EXACT_LEAVES = frozenset({str, bytes, int, float, bool, type(None)})
_FIRST = operator.itemgetter(0)
#: True while fingerprint_v1_early feeds (scheme 1 as it was before c4997b1).
_EARLY = contextvars.ContextVar("fingerprint_v1_early", default=False)


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
    elif _EARLY.get():
        _refuse_unseen_object(obj)
        h.update(_ADDRESS.sub("", repr(obj)).encode())
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
        state = _public_state(obj, refuse_unseen=True) if _EARLY.get() else fitted_state(obj)
        _feed(h, {"params": own_params(obj), "state": state}, depth + 1, memo)
    elif isinstance(obj, np.random.RandomState):
        _feed(h, obj.get_state(legacy=False), depth + 1, memo)
    elif isinstance(obj, dict):
        _feed_dict(h, obj, depth, memo)
    elif isinstance(obj, list | tuple):
        _feed_items(h, obj, depth, memo)
    else:
        _feed_object(h, obj, depth, memo)


def fingerprint_v1(estimator):
    """Scheme 1: SHA-256 of an estimator's class, parameters and fitted state."""
    h = hashlib.sha256(type(estimator).__module__.encode())
    _feed(h, estimator)
    return h.hexdigest()


def _leafy(value):
    return isinstance(value, _LEAVES) or (
        isinstance(value, list | tuple) and all(isinstance(v, _LEAVES) for v in value)
    )


def _public_state(estimator, refuse_unseen=False):
    """Fitted state as scheme 1 fed it before c4997b1: public names ending in ``_``.

    With ``refuse_unseen``, raises ``ValueError`` for a scikit-learn estimator whose
    private fitted state holds more than plain values (a KNN model's ``_fit_X``, a
    histogram boosting model's ``_predictors``): what it learnt was not fed, so a match
    by that form would say nothing of it (the caller then looks no further)."""
    public = {
        k: v
        for k, v in vars(estimator).items()
        if k.endswith("_") and not k.startswith("_") and k != "lineage_"
    }
    if refuse_unseen:
        unseen = set(fitted_state(estimator)) - set(public)
        if any(not _leafy(vars(estimator)[k]) for k in unseen):
            raise ValueError(f"{type(estimator).__name__}: private fitted state not fed")
    return public


def _refuse_unseen_object(obj):
    """Raise for a scikit-learn extension object (a fitted tree's nodes) that the
    earlier forms fed as its repr, which shows none of its state."""
    if type(obj).__module__.startswith("sklearn") and _reduced(obj) is not None:
        raise ValueError(f"{type(obj).__name__}: fed as its repr, its state unseen")


def fingerprint_v1_early(estimator):
    """Scheme 1 as it was before c4997b1 (see the module's docstring)."""
    token = _EARLY.set(True)
    try:
        return fingerprint_v1(estimator)
    finally:
        _EARLY.reset(token)


def _feed_original(h, obj, depth=0):
    """Scheme 1 as sktraceprop first wrote it (before 9e45841), unchanged."""
    if depth > 20:
        h.update(b"<deep>")
    elif isinstance(obj, np.ndarray):
        h.update(f"nd{obj.dtype.str}{obj.shape}".encode())
        if obj.dtype == object:
            for item in obj.ravel():
                _feed_original(h, item, depth + 1)
        else:
            h.update(memoryview(np.ascontiguousarray(obj)).cast("B"))
    elif sp.issparse(obj):
        csr = obj.tocsr()
        for part in (csr.data, csr.indices, csr.indptr):
            _feed_original(h, part, depth + 1)
    elif isinstance(obj, BaseEstimator):
        h.update(type(obj).__qualname__.encode())
        state = {"params": obj.get_params(deep=False), "state": _public_state(obj, True)}
        _feed_original(h, state, depth + 1)
    elif isinstance(obj, np.random.RandomState):
        _feed_original(h, obj.get_state(legacy=False), depth + 1)
    elif callable(obj) and hasattr(obj, "__qualname__"):
        h.update(f"{getattr(obj, '__module__', '')}.{obj.__qualname__}".encode())
    elif isinstance(obj, dict):
        h.update(b"{")
        for key in sorted(obj, key=repr):
            h.update(repr(key).encode())
            _feed_original(h, obj[key], depth + 1)
        h.update(b"}")
    elif isinstance(obj, list | tuple):
        h.update(b"[")
        for item in obj:
            _feed_original(h, item, depth + 1)
        h.update(b"]")
    else:
        _refuse_unseen_object(obj)
        h.update(repr(obj).encode())


def fingerprint_v1_original(estimator):
    """Scheme 1 as it was before 9e45841 (see the module's docstring)."""
    h = hashlib.sha256(type(estimator).__module__.encode())
    _feed_original(h, estimator)
    return h.hexdigest()
