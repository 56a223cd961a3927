"""Outputs of traced transformers that carry no row ids, recognised where a fit gets them.

A traced pipeline, column transformer or :class:`~sktraceprop.TracedEstimator` given
traced rows returns, by scikit-learn's default, a NumPy array (or a sparse matrix): the
row ids stay behind (as a pandas output's do in its ``.to_numpy()``). A model then
fitted on that output (``make_traced_pipeline(model).fit(pipe.transform(X), y)``,
``model.fit(pre.fit_transform(X), y)``) records anonymous rows, and its values are no
longer the loaded ones, so nothing else recognises them.

Each such output handed to the user's code (a ``transform`` or ``fit_transform`` the
user called, not the transforms a pipeline's ``predict``, ``score`` or ``fit`` makes of
its steps: :mod:`._handed_out`) is remembered here, in this process only: a 64-bit
hash of each of up to :data:`CAP` of its rows (picked by a hash of their row ids, so
that any subset of the rows, a ``train_test_split`` of the output, holds its share of
them), and who made it.
An untraced fit whose data holds one of those rows warns, naming the step and how to
keep the lineage. Rows with fewer than two values other than 0, 1 and -1 (one-hot
rows, which other data holds as well) are not remembered. Rows forgotten by an
unlearner empty the memory (it cannot tell which hashes were theirs).
"""

import contextvars
import threading
from collections import deque

import numpy as np
import pandas as pd

from ..utils._hashing import GOLDEN as _GOLDEN
from ._handed_out import handed_to_user
from ._ids import distinct_codes
from ._witness import WITNESSES

#: Row hashes kept per output.
CAP = 4096
#: Outputs remembered (the latest).
MAX_OUTPUTS = 16
#: Rows chosen or looked up larger than this many cells are not read (a sparse
#: matrix is made dense).
MAX_CELLS = 1 << 26
#: Rows of a fit's data looked up, evenly spread (an output's kept rows are spread
#: over it: a quarter of a million rows holds its share).
LOOKED_UP = 1 << 18

_PRIME = np.uint64(0x100000001B3)
_KEPT = deque(maxlen=MAX_OUTPUTS)
_LOCK = threading.Lock()
#: True while a traced transform runs: the steps it calls leave the remembering to it.
_ACTIVE = contextvars.ContextVar("sktraceprop_bare_output_active", default=False)


class _Output:
    __slots__ = ("hashes", "n_features", "sources", "step")

    def __init__(self, step, sources, n_features, hashes):
        self.step, self.sources, self.n_features, self.hashes = (
            step,
            sources,
            n_features,
            hashes,
        )


class _Forget:
    """Empties the memory when witness rows are forgotten or cleared."""

    def forget(self, ids):
        self.clear()

    def clear(self):
        with _LOCK:
            _KEPT.clear()


WITNESSES.follow(_Forget())


def _values(data, rows=slice(None)):
    """``data[rows]`` as a 2-D float32 array, or None where it is not numeric or too
    large."""
    if len(getattr(data, "shape", ())) != 2:
        return None
    if hasattr(data, "tocsr") and hasattr(data, "toarray"):  # scipy.sparse
        data = data.tocsr()[rows]
        if data.shape[0] * data.shape[1] > MAX_CELLS:
            return None
        data = data.toarray()
    elif isinstance(data, pd.DataFrame):
        data = data.iloc[rows]
        if not all(
            pd.api.types.is_numeric_dtype(d) and not isinstance(d, pd.CategoricalDtype)
            for d in data.dtypes
        ):
            return None
        data = data.to_numpy(dtype=np.float64, na_value=np.nan)
    elif isinstance(data, np.ndarray):
        data = data[rows]
    else:
        return None
    if data.ndim != 2 or data.dtype.kind not in "iufb" or data.size > MAX_CELLS:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.asarray(data, dtype=np.float32) + np.float32(0.0)  # -0.0 is 0.0
    values[np.isnan(values)] = np.nan  # one NaN
    return values


def _chosen(ids):
    """The positions of up to :data:`CAP` rows, picked by a hash of their ids: any
    subset of the rows holds its share of them."""
    if ids.shape[0] <= CAP:
        return slice(None)
    with np.errstate(over="ignore"):
        key = ids.view(np.uint64) * _GOLDEN
    return np.sort(np.argpartition(key, CAP)[:CAP])


def _row_hashes(values):
    """A 64-bit hash of each row's float32 values."""
    h = np.zeros(values.shape[0], dtype=np.uint64)
    bits = np.ascontiguousarray(values).view(np.uint32).astype(np.uint64)
    for j in range(values.shape[1]):
        h = (h * _PRIME) ^ pd.util.hash_array(bits[:, j] + np.uint64(j), categorize=False)
    return h


def _informative(values):
    """Rows with at least two finite values other than 0, 1 and -1."""
    plain = (values == 0) | (values == 1) | (values == -1) | ~np.isfinite(values)
    return (~plain).sum(axis=1) >= 2


class transforming:
    """Context manager around a traced ``transform``: true for the outermost one."""

    def __enter__(self):
        from ._record import _RECORDING

        self.outer = not (_ACTIVE.get() or _RECORDING.get())
        self.token = _ACTIVE.set(True)
        return self.outer

    def __exit__(self, *exc):
        _ACTIVE.reset(self.token)
        return False


def remembered_output(estimator, method, X, call, sample_id=None):
    """``call()``, a traced ``method`` of ``estimator`` on ``X``, with its output
    remembered (:func:`remember`) when it is the outermost traced transform and goes
    back to the user's code (:func:`._handed_out.handed_to_user`: not one that a
    pipeline's ``predict``, ``score`` or ``fit`` makes)."""
    with transforming() as outer:
        out = call()
    if outer and handed_to_user():  # a fit on it can say where its row ids were left
        remember(step_label(estimator, method), X, out, sample_id)
    return out


def remember(step, X, out, sample_id=None):
    """Remember ``out`` when ``step``'s input ``X`` carried row ids (``out`` may keep them:
    its ``.to_numpy()`` does not).

    ``step`` names the call (``"TracedPipeline(standardscaler).transform"``);
    ``sample_id`` the ids given with ``X``.
    """
    from ._capture import carried_ids

    try:
        ids = carried_ids(X, validate=False) if sample_id is None else sample_id
        if ids is None:
            return
        # an output that keeps them (set_output pandas) loses them in .to_numpy()
        kept = carried_ids(out, validate=False)
        ids = np.asarray(ids if kept is None else kept, dtype=np.int64)
        if ids.shape[0] != getattr(out, "shape", (None,))[0]:
            return  # (rows dropped or added: which output row is which is not known)
        values = _values(out, _chosen(ids))
    except Exception:  # noqa: BLE001 (a hint only: never fails the transform)
        return
    if values is None or values.shape[0] == 0 or values.shape[1] < 2:
        return
    hashes = np.unique(_row_hashes(values[_informative(values)]))
    if not hashes.size:
        return
    from ._source import REGISTRY

    sources = []
    for code in distinct_codes(np.asarray(ids, dtype=np.int64)).tolist():
        try:
            sources.append(REGISTRY.by_code(code).source_id)
        except Exception:  # noqa: BLE001 (a code this process does not know)
            continue
    with _LOCK:
        _KEPT.append(_Output(step, sorted(set(sources)), values.shape[1], hashes))


def output_in(X):
    """The remembered output whose rows ``X`` holds: ``(output, rows found)``, or None.

    The latest output first; ``rows found`` counts the rows of ``X`` whose hash is one
    of the kept ones.
    """
    with _LOCK:
        kept = list(_KEPT)
    if not kept:
        return None
    width = X.shape[1] if len(getattr(X, "shape", ())) == 2 else None
    kept = [o for o in kept if o.n_features == width]
    if not kept:
        return None
    n = X.shape[0]
    try:
        values = _values(X, slice(None, None, max(1, -(-n // LOOKED_UP))))
    except (TypeError, ValueError):
        return None
    if values is None:
        return None
    hashes = _row_hashes(values[_informative(values)])
    for output in reversed(kept):
        found = int(np.isin(hashes, output.hashes).sum())
        if found:
            return output, found
    return None


def bare_output_message(output, found, n_rows):
    """The warning for data holding ``found`` rows of a remembered ``output``."""
    sources = ", ".join(output.sources[:5]) or "traced sources"
    return (
        f"X carries no sktraceprop row ids, but at least {found} of its {n_rows} rows are "
        f"rows of the output of {output.step} on rows of {sources}, without their row ids "
        "(a NumPy output, or the .to_numpy()/.values of a pandas one): this fit records "
        "them as an anonymous source, and their files and lines are lost there. Keep "
        "them by fitting the model "
        "as the last step of the traced pipeline (make_traced_pipeline(..., model)), by "
        "making the step output pandas (set_output(transform='pandas')) and fitting on "
        "that frame, whose index holds the row ids, or by passing "
        "sample_id=sktraceprop.row_ids(X_in) with "
        "X_in the traced frame that was transformed, in the same order."
    )


def step_label(estimator, method):
    """``estimator``'s class and parts, and ``method``: ``TracedPipeline(standardscaler,
    pca).transform``."""
    if hasattr(estimator, "steps"):
        parts = [name for name, _ in estimator.steps]
    elif hasattr(estimator, "transformers"):
        parts = [t[0] for t in estimator.transformers]
    else:
        parts = [type(getattr(estimator, "estimator", None)).__name__]
    return f"{type(estimator).__name__}({', '.join(map(str, parts))}).{method}"
