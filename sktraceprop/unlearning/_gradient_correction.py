"""GradientCorrectionUnlearner: remove rows or whole sources from a fitted model.

This module is the estimator: its parameters and the scikit-learn surface. The modules
behind ``fit`` and ``unlearn``, and the removal methods, are mapped in the docstring of
:mod:`sktraceprop.unlearning`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin

from .._holders import HolderMixin
from .._lineage._current import FingerprintCarryMixin
from .._model_lock import ParamsLockMixin
from .._selection import SelectionCloneMixin
from .._state_format import StateFormatMixin
from ..utils._delegation import (
    InnerTagsMixin,
    PredictDelegationMixin,
    ScoreDelegationMixin,
    SourcesTravelMixin,
)
from ..utils._sklearn_compat import Interval, StrOptions
from ._fit import UnlearnerFitMixin
from ._fitted_state import FittedStateMixin
from ._unlearn import UnlearnMixin

__all__ = ["GradientCorrectionUnlearner"]


class GradientCorrectionUnlearner(
    StateFormatMixin,
    ParamsLockMixin,
    UnlearnerFitMixin,
    UnlearnMixin,
    FittedStateMixin,
    SelectionCloneMixin,
    HolderMixin,
    FingerprintCarryMixin,
    PredictDelegationMixin,
    ScoreDelegationMixin,
    InnerTagsMixin,
    SourcesTravelMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Fit a model and remove the influence of rows or whole sources from it.

    ``fit`` fits ``clone(estimator)`` on all rows, prepares the removal (for convex
    models, caches the Hessian of the objective), then removes the rows named by
    ``forget``. :meth:`unlearn` removes more rows later. For a convex model each
    removal corrects the parameters by Newton-type steps on the exact objective of the
    retained rows until the retained gradient norm (the *certificate*) is below ``tol``,
    so the result equals a retrain with an exact solver; if that is not reached within
    ``max_iter`` steps, the model is refitted on the retained rows and the event says
    so. In a pipeline, the preprocessing is refitted on the retained rows first
    (``preprocessing="refit"``). Every removal is logged in ``unlearning_log_`` and,
    when a store is known, appended to its hash-chained audit log.

    A removal reaches every training row derived from the removed data: a row merged
    (:func:`sktraceprop.merge`) from a removed source, or from a removed row, is
    removed too, and the event counts such rows under ``via_merge``. After a removal
    the unlearner holds no value of a removed row: the data it keeps (see Notes) is
    cut to the retained rows, and the fitted pipeline's preprocessing is refitted
    without them (``preprocessing="keep"`` and neural models keep it; the event's
    ``caveat`` says what remains).

    Neural classifiers (a skorch ``NeuralNetClassifier`` or ``NeuralNetBinaryClassifier``,
    or a :class:`~sktraceprop.adapters.JaxClassifier` built with
    :func:`~sktraceprop.adapters.mlp`) are corrected differently and **without a
    certificate**: a Gauss-Newton influence step on the last layer, then ``n_steps``
    SGD steps of size ``lr`` on the retained rows (method ``"influence+finetune"``). The
    logged certificate is then the retained-objective gradient norm after the correction,
    a stationarity measure, not a bound on the distance to a retrain; compare with a
    retrain using :func:`sktraceprop.metrics.unlearning_report`. A neural removal that
    takes every row of a class is refused (``UnlearningError``, nothing changed): a
    retrain has no row of the class, while the correction keeps the network's output
    for it and the class in ``classes_`` (a convex model is refitted instead; a neural
    one is retrained with ``neural_method="refit"``).

    Parameters
    ----------
    estimator : estimator object
        A ``LogisticRegression`` (L2 or no penalty, binary or multinomial),
        ``SGDClassifier(loss="log_loss")``, ``Ridge``, ``RidgeClassifier`` or
        ``LinearRegression``, or a neural classifier (see above), alone or as the final
        step of a ``Pipeline`` or :class:`~sktraceprop.TracedPipeline` (see
        ``preprocessing``). A skorch net with an internal validation split can only
        forget the rows it trained on; inside a ``TracedPipeline`` those are
        ``lineage_.row_ids``. A neural classifier whose optimizer decays the weights
        outside the loss (torch's ``AdamW``, ``optax.adamw``) is refused before it is
        fitted: the removal's objective would not be the one it was trained on.
    forget : str, int or list of str and int, default=None
        Rows removed at the end of ``fit``: source ids (every training row derived from the
        source, merges included) and/or packed int64 row ids. Only the rows present in the
        training data of this fit are removed, so a cross-validation fold removes its own
        rows of a source; items that reach no training row of the fit (a source not in
        ``X``, row ids left out of it) are named in a warning and, when other rows were
        removed, in the event's ``request["not_in_training_data"]``; those only averaged
        into group statistics training rows hold (``stp.aggregate`` joined with
        ``stp.merge``) are named apart, in their own warning and under
        ``request["held_in_aggregates"]`` (``items`` and ``training_rows``, how many
        training rows hold statistics over them), never as not in the training data.
        An unregistered source
        id, a row id of no registered source (or past its last row), or a request naming
        every row raises before anything is fitted or stored; if the removal itself fails,
        the unlearner is left unfitted. Pickled unfitted with ``forget`` set (a clone
        ``GridSearchCV(n_jobs=2)`` sends to a worker), the unlearner carries the row-level
        parents of the merges and aggregates loaded in this process, so the worker removes
        the same merged rows; ``forget`` set in the worker (through a parameter grid)
        cannot follow merged rows there and raises, saying so.
    tol : float, default=1e-8
        Target for the certificate ``||grad J_R(theta)||_2 / |R|``, the gradient norm of
        the retained sum-form objective (:mod:`sktraceprop.gradients`) per retained row.
        That objective is the estimator's own times a positive factor: for
        ``LogisticRegression`` ``C`` times the sum of the rows' weighted losses plus
        ``||W||^2 / 2``, so with unit sample weights the gradient of scikit-learn's mean
        form is this certificate over ``C`` (the table in :mod:`sktraceprop.gradients`
        gives each estimator's factor).
        Met only where the certificate plus a bound on its float64 rounding (the
        event's ``certificate_rounding``) is at most ``tol``. Convex models only.
    max_iter : int, default=25
        Most correction steps per removal before falling back to a refit. Convex models
        only.
    damping : float, default=0.0
        Added to the Hessian's diagonal before solving. It slows convergence but not its
        limit (the gradient is exact); useful when the retained Hessian is singular
        (``LinearRegression`` on collinear features). For neural models it is added to
        the last layer's Gauss-Newton matrix and sets the size of the influence step
        (larger is smaller); 0 there means ``1e-3`` times its mean eigenvalue.
    n_steps : int, default=10
        Neural models only: SGD steps on the retained rows after the influence step,
        in mini-batches of the model's batch size, all parameters, same loss and weight
        decay as in training. Convex models ignore it.
    lr : float, default=None
        Neural models only: step size of those SGD steps. None uses the model's own
        learning rate where it is one of plain gradient steps (a skorch net trained with
        ``torch.optim.SGD``, momentum or not: the rate its optimizer holds at the end of
        training, which a learning-rate schedule moved from the net's ``lr``; a
        ``JaxClassifier`` with ``optimizer="sgd"``); for a model trained with any other
        optimizer (``Adam``, a ``JaxClassifier``'s default, ``RMSprop``, ``Adagrad``, a
        LARS, one sktraceprop does not know), whose rate scales another step, it is
        measured: ``1 / (lambda_max + wd)``, ``lambda_max`` the largest eigenvalue of
        the retained objective's Gauss-Newton matrix, and its halvings are tried (more
        while the best is the smallest, twice it when the best is the largest), the one
        leaving the lowest certificate taken. Where that default's fine-tuning raised the
        certificate above what the influence step left, the removal is done again with
        half the step, up to 4 times. The event's ``lr_source`` says how it was chosen.
        Convex models ignore it.
    influence : {"last_layer", "full"}, default="last_layer"
        Neural models only: the influence step on the last layer's parameters, or a
        damped Gauss-Newton step on all parameters (conjugate gradients on a subsample
        of at most 1024 retained rows; it tends to overshoot a retrain, see
        ``calibration``).
    calibration : {"auto", "crossfit", "holdout", "none"}, default="auto"
        Neural models only: how the influence step is scaled (shortened or lengthened,
        by a root search) so that the removed rows' mean loss after the correction
        (step and fine-tuning) matches an estimate of their loss under a retrain.
        ``"auto"``: ``"crossfit"`` when ``fit`` has rows the model does not train on
        (``X_holdout``/``y_holdout``, or a skorch validation split), else
        ``"holdout"`` with a warning. On the benchmark's 36 removals per data set
        (``benchmarks/results/unlearning_neural.md``) the crossfit calibration lands
        far closer to a retrain than the holdout one; it costs the clones' fits at
        ``fit``. The event logs the calibration used (``calibration``) and this
        parameter (``calibration_setting``).
        ``"holdout"``: the model's mean loss on rows it never trained on (``X_holdout``
        given to ``unlearn``/``fit``, else a skorch validation split; without either
        the step is not scaled); blind to how hard the removed rows are.
        ``"crossfit"``: at ``fit``, ``n_crossfit`` clones are fitted on repeated
        stratified ``crossfit_folds``-fold splits of the training rows, each on all
        folds but one; a removed row's estimate is its mean loss under the clones that
        left it out, times the ratio of a retrain's holdout loss to theirs, the
        retrain's interpolated between the model's and the clones' by the share of the
        fit's training rows removed (by this removal and earlier ones; the holdout is
        required at ``fit``: ``X_holdout``/``y_holdout`` or a skorch validation split,
        whose rows of removed data leave it, the two holdout levels measured again
        without them). It costs about
        ``n_crossfit * (crossfit_folds - 1) / crossfit_folds`` extra fits (30 by
        default), once; ``unlearn`` costs the same as with ``"holdout"``. The clones
        are not kept, only each row's loss. A skorch net whose module is given as an
        instance (which skorch trains in place, and a clone copies with its trained
        weights) has each clone's weights drawn anew by its layers'
        ``reset_parameters`` (``calibration_source`` says so), and is refused at ``fit``
        where a trainable parameter is set by none. The correction reaches its target;
        the estimate is what errs (see the user guide).
        ``"none"``: the plain step. The event logs ``calibration``,
        ``calibration_source``, ``calibration_target`` and ``step_scale``.
    n_crossfit : int, default=36
        Neural models with ``calibration="crossfit"`` only: clones fitted; at least
        ``crossfit_folds``, so that every row is left out by one. With a multiple of
        ``crossfit_folds``, every row is left out by ``n_crossfit / crossfit_folds``
        (6 by default). Each clone's loss on a hard row varies from one seed to the
        next, so more clones give a steadier target, at a fit's cost each.
    crossfit_folds : int, default=6
        Neural models with ``calibration="crossfit"`` only: the folds of each split;
        each clone trains on ``(crossfit_folds - 1) / crossfit_folds`` of the rows.
        Few folds bias the estimate (one ratio does not carry a model trained on two
        thirds of the rows to one trained on nearly all, row by row: with 3 folds,
        1% removals on MNIST overshoot); more folds leave each row out by fewer clones
        for the same cost, a noisier estimate
        (``benchmarks/study_unlearning_neural_calibration.py`` compares 18 x 3, 18 x 6
        and 36 x 6; ``benchmarks/bench_unlearning_neural.py --all-methods`` scores
        18 x 3 beside the default).
    random_state : int, RandomState instance or None, default=None
        Neural models with ``calibration="crossfit"`` or ``neural_method="refit"``
        only: draws the splits and the clones' seeds, and the seed of each retrain.
        A torch module that seeds torch in its constructor overrides the clones' seeds:
        every clone then starts from the model's initial weights, unlike retrains with
        other seeds (seed with ``torch.manual_seed`` before ``fit`` instead; the user
        guide gives the measured difference). A retrain's seed is not overridden: see
        ``neural_method``.
    preprocessing : {"refit", "keep"}, default="refit"
        What happens to the steps before the final one when ``estimator`` is a
        pipeline. ``"refit"``: each removal refits them on the retained rows and the
        final step is corrected on the features they now produce, so the pipeline
        equals a retrain of the whole pipeline (scalers, imputers and encoders forget the
        rows too; a step that draws randomly without an int seed draws anew, so it equals
        one only in distribution, and the event's note names the step); the unlearner
        then keeps the raw training input of the retained rows.
        If the refitted preprocessing outputs another number of features (a category
        only the removed rows had), the features are matched by name and the missing
        ones' coefficients dropped, or else the final step is refitted; the event says
        which. ``"keep"``: only the final step is corrected, on the features it was
        fitted on (a ``TargetEncoder``'s cross-fitted encodings, not ``transform``'s), and
        the preprocessing keeps what it learnt from the removed rows (the event's
        ``caveat`` says so). Neural
        models always keep the preprocessing: new inputs would invalidate the trained
        network.
    neural_method : {"correct", "refit"}, default="correct"
        Neural models only: how a removal is done. ``"correct"``: the influence step and
        fine-tuning above (approximate; a removal that takes every row of a class is
        refused). ``"refit"``: exact, a retrain: an unfitted clone of the network (the
        same parameters) is fitted on the retained rows as it saw them (the
        preprocessing kept; a skorch net with ``train_split=None`` for that fit, on
        exactly the rows it trained on, its ``train_split`` set back after), its initial
        weights drawn with a seed from ``random_state`` (torch's generator for a skorch
        net; a ``JaxClassifier``'s own int ``random_state`` where it has one), logged as
        the event's ``refit_seed``. A ``torch.manual_seed(value)`` the module's
        constructor calls seeds torch from the pair (seed, value) for that fit, so the
        seed still draws the weights (for the fit, ``torch.manual_seed`` and
        ``torch.random.manual_seed`` are replaced process-wide, and torch's random state,
        process-wide too, is restored after it: do not seed or draw from torch in
        another thread during ``unlearn``); where they do not depend on it (a module drawing
        from its own generator or loading weights) the event's
        ``refit_seed_sets_weights`` is False, with a warning; a module given as an
        instance (skorch trains it in place: the retrain would start from the trained
        weights) is refused. The event's ``method`` is ``"refit"`` and ``exact``
        is True; it also removes whole classes (a ``JaxClassifier`` retrained without a
        class drops it from ``classes_``; a skorch net keeps the output its module was
        built with, as a retrain does). It costs a fit per removal; ``calibration="auto"``
        then fits no crossfit clones: a later correction, ``neural_method`` set back to
        ``"correct"``, calibrates on a holdout (``"holdout"``) where the unlearner has
        one, else not at all, and its note and a warning say which.
    store : BaseStore, default=None
        Where removal events are appended. Defaults to the ``store`` of a
        ``TracedPipeline`` estimator; None with no such store keeps only
        ``unlearning_log_``. Given for a traced estimator, it also receives the run
        of the model the unlearner fits (in place of the estimator's own store), so
        that every removal event names a run stored beside it.
    n_jobs : int, default=None
        Neural models with ``calibration="crossfit"`` only: joblib jobs fitting the
        clones (``None``: the active backend's default, one outside a
        ``joblib.parallel_backend`` context).
    verbose : int, default=0
        Show the progress of the crossfit clones when positive.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted and corrected clone of ``estimator``; ``predict`` and friends use it.
    train_row_ids_ : ndarray of int64
        Row ids of the rows the model was fitted on, in order.
    retained_mask_ : ndarray of bool of shape (n_train,)
        Which of those rows the model currently holds.
    unlearning_log_ : list of UnlearningEvent
        One event (a dict) per removal: ``time_utc``, ``estimator``, ``method``
        (``"newton"`` or ``"refit"``), ``certificate``, ``tol``, ``n_iter``,
        ``seconds``, ``n_removed`` (training rows removed), ``n_retained``,
        ``sources`` (training rows removed, per source they came from: a merged row
        counts under each source it was built from, each copy of a repeated row once),
        ``source_rows`` (per source, the distinct rows of it behind them: file lines or
        frame rows; fewer where merged rows share a parent row), ``counts_note`` (where
        the two differ, what each counts), ``lines`` (first and last line per source),
        ``source_contents`` (where
        several sources share a ``source_id``: two folders' ``data.csv``, two contents of
        an edited file, each counted apart under ``"source_id [first 12 digits of its
        sha256]"``, this maps such a label to the ``source_id``, ``uri`` and ``sha256``
        it stands for), ``row_ids`` (every removed
        row id, int64), ``row_ids_sha256``, ``row_sources`` and ``rows_behind`` (only
        where the unlearner stored no run, its estimator not being traced: the
        ``code``, ``source_id``, ``sha256`` and ``kind`` of each source the removed row
        ids name, and the ids of the rows removed merged rows were built from, so that
        a fit writing to the store in another process can read them), ``via_merge``
        (removed rows per merge they came from), ``merged_parents_kept`` (parent rows
        of removed merged rows that retained rows were merged from too, per source:
        counted under ``sources``, not removed), ``request``, ``aggregates_over_removed_rows`` and
        ``steps_fitted_outside_over_removed_rows`` (retained rows whose values carry
        removed rows' data: group statistics, steps fitted outside the model),
        ``columns_in_no_source`` (input columns that no source of the training rows
        holds: computed outside the pipeline, from what is not recorded),
        ``columns_changed_after_loading`` (input columns whose values differ from what
        was loaded, found on the witness rows: ``[rows that differ, rows checked, of those
        the missing values filled]``),
        ``preprocessing`` for pipelines, ``steps_not_refitted`` (preprocessing steps a
        refit used as fitted, such as a ``FrozenEstimator``), ``note`` and
        ``caveat`` when there is something to say, and ``seq``/``event_hash`` when
        stored. Printed, an event summarises the row ids (count, lines, digest). Neural
        removals (method ``"influence+finetune"``) also log ``damping``, ``cg_iter``,
        ``influence_step_norm``, ``n_steps``, ``lr`` and ``lr_source`` (how it was
        chosen; ``lr`` is None with ``n_steps=0`` and no ``lr``), ``lr_tried`` (the
        steps a measured step was chosen among, each with its certificate) and
        ``lr_at_edge`` (``"smallest"`` or ``"largest"`` when the chosen one is still at
        an edge of them), ``certificate_before_finetune``,
        ``finetune_raised_certificate`` (True when the fine-tuning kept raised the
        certificate above it: said in the note and in a warning) and
        ``finetune_fallbacks`` (``[lr, certificate before, after]`` of each fine-tuning
        given up for raising it), ``weight_decay``, the
        calibration fields and ``validation_rows_dropped`` (rows of the named sources or row ids in
        a skorch validation split, dropped from the holdout the unlearner keeps).
    certificate_ : float
        Certificate of the current model (``nan`` before any removal).
    n_iter_ : int
        Correction steps taken by the last removal (0 before any).
    run_id_ : str or None
        Run the events are attached to (the ``TracedPipeline``'s run), if any.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.
    classes_ : ndarray
        Class labels, for classifiers.

    See Also
    --------
    sktraceprop.metrics.unlearning_report : Compare an unlearned model with a retrain.

    Notes
    -----
    What the unlearner keeps of the retained rows, to correct the model again later: for a
    convex model, the final step's training features (float64), targets and weights and a
    ``p x p`` Hessian, ``p`` the number of model parameters; with ``preprocessing="refit"``,
    the raw training input instead of the features; for a neural model, the network's inputs
    (float32), the rows of a skorch validation split (a removal drops those of the sources
    and rows it names) and, with the crossfit calibration, one crossfit loss per row and
    each clone's loss on each holdout row. ``benchmarks/bench_unlearning.py`` measures that
    memory. Row ids of removed rows are kept (``train_row_ids_``, the log); their values are
    not. A traced pipeline's run (``estimator_.lineage_``) is rewritten after each removal:
    its training rows (``row_ids``) are the retained rows, sources none of them comes from
    are dropped, feature names only removed rows produced are dropped and ``source_stats``
    are counted again over the retained rows (``retained`` says what could not be). A bare
    model is corrected in place, so a reference to ``estimator_`` sees the removal. Pipeline
    ``memory=`` caches are not used (their files would keep steps fitted on removed rows).
    The run stored at fit is append-only and keeps what it recorded, removed rows included;
    each event's ``caveat`` says so. For models that do not fit to the exact optimum
    (``SGDClassifier``, or a loose ``tol`` of the solver), the corrected model is the exact
    optimum of the retained objective, not what a new stochastic fit would return.

    Examples
    --------
    >>> import sktraceprop as stp
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = stp.datasets.load_demo(return_X_y=True)
    >>> X = X[["age", "bp", "cholesterol"]].fillna(0)
    >>> unl = stp.GradientCorrectionUnlearner(LogisticRegression(), forget="hospital_b")
    >>> unl = unl.fit(X, y)
    >>> event = unl.unlearning_log_[0]
    >>> event["sources"], event["method"], event["certificate"] < 1e-8
    ({'hospital_b': 191}, 'newton', True)
    """

    _state_format = 2  # (sktraceprop._state_format: raise it when what is kept changes)
    # format 1 had no neural_method: its removals were corrections
    _state_upgrades = {1: lambda state: {"neural_method": "correct", **state}}
    # fitted before pickles recorded a format, it kept removal methods of another
    # layout (at 29414bb a PipelineRefit without `weighted`: unlearn failed)
    _reads_unnumbered = False

    _parameter_constraints = {
        "estimator": [object],
        "forget": [None, str, int, np.integer, "array-like"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "damping": [Interval(Real, 0, None, closed="left")],
        "n_steps": [Interval(Integral, 0, None, closed="left")],
        "lr": [None, Interval(Real, 0, None, closed="neither")],
        "influence": [StrOptions({"full", "last_layer"})],
        "calibration": [StrOptions({"auto", "holdout", "crossfit", "none"})],
        "n_crossfit": [Interval(Integral, 1, None, closed="left")],
        "crossfit_folds": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "preprocessing": [StrOptions({"refit", "keep"})],
        "neural_method": [StrOptions({"correct", "refit"})],
        "store": [None, object],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        forget=None,
        tol=1e-8,
        max_iter=25,
        damping=0.0,
        n_steps=10,
        lr=None,
        influence="last_layer",
        calibration="auto",
        n_crossfit=36,
        crossfit_folds=6,
        random_state=None,
        preprocessing="refit",
        neural_method="correct",
        store=None,
        n_jobs=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.forget = forget
        self.tol = tol
        self.max_iter = max_iter
        self.damping = damping
        self.n_steps = n_steps
        self.lr = lr
        self.influence = influence
        self.calibration = calibration
        self.n_crossfit = n_crossfit
        self.crossfit_folds = crossfit_folds
        self.random_state = random_state
        self.preprocessing = preprocessing
        self.neural_method = neural_method
        self.store = store
        self.n_jobs = n_jobs
        self.verbose = verbose
