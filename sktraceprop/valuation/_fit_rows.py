"""The training rows a :class:`KNNShapleyValuer` keeps: stored by ``fit``, and
recomputed when a removal drops some of them.

Both are the bodies of the valuer's methods (``fit`` and ``_forget_rows``), which call
them while they hold the valuer alone (:func:`sktraceprop._model_lock.exclusive`).
"""

import warnings

import numpy as np
from scipy import sparse
from sklearn.metrics import pairwise_distances
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import validate_data

from .._holders import hold
from .._lineage._array_rows import check_ids_of_rows, unchecked_warning
from .._lineage._capture import resolve_row_ids
from .._lineage._paired import check_paired
from .._lineage._read_paths import narrowed_table
from .._lineage._record import source_table
from .._lineage._source import REGISTRY
from .._removed_rows import warn_refit_on_removed
from ..exceptions import LineageWarning
from ..utils._fit_under_way import removal_marked
from ..utils._private_copy import shares_memory
from ..utils._stack import user_stacklevel
from ._distances import _DOT_METRICS, _fit_stats, _shift, _squared_norms
from ._fit_features import fitted_transformer_features, sampler_steps
from ._groups import fitted_ops
from ._magnitude import magnitude_scale, scaled
from ._transformer_read import record_transformer, start_fit_read
from ._validation import check_distances, check_no_missing_labels, labels, targets

# task="auto" with more whole-number labels than this may be a quantity, not classes.
_MANY_CLASSES = 20


def fit_rows(valuer, X, y, sample_id):
    """Body of :meth:`KNNShapleyValuer.fit` (called holding the valuer alone): store
    the training rows, their labels and their lineage on ``valuer``; return it."""
    valuer._validate_params()
    # values of the previous training rows must not be read as those of the new ones
    valuer.__dict__.pop("values_", None)
    read = start_fit_read(valuer)  # (a fitted transformer has no lock: checked after)
    if y is None:
        raise ValueError(
            f"{type(valuer).__name__} requires y to be passed, but the target y is None"
        )
    check_no_missing_labels(y, "y (the training rows' labels)")
    # y too: untraced X whose labels show loaded rows warns, as a traced fit does
    row_ids = resolve_row_ids(X, sample_id, y=y)
    check_paired(X, y, ids=row_ids)  # a row's value needs its own label
    # a valuer keeps its rows' features and labels: rows removed from a model (or merged
    # from such rows) taken in again are said, as a traced fit says them
    warn_refit_on_removed(row_ids, type(valuer).__name__, user_stacklevel())
    # a row's value is credited to its line: ids refused where the rows' values
    # show other lines, and where they cannot be compared, that said (no run
    # records it for a valuer)
    unchecked = unchecked_warning(
        check_ids_of_rows(X, row_ids, sample_id), REGISTRY.by_code, type(valuer).__name__
    )
    if unchecked:
        warnings.warn(unchecked, LineageWarning, stacklevel=3)
    given_rows = X  # (what tells which steps fitted outside the rows went through)
    if valuer.transformer is None:
        valuer.transformer_ = None
        given = X
        X, y = validate_data(valuer, X, y, accept_sparse="csr", dtype=np.float64, order="C")
        if shares_memory(X, given):
            X = X.copy()  # kept: a later write to the caller's array must not reach it
    else:
        if not hasattr(valuer.transformer, "transform"):
            samplers = sampler_steps(valuer.transformer)
            if samplers:  # an imblearn pipeline ending in a sampler has no transform
                raise TypeError(
                    f"transformer has no transform method: it ends in the sampler "
                    f"{', '.join(samplers)}, which adds, drops or synthesises rows at fit. "
                    "Valuation needs one row of features per training row, and the "
                    "sampler's rows are not the rows given: leave the sampler out (pass "
                    "the steps before it, pipe[:i] with i the sampler's step, or the "
                    "pipeline with it removed)."
                )
            raise TypeError(
                f"transformer must have a transform method, got "
                f"{type(valuer.transformer).__name__}; for a fitted pipeline ending in a "
                "model, pass its preprocessing steps."
            )
        validate_data(valuer, X, skip_check_array=True)
        given = X
        # a fitted one's transform(X); an unfitted one's fit_transform, as a
        # pipeline fits its model (a TargetEncoder cross fits; samplers refused)
        valuer.transformer_, X = fitted_transformer_features(valuer.transformer, X, y)
        if shares_memory(X, given):
            X = X.copy()  # an identity transformer's output is the caller's data
        y = labels(y, X.shape[0])
    if valuer.metric == "precomputed":
        if X.shape[0] != X.shape[1]:
            raise ValueError(
                "metric='precomputed' takes in fit the square matrix of distances "
                "between the training rows, (n_samples, n_samples), and in value and "
                "score the distances from each validation row to every training row, "
                f"(n_val, n_samples); got X of shape {X.shape} in fit"
            )
        check_distances(X, "the training rows' precomputed distance matrix")
        diagonal = (X.diagonal() if sparse.issparse(X) else np.diagonal(X)).astype(np.float64)
        if np.any(diagonal != 0):
            row = int(np.flatnonzero(diagonal != 0)[0])
            warnings.warn(
                f"metric='precomputed': the training rows' distance matrix has nonzero "
                f"entries on its diagonal (row {row} to itself: {float(diagonal[row])!r}), where "
                "a distance is 0. Is it a similarity (larger = nearer)? Neighbours are "
                "the rows at the smallest values: pass distances (1 - similarity, say).",
                UserWarning,
                stacklevel=3,
            )
    elif valuer.metric not in ("euclidean", "sqeuclidean", "cosine"):
        pairwise_distances(X[:1], X[:1], metric=valuer.metric)  # fail early on a bad one
    valuer.task_ = valuer.task
    if valuer.task == "auto":
        continuous = type_of_target(y, input_name="y") == "continuous"
        valuer.task_ = "regression" if continuous else "classification"
    if valuer.task_ == "regression":
        valuer._fit_y = targets(y, "y (the training rows' targets)")
    else:
        check_classification_targets(y)
        valuer.classes_, codes = np.unique(y, return_inverse=True)
        valuer._fit_y = codes.astype(np.float64)
        if (
            valuer.task == "auto"
            and np.issubdtype(valuer.classes_.dtype, np.number)
            and valuer.classes_.size > _MANY_CLASSES
        ):
            warnings.warn(
                f"y holds {valuer.classes_.size} distinct whole numbers and is valued as "
                "a classification (task='auto'): a neighbour counts only when its "
                "label equals the validation label exactly. If y is a quantity (a "
                "price, a count, days), pass task='regression'; pass "
                "task='classification' to keep this and silence the warning.",
                UserWarning,
                stacklevel=3,
            )
    # values whose squares under- or overflow, brought near 1 (exactly)
    valuer._scale = magnitude_scale(X) if valuer.metric in _DOT_METRICS else None
    X = scaled(X, valuer._scale)
    valuer._shift = _shift(X) if valuer.metric in _DOT_METRICS else None
    if valuer._shift is not None:
        X = X - valuer._shift
    if valuer.metric == "precomputed":
        X = np.empty((X.shape[0], 0))  # the validation rows bring their distances
    valuer._fit_X = X
    valuer._fit_norms = _squared_norms(X)
    valuer._fit_stats = _fit_stats(X, valuer.metric)
    valuer.n_samples_fit_ = X.shape[0]
    valuer.row_ids_ = row_ids
    hold(valuer)  # a removal of any of these rows names this valuer
    # (a file read from several paths, copies: those the given rows were read from)
    valuer._sources = narrowed_table(given_rows, source_table(row_ids))
    valuer.ops_ = fitted_ops(valuer._sources, given_rows, row_ids, valuer.transformer_)
    record_transformer(valuer, read)
    return valuer


def forget_rows(valuer, removed_ids, by=None):
    """Body of :meth:`KNNShapleyValuer._forget_rows` (called holding the valuer
    alone): drop the rows of ``removed_ids`` and recompute the statistics over the rows
    kept; return how many rows were dropped. The valuer is marked meanwhile (its
    attributes are replaced one by one): a copy made before the last is refused."""
    if valuer.row_ids_ is None:
        return 0
    gone = np.isin(valuer.row_ids_, np.asarray(removed_ids, dtype=np.int64))
    if not gone.any():
        return 0
    with removal_marked(valuer, by):
        keep = np.flatnonzero(~gone)  # (none: value() refuses)
        valuer.__dict__.pop("values_", None)
        X = valuer._fit_X
        if valuer._shift is not None:
            X = X + valuer._shift  # (exact: the shift was kept only where it is)
        if valuer._scale is not None:
            X = X / valuer._scale  # (a power of two)
        X = X[keep]
        valuer._scale = magnitude_scale(X) if valuer.metric in _DOT_METRICS else None
        X = scaled(X, valuer._scale)
        valuer._shift = _shift(X) if valuer.metric in _DOT_METRICS else None
        if valuer._shift is not None:
            X = X - valuer._shift
        if not sparse.issparse(X):
            X = np.ascontiguousarray(X)
        y = valuer._fit_y[keep]
        if valuer.task_ == "classification":
            codes, y = np.unique(y.astype(np.int64), return_inverse=True)
            valuer.classes_ = valuer.classes_[codes]
            y = y.astype(np.float64)
        dropped = valuer.row_ids_[gone]
        before = valuer.__dict__.get("removed_row_ids_")
        valuer.removed_row_ids_ = dropped if before is None else np.concatenate([before, dropped])
        valuer._fit_X, valuer._fit_y, valuer.row_ids_ = X, y, valuer.row_ids_[keep]
        valuer._fit_norms = _squared_norms(X)
        valuer._fit_stats = _fit_stats(X, valuer.metric)
        valuer.n_samples_fit_ = X.shape[0]
    return int(gone.sum())
