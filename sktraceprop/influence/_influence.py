"""Exact influence functions for scikit-learn linear models and traced pipelines.

This module is the estimator: its parameters and the scikit-learn surface. ``fit`` is
:mod:`._fit`'s, ``explain``, ``influence_sums`` and ``score`` are :mod:`._explain`'s,
each in a mixin of its own.
"""

import numbers
import os

from sklearn.base import BaseEstimator, MetaEstimatorMixin

from .._holders import HolderMixin
from .._lineage._current import FingerprintCarryMixin
from .._selection import SelectionCloneMixin
from .._state_format import StateFormatMixin
from ..utils._delegation import SourcesTravelMixin
from ..utils._fit_under_way import FitStateCarryMixin
from ..utils._prefit import KeepFittedParamsMixin
from ..utils._sklearn_compat import Interval, StrOptions
from ._explain import ExplainMixin
from ._fit import ExplainerFitMixin
from ._fit_parts import FitPartsMixin
from ._fit_rows import FitRowsMixin
from ._forget import ForgetRowsMixin
from ._hessian_route import SOLVERS
from ._scoring import ScoringMixin

__all__ = ["InfluenceExplainer"]


class InfluenceExplainer(
    StateFormatMixin,
    ExplainerFitMixin,
    ExplainMixin,
    ForgetRowsMixin,
    FitRowsMixin,
    FitPartsMixin,
    ScoringMixin,
    SelectionCloneMixin,
    HolderMixin,
    FingerprintCarryMixin,
    FitStateCarryMixin,
    KeepFittedParamsMixin,
    SourcesTravelMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Exact influence of each training row on each test prediction of a linear model.

    For a test row ``z`` and training row ``x_i``, the score is the first-order change
    of ``z``'s margin caused by training on ``x_i``:
    ``-grad f(z)^T H^{-1} grad l_i``, with ``H`` the exact Hessian of the objective
    the model minimises and ``grad l_i`` row ``i``'s gradient (closed forms from
    :func:`sktraceprop.gradients.linear_model_objective`). Positive scores mean the
    row raises the margin, i.e. supports the explained prediction. Every score is
    mapped to the training row's source file and line. With ``class_weight="balanced"``
    the scores assume that removing a row **recomputes** the class weights: a refit of
    the estimator on the remaining rows, as scikit-learn does, reweights every class, and
    ``grad l_i`` is the exact change of the objective's gradient that this removal makes,
    not the row's own gradient nor the derivative with respect to its weight (they differ
    by about the row's share of its class's mass; see the user guide). A refit with the
    class weights held at their fitted values (a dict ``class_weight``) is not what the
    scores predict (measured: relative error 0.25 to 0.44 against such refits, 0.02 to
    0.08 against balanced refits). A dict ``class_weight`` is fixed and stays fixed.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A supported linear model (``LogisticRegression``, ``SGDClassifier(log_loss)``,
        ``Ridge``, ``RidgeClassifier``, ``LinearRegression``) or a (traced) pipeline
        ending in one; gradients are taken with respect to the final estimator on the
        transformed features. A **fitted** estimator (or a
        :class:`~sklearn.frozen.FrozenEstimator`) is explained as it is, never
        refitted: :meth:`fit` takes the rows it was fitted on, and ``clone`` (so
        ``GridSearchCV``) keeps the same fitted object. An unfitted estimator is cloned
        and fitted in :meth:`fit`: pass ``sklearn.base.clone(model)`` to ask for a fit.
    damping : "auto" or float, default="auto"
        Added to the Hessian's eigenvalues before inversion, as a multiple of their
        mean (so the scale does not depend on the data). "auto" chooses from the
        spectrum: eigenvalues below ``1e-10`` of the largest are the numerical null
        space (no gradient has a component there) and are dropped, the rest are
        inverted undamped, since the Hessian already holds the model's L2 penalty.
        Neural models: a multiple of the mean nonzero eigenvalue of the Gauss-Newton
        matrix; "auto" chooses it (and the train-side weights, and whether ensemble
        members are averaged) from a few retrains on subsets, scored on held-out
        training rows; ``damping_selection_`` says what was chosen and why. The
        model's own L2 penalty (a ``JaxClassifier``'s ``alpha``, the ``weight_decay``
        of a skorch net's torch optimizer unless decoupled as in ``AdamW``) is the
        damping's floor: the absolute damping is at least ``n * alpha``. A decoupled
        decay (``AdamW``, ``optax.adamw``) is no term of the objective: left out,
        with a warning naming the optimizer.
    block_size : int, default=2048
        Rows of training and test data processed together: at most
        ``block_size ** 2`` scores are held at once unless the full matrix is kept.
        On the dense route a block of gradients is ``block_size x p``; on the Woodbury
        route no array has ``p`` columns, and test rows are taken fewer at a time where
        their ``m``-row work arrays would exceed
        ``sktraceprop.influence._woodbury_scores.WORK_BYTES`` (256 MiB; settable).
    n_subsets : int, default=100
        Retrained subsets for :meth:`score` (the linear datamodeling score).
    alpha : float, default=0.5
        Fraction of the training rows in each subset for :meth:`score`.
    random_state : int, RandomState instance or None, default=None
        Draws the subsets of :meth:`score`.
    n_jobs : int, default=None
        joblib workers over blocks of test rows in :meth:`explain`, over the
        retrained subsets of :meth:`score` and, for neural models, over the ensemble
        members trained in :meth:`fit`. ``None`` means 1 unless in a
        :func:`joblib.parallel_backend` context, so ``parallel_backend("dask")``
        spreads the work over a Dask cluster. Results do not depend on ``n_jobs``.
    verbose : int, default=0
        Show the progress of :meth:`explain` and :meth:`score` (``tqdm`` when
        installed, else lines on standard error).
    n_models : int, default=1
        Neural models only: size of the ensemble. Member 0 is the explained model; the
        others are clones trained from scratch on random subsets of ``alpha`` times its
        training rows, each with its own seed (TRAK's recipe).
    n_components : int, default=2048
        Neural models only, ``method="trak"``: dimension of the random projection of
        the gradients (:class:`~sktraceprop.projection.JLProjector`, a different seed
        per member).
    parameters : None, list of str or callable, default=None
        Neural models only: the parameters to differentiate (all if None), by name as
        in ``module.named_parameters()`` (skorch) or the leaf names of
        :func:`sktraceprop.gradients.jax_parameter_names` (JAX), or a predicate on the
        name; e.g. the last layer only.
    gradient_store : None or path, default=None
        Neural models only: a directory where the (projected) training gradients are
        written block by block as ``.npy`` memmaps instead of held in memory, in a
        subdirectory ``fit_<id>`` of each fit's own (``trak_.store``). :meth:`explain`
        refuses to run if a file there changed since the fit.
    method : {"auto", "trak", "ggn"}, default="auto"
        Neural models only: "ggn" is the exact damped Gauss-Newton influence (no
        projection; for nets and training sets small enough, see
        ``sktraceprop/influence/_trak.py``), "trak" the same on gradients projected to
        ``n_components`` dimensions; "auto" is "ggn" where its cost is moderate, else
        "trak". Both are estimates, not exact influence: every explanation of a neural
        model says so in its ``notes``.
    solver : {"auto", "dense", "woodbury", "matrix_free"}, default="auto"
        Linear models only: how the exact inverse Hessian is built. "dense"
        eigendecomposes the ``p x p`` Hessian (time ``O(n p^2 + p^3)``, memory
        ``O(p^2)``); "woodbury" inverts it through an ``m x m`` matrix, ``m`` the training
        rows times the outputs (one for a binary or single-output model), by the Woodbury
        identity with the unpenalised intercept eliminated by blocks (time
        ``O(nnz(X X^T) + m^3)``, memory ``O(m^2)``, no ``p x p`` matrix and sparse
        features kept sparse): for a text vocabulary larger than the training set;
        "matrix_free" forms no matrix and solves each explained row's ``H^-1 a`` by
        conjugate gradients on Hessian-vector products through the rows (memory
        ``O(nnz(X) + p)`` per solve, no leverages: ``leverage_`` is None), each to a
        relative residual of ``1e-10``
        (``sktraceprop/influence/_matrix_free.py``): for training sets whose ``m x m``
        matrix is too large. All give the same scores (to rounding, or to the solves'
        tolerance). "woodbury" and "matrix_free" need an L2 penalty on the coefficients,
        no ``positive=True`` and non-negative weights, and "woodbury"'s eigenvalue bounds
        must prove the dense route would drop no eigenvalue (else a ``ValueError``);
        "auto" takes the allowed route whose estimated flops for the fit and 200
        explained rows are fewest (see ``sktraceprop/influence/_hessian_route.py``).
        ``hessian_route_`` says which was taken and why. The route is chosen at fit,
        not per :meth:`explain` call by the rows asked (that module says why: after a
        matrix-free fit, the Woodbury route for one large call would build, in that
        call, the ``m x m`` factorisation the fit avoided); expecting many more than 200
        explained rows, pass ``solver="woodbury"`` where its memory fits. Every
        explanation of a fit is made by the route its ``hessian_route_`` names.

    Attributes
    ----------
    estimator_ : estimator
        The explained model: ``estimator`` itself when it was fitted (or frozen), else
        the fitted clone.
    model_fingerprint_ : str
        SHA-256 fingerprint of the explained model (class, parameters, fitted state)
        at :meth:`fit`; for a traced pipeline it equals ``lineage_.model_fingerprint``
        (unless that run was recorded before fingerprint scheme 2, which holds scheme 1's),
        and for an unlearner (or a ``FrozenEstimator``) it is that of the traced model
        inside, the fingerprint its prediction events record (the corrected model's
        after a removal), so an explanation can be matched to a logged decision.
        :meth:`explain` refuses to run if the model has changed since.
    model_ : estimator
        The final linear model whose gradients are used.
    objective_ : LinearObjective
        Closed-form objective of ``model_``.
    train_row_ids_ : ndarray of int64 of shape (n_train,)
        Row ids of the rows ``model_`` was fitted on, in order.
    hessian_ : ndarray of shape (n_params, n_params) or None
        Exact Hessian of the training objective at the fitted parameters; None on the
        Woodbury and matrix-free routes (``hessian_route_``), which never form it.
    hessian_eigenvalues_ : ndarray or None
        Eigenvalues of the Hessian on its free parameters; None on the Woodbury and
        matrix-free routes.
    hessian_route_ : dict
        Linear models: the route the inverse Hessian took, ``route`` ("dense",
        "woodbury" or "matrix_free"), the ``reason``, and the estimated costs of each
        route: of the fit (``dense_flops``, ``woodbury_flops``, ``matrix_free_flops``),
        per explained row (``*_row_flops``) and in memory (``*_bytes``); ``n_params``,
        ``system_size``. With ``verbose`` the fit prints it.
    damping_ : float
        Absolute damping added to the eigenvalues (neural: of the explained model, at
        least ``n`` times the model's own L2 coefficient).
    method_ : {"trak", "ggn"}
        Neural models only: the method used.
    damping_selection_ : dict
        Neural models only: how the damping was chosen (``rule``, ``factor``,
        ``members``, ``weights``; with ``damping="auto"`` also the retrains' scores
        per candidate in ``probe_lds``, each candidate's factor in ``probe_factor``,
        its gain over the explained model alone and the gain's standard error in
        ``probe_gain``, and a sentence in ``reason``; ``floor`` where the damping was
        raised to ``n * alpha``, the curvature of the model's own L2 penalty).
    n_null_ : int
        Number of eigenvalues dropped as the null space.
    n_bound_ : int
        Coefficients held at 0 by ``positive=True`` (``Ridge``, ``RidgeClassifier``,
        ``LinearRegression``): the constraint keeps them there under a small change
        of the rows, so the scores are taken on the other parameters.
    fixed_steps_ : list of str
        Preprocessing steps that learned from the training rows (a fitted scaler,
        PCA, encoder; not a ``FunctionTransformer`` or a ``FrozenEstimator``). Scores
        hold them fixed: they do not include how removing a row would change these
        steps. Every explanation says so in its ``notes``.
    cross_fitted_ : list of str
        The ``TargetEncoder`` steps among them (their ``fit_transform`` cross fits, so
        the final estimator was trained on other features than ``transform`` gives the
        training rows), and, for a pipeline fitted before, its samplers that add noise
        to the copies they draw (``RandomOverSampler(shrinkage=...)``). A pipeline
        fitted here is scored at the features its final estimator was given, an
        unlearner's retained rows at those its final step was corrected on; one fitted
        before at ``transform``'s, which a note and a warning
        say (a ``ConvergenceWarning`` above 0.1 ``stationarity_``).
    leverage_ : ndarray of shape (n_train,) or None
        Leverage of each training row (the largest eigenvalue of its leverage matrix,
        ``w_i l''_i x_i^T H^-1 x_i`` for one output). A score is the first-order effect
        of removing the row; a refit without it moves the margins about
        ``1 / (1 - leverage_)`` times as much (exactly, for squared error). Every
        explanation's ``notes`` counts the rows above 0.5 and names the highest. None
        on the matrix-free route (one solve per training row), which the notes say.
    stationarity_ : float
        How far the fitted parameters are from the minimum of the objective whose
        derivatives the scores are: the relative change (root mean square, in the norm
        of ``H^-1``) of the training rows' gradients at the Newton step to that
        minimum, measured on at most 1,024 evenly spaced training rows (32 on the
        matrix-free route; the notes and warnings say when it is such an estimate).
        Near 0 for a converged model; above 0.1 (a ``ConvergenceWarning`` at
        fit) the scores do not say what removing a row does (an unconverged solver,
        ``sample_weight`` used to fit the model but not passed to :meth:`fit`, or an
        objective with no minimum: separable classes and no penalty).
    n_train_ : int
        Number of training rows of ``model_``.

    See Also
    --------
    sktraceprop.metrics.linear_datamodeling_score : The score :meth:`score` reports.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktraceprop import InfluenceExplainer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 3); y = (X[:, 0] > 0).astype(int)
    >>> exp = InfluenceExplainer(LogisticRegression()).fit(X, y).explain(X[:2], top_k=3)
    >>> exp.top(1)[["test_index", "rank", "line"]].shape
    (2, 3)
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)

    _parameter_constraints = {
        "estimator": [object],
        "damping": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="left")],
        "block_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_subsets": [Interval(numbers.Integral, 2, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
        "n_models": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "parameters": [list, tuple, str, callable, None],
        "gradient_store": [str, os.PathLike, None],
        "method": [StrOptions({"auto", "trak", "ggn"})],
        "solver": [StrOptions(set(SOLVERS))],
    }
    _prefit_params = ("estimator",)

    def __init__(
        self,
        estimator,
        *,
        damping="auto",
        block_size=2048,
        n_subsets=100,
        alpha=0.5,
        random_state=None,
        n_jobs=None,
        verbose=0,
        n_models=1,
        n_components=2048,
        parameters=None,
        gradient_store=None,
        method="auto",
        solver="auto",
    ):
        self.estimator = estimator
        self.damping = damping
        self.block_size = block_size
        self.n_subsets = n_subsets
        self.alpha = alpha
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.n_models = n_models
        self.n_components = n_components
        self.parameters = parameters
        self.gradient_store = gradient_store
        self.method = method
        self.solver = solver

    def _held_row_ids(self):
        """The training rows whose data this explainer keeps."""
        return self.__dict__.get("train_row_ids_")  # (none: a removal dropped the fit)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        try:
            inner = self.estimator.__sklearn_tags__()
            tags.input_tags.sparse = inner.input_tags.sparse
        except (AttributeError, TypeError):
            pass
        return tags
