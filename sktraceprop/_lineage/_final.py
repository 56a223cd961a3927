"""The rows that reach the final estimator of a pipeline, checked against the recorded ids.

A step may change the rows of ``X`` without saying so: a ``FunctionTransformer`` that
filters or sorts a DataFrame. With ``y`` scikit-learn refuses a changed row count but not
a changed order; without ``y`` (clustering, outlier detection) it refuses neither. The
ids given to ``fit`` would then name lines whose data the model never saw, so the data
the final estimator receives is looked at as it arrives: by the row ids it carries, or,
where a step returned none, by a few rows run through the steps again
(:mod:`._row_order`).
"""

from contextlib import contextmanager

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..exceptions import LineageError, LineageLostError
from ..utils._sklearn_compat import num_samples
from ._capture import carried_ids, describe_id
from ._record import resample_ids
from ._row_order import check_order, deep_params, nested_note, unchecked_steps

_FIT_METHODS = ("fit", "fit_transform", "fit_predict")


def pipeline_leaf(estimator):
    """The innermost final step of (nested) pipelines, and every step before it, in order."""
    steps = []
    while isinstance(estimator, Pipeline):
        steps += estimator.steps[:-1]
        estimator = estimator.steps[-1][1]
    return estimator, steps


def model_of(estimator):
    """The model inside ``estimator``, and the steps before it, in order: the innermost
    final step of (nested) pipelines, looking into the fitted regressor of a
    ``TransformedTargetRegressor`` (which transforms the target, not the features)."""
    steps = []
    while True:
        if isinstance(estimator, Pipeline):
            steps += estimator.steps[:-1]
            estimator = estimator.steps[-1][1]
        elif isinstance(estimator, TransformedTargetRegressor) and hasattr(
            estimator, "regressor_"
        ):
            estimator = estimator.regressor_
        else:
            return estimator, steps


def model_inputs(estimator):
    """The steps before the model of ``estimator`` (see :func:`model_of`), as one pipeline
    whose output features are the model's inputs; None when there are none.

    A pipeline as the final step of another (``make_pipeline(scaler, make_pipeline(
    PolynomialFeatures(), LogisticRegression()))``), or as the regressor of a
    ``TransformedTargetRegressor``, has steps of its own: the model's inputs are their
    outputs, not the outer steps' ones.
    """
    steps = model_of(estimator)[1]
    return Pipeline(list(steps)) if steps else None


def refuse_frozen(leaf):
    """Refuse a frozen final estimator: a fit does not train it on the rows it is given."""
    if isinstance(leaf, FrozenEstimator):
        raise LineageError(
            "the final estimator is a FrozenEstimator: fit leaves it as it was trained, on "
            "other rows, so a run would name the rows given to fit as its training rows. "
            "Trace the model where it was fitted (a traced pipeline's own fit), and "
            "explain it with InfluenceExplainer(FrozenEstimator(traced_pipeline))."
        )


def frozen_inside_note(leaf, step):
    """The run's note when the final estimator ``leaf`` holds a ``FrozenEstimator`` (a
    ``CalibratedClassifierCV``, ``TunedThresholdClassifierCV`` or ensemble around a
    model trained before): fit leaves that model as it was, trained on rows the run
    does not list; None when it holds none."""
    params = deep_params(leaf)
    if params is None:
        return None
    names = sorted(name for name, value in params.items() if isinstance(value, FrozenEstimator))
    if not names:
        return None
    return (
        f"{step} holds FrozenEstimator(s) ({', '.join(names)}): its fit left the model(s) "
        "inside as they were trained, on rows this run does not list; the rows given to "
        "fit trained only the rest (a calibrator, a threshold, the ensemble's final "
        "estimator). Trace the frozen model(s) where they were fitted"
    )


#: How a run's note says its final estimator continued from an earlier fit.
WARM_START_NOTE = "was fitted with warm_start=True on top of its previous fit"


class FinalRows:
    """What the final estimator was fitted on: row count, carried row ids, with a target;
    whether the fit continued from its previous one (``warm_start=True``); and the rows
    of a validation set given to it (``X_val``), None when none was."""

    n = None
    ids = None
    with_y = False
    warm = False
    n_val = None
    #: Whether to keep the data the final estimator receives (``received``) for
    #: :func:`._row_order.check_order`: a step before it may have moved rows.
    watch = False
    received = None

    def see_validation_set(self, params):
        """Note the ``X_val`` among the fit parameters ``params`` of the final estimator
        (HistGradientBoosting stops early on it instead of a split of its rows)."""
        if params.get("X_val") is None:
            return
        try:
            self.n_val = num_samples(params["X_val"])
        except TypeError:
            self.n_val = -1


def _warm_started(estimator):
    """Whether fitting ``estimator`` now continues from its fitted state."""
    if getattr(estimator, "warm_start", False) is not True:
        return False
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _class_method(estimator, name):
    """``estimator.<name>`` as its class defines it (descriptors such as available_if kept)."""
    for klass in type(estimator).__mro__:
        if name in vars(klass):
            return vars(klass)[name].__get__(estimator, type(estimator))
    raise AttributeError(name)


class _Spy:
    """Stands in for one fit method of the final estimator during a traced fit."""

    def __init__(self, estimator, name, seen, inner=None):
        self.estimator, self.name, self.seen = estimator, name, seen
        # another spy already standing in for the method (an explainer's): called in turn
        self.inner = inner

    def __call__(self, X, *args, **kwargs):
        seen = self.seen
        if seen.n is None:  # the outer call: fit_predict may call fit again on the same X
            try:
                seen.n = num_samples(X)
            except TypeError:  # inputs without a row count (a dict of arrays)
                seen.n = -1
            seen.ids = carried_ids(X)
            if seen.watch:
                seen.received = X
            seen.with_y = (args[0] if args else kwargs.get("y")) is not None
            seen.see_validation_set(kwargs)
        if self.inner is not None:
            return self.inner(X, *args, **kwargs)
        return _class_method(self.estimator, self.name)(X, *args, **kwargs)

    def __reduce__(self):
        # An estimator pickled during its own fit (Bagging sends itself to joblib
        # workers) arrives there with its plain method, not this spy.
        return (_class_method, (self.estimator, self.name))


@contextmanager
def final_fit_rows(estimator, steps=()):
    """Record what ``estimator`` is fitted on while the block runs (see :class:`FinalRows`);
    ``steps`` are the steps before it, ``(name, step)``: where one's code alone decides
    which rows it returns, the data reaching ``estimator`` without row ids is kept."""
    seen = FinalRows()
    seen.watch = bool(unchecked_steps(steps))
    if estimator is None or isinstance(estimator, str):
        yield seen
        return
    seen.warm = _warm_started(estimator)
    names = [n for n in _FIT_METHODS if callable(getattr(estimator, n, None))]
    inner = {name: estimator.__dict__[name] for name in names if name in estimator.__dict__}
    for name in names:
        # the instance's own dict: skorch's __setattr__ would register a spy as a module
        estimator.__dict__[name] = _Spy(estimator, name, seen, inner.get(name))
    try:
        yield seen
    finally:
        for name in names:
            estimator.__dict__.pop(name, None)
        estimator.__dict__.update(inner)


def _describe(ids, k):
    if k >= ids.size:
        return "no row"
    return describe_id(ids[k])


def final_row_ids(X, ids, steps, leaf, seen, previous_run=None):
    """Ids of the rows the final estimator was fitted on, notes, and whether they are known.

    Follows ``ids`` (the rows given to ``fit``) through the samplers among ``steps``, then
    checks them against what reached ``leaf`` (``seen``, see :func:`final_fit_rows`).
    ``previous_run`` is the id of the run of the estimator's previous fit, named in the
    note of a warm-started fit.

    Raises
    ------
    LineageError
        The data reaching the final estimator carried other row ids than were given to
        ``fit`` while a target came with it: a step reordered or replaced the rows of X
        but not of ``y``, so rows met other rows' targets.
    LineageLostError
        The row count changed and the data carried no ids to say which rows remain.
    """
    row_ids, notes, traced = resample_ids(ids, steps)
    step = f"the final step ({type(leaf).__name__})"
    # (the final estimator's input, held no longer than this check needs it)
    received, seen.received = seen.received, None
    for note in (nested_note(leaf, step), frozen_inside_note(leaf, step)):
        if note is not None:
            notes.append(note)
    if seen.warm:
        run = f" (run {previous_run})" if previous_run else ""
        notes.append(
            f"{step} {WARM_START_NOTE}{run}: its "
            "parameters also depend on the rows that fit used, which this run does not list"
        )
    held_out = _validation_fraction(leaf)
    if seen.n_val is not None:
        rows = f"{seen.n_val} rows" if seen.n_val >= 0 else "rows"
        notes.append(
            f"{step} was given a validation set as X_val ({rows}, fit_params names it): "
            "those rows decided when training stopped but were not trained on, and are "
            "not among the run's rows; no split of the rows given to fit was held out"
        )
    elif held_out:
        notes.append(
            f"{step} held out an internal validation split for early stopping (a fraction "
            f"{held_out} of its rows, drawn inside its fit): those rows decided when training "
            "stopped but were not trained on; the run lists every row it was given"
        )
    note = _subsample_note(leaf, step, seen.n)
    if note is not None:
        notes.append(note)
    if not traced or seen.n is None or seen.n < 0:
        return row_ids, notes, traced
    if seen.ids is not None:
        # (X's own ids were checked by resolve_row_ids, or are only compared with
        # seen.ids, which were checked)
        own = carried_ids(X, validate=False)
        if own is None or own is ids or np.array_equal(own, ids):
            own = row_ids
        else:  # sample_id= named other ids than X carries: compare with X's own
            own = resample_ids(own, steps)[0]
        if np.array_equal(seen.ids, own):
            if received is not None:  # the ids in order: are the values theirs?
                check_order(X, steps, received, ids, row_ids, seen.with_y, step, True)
            return row_ids, notes, traced
        if seen.with_y:
            k = _first_difference(seen.ids, own)
            raise LineageError(
                f"a step before {step} changed the rows of X (row {k} it received is "
                f"{_describe(seen.ids, k)} where {_describe(own, k)} was given) but y was "
                "passed on unchanged, so rows were paired with other rows' targets. Filter "
                "or sort X and y together, before fit."
            )
        if own is row_ids:
            notes.append(
                f"a step before {step} changed the rows of X ({row_ids.size} given, "
                f"{seen.ids.size} fitted on); lineage names the rows it received, by the "
                "row ids they carried"
            )
            return seen.ids, notes, traced
    if seen.n != row_ids.size or (seen.ids is not None and own is not row_ids):
        raise LineageLostError(
            f"{step} was fitted on {seen.n} rows but {row_ids.size} were given to fit: a "
            "step changed the rows of X without saying which remain (no sample_indices_, "
            "no row ids in its output that match the ids given to fit), so the rows the "
            "model saw cannot be traced. Filter the rows before fit, or return a DataFrame "
            "that keeps the row-id index from that step."
        )
    if received is not None and seen.ids is None:  # no ids: are the rows in order?
        note = check_order(X, steps, received, ids, row_ids, seen.with_y, step)
        if note is not None:
            notes.append(note)
    return row_ids, notes, traced


def _subsample_note(estimator, step, n):
    """A note where the final estimator trained its members on samples of its rows
    (``estimators_samples_``: Bagging, IsolationForest): the rows no member drew were
    given to fit, listed by the run, and not trained on. ``n``: the rows it was fitted
    on (None or negative where not known: no note)."""
    try:
        samples = estimator.estimators_samples_
    except Exception:  # noqa: BLE001 - not an ensemble of samples, or not fitted so
        return None
    if not samples or n is None or n < 0:
        return None
    drawn = np.zeros(int(n), dtype=bool)
    for rows in samples:
        drawn[np.asarray(rows)] = True
    unused = int(n - np.count_nonzero(drawn))
    return (
        f"{step} trained each of its {len(samples)} estimators on a sample of its rows "
        f"(estimators_samples_): {unused} of its {int(n)} rows were drawn by none of them "
        "and were not trained on; the run lists every row it was given"
    )


def _validation_fraction(estimator):
    """The fraction of rows a fitted scikit-learn estimator held out to stop early, or None."""
    fraction = getattr(estimator, "validation_fraction", None)
    if fraction is None:
        return None
    if hasattr(estimator, "do_early_stopping_"):  # HistGradientBoosting ("auto": large data)
        return fraction if estimator.do_early_stopping_ else None
    stopping = getattr(estimator, "early_stopping", None)
    if stopping is None:  # GradientBoosting: a split when n_iter_no_change is set
        stopping = getattr(estimator, "n_iter_no_change", None) is not None
    return fraction if stopping is True else None


def _first_difference(a, b):
    n = min(a.size, b.size)
    where = np.flatnonzero(a[:n] != b[:n])
    return int(where[0]) if where.size else n
