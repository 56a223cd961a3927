"""Traced pipelines: sklearn ``Pipeline`` that records row and feature lineage per fit."""

from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if

from ._erased_use import warn_erased_use
from ._lineage._bare_outputs import remembered_output
from ._lineage._final import (
    final_fit_rows,
    final_row_ids,
    model_inputs,
    pipeline_leaf,
    refuse_frozen,
)
from ._lineage._fitted_elsewhere import watch_step_fits
from ._lineage._record import build_lineage, collect_ops
from ._lineage._skorch import rows_trained, skorch_fit_indices
from ._model_lock import exclusive
from ._prediction_log import PredictionLogMixin
from ._tracing import TracedMixin
from .utils._sklearn_compat import name_estimators

__all__ = ["TracedPipeline", "make_traced_pipeline"]


def _final_has(*attrs, passthrough=False):
    def check(self):
        final = self._final_estimator
        if final is None or final == "passthrough":
            return passthrough
        return any(hasattr(final, a) for a in attrs)

    return check


class _TracedPipelineMixin(PredictionLogMixin, TracedMixin):
    # One signature for TracedPipeline and TracedImbPipeline: each's pipeline parameters
    # plus store and log_predictions (read by get_params through this __init__).
    def __init__(
        self,
        steps,
        *,
        store=None,
        log_predictions=False,
        transform_input=None,
        memory=None,
        verbose=False,
    ):
        self.store = store
        self.log_predictions = log_predictions
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)

    def fit(self, X, y=None, sample_id=None, **params):
        """Fit the pipeline and record its lineage in ``lineage_`` (and ``store``).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; a DataFrame loaded by sktraceprop carries its row ids.
        y : array-like of shape (n_samples,), default=None
            Targets.
        sample_id : array-like of int64 of shape (n_samples,), default=None
            Row ids of the samples; overrides the ids carried by ``X``. Sliced per fold
            by ``GridSearchCV`` like ``sample_weight``.
        **params : dict
            Parameters passed to the steps, as for :class:`sklearn.pipeline.Pipeline`.

        Returns
        -------
        self : object
        """
        self._fit_traced(super().fit, X, y, sample_id, params)
        return self

    @available_if(_final_has("fit_transform", "transform", passthrough=True))
    def fit_transform(self, X, y=None, sample_id=None, **params):
        """Fit, record lineage, and return the transformed training data."""
        fit_transform = super().fit_transform
        return remembered_output(
            self,
            "fit_transform",
            X,
            lambda: self._fit_traced(fit_transform, X, y, sample_id, params),
            sample_id,
        )

    @available_if(_final_has("transform", passthrough=True))
    def transform(self, X, **params):
        """Transform ``X`` with every step, as :meth:`sklearn.pipeline.Pipeline.transform`."""
        transform = super().transform
        return remembered_output(self, "transform", X, lambda: transform(X, **params))

    @available_if(_final_has("fit_predict"))
    def fit_predict(self, X, y=None, sample_id=None, **params):
        """Fit, record lineage, and return ``fit_predict`` of the final estimator."""
        return self._fit_traced(super().fit_predict, X, y, sample_id, params)

    def _fit_traced(self, method, X, y, sample_id, params):
        leaf, steps = pipeline_leaf(self)
        refuse_frozen(leaf)
        # The spies below are set in the fitted steps' own dicts: not while a logged call
        # in another thread reads them (scikit-learn's check_is_fitted iterates them).
        with (
            exclusive(self),
            skorch_fit_indices(self._final_estimator) as seen,
            final_fit_rows(leaf, steps) as final,
            watch_step_fits(self) as fits,
        ):
            return self._traced_fit(method, X, y, sample_id, params, context=(seen, final, fits))

    def _build_lineage(self, X, ids, context):
        seen, final, fits = context
        leaf, steps = pipeline_leaf(self)
        previous = getattr(getattr(self, "lineage_", None), "run_id", None)
        try:
            row_ids, notes, traced = final_row_ids(X, ids, steps, leaf, final, previous)
        except Exception:
            # a sampler refitted elsewhere meanwhile has its sample_indices_ name other
            # rows than reached the model: that is the cause to say, not the rows
            fits.check(type(self).__name__)
            raise
        if traced and seen.indices is not None:
            notes.append(
                f"the final estimator trained on {seen.indices.size} of the "
                f"{ids.size} rows; the rest formed its internal validation split"
            )
        row_ids = rows_trained(row_ids, self._final_estimator, seen, traced, notes)
        transformer = model_inputs(self)
        ops = collect_ops(self)  # (the fingerprints of the steps' fitted state)
        fits.check(type(self).__name__)  # a step fitted elsewhere meanwhile: no run
        fits.stop()  # (checked: the lineage's own calls of the steps are not watched)
        return build_lineage(self, X, ids, row_ids, transformer, ops, notes=notes)

    @available_if(_final_has("score"))
    def score(self, X, y=None, sample_weight=None, **params):
        """Score, as :meth:`sklearn.pipeline.Pipeline.score` (not logged).

        A model holding training rows erased at request since its fit says so at its
        first use, as at its first ``predict`` (see :class:`TracedPipeline`).
        """
        warn_erased_use(self, getattr(self, "store", None))
        return super().score(X, y, sample_weight=sample_weight, **params)

    def get_metadata_routing(self):
        """Metadata routing of the steps, plus the pipeline's own ``sample_id``."""
        return self._add_sample_id_request(super().get_metadata_routing())


class TracedPipeline(_TracedPipelineMixin, Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` that records lineage each time it is fitted.

    Each fit records a run (:class:`~sktraceprop.Lineage`) in ``lineage_`` and, when
    ``store`` is given, appends it to the store: a UUID and UTC time, library versions,
    the sources of the training rows, every step as an op (class, parameters,
    fingerprint of fitted state, feature names), feature lineage, and the row ids the
    final estimator was fitted on.

    Row ids come from the index of a DataFrame loaded with :func:`sktraceprop.read_csv`
    (or ``from_pandas``/``from_numpy``), or from the ``sample_id`` fit parameter.
    Data that lost its ids raises :class:`~sktraceprop.exceptions.LineageLostError`;
    data that never had any is recorded as an anonymous source (lines are positions).

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As for :class:`sklearn.pipeline.Pipeline`.
    store : BaseStore, default=None
        Where runs are appended (e.g. ``SQLiteStore("lineage.db")``). None keeps the
        run only in ``lineage_``.
    log_predictions : bool, default=False
        Append a ``"prediction"`` audit event to ``store`` for every ``predict``,
        ``predict_proba``, ``predict_log_proba`` and ``decision_function`` call: the
        run that answered, the UTC time, the number of rows, the SHA-256 of the input
        rows (:func:`sktraceprop.compliance.hash_rows`) and the outputs (predicted
        labels as class indices, scores as float64). Requires ``store``. ``score``
        is not logged.
    transform_input : list of str, default=None
        As for :class:`sklearn.pipeline.Pipeline`.
    memory : str or object with the joblib.Memory interface, default=None
        As for :class:`sklearn.pipeline.Pipeline`.
    verbose : bool, default=False
        As for :class:`sklearn.pipeline.Pipeline`.

    Attributes
    ----------
    lineage_ : Lineage
        The run recorded by the last fit.

    Warns
    -----
    UserWarning
        If the final step is a skorch net whose training iterator draws rows by a
        sampler (``iterator_train__sampler`` or ``__batch_sampler``) that fetched no row
        of a class of its training rows in any epoch: its output for the class was
        never trained. The rows fetched are recorded in this process only: a loader
        with ``iterator_train__num_workers > 0``, targets carried inside a torch
        ``Dataset`` given as ``X``, or an iterable dataset cannot be seen, and nothing
        is said of them; nor of how often each row was drawn.
    ErasedRowsHeldWarning
        At the first ``predict``, ``predict_proba``, ``predict_log_proba``,
        ``decision_function`` or ``score`` call (logged or not) of a model whose run
        holds training rows that an erasure request named after it was fitted (recorded
        in ``store``, or made in this process): fitted or pickled before it, the model still
        holds what it learnt from them until refitted on the rows kept or corrected by
        an unlearner. Said once per object (a load, a copy) and store, and again after
        a request made in this process since; later calls read nothing.
    ErasuresUnknownWarning
        At that first call, where ``store`` cannot be read (moved, deleted, on another
        machine, corrupt or busy): whether training rows were erased is not known. The
        call is answered all the same.

    See Also
    --------
    make_traced_pipeline : Build a TracedPipeline from estimators.

    Examples
    --------
    >>> import sktraceprop as stp
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = stp.datasets.load_demo(return_X_y=True)
    >>> pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    >>> pipe = pipe.fit(X.select_dtypes("number"), y)
    >>> pipe.trace([0])[["source_id", "line"]].values.tolist()
    [['hospital_a', 2]]
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)


def _has_sampler(estimators):
    return any(hasattr(e, "fit_resample") for e in estimators)


def make_traced_pipeline(
    *steps,
    store=None,
    log_predictions=False,
    memory=None,
    transform_input=None,
    verbose=False,
):
    """Build a traced pipeline from estimators, naming steps like ``make_pipeline``.

    If a step is an imbalanced-learn style sampler (has ``fit_resample``), the result
    is a :class:`~sktraceprop.TracedImbPipeline`, which follows rows through the
    sampler's ``sample_indices_``.

    Parameters
    ----------
    *steps : list of estimators
    store : BaseStore, default=None
        Where each fit's run is appended.
    log_predictions : bool, default=False
        Log every prediction call as an audit event in ``store`` (see
        :class:`TracedPipeline`).
    memory, transform_input, verbose
        As for :func:`sklearn.pipeline.make_pipeline`.

    Returns
    -------
    pipeline : TracedPipeline or TracedImbPipeline
    """
    cls = TracedPipeline
    if _has_sampler(steps):
        from ._imblearn import TracedImbPipeline as cls
    return cls(
        name_estimators(steps),
        store=store,
        log_predictions=log_predictions,
        memory=memory,
        transform_input=transform_input,
        verbose=verbose,
    )
