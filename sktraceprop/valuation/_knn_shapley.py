"""Exact KNN-Shapley data values (Jia et al., VLDB 2019), aggregated through lineage."""

import warnings
from dataclasses import replace
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import cpu_count, effective_n_jobs
from scipy import sparse
from sklearn import get_config
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import pairwise_distances
from sklearn.utils import gen_batches, get_tags
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from .._holders import HolderMixin, hold
from .._lineage._array_rows import check_ids_of_rows
from .._lineage._capture import resolve_row_ids
from .._lineage._current import changed_steps
from .._lineage._ids import codes_of
from .._lineage._io import lineage_frame
from .._lineage._op_rows import leaf_paths, name_only, positions_through
from .._lineage._read_paths import narrowed_table
from .._lineage._record import collect_ops, source_table, upstream_ops
from .._lineage._upstream_outputs import identify
from .._lineage._upstream_rows import restrict_rows
from .._model_lock import exclusive
from .._model_lock import shared as shared_use
from ..utils._delegation import SourcesTravelMixin
from ..utils._labels import check_label_kinds
from ..utils._prefit import KeepFittedParamsMixin, is_fitted, unfrozen
from ..utils._private_copy import shares_memory
from ..utils._progress import map_blocks
from ..utils._sklearn_compat import Interval, StrOptions
from ._distances import (
    _DOT_METRICS,
    _cosine_ranks,
    _cosine_tolerance,
    _direct_distances,
    _distances,
    _fit_stats,
    _run_kernel,
    _shift,
    _shifted,
    _squared_norms,
    _tolerances,
)
from ._exact_order import TrainingGrid, exactly_ordered
from ._magnitude import check_magnitude, magnitude_scale, scaled
from ._ties import score_tie_warning, tie_warning

__all__ = ["KNNShapleyValuer"]

# Distance entries per block of validation rows: big enough for BLAS and the parallel
# kernel to run at full speed, small enough that joblib/Dask get several tasks.
_BLOCK_ENTRIES = 1 << 21


# task="auto" with more whole-number labels than this may be a quantity, not classes.
_MANY_CLASSES = 20


def _block_rows(n_train, dense_width=0):
    """Validation rows per block: a function of the data's shape and sklearn's working_memory.

    It never depends on ``n_jobs``, so the per-block sums are added in the same order
    however the blocks are spread, and the values do not change with ``n_jobs``.
    ``dense_width`` is the number of features of a sparse training matrix: a block of
    validation rows is made dense (never the training matrix) to multiply it.
    """
    # distances overwritten by the values (8 bytes each), the kernel's sort and prefix
    # scratch (40 bytes a training row, per thread: an upper bound), the dense block
    row_bytes = 48 * n_train + 8 * dense_width
    by_memory = get_config()["working_memory"] * 2**20 // row_bytes
    return int(max(1, min(by_memory, max(16, _BLOCK_ENTRIES // n_train))))


def _labels(y, n_rows):
    if y is None:
        raise ValueError(
            f"y is None: the validation rows' labels (or targets) are needed, one per row "
            f"of X ({n_rows})"
        )
    y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
    if y.ndim == 2 and y.shape[1] == 1:
        # a column vector (df[["label"]]) is one label per row, as fit without a
        # transformer takes it (scikit-learn's DataConversionWarning)
        y = column_or_1d(y, warn=True)
    if y.ndim != 1 or y.shape[0] != n_rows:
        raise ValueError(f"y must be 1-D with one label per row of X ({n_rows}), got {y.shape}")
    return y


def _block_values(
    block,
    metric,
    X_fit,
    shift,
    fit_norms,
    fit_stats,
    y_fit,
    n_neighbors,
    regression,
    n_threads,
    fit_grid,
):
    """Sum over a block ``(X_block, y_block)`` of validation rows of their KNN-Shapley
    values, their utilities, and whether ties in distance decided each row's values and
    its utility (two boolean arrays).

    ``X_block`` is not shifted yet; ``shift`` is what the training rows were shifted by
    (None: not shifted). ``n_threads`` None runs the parallel kernel with Numba's
    current thread count. Rows whose fast distances leave two neighbours within their
    rounding error, or that the shift does not move exactly, are valued again on
    distances computed from differences, and where those may still misorder them
    (values off a common grid of one power of two), on exact rationals
    (:func:`._exact_order.exactly_ordered`; ``fit_grid``: the training rows' grid).
    """
    X_block, y_block = block
    moved = np.zeros(X_block.shape[0], dtype=np.bool_)
    shifted = X_block
    if shift is not None:
        dense = X_block.toarray() if sparse.issparse(X_block) else X_block
        shifted, exact = _shifted(dense, shift)
        moved = ~exact.all(axis=1)
    dist = _distances(metric, X_fit, fit_norms, shifted)
    near = np.zeros(dist.shape[0], dtype=np.bool_)
    tied = np.zeros(dist.shape[0], dtype=np.bool_)
    tied_utility = np.zeros(dist.shape[0], dtype=np.bool_)
    if metric == "cosine":
        tolerance = np.full(dist.shape[0], _cosine_tolerance(X_fit.shape[1]))
    else:
        tolerance = _tolerances(fit_stats, shifted)
    # the values overwrite the distances
    utility = _run_kernel(
        "knn_shapley_rows",
        (dist, y_fit, y_block, n_neighbors, regression, dist, tolerance, near, tied, tied_utility),
        n_threads,
    )
    near |= moved
    if near.any():
        rows = np.flatnonzero(near)
        if metric == "cosine":
            exact = _cosine_ranks(X_fit, X_block[rows], fit_norms, fit_stats, tolerance[0])
        else:
            exact = _direct_distances(X_fit, shift, X_block[rows], n_threads)
            exact = exactly_ordered(X_fit, shift, X_block[rows], exact, fit_grid, n_threads)
        tied_exact = np.zeros(rows.size, dtype=np.bool_)
        tied_utility_exact = np.zeros(rows.size, dtype=np.bool_)
        utility[rows] = _run_kernel(
            "knn_shapley_rows",
            (
                exact,
                y_fit,
                y_block[rows],
                n_neighbors,
                regression,
                exact,
                np.zeros(rows.size),  # distances from differences: no near ties to flag
                np.zeros(rows.size, dtype=np.bool_),
                tied_exact,
                tied_utility_exact,
            ),
            n_threads,
        )
        dist[rows] = exact
        tied[rows] = tied_exact
        tied_utility[rows] = tied_utility_exact
    return dist.sum(axis=0), utility, tied, tied_utility


class KNNShapleyValuer(HolderMixin, KeepFittedParamsMixin, SourcesTravelMixin, BaseEstimator):
    """Exact Shapley values of training rows for a K-nearest-neighbours model.

    For classification, the utility of a training subset ``S`` for a validation point
    ``(x, y)`` is the share of its ``K`` nearest neighbours in ``S`` that carry the
    label ``y``, ``U(S) = (1 / K) * sum_{k <= min(K, |S|)} 1[y_(k) = y]`` (so
    ``U(empty) = 0`` and, with fewer than ``K`` points, the missing neighbours count as
    misses). For regression it is minus the squared error of the neighbours' mean,
    ``U(S) = -((1 / K) * sum_{k <= min(K, |S|)} y_(k) - y)^2`` (so
    ``U(empty) = -y^2``). Utilities are averaged over the validation set. The Shapley
    value of each training row under this utility is computed exactly by the
    recursions of Jia et al. (VLDB 2019) in ``O(N log N)`` per validation row (a radix
    sort and one pass), in Numba kernels that run in parallel over validation rows.
    Distances are computed block by block, never as a full validation x training
    matrix; sparse data (one-hot encoded columns) stays sparse, only a block of
    validation rows at a time is made dense.

    Neighbours are ranked by distance, ties broken by the smaller training index. Where
    that rule decides values (tied rows that differ in label or target), they depend on
    the order of the training rows: :meth:`value` warns and counts those validation rows
    (``n_ties_ranked_by_index_``). :meth:`score` does the same for the rows whose
    utility the rule decides, where tied rows that differ straddle the ``K``-th
    neighbour (``n_score_ties_ranked_by_index_``).

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours ``K``. It may exceed the number of training rows.
    metric : str or callable, default="euclidean"
        ``"euclidean"`` (``"sqeuclidean"``, ``"l2"``) and ``"cosine"`` are computed
        with matrix products (BLAS); any other metric accepted by
        :func:`sklearn.metrics.pairwise_distances` is computed block by block by that
        function; ``"precomputed"`` takes the square matrix of distances between the
        training rows in :meth:`fit` and, in :meth:`value` and :meth:`score`, the
        distances from each validation row to every training row (columns in the
        training rows' order). Euclidean data are first shifted by their (rounded) mean where every
        training value moves exactly, and a validation row whose fast distances leave
        two neighbours within their rounding error, or that the shift would round, is
        ranked again on distances summed from differences of its own values, so columns
        far from zero (a Unix time) do not rank neighbours by rounding noise. Two
        distances that float64 differences cannot tell apart (they differ by less than
        the rounding of the distances themselves) count as a tie. Cosine distances
        within their rounding of each other are ranked again exactly, so rows in one
        direction at other lengths (a count row and its double) tie.
        Euclidean data whose largest magnitude lies beyond ``2**256`` or below
        ``2**-256`` (whose squares would over- or underflow) are first multiplied by
        one power of two, exactly, which leaves the neighbours' order as it is; a
        validation row whose squared distances would overflow even so is refused.
    transformer : transformer object, default=None
        When given, training and validation data are passed through
        ``transformer.transform`` and neighbours are found in its output space (dense
        or sparse). A **fitted** transformer (for example ``pipe[:-1]`` of a fitted
        pipeline, or a :class:`~sklearn.frozen.FrozenEstimator`) is used as it is,
        never refitted; ``clone`` (and so ``GridSearchCV``) keeps the same fitted
        object. An unfitted transformer is cloned and fitted on the training data in
        :meth:`fit`. Its recorded ops (``lineage_``), or else its fitted steps, are
        listed by :meth:`by_op`.
    task : {"auto", "classification", "regression"}, default="auto"
        The utility. ``"auto"`` values a regression when ``y`` is continuous (floats
        that are not all integers) and a classification otherwise; more than 20
        distinct whole numbers (days, counts) valued as classes give a ``UserWarning``
        (pass the task to choose).
    n_jobs : int, default=None
        Number of joblib workers over blocks of validation rows. ``None`` means 1
        unless in a :func:`joblib.parallel_backend` context, so
        ``parallel_backend("dask")`` spreads the blocks over a Dask cluster. With one
        worker the kernel uses all of Numba's threads; with more, each worker uses
        ``cpu_count() // n_jobs`` threads. The values do not depend on ``n_jobs``.
    verbose : int, default=0
        Show the progress of :meth:`value` and :meth:`score` over blocks of
        validation rows (``tqdm`` when installed, else lines on standard error).

    Attributes
    ----------
    task_ : {"classification", "regression"}
        The utility valued.
    classes_ : ndarray of shape (n_classes,)
        Labels seen in ``fit`` (classification only).
    n_features_in_ : int
        Number of features of ``X`` in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of ``X`` in ``fit``, when they are all strings.
    n_samples_fit_ : int
        Number of training rows.
    transformer_ : transformer object or None
        The transformer used: ``transformer`` itself when it was fitted, else a
        fitted clone of it.
    row_ids_ : ndarray of int64 of shape (n_samples_fit_,)
        Packed row id of each training row (source file and line).
    ops_ : list of Op
        Fitted steps that training rows went through: transformers fitted on whole
        sources outside any pipeline (:class:`~sktraceprop.TracedEstimator`), and the
        steps of ``transformer`` when it recorded a lineage.
    values_ : ndarray of shape (n_samples_fit_,)
        The values computed by the last call to :meth:`value`.
    n_ties_ranked_by_index_ : int
        Of the validation rows of the last call to :meth:`value`, those whose values
        the tie rule decided: two training rows at equal distance differed in label
        match (or target), and the smaller index took the nearer rank. Those values
        depend on the order of the training rows; :meth:`value` warns when any did.
    n_score_ties_ranked_by_index_ : int
        Of the validation rows of the last call to :meth:`score`, those whose utility
        the tie rule decided: a run of training rows at equal distance straddled the
        ``K``-th neighbour and its rows differed in label match (or target), so which
        of them counted among the ``K`` nearest was the smaller index's. Such a score
        depends on the order of the training rows; :meth:`score` warns when any did.
        Every such row is also counted by ``n_ties_ranked_by_index_``.

    See Also
    --------
    sklearn.neighbors.KNeighborsClassifier : The model whose utility is valued.

    Notes
    -----
    Values are averages over validation rows, and by the efficiency axiom they add up
    to ``score(X_val, y_val) - U(empty)``: the utility of the whole training set for
    classification (where ``U(empty) = 0``), and ``score(X_val, y_val) +
    mean(y_val ** 2)`` for regression. Labels of the validation set that no training
    row has simply never match; labels of another kind (text against numbers, which
    would all be such) raise a ``ValueError``.

    References
    ----------
    R. Jia, D. Dao, B. Wang, F. A. Hubis, N. M. Gurel, B. Li, C. Zhang, C. Spanos and
    D. Song, "Efficient Task-Specific Data Valuation for Nearest Neighbor Algorithms",
    Proceedings of the VLDB Endowment 12(11), 2019, pp. 1610-1623.

    Examples
    --------
    >>> import numpy as np
    >>> from sktraceprop import KNNShapleyValuer
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0, 1, 0, 0])  # row 1 looks mislabelled
    >>> val = KNNShapleyValuer(n_neighbors=1).fit(X, y)
    >>> val.value([[0.9], [1.2]], [0, 0]).tolist()
    [0.25, -0.75, 0.25, 0.25]
    >>> val.score([[0.9], [1.2]], [0, 0])
    0.0
    """

    _parameter_constraints = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "metric": [str, callable],
        "transformer": "no_validation",  # checked in fit: a fitted transformer
        "task": [StrOptions({"auto", "classification", "regression"})],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }
    _prefit_params = ("transformer",)

    def __init__(
        self,
        n_neighbors=5,
        *,
        metric="euclidean",
        transformer=None,
        task="auto",
        n_jobs=None,
        verbose=0,
    ):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.transformer = transformer
        self.task = task
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y, sample_id=None):
        """Store the training rows, their labels and their lineage.

        Parameters
        ----------
        X : {array-like, sparse matrix} or DataFrame of shape (n_samples, n_features)
            Training data. A DataFrame loaded by sktraceprop carries its row ids; with
            ``transformer``, ``X`` is what the transformer takes.
        y : array-like of shape (n_samples,) or (n_samples, 1)
            Class labels, or targets for regression (one per row; a column vector is
            taken as such, with scikit-learn's ``DataConversionWarning``).
        sample_id : array-like of int64 of shape (n_samples,), default=None
            Row ids, overriding those carried by ``X``.

        Returns
        -------
        self : object
        """
        # refitted alone: a value() under way in another thread would read half the
        # old rows and half the new (values of one set named by the other's row ids)
        with exclusive(self, "a valuer's fit"):
            self._validate_params()
            # values of the previous training rows must not be read as those of the new ones
            self.__dict__.pop("values_", None)
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is None"
                )
            # y too: untraced X whose labels show loaded rows warns, as a traced fit does
            row_ids = resolve_row_ids(X, sample_id, y=y)
            check_ids_of_rows(X, row_ids, sample_id)  # a row's value is credited to its line
            given_rows = X  # (what tells which steps fitted outside the rows went through)
            if self.transformer is None:
                self.transformer_ = None
                given = X
                X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, order="C")
                if shares_memory(X, given):
                    X = X.copy()  # kept: a later write to the caller's array must not reach it
            else:
                if not hasattr(self.transformer, "transform"):
                    raise TypeError(
                        f"transformer must have a transform method, got "
                        f"{type(self.transformer).__name__}; for a fitted pipeline ending in a "
                        "model, pass its preprocessing steps."
                    )
                validate_data(self, X, skip_check_array=True)
                if is_fitted(self.transformer):
                    self.transformer_ = self.transformer
                else:
                    self.transformer_ = clone(self.transformer).fit(X, y)
                given = X
                X = self._transform(X)
                if shares_memory(X, given):
                    X = X.copy()  # an identity transformer's output is the caller's data
                y = _labels(y, X.shape[0])
            if self.metric == "precomputed":
                if X.shape[0] != X.shape[1]:
                    raise ValueError(
                        "metric='precomputed' takes in fit the square matrix of distances "
                        "between the training rows, (n_samples, n_samples), and in value and "
                        "score the distances from each validation row to every training row, "
                        f"(n_val, n_samples); got X of shape {X.shape} in fit"
                    )
            elif self.metric not in ("euclidean", "sqeuclidean", "cosine"):
                pairwise_distances(X[:1], X[:1], metric=self.metric)  # fail early on a bad one
            self.task_ = self.task
            if self.task == "auto":
                continuous = type_of_target(y, input_name="y") == "continuous"
                self.task_ = "regression" if continuous else "classification"
            if self.task_ == "regression":
                self._fit_y = check_array(
                    y, ensure_2d=False, dtype=np.float64, copy=True, input_name="y"
                )
            else:
                check_classification_targets(y)
                self.classes_, codes = np.unique(y, return_inverse=True)
                self._fit_y = codes.astype(np.float64)
                if (
                    self.task == "auto"
                    and np.issubdtype(self.classes_.dtype, np.number)
                    and self.classes_.size > _MANY_CLASSES
                ):
                    warnings.warn(
                        f"y holds {self.classes_.size} distinct whole numbers and is valued as "
                        "a classification (task='auto'): a neighbour counts only when its "
                        "label equals the validation label exactly. If y is a quantity (a "
                        "price, a count, days), pass task='regression'; pass "
                        "task='classification' to keep this and silence the warning.",
                        UserWarning,
                        stacklevel=2,
                    )
            # values whose squares under- or overflow, brought near 1 (exactly)
            self._scale = magnitude_scale(X) if self.metric in _DOT_METRICS else None
            X = scaled(X, self._scale)
            self._shift = _shift(X) if self.metric in _DOT_METRICS else None
            if self._shift is not None:
                X = X - self._shift
            if self.metric == "precomputed":
                X = np.empty((X.shape[0], 0))  # the validation rows bring their distances
            self._fit_X = X
            self._fit_norms = _squared_norms(X)
            self._fit_stats = _fit_stats(X, self.metric)
            self.n_samples_fit_ = X.shape[0]
            self.row_ids_ = row_ids
            hold(self)  # a removal of any of these rows names this valuer
            # (a file read from several paths, copies: those the given rows were read from)
            self._sources = narrowed_table(given_rows, source_table(row_ids))
            self.ops_ = self._collect_ops(self._sources, given_rows, row_ids)
            return self

    def _held_row_ids(self):
        """The training rows whose data this valuer keeps (None without row ids)."""
        return self.row_ids_

    def _transform(self, X):
        Xt = self.transformer_.transform(X)
        return check_array(
            Xt, accept_sparse="csr", dtype=np.float64, order="C", input_name="transformed X"
        )

    def _collect_ops(self, sources, X, ids):
        # the steps fitted outside that the rows went through, told by their values
        upstream = upstream_ops(sources)
        if ids is not None:
            # each limited to the rows it transformed (one hospital's of a file)
            upstream = restrict_rows(identify(X, ids, sources, upstream), X, ids, sources)[0]
        ops = {op.fingerprint: replace(op) for op in upstream}
        transformer = unfrozen(self.transformer_)
        lineage = getattr(transformer, "lineage_", None)
        if lineage is not None and not changed_steps(transformer, lineage):
            steps = lineage.ops
        elif lineage is not None:
            # Changed since its run (refitted outside a traced fit): the run's ops are
            # not what transforms the rows now; its fitted steps are.
            steps = collect_ops(getattr(transformer, "estimator_", transformer))
        elif transformer is not None:
            # A fitted transformer without its own run (e.g. ``pipe[:-1]``): its fitted
            # steps, applied to every row.
            steps = collect_ops(transformer)
        else:
            steps = []
        for op in steps:
            ops.setdefault(op.fingerprint, replace(op))
        return list(ops.values())

    # -- valuing ---------------------------------------------------------------------------
    def _validation_data(self, X, y):
        check_is_fitted(self)
        if self.transformer_ is None:
            X = validate_data(
                self, X, accept_sparse="csr", dtype=np.float64, order="C", reset=False
            )
        else:
            validate_data(self, X, skip_check_array=True, reset=False)
            X = self._transform(X)
        if self.metric in _DOT_METRICS:
            X = scaled(X, getattr(self, "_scale", None))  # (a valuer pickled before it)
            check_magnitude(self._fit_X, X)
        y = _labels(y, X.shape[0])
        if self.task_ == "regression":
            return X, check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        # Labels no training row has never match: code -1 (labels of another kind, text
        # against numbers, would all be such: refused).
        check_label_kinds(y, self.classes_, f"this {type(self).__name__}'s training rows")
        pos = np.searchsorted(self.classes_, y).clip(0, self.classes_.size - 1)
        return X, np.where(self.classes_[pos] == y, pos, -1).astype(np.float64)

    def _run(self, X, y, desc):
        n_train = self.n_samples_fit_
        dense_width = self._fit_X.shape[1] if sparse.issparse(self._fit_X) else 0
        blocks = gen_batches(X.shape[0], _block_rows(n_train, dense_width))
        n_jobs = effective_n_jobs(self.n_jobs)
        # One worker: the kernel uses Numba's threads as configured; several: share cores.
        n_threads = None if n_jobs == 1 else max(1, cpu_count() // n_jobs)
        results = map_blocks(
            _block_values,
            [(X[block], y[block]) for block in blocks],
            shared=(
                self.metric,
                self._fit_X,
                getattr(self, "_shift", None),  # (a valuer pickled before it was kept)
                self._fit_norms,
                getattr(self, "_fit_stats", None),
                self._fit_y,
                self.n_neighbors,
                self.task_ == "regression",
                n_threads,
                TrainingGrid(self._fit_X, getattr(self, "_shift", None)),
            ),
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            desc=desc,
        )
        total = np.zeros(n_train)
        for block_sum, *_ in results:
            total += block_sum
        utility, tied, tied_utility = (
            np.concatenate([block[i] for block in results]) for i in (1, 2, 3)
        )
        return total / X.shape[0], utility, tied, tied_utility

    def value(self, X, y):
        """Exact KNN-Shapley value of every training row on a validation set.

        Parameters
        ----------
        X : {array-like, sparse matrix} or DataFrame of shape (n_val, n_features)
            Validation data.
        y : array-like of shape (n_val,) or (n_val, 1)
            Validation labels or targets, one per row.

        Returns
        -------
        values : ndarray of shape (n_samples_fit_,)
            The value of each training row, averaged over validation rows; also stored
            in ``values_``. They sum to ``score(X, y)`` for classification and to
            ``score(X, y) + mean(y ** 2)`` for regression.
        """
        with shared_use(self):  # never during a fit of this valuer (see fit)
            X, y = self._validation_data(X, y)
            values, _, tied, _ = self._run(X, y, "KNN-Shapley values")
            n_tied = int(tied.sum())
            # Locals first: another thread's value() may store its own values_ at any
            # moment; this call returns (and warns about) its own.
            self.values_, self.n_ties_ranked_by_index_ = values, n_tied
            if n_tied:
                warnings.warn(
                    tie_warning(n_tied, tied.size, self.task_), UserWarning, stacklevel=2
                )
            return values

    def score(self, X, y):
        """KNN utility of the whole training set on a validation set.

        Parameters
        ----------
        X : {array-like, sparse matrix} or DataFrame of shape (n_val, n_features)
            Validation data.
        y : array-like of shape (n_val,) or (n_val, 1)
            Validation labels or targets, one per row.

        Returns
        -------
        score : float
            Classification: mean over validation rows of the share of the ``K``
            nearest training rows that carry the row's label (missing neighbours when
            ``K`` exceeds the number of training rows count as misses). Regression:
            minus the mean squared error of the mean target of the ``K`` nearest rows
            (summed over at most ``K`` rows, divided by ``K``). Where training rows
            at equal distance straddle the ``K``-th neighbour and differ in label match
            (or target), the smaller index counts: a ``UserWarning`` says in how many
            validation rows, also stored in ``n_score_ties_ranked_by_index_``.
        """
        with shared_use(self):  # never during a fit of this valuer (see fit)
            X, y = self._validation_data(X, y)
            _, utility, _, tied = self._run(X, y, "KNN utility")
            self.n_score_ties_ranked_by_index_ = int(tied.sum())
            if self.n_score_ties_ranked_by_index_:
                warnings.warn(
                    score_tie_warning(self.n_score_ties_ranked_by_index_, tied.size, self.task_),
                    UserWarning,
                    stacklevel=2,
                )
            return float(utility.mean())

    # -- aggregation -----------------------------------------------------------------------
    def _lineage_rows(self):
        check_is_fitted(self)
        check_is_fitted(
            self, "values_", msg="No values_ yet: call value(X_val, y_val) on this %(name)s."
        )
        frame = lineage_frame(self.row_ids_, self._sources.__getitem__)
        # a source is one content (versions of a source_id share the name); an alias
        # code (the same source coded in another process) joins the first code
        first = {}
        for code, source in sorted(self._sources.items()):
            first.setdefault((source.source_id, source.uri, source.sha256), code)
        canonical = {
            code: first[(s.source_id, s.uri, s.sha256)] for code, s in self._sources.items()
        }
        codes = codes_of(frame["row_id"].to_numpy())
        frame["code"] = pd.Series(codes, index=frame.index).map(canonical)
        frame = frame.drop_duplicates(["row", "code"])
        frame["value"] = self.values_[frame["row"].to_numpy()]
        return frame

    def by_source(self):
        """Values of the training rows summed and averaged per source.

        A source is one content (SHA-256): two files read under one ``source_id`` (two
        folders' ``data.csv``, both named ``data`` by default) or two versions of one
        file are two rows of the table, told apart by ``uri`` and ``sha256``. A row
        built by :func:`sktraceprop.merge` counts, with its full value, toward each
        source of its parents; with merges the per-source sums can therefore add up to
        more than the total.

        Returns
        -------
        table : DataFrame
            Columns ``source_id``, ``uri``, ``sha256``, ``n_rows``, ``sum`` and
            ``mean`` of the values in ``values_``, one row per source, sorted by
            ``source_id``, then ``uri``, then load time. A file read from several
            paths (copies under one ``source_id``) whose rows given to fit did not
            carry the path they were read from (see :func:`sktraceprop.row_lineage`)
            has no ``uri``, and a ``uris`` column lists its paths (each holding the
            same bytes).
        """
        with shared_use(self):  # never during a fit of this valuer (see fit)
            frame = self._lineage_rows()
            grouped = frame.groupby("code", sort=False)["value"]
            table = grouped.agg(n_rows="size", sum="sum", mean="mean")
            sources = [self._sources[int(code)] for code in table.index]
            order = sorted(
                range(len(sources)),
                key=lambda i: (
                    sources[i].source_id,
                    sources[i].uri,
                    sources[i].loaded_at,
                    sources[i].sha256,
                ),
            )
            several = [len(s.uris()) > 1 for s in sources]  # copies: which is not known
            head = pd.DataFrame(
                {
                    "source_id": [s.source_id for s in sources],
                    "uri": [None if k else s.uri for s, k in zip(sources, several)],
                    "sha256": [s.sha256 for s in sources],
                }
            )
            if any(several):
                head["uris"] = pd.Series([tuple(s.uris()) for s in sources], dtype=object)
            out = pd.concat([head, table.reset_index(drop=True)], axis=1)
            return out.iloc[order].reset_index(drop=True)

    def by_op(self):
        """Values of the training rows summed and averaged per preprocessing op.

        A row counts toward an op when the op was fitted on the row's source (a
        :class:`~sktraceprop.TracedEstimator` fitted on one source, e.g. a scaler per
        hospital before concatenation; for a merged row, on a parent's source or on the
        merge), or when the op is a step of ``transformer`` (applied to every row). A
        row counts toward every op it went through, so the sums over ops need not add
        up to the total. A group's sum is the sum of its rows' Shapley values, not the
        Shapley value of the group as a single player.

        An op records the sources it was fitted on by content (``source_id`` and
        SHA-256), so of two folders' ``data.csv`` read without ``source_id=`` (or two
        versions of a file) only the rows of the one it was fitted on count toward it.
        An op recorded before ops kept their sources' contents names source ids only:
        when several sources of the training rows carry one of them, which of them the
        op transformed is not known, and its ``n_rows``, ``sum`` and ``mean`` are NaN,
        with a warning.

        Returns
        -------
        table : DataFrame
            Columns ``op`` (step name), ``cls``, ``fingerprint``, ``sources`` (the
            sources the op was fitted on, ``None`` for every row), ``n_rows``, ``sum``
            and ``mean``, one row per op, in the order of ``ops_``.
        """
        with shared_use(self):  # never during a fit of this valuer (see fit)
            self._lineage_rows()  # (checks that values were computed)
            paths = leaf_paths(self.row_ids_, self._sources.__getitem__)
            records, unknown = [], []
            for op in self.ops_:
                shared = name_only(op, self._sources)
                if shared:
                    unknown.append(f"{op.name} (fitted on {', '.join(map(repr, shared))})")
                    records.append(
                        {
                            "op": op.name,
                            "cls": op.cls,
                            "fingerprint": op.fingerprint,
                            "sources": list(op.sources),
                            "n_rows": np.nan,
                            "sum": np.nan,
                            "mean": np.nan,
                        }
                    )
                    continue
                hit = positions_through(op, self._sources, paths, self.n_samples_fit_)
                values = self.values_[hit]
                records.append(
                    {
                        "op": op.name,
                        "cls": op.cls,
                        "fingerprint": op.fingerprint,
                        "sources": None if op.sources is None else list(op.sources),
                        "n_rows": int(hit.sum()),
                        "sum": values.sum(),
                        "mean": values.mean() if values.size else np.nan,
                    }
                )
            if unknown:
                warnings.warn(
                    f"by_op: ops {'; '.join(unknown)} record a source id that several sources "
                    "of the training rows carry (other files or other contents of one file): "
                    "which of them each op transformed is not recorded, and its n_rows, sum "
                    "and mean are NaN. Read each file with its own source_id= to tell them "
                    "apart.",
                    UserWarning,
                    stacklevel=2,
                )
            columns = ["op", "cls", "fingerprint", "sources", "n_rows", "sum", "mean"]
            return pd.DataFrame.from_records(records, columns=columns)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # cross-validation slices a precomputed matrix by rows and columns
        tags.input_tags.pairwise = self.metric == "precomputed"
        if self.transformer is None:
            tags.input_tags.sparse = True
        elif isinstance(unfrozen(self.transformer), BaseEstimator):
            # the transformer takes X: sparse input is accepted when it accepts it
            tags.input_tags.sparse = get_tags(unfrozen(self.transformer)).input_tags.sparse
        return tags
