"""The features a pipeline's final estimator was trained on, taken as they reached it.

A step whose ``fit_transform`` gives other features than ``fit(...).transform`` hands
the final estimator, at fit, features that ``transform`` does not give the same rows
afterwards: ``TargetEncoder`` cross fits (each training row is encoded with the
targets of the other folds, and ``transform`` encodes it with all of them), a
leave-one-out encoder leaves the row's own target out. The final estimator is at the
minimum of its objective on the features it was fitted on, so the influence of a
training row is taken there (its gradient and the Hessian); a test row is transformed
by ``transform``, as it is predicted.

The features are taken by standing in for the final estimator's ``fit`` during the
explainer's own fit, or from the unlearner that holds them (:func:`held_features`: its
final step was corrected on them); a pipeline fitted before cannot say what its final
estimator was given, and :func:`cross_fitting_steps` names the steps known to differ.
"""

from contextlib import contextmanager

import numpy as np
from scipy import sparse
from sklearn.base import TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import TargetEncoder

from .._lineage._record import fitted_steps
from ..utils._private_copy import private_copy, shares_memory
from ..utils._sklearn_compat import num_samples
from ._neural_model import as_inputs

__all__ = [
    "as_features",
    "cross_fitting_steps",
    "features_trained_on",
    "final_fit_inputs",
    "held_features",
    "resampled_features_trained_on",
    "smoothing_samplers",
]


class FitInputs:
    """What the final estimator's ``fit`` was given: its ``X`` and ``y`` (None if not
    seen)."""

    X = y = None
    seen = False


def _class_fit(estimator):
    """``estimator.fit`` as its class defines it."""
    return type(estimator).fit.__get__(estimator, type(estimator))


class _Spy:
    """Stands in for the final estimator's ``fit`` and keeps the ``X`` it is given."""

    def __init__(self, estimator, inputs):
        self.estimator, self.inputs = estimator, inputs

    def __call__(self, X, *args, **kwargs):
        if not self.inputs.seen:  # the outer call (a meta-estimator may fit itself again)
            self.inputs.X, self.inputs.seen = X, True
            self.inputs.y = args[0] if args else kwargs.get("y")
        return _class_fit(self.estimator)(X, *args, **kwargs)

    def __reduce__(self):
        # pickled during its own fit (sent to joblib workers): the plain method
        return (_class_fit, (self.estimator,))


def _leaf(estimator):
    """The final estimator of a (nested) pipeline with preprocessing steps, or None."""
    if not isinstance(estimator, Pipeline):
        return None
    steps = []
    while isinstance(estimator, Pipeline):
        steps += estimator.steps[:-1]
        estimator = estimator.steps[-1][1]
    if estimator is None or isinstance(estimator, str | FrozenEstimator):
        return None
    # (behind a sampler the leaf's rows are not X's: see resampled_features_trained_on)
    return estimator


@contextmanager
def final_fit_inputs(estimator):
    """Keep the ``X`` the final estimator of the pipeline ``estimator`` is fitted on.

    Yields a :class:`FitInputs`; its ``X`` stays None for an estimator that is not a
    pipeline with preprocessing steps.
    """
    inputs = FitInputs()
    leaf = _leaf(estimator)
    if leaf is None or not callable(getattr(leaf, "fit", None)):
        yield inputs
        return
    # the instance's own dict: skorch's __setattr__ would register the spy as a module
    leaf.__dict__["fit"] = _Spy(leaf, inputs)
    try:
        yield inputs
    finally:
        leaf.__dict__.pop("fit", None)


def cross_fitting_steps(transformer):
    """Names of the fitted ``TargetEncoder`` steps of ``transformer`` (nested in column
    transformers and unions too): their ``fit_transform`` cross fits, so the training rows
    were given other features at fit than their ``transform`` gives them."""
    if transformer is None:
        return []
    found = []
    for name, step in fitted_steps(transformer):
        if isinstance(step, TargetEncoder):
            found.append(f"{name} (TargetEncoder)")
    return found


def smoothing_samplers(estimator):
    """Names of the fitted samplers of the pipeline ``estimator`` that add noise to the
    rows they draw (``RandomOverSampler(shrinkage=...)``: a smoothed bootstrap), so its
    final estimator was trained on features that no ``transform`` gives."""
    found = []
    for name, step in fitted_steps(estimator):
        shrinkage = getattr(step, "shrinkage_", None) if hasattr(step, "fit_resample") else None
        if shrinkage is not None and any(v for v in dict(shrinkage).values()):
            found.append(f"{name} ({type(step).__name__}, shrinkage={step.shrinkage!r})")
    return found


_COMPOSITES = (Pipeline, ColumnTransformer, FeatureUnion)


def fit_transform_may_differ(transformer):
    """Whether a fitted step of ``transformer`` defines a ``fit_transform`` of its own,
    which may give its training rows other features than ``fit(...).transform`` does
    (``TargetEncoder`` cross fits; ``PCA`` computes them another way). Where no step
    does, each ``fit_transform`` is ``fit`` then ``transform`` (pipelines, column
    transformers and unions compose their steps'), so the training rows' features are
    ``transform``'s and need no comparison."""
    if transformer is None:
        return False
    for _, step in fitted_steps(transformer):
        if isinstance(step, _COMPOSITES):
            continue
        own = getattr(type(step), "fit_transform", None)
        if own is not None and own is not TransformerMixin.fit_transform:
            return True
    return False


def features_trained_on(X, Xt, fed, transformer):
    """The training rows' features as the final estimator was fitted on them.

    Parameters
    ----------
    X : array-like or DataFrame
        The raw rows given to the pipeline's ``fit``.
    Xt : array-like or sparse matrix
        ``transformer.transform(X)``.
    fed : FitInputs or None
        What :func:`final_fit_inputs` saw during the pipeline's fit (None: not watched).
    transformer : estimator or None
        The fitted steps before the final estimator.

    Returns
    -------
    features : array-like or sparse matrix
        The features that reached the final estimator (a copy sharing no memory with
        ``X``) where they were seen for the same rows, else ``Xt``.
    steps : list of str
        The cross-fitting steps (:func:`cross_fitting_steps`) that explain a difference,
        or that may make ``transform``'s features differ where the features were not seen.
    where : {"transform", "fit", "unknown"}
        ``"fit"``: the seen features differ from ``transform``'s and were taken;
        ``"unknown"``: not seen, and cross-fitting steps may make ``transform``'s differ;
        ``"transform"``: ``transform``'s are those the final estimator was fitted on.
    """
    if transformer is None:
        return Xt, [], "transform"
    steps = cross_fitting_steps(transformer)
    if fed is None or fed.X is None or num_samples(fed.X) != num_samples(X):
        return Xt, steps, ("unknown" if steps else "transform")
    trained = fed.X
    if getattr(trained, "shape", None) != getattr(Xt, "shape", None):
        return Xt, [], "transform"  # (a module's n-d inputs as a list: left to the caller)
    if shares_memory(trained, X):
        trained = private_copy(trained)  # an identity step's output is the caller's data
    if differs(trained, Xt):
        return trained, steps, "fit"
    return trained, [], "transform"


def resampled_features_trained_on(Xt, y, fed, transformer):
    """The features of the rows a sampler drew, as the final estimator was fitted on them.

    A sampler between the steps and the final estimator (``RandomOverSampler``,
    ``RandomUnderSampler``) hands it rows of ``X`` by ``sample_indices_``, repeated or
    left out: :func:`features_trained_on` cannot compare those with ``X``'s. Here they
    are compared with ``transform``'s features of the same rows: a ``TargetEncoder``
    before the sampler cross fitted them, and ``RandomOverSampler(shrinkage=...)`` adds
    noise to each copy it draws (a smoothed bootstrap), so the final estimator was
    trained on features no ``transform`` gives.

    Parameters
    ----------
    Xt : array-like or sparse matrix
        ``transform``'s features of the rows the run says the final estimator was fitted
        on, in its order (the sampler's ``sample_indices_``).
    y : ndarray
        Their targets, in the same order.
    fed : FitInputs
        What :func:`final_fit_inputs` saw: the rows the final estimator was given.
    transformer : estimator or None
        The fitted steps before the final estimator.

    Returns
    -------
    features, steps, where
        As :func:`features_trained_on` returns them; ``"unknown"`` (or ``"transform"``
        without a cross-fitting step) where the rows seen are not these rows, by count,
        shape or targets.
    """
    steps = cross_fitting_steps(transformer)
    unseen = Xt, steps, ("unknown" if steps else "transform")
    trained = fed.X
    if num_samples(trained) != num_samples(Xt) or (
        getattr(trained, "shape", None) != getattr(Xt, "shape", None)
    ):
        return unseen
    # the rows are paired by the sampler's order: their targets must be those rows'
    if fed.y is None or not np.array_equal(np.asarray(fed.y).ravel(), np.asarray(y).ravel()):
        return unseen
    if differs(trained, Xt):
        return private_copy(trained), steps, "fit"
    return Xt, [], "transform"


def held_features(held, Xt, transformer):
    """The rows' features as an unlearner's final step was fitted (or corrected) on them.

    Parameters
    ----------
    held : tuple (features, known) or None
        What the unlearner holds for its retained rows
        (``GradientCorrectionUnlearner._final_step_features``): the features, or None
        with ``known`` True where they are ``transform``'s; None where the rows' holder
        is no unlearner (a model it corrected, recorded without its features).
    Xt : array-like or sparse matrix
        ``transformer.transform`` of the same rows, in the same order.
    transformer : estimator or None
        The fitted steps before the final estimator.

    Returns
    -------
    features, steps, where
        As :func:`features_trained_on` returns them.
    """
    if transformer is None:
        return Xt, [], "transform"
    steps = cross_fitting_steps(transformer)
    features, known = (None, False) if held is None else held
    if features is None:
        return Xt, ([] if known else steps), ("unknown" if steps and not known else "transform")
    if num_samples(features) != num_samples(Xt) or (
        getattr(features, "shape", None) != getattr(Xt, "shape", None)
    ):
        return Xt, steps, ("unknown" if steps else "transform")
    if differs(features, Xt):
        return private_copy(features), steps, "fit"
    return Xt, [], "transform"


def as_features(Xt, neural):
    """The final estimator's features as the scores take them: a neural model's float32
    inputs; a linear model's float64 2-D array or CSR matrix (rows are taken by slices
    and by index arrays)."""
    if neural:
        return as_inputs(Xt)
    Xt = Xt.tocsr() if sparse.issparse(Xt) else np.asarray(Xt, dtype=np.float64)
    if Xt.ndim != 2:
        raise ValueError(f"Expected 2D features, got shape {Xt.shape}")
    return Xt


def differs(a, b):
    """Whether two feature matrices (dense or sparse) differ beyond rounding."""
    if a.shape != b.shape:
        return True
    if sparse.issparse(a) or sparse.issparse(b):
        a = sparse.csr_matrix(a)
        b = sparse.csr_matrix(b)
        d = abs(a - b)
        scale = max(abs(a).max(), abs(b).max(), 1e-300)
        return d.max() > 1e-6 * scale if d.nnz else False
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-300)
    return not np.allclose(a, b, rtol=0, atol=1e-6 * scale, equal_nan=True)
