"""Exact KNN-Shapley data values (Jia et al., VLDB 2019), aggregated through lineage: the
estimator :class:`KNNShapleyValuer` (what it keeps of its training rows: `._fit_rows`)."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import get_tags

from .._holders import HolderMixin
from .._model_lock import exclusive
from .._model_lock import shared as shared_use
from .._state_format import StateFormatMixin
from ..utils._delegation import SourcesTravelMixin
from ..utils._fit_under_way import FitStateCarryMixin, fit_marked
from ..utils._prefit import KeepFittedParamsMixin, unfrozen
from ..utils._sklearn_compat import Interval, StrOptions
from ._erased import OfFit, said_by_call, warn_erased_valued
from ._fit_rows import fit_rows, forget_rows
from ._group_tables import GroupTablesMixin
from ._ties import score_tie_warning, tie_warning
from ._transformer_read import TransformerCarryMixin
from ._validation import validation_rows
from ._value_blocks import value_blocks

__all__ = ["KNNShapleyValuer"]


class KNNShapleyValuer(
    StateFormatMixin,
    GroupTablesMixin,
    TransformerCarryMixin,
    FitStateCarryMixin,
    HolderMixin,
    KeepFittedParamsMixin,
    SourcesTravelMixin,
    BaseEstimator,
):
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
    that rule decides values (tied rows that differ in label; for a regression, tied
    rows with different targets where another order of them gives other values, which
    two rows at one squared error around the validation target with ``K = 1`` do not),
    they depend on the order of the training rows: :meth:`value` warns and counts those
    validation rows (``n_ties_ranked_by_index_``). :meth:`score` does the same for the rows whose
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
        function, whose float64 distances rank the rows as they come (exact on
        integer data; on decimal data, distances within their rounding of each other
        may tie or swap); ``"precomputed"`` takes the square matrix of distances
        between the training rows in :meth:`fit` and, in :meth:`value` and
        :meth:`score`, the distances from each validation row to every training row
        (columns in the training rows' order): negative ones are refused, and a
        training matrix with a nonzero diagonal (a similarity?) warns. Euclidean
        data are first shifted by their (rounded) mean where every training value
        moves exactly, and a validation row whose fast distances leave
        two neighbours within their rounding error, or that the shift would round, is
        ranked again on distances summed from differences of its own values, so columns
        far from zero (a Unix time) do not rank neighbours by rounding noise. Two
        distances that float64 differences cannot tell apart (they differ by less than
        the rounding of the distances themselves) count as a tie. Cosine distances
        within their rounding of each other are ranked again exactly, so rows in one
        direction at other lengths (a count row and its double) tie. A row of zeros has
        no direction: it is at cosine distance 1 from every row (a zero validation row
        from every training row), as in :func:`sklearn.metrics.pairwise.cosine_distances`,
        tied with the rows orthogonal to the validation row.
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
        object (a ``TargetEncoder`` or sampler in it warns: its model was fitted on other
        features or rows than ``transform`` gives). An unfitted transformer is cloned
        and fitted by ``fit_transform`` on the training data in :meth:`fit`, whose
        output the training rows are valued on, as a pipeline fits the model after it
        (a ``TargetEncoder``'s cross-fitted encodings); a sampler in it is refused.
        Either way every subset is valued in that one feature space (the transformer is
        not refitted per subset of rows).
        Its recorded ops (``lineage_``), or else its fitted steps, are
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

    An erasure request (:meth:`~sktraceprop.stores.BaseStore.erase_rows`) made in this
    process drops the rows it names from the valuer. A valuer pickled before it and
    loaded after (or fitted on the rows elsewhere) still holds them: ``values_``,
    ``row_ids_``, ``classes_``, ``ops_``, ``transformer_``, the tie counts,
    :meth:`value`, :meth:`score`, :meth:`by_source` and :meth:`by_op` then warn
    (:class:`~sktraceprop.exceptions.ErasedRowsHeldWarning`, naming the requests),
    checked against the requests made in this process and those recorded in the store
    of a traced ``transformer``; where that store cannot be read, an
    :class:`~sktraceprop.exceptions.ErasuresUnknownWarning` says it is not known.

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

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)

    # read from outside, each says where its rows were erased at request since the fit
    # (see _erased: kept under their own names, so the pickle is unchanged)
    values_ = OfFit()
    row_ids_ = OfFit()
    classes_ = OfFit()
    ops_ = OfFit()
    transformer_ = OfFit()
    n_ties_ranked_by_index_ = OfFit()
    n_score_ties_ranked_by_index_ = OfFit()

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
        # marked while it runs: a copy made meanwhile (pickle, deepcopy) says so
        with exclusive(self, "a valuer's fit"), fit_marked(self):
            return fit_rows(self, X, y, sample_id)

    def _held_row_ids(self):
        """The training rows whose data this valuer keeps (None without row ids): with a
        ``transformer`` fitted here, rows dropped by a removal too (what it learnt from
        them stays)."""
        dropped = self.__dict__.get("removed_row_ids_")
        if dropped is None or self.transformer_ is None:
            return self.row_ids_
        return np.concatenate([self.row_ids_, dropped])

    def _forget_rows(self, removed_ids, by=None):
        """Drop the rows of ``removed_ids`` (a removal's, see
        :func:`sktraceprop._holders.held_elsewhere`'s ``dropped``): their features and labels are
        deleted, and the statistics computed over the rows here (shift, scale, the
        distances' error bound, the classes) recomputed over the rows kept, so that
        :meth:`value` equals that of a valuer fitted on the rows kept, where no
        ``transformer`` was fitted here; ``values_`` is discarded. Returns how many rows
        were dropped."""
        with exclusive(self, "a removal of a valuer's rows"):
            return forget_rows(self, removed_ids, by)

    # -- valuing ---------------------------------------------------------------------------
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
        # never during a fit of this valuer (see fit); erased rows said once, below
        with shared_use(self), said_by_call():
            if not getattr(
                self, "n_samples_fit_", 1
            ):  # (a removal dropped every row: _forget_rows)
                raise ValueError(
                    "every training row of this KNNShapleyValuer was removed (by an "
                    "unlearner's removal or an erasure request): it has no rows to "
                    "value; fit it again on the rows kept"
                )
            # values of rows erased at request since the fit: said (see _erased)
            warn_erased_valued(self, f"{type(self).__name__}.value")
            X, y = validation_rows(self, X, y)
            values, _, tied, _ = value_blocks(self, X, y, "KNN-Shapley values")
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
        # never during a fit of this valuer (see fit); erased rows said once, below
        with shared_use(self), said_by_call():
            warn_erased_valued(self, f"{type(self).__name__}.score")
            X, y = validation_rows(self, X, y)
            _, utility, _, tied = value_blocks(self, X, y, "KNN utility")
            self.n_score_ties_ranked_by_index_ = int(tied.sum())
            if self.n_score_ties_ranked_by_index_:
                warnings.warn(
                    score_tie_warning(self.n_score_ties_ranked_by_index_, tied.size, self.task_),
                    UserWarning,
                    stacklevel=2,
                )
            return float(utility.mean())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # cross-validation slices a precomputed matrix by rows and columns
        tags.input_tags.pairwise = self.metric == "precomputed"
        # distances are never negative (negative ones are refused, as scikit-learn does)
        tags.input_tags.positive_only = tags.input_tags.pairwise
        if self.transformer is None:
            tags.input_tags.sparse = True
        elif isinstance(unfrozen(self.transformer), BaseEstimator):
            # the transformer takes X: sparse input is accepted when it accepts it
            tags.input_tags.sparse = get_tags(unfrozen(self.transformer)).input_tags.sparse
        return tags
