"""GradientCorrectionUnlearner: remove rows or whole sources from a fitted model.

This module is the estimator: the scikit-learn surface, the resolution of a request
(source ids, row ids, a mask) to training rows, and the audit record. How a model
forgets is a removal method (:mod:`._method`), one module each:

- :mod:`._convex`: Newton steps on the retained objective of a convex model (how a
  ``LogisticRegression`` forgets), certified by the retained gradient norm;
- :mod:`._pipeline_refit`: a pipeline's preprocessing refitted on the retained rows,
  then the Newton correction of its final step;
- :mod:`._neural`: an influence step plus fine-tuning for neural classifiers.

A removal is computed on copies; the event is appended to the store, and only then is
the corrected model swapped in and the removed rows' data dropped, so a failure at any
point leaves the unlearner as it was.
"""

import dataclasses
import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._holders import HolderMixin, hold
from .._lineage._capture import resolve_row_ids, validate_ids
from .._lineage._current import FingerprintCarryMixin
from .._lineage._fingerprint import class_path, fingerprint
from .._lineage._fit_routes import weighted_parts
from .._lineage._ids import codes_of
from .._lineage._labels import row_groups
from .._lineage._record import (
    changes,
    source_table,
    unsourced_columns,
    unsourced_run_columns,
)
from .._lineage._rows import lineage_frame
from .._lineage._skorch import is_skorch_net, skorch_fit_indices
from .._lineage._source import REGISTRY, utc_now
from .._lineage._witness import WITNESSES
from .._model_lock import exclusive
from .._prediction_log import release_replaced_parts
from .._selection import SelectionCloneMixin
from .._tracing import library_fit
from .._trained import record_trained_rows
from ..exceptions import LineageWarning, UnlearningError
from ..gradients._torch_objective import check_torch_objective
from ..influence._fit_features import features_trained_on, final_fit_inputs
from ..utils._delegation import (
    InnerTagsMixin,
    PredictDelegationMixin,
    SourcesTravelMixin,
    inner_has,
)
from ..utils._module_input import check_module_input
from ..utils._private_copy import private_copy
from ..utils._sklearn_compat import Interval, StrOptions, num_samples
from ._convex import NewtonCorrection, check_convex, final_step, unsupported
from ._erase import check_redact, erase, stored_run_values
from ._event import UnlearningEvent, row_ids_digest
from ._neural import NeuralCorrection
from ._neural_backend import neural_backend
from ._pipeline_refit import PipelineRefit
from ._remains import (
    aggregates_over_removed,
    has_preprocessing,
    kept_lineage,
    labels_among,
    merged_parents_kept,
    merged_parents_note,
    outside_steps,
    with_caveats,
)
from ._run_copy import (
    corrected_fingerprints,
    redact_features,
    retained_fit_params,
    retained_rows_of,
    retained_stats,
)
from ._weights import sample_weight_params

__all__ = ["GradientCorrectionUnlearner"]


def _check_supported(estimator):
    """Raise before fitting if the (final) estimator cannot be unlearned from."""
    if isinstance(estimator, Pipeline):
        if any(hasattr(step, "fit_resample") for _, step in estimator.steps[:-1]):
            raise unsupported(
                estimator,
                " with a resampling step (its training rows are not the rows given to fit)",
            )
    final = final_step(estimator)
    if neural_backend(final) is None:
        check_convex(final)


def _without_cache(est):
    """Turn off the ``memory=`` caches of ``est``'s pipelines (in place), with a warning.

    A cache is written by ``fit`` outside the model (joblib files holding the fitted
    steps: an encoder's categories, an imputer's rows) and no removal can reach it.
    """
    cached = sorted(
        k
        for k, v in est.get_params(deep=True).items()
        if k.rsplit("__", 1)[-1] == "memory" and v is not None
    )
    if not cached:
        return
    warnings.warn(
        f"GradientCorrectionUnlearner fits without the pipeline cache ({', '.join(cached)} "
        "set to None): its files would keep steps fitted on rows that a removal must "
        "forget, out of the unlearner's reach.",
        UserWarning,
        stacklevel=3,
    )
    est.set_params(**dict.fromkeys(cached))


def _unsourced_inputs(X, ids, lineage, sources):
    """Input columns of a DataFrame ``X`` that no source of its rows holds (those the
    model's features use, when its run says which), or None."""
    if lineage is not None:
        return unsourced_run_columns(lineage) or None
    if not isinstance(X, pd.DataFrame):
        return None
    return unsourced_columns([str(c) for c in X.columns], ids, sources) or None


def _trained_features(est, X, fed):
    """The features the final step of the fitted ``est`` was trained on, for the rows
    ``X`` given to its fit: those that reached it (``fed``, see
    :func:`~sktraceprop.influence._fit_features.final_fit_inputs`), which differ from
    ``est[:-1].transform(X)`` where a step's ``fit_transform`` cross fits
    (``TargetEncoder``); ``X`` itself without preprocessing.

    The correction starts from the model at the minimum of its objective on these
    features; with ``transform``'s it would converge to the minimum on other features
    than any retrain of the final step gives it.
    """
    if not has_preprocessing(est):
        return X
    pre = est[:-1]
    return features_trained_on(X, pre.transform(X), fed, pre)[0]


def _refit_start(est, X, fed):
    """``(Z, Z_known)`` of :class:`PipelineRefit` for the fitted pipeline ``est``: the
    features its final step was fitted on where they differ from ``transform``'s."""
    pre = est[:-1]
    # (a copy: X is kept for the refits, and a copy=False step writes into what it transforms)
    Z, _, where = features_trained_on(X, pre.transform(private_copy(X)), fed, pre)
    return (Z if where == "fit" else None), where != "unknown"


def _sample_weight(sample_weight, X):
    """``sample_weight`` as a float64 array of one finite non-negative weight per row."""
    if sample_weight is None:
        return None
    n = num_samples(X)
    sw = np.array(sample_weight, dtype=np.float64, copy=True)  # kept: the caller's may change
    if sw.ndim == 0:
        sw = np.full(n, float(sw))
    if sw.shape != (n,):
        raise ValueError(f"sample_weight has shape {sw.shape}; expected ({n},), one per row")
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    return sw


def _check_parents_here(forget, ids):
    """Raise when this process lacks the parent rows of merged training rows ``ids``,
    which ``forget`` must follow (see ``GradientCorrectionUnlearner._parents_travel``)."""
    missing = sorted(
        s.source_id
        for s in source_table(ids).values()
        if s.derived and REGISTRY.complete(s).parents is None
    )
    if missing:
        raise UnlearningError(
            f"forget={forget!r} must follow the training rows of {', '.join(missing)} to "
            "the rows they were merged or aggregated from, which this process does not "
            "hold: it did not make them (a joblib worker of GridSearchCV or cross_validate "
            "with n_jobs > 1, say). An unfitted unlearner pickled with forget= set carries "
            "them: give forget= to the unlearner handed to the search, not through its "
            "parameter grid, or use n_jobs=1. Nothing was fitted or stored."
        )


def _positions_of(ids, subset):
    """Positions in ``ids`` (unique) of each row id of ``subset``."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    if np.any(sorted_ids[1:] == sorted_ids[:-1]):
        raise UnlearningError(
            "the rows given to fit repeat row ids, so the rows a skorch net trained on "
            "cannot be told apart; pass distinct sample_id values."
        )
    return order[np.searchsorted(sorted_ids, subset)]


def _warn_not_in_training_data(absent, removed):
    """Warn that the ``forget=`` items ``absent`` reach no training row of this fit."""
    sources = [a for a in absent if isinstance(a, str)]
    ids = [a for a in absent if not isinstance(a, str)]
    named = []
    if sources:
        named.append(f"source(s) {', '.join(map(repr, sources))}")
    if ids:
        shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
        named.append(f"{len(ids)} row id(s) ({shown})")
    warnings.warn(
        f"forget= names {' and '.join(named)} that no training row of this fit holds or "
        "was merged from: the model never trained on them, so nothing was removed for "
        "them (in a cross-validation fold: they are in its test rows, or in no split). "
        + (
            "The removal event lists them under request['not_in_training_data']."
            if removed
            else "Nothing else was asked, so no removal event was logged."
        ),
        UserWarning,
        stacklevel=3,
    )


def _jsonable(forget):
    items = [forget] if isinstance(forget, str | int | np.integer) else list(forget)
    return [f if isinstance(f, str) else int(f) for f in items]


def _warn_if_several_files(name, sources):
    """Say so when one source id names the rows of several files (two folders'
    ``data.csv``, both ``data`` by default): a request by that id removes the rows of
    all of them. Versions of one file (read again after an edit) are one source."""
    uris = sorted({s.uri for s in sources})
    if len(uris) > 1:
        warnings.warn(
            f"source_id {name!r} names the training rows of {len(uris)} files "
            f"({', '.join(uris)}): the rows of every one of them are removed, each counted "
            "apart in the event. To remove one file's rows, pass sample_id= with its row "
            "ids (sktraceprop.row_ids of the frame read from it), or read files "
            "under distinct source_id= names.",
            LineageWarning,
            stacklevel=4,
        )


def _merge_parents(ids, sources):
    """``(parent_ids, rows)``: every leaf parent of the merged rows among ``ids`` and the
    position of the row it is a parent of (empty arrays when no row is merged)."""
    frame = lineage_frame(ids, sources)
    if "via" not in frame.columns:
        return np.empty(0, np.int64), np.empty(0, np.intp)
    merged = frame["via"].notna().to_numpy()
    return (
        frame["row_id"].to_numpy(np.int64)[merged],
        frame["row"].to_numpy(np.intp)[merged],
    )


class GradientCorrectionUnlearner(
    SelectionCloneMixin,
    HolderMixin,
    FingerprintCarryMixin,
    PredictDelegationMixin,
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
    retrain using :func:`sktraceprop.metrics.unlearning_report`.

    Parameters
    ----------
    estimator : estimator object
        A ``LogisticRegression`` (L2 or no penalty, binary or multinomial),
        ``SGDClassifier(loss="log_loss")``, ``Ridge``, ``RidgeClassifier`` or
        ``LinearRegression``, or a neural classifier (see above), alone or as the final
        step of a ``Pipeline`` or :class:`~sktraceprop.TracedPipeline` (see
        ``preprocessing``). A skorch net with an internal validation split can only
        forget the rows it trained on; inside a ``TracedPipeline`` those are
        ``lineage_.row_ids``.
    forget : str, int or list of str and int, default=None
        Rows removed at the end of ``fit``: source ids (every training row derived from the
        source, merges included) and/or packed int64 row ids. Only the rows present in the
        training data of this fit are removed, so a cross-validation fold removes its own
        rows of a source; items that reach no training row of the fit (a source not in
        ``X``, row ids left out of it) are named in a warning and, when other rows were
        removed, in the event's ``request["not_in_training_data"]``. An unregistered source
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
        Convex models only.
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
        Neural models only: step size of those SGD steps; None uses the model's own
        learning rate (skorch ``lr``, ``JaxClassifier.learning_rate``). Convex models
        ignore it.
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
        retrain's interpolated between the model's and the clones' by the fraction of
        the rows the removal removes (the holdout is required at ``fit``:
        ``X_holdout``/``y_holdout`` or a skorch validation split). It costs about
        ``n_crossfit * (crossfit_folds - 1) / crossfit_folds`` extra fits (30 by
        default), once; ``unlearn`` costs the same as with ``"holdout"``. The clones
        are not kept, only each row's loss. The correction reaches its target; the
        estimate is what errs (see the user guide).
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
        Neural models with ``calibration="crossfit"`` only: draws the splits and the
        clones' seeds. A torch module that seeds torch in its constructor overrides
        them: every clone then starts from the model's initial weights, unlike
        retrains with other seeds (seed with ``torch.manual_seed`` before ``fit``
        instead; the user guide gives the measured difference).
    preprocessing : {"refit", "keep"}, default="refit"
        What happens to the steps before the final one when ``estimator`` is a
        pipeline. ``"refit"``: each removal refits them on the retained rows and the
        final step is corrected on the features they now produce, so the pipeline
        equals a retrain of the whole pipeline (scalers, imputers and encoders forget the
        rows too); the unlearner then keeps the raw training input of the retained rows.
        If the refitted preprocessing outputs another number of features (a category
        only the removed rows had), the features are matched by name and the missing
        ones' coefficients dropped, or else the final step is refitted; the event says
        which. ``"keep"``: only the final step is corrected, on the features it was
        fitted on (a ``TargetEncoder``'s cross-fitted encodings, not ``transform``'s), and
        the preprocessing keeps what it learnt from the removed rows (the event's
        ``caveat`` says so). Neural
        models always keep the preprocessing: new inputs would invalidate the trained
        network.
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
        ``seconds``, ``n_removed``, ``n_retained``, ``sources`` (removed rows per
        source), ``lines`` (first and last line per source), ``source_contents`` (where
        several sources share a ``source_id``: two folders' ``data.csv``, two contents of
        an edited file, each counted apart under ``"source_id [first 12 digits of its
        sha256]"``, this maps such a label to the ``source_id``, ``uri`` and ``sha256``
        it stands for), ``row_ids`` (every removed
        row id, int64), ``row_ids_sha256``, ``via_merge`` (removed rows per merge they
        came from), ``merged_parents_kept`` (parent rows of removed merged rows that
        retained rows were merged from too, per source: counted under ``sources``, not
        removed), ``request``, ``aggregates_over_removed_rows`` and
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
        ``influence_step_norm``, ``n_steps``, ``lr``, ``weight_decay``, the
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
        self.store = store
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, sample_id=None, X_holdout=None, y_holdout=None):
        """Fit a clone of ``estimator`` on all rows, then remove the ``forget`` rows.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training data; a DataFrame loaded by sktraceprop carries its row ids.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every step of a pipeline whose ``fit`` accepts it (a warning
            names the others), and to the final estimator. Convex models only.
        sample_id : array-like of int64 of shape (n_samples,), default=None
            Row ids of the samples, overriding those carried by ``X``; sliced per fold
            by ``GridSearchCV`` like ``sample_weight``.
        X_holdout, y_holdout : array-like, default=None
            Neural models only: rows the model does not train on. With
            ``calibration="auto"`` or ``"crossfit"`` they correct the crossfit clones'
            losses to the model's level (``"auto"`` needs them, or a skorch validation
            split, to use the crossfit calibration); with ``"holdout"`` their mean loss
            is the calibration target of the removals made by this ``fit``. A skorch
            validation split is used when this is None.

        Returns
        -------
        self : object
        """
        self._validate_params()
        _check_supported(self.estimator)
        # a request that cannot be honoured is refused before anything is fitted or stored
        forget = None if self.forget is None else self._split_forget(self.forget)
        ids = resolve_row_ids(X, sample_id)
        if forget is not None:
            _check_parents_here(self.forget, ids)
        # columns changed after loading (values moved between rows stay after a removal)
        changed = changes(X, ids)
        # rows this unlearner removed on request before this new fit
        removed_before = [np.asarray(e["row_ids"]) for e in getattr(self, "unlearning_log_", ())]
        est = clone(self.estimator)
        if self.store is not None and "store" in est.get_params(deep=False):
            # the run the removal events name is stored where they are appended
            est.set_params(store=self.store)
        _without_cache(est)
        backend = neural_backend(final_step(est))
        if backend is not None and final_step(est) is est:
            check_module_input(X, "the neural correction")
        if is_skorch_net(final_step(est)):
            # the criterion the clone will train with, refused before it is fitted
            check_torch_objective(final_step(est), "the neural correction")
        if backend is not None and sample_weight is not None:
            raise unsupported(final_step(est), " with sample_weight")
        if backend is not None and self.calibration in ("auto", "crossfit"):
            if self.n_crossfit < self.crossfit_folds:
                raise ValueError(
                    f"n_crossfit={self.n_crossfit} is less than crossfit_folds="
                    f"{self.crossfit_folds}: some rows would be left out by no clone. Fit "
                    "at least one clone per fold."
                )
        sw = _sample_weight(sample_weight, X)
        fit_params = sample_weight_params(est, sw, warn=True)
        # the parts the weights reach (with metadata routing, the steps that requested
        # them; checked here, before the fit): a correction weights what the fit weighted
        weighted = weighted_parts(est, fit_params) if fit_params else (False, False)
        # taken before the fit, which may write into X; kept in place of the caller's
        # data, which the caller may write into later
        given, y = private_copy(X), private_copy(y)
        # A run the clone records has purpose "unlearning" and the user's fitted
        # estimator (if any) as parent; it is stored only if preparing the removal works.
        with library_fit("unlearning", self.estimator, owner=self, model=est):
            # the features the final step is fitted on, taken as they reach it: a step
            # whose fit_transform is not fit().transform() (TargetEncoder cross fits)
            # gives the training rows other features at fit than its transform does
            with skorch_fit_indices(final_step(est)) as seen, final_fit_inputs(est) as fed:
                if hasattr(est, "_traced_fit"):
                    est.fit(X, y, sample_id=sample_id, **fit_params)
                else:
                    est.fit(X, y, **fit_params)
            final = final_step(est)
            lineage = getattr(est, "lineage_", None)
            trained = None  # positions of the rows the final step trained on, None = all
            if lineage is not None and lineage.input_row_ids is not None:
                if backend is None:
                    raise unsupported(final, " trained on other rows than those given to fit")
                trained = _positions_of(ids, lineage.row_ids)
            elif seen.indices is not None:
                trained = seen.indices

            params = self.get_params(deep=False)
            if backend is not None:
                # before anything is set on self: a failure here leaves the unlearner as it was
                method = NeuralCorrection.fit(
                    backend,
                    est,
                    given,
                    y,
                    trained,
                    params,
                    X_holdout,
                    y_holdout,
                    ids=ids,
                    features=_trained_features(est, given, fed),
                )
                if trained is not None:
                    ids = ids[trained]
            else:
                y_arr = np.asarray(y)
                if is_classifier(final) and y_arr.ndim == 2 and y_arr.shape[1] == 1:
                    y_arr = y_arr.ravel()
                if self.preprocessing == "refit" and has_preprocessing(est):
                    Z, known = _refit_start(est, given, fed)
                    method = PipelineRefit(given, y_arr, sw, weighted, Z=Z, Z_known=known)
                else:
                    Z = _trained_features(est, given, fed)
                    method = NewtonCorrection.fit(final, Z, y_arr, sw if weighted[1] else None)
            try:
                self._set_fitted(est, ids, lineage, method)
                self._changed = changed
                self._unsourced = _unsourced_inputs(X, ids, lineage, self._sources)
                if forget is not None:
                    positions, named = self._resolve(*forget, strict=False)
                    # (before rows of a skorch validation split the request names go)
                    absent = self._not_in_training_data(named)
                    if not positions.size:
                        self._drop_validation_only(named, f"forget={self.forget!r}")
                    if positions.size == ids.shape[0]:
                        raise UnlearningError(
                            f"forget={self.forget!r} names every training row of this fit; "
                            "nothing was fitted or stored."
                        )
                    if absent:
                        _warn_not_in_training_data(absent, removed=bool(positions.size))
            except BaseException:
                self._discard_fitted()
                raise

        if forget is not None and positions.size:
            try:
                self._remove(
                    positions,
                    named,
                    request={
                        "forget": _jsonable(self.forget),
                        **({"not_in_training_data": absent} if absent else {}),
                    },
                    options={"X_holdout": X_holdout, "y_holdout": y_holdout},
                )
            except BaseException:
                # no model that holds rows the user asked to forget is left to use
                self._discard_fitted()
                raise
        if removed_before:
            again = np.isin(
                self.train_row_ids_[self.retained_mask_], np.concatenate(removed_before)
            )
            if again.any():
                warnings.warn(
                    f"this fit trains on {int(again.sum())} row(s) that this unlearner removed "
                    "before it (a new fit starts a new model and a new log); add them to "
                    "forget= to keep them out",
                    UserWarning,
                    stacklevel=2,
                )
        return self

    def _set_fitted(self, est, ids, lineage, method):
        self.estimator_ = est
        self.train_row_ids_ = ids
        self.retained_mask_ = np.ones(ids.shape[0], dtype=bool)
        self.unlearning_log_ = []
        self.certificate_ = float("nan")
        self.n_iter_ = 0
        self.run_id_ = None if lineage is None else lineage.run_id
        for attr in ("n_features_in_", "feature_names_in_", "classes_"):
            if hasattr(est, attr):
                setattr(self, attr, getattr(est, attr))
            elif attr in self.__dict__:
                delattr(self, attr)
        self._method = method
        self._fingerprint_now = fingerprint(self.estimator_)
        # The sources of the training rows, with the parents of merged and aggregate rows
        # (ids only), so that a pickled unlearner can still follow them.
        self._sources = source_table(ids)
        self._derived = any(s.derived for s in self._sources.values())
        self._parents = None
        hold(self)  # another unlearner's removal of these rows names this one
        record_trained_rows(self.estimator_, ids, self._fingerprint_now)

    def _held_row_ids(self):
        """The training rows whose data this unlearner keeps (its retained rows)."""
        return self.train_row_ids_[self.retained_mask_]

    def _final_step_features(self):
        """The retained rows' features as the final step of ``estimator_`` was fitted (or
        corrected) on them, in the order of :meth:`_held_row_ids`: ``(features, known)``,
        see :meth:`~sktraceprop.unlearning._method.RemovalMethod.trained_features`. A
        step that cross fits (``TargetEncoder``) makes them differ from ``transform``'s;
        an explainer of this unlearner takes them."""
        return self._method.trained_features()

    def _discard_fitted(self):
        """Leave the unlearner unfitted (a fit that failed part-way)."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)
        for name in ("_method", "_sources", "_derived", "_parents", "_changed", "_unsourced"):
            self.__dict__.pop(name, None)

    # -- removal requests ------------------------------------------------------------------
    def unlearn(
        self,
        *,
        source_id=None,
        sample_id=None,
        mask=None,
        X_holdout=None,
        y_holdout=None,
        redact=None,
    ):
        """Remove the influence of training rows from the fitted model, in place.

        Give exactly one of ``source_id``, ``sample_id`` or ``mask``. A request that
        cannot be honoured raises and leaves the model unchanged.

        Parameters
        ----------
        source_id : str or list of str, default=None
            Remove every retained training row derived from these sources, rows merged
            from them included. A source id names every source read under it: every
            version of an edited file, and every file read under that name (two
            folders' ``data.csv`` are both ``data`` by default; a ``LineageWarning``
            then names the files, and ``sample_id=`` removes one file's rows).
        sample_id : array-like of int64, default=None
            Remove these rows (packed row ids): each must be a retained training row or
            a parent of one (a row of a source that :func:`sktraceprop.merge` merged
            into training rows, which are then removed with it).
        mask : array-like of bool of shape (n_train,), default=None
            Remove the rows selected by the mask, aligned with ``train_row_ids_`` (the
            rows given to ``fit``, or those a skorch net trained on).
        X_holdout, y_holdout : array-like, default=None
            Neural models only: rows the model never trained on (raw features, as for
            ``predict``), whose mean loss is the calibration target of the influence
            step (see ``calibration``). None uses a skorch validation split if the net
            had one.
        redact : str, default=None
            Also erase from the store what the run stored at fit holds of the removed
            rows (feature names only they produced, the training-data statistics of
            their sources, the SHA-256 and counts of their sample weights: what the
            event's ``caveat`` lists), giving this reason (an erasure request's
            reference), and what every other stored run given removed rows holds of
            them (cross-validation and search runs, an explainer's: their sources'
            statistics, their weights' record, those feature names). The store appends
            a ``store.redaction`` event per run, naming the unlearning event, and
            deletes the values (:meth:`BaseStore.redact
            <sktraceprop.stores.BaseStore.redact>`); the hash chain still verifies.
            Audit events already logged (predictions, explanations) are not changed.
            Needs a store of schema version 3 (runs sealed), checked before anything
            is removed.

        Returns
        -------
        self : object
            The unlearner, with ``estimator_`` corrected and one more event in
            ``unlearning_log_``.

        Raises
        ------
        UnknownSourceError
            If a source id is not registered.
        UnlearningError
            If the request names no retained training row, names rows that were never
            trained on or are already removed, or would remove every retained row.

        Warns
        -----
        UserWarning
            If retained training rows joined group statistics
            (:func:`sktraceprop.aggregate`) computed over removed rows: their features
            still carry the removed rows' data. The event's ``caveat`` and
            ``aggregates_over_removed_rows`` say which and how many. Likewise for
            steps fitted outside the model (:class:`~sktraceprop.TracedEstimator`) on
            sources of removed rows (``steps_fitted_outside_over_removed_rows``), and
            for input columns changed after loading, outside the pipeline
            (``columns_changed_after_loading``): values moved between rows by pandas
            (``shift``, ``ffill``, ``rolling``) may still carry removed rows' data.
            If the request names only rows of a skorch validation split (never trained
            on): those are dropped from the calibration holdout the unlearner keeps, the
            model is unchanged and no event is logged (also for ``forget=`` at fit).
        """
        check_is_fitted(self, "estimator_")
        given = [a is not None for a in (source_id, sample_id, mask)]
        if sum(given) != 1:
            raise TypeError("unlearn() takes exactly one of source_id=, sample_id= or mask=")
        check_redact(self, redact)
        if source_id is not None:
            sources = [source_id] if isinstance(source_id, str) else list(source_id)
            request = {"source_id": sources}
            positions, named = self._resolve(sources, np.empty(0, np.int64), strict=False)
            if not positions.size and self._drop_validation_only(
                named, f"source_id={source_id!r}"
            ):
                return self
            positions, named = self._resolve(sources, np.empty(0, np.int64), strict=True)
        elif sample_id is not None:
            ids = np.atleast_1d(np.asarray(sample_id))
            if ids.size and not np.issubdtype(ids.dtype, np.integer):
                raise TypeError(f"sample_id must hold int64 row ids, got dtype {ids.dtype}")
            ids = ids.astype(np.int64)
            valid = getattr(self._method, "validation_ids", None)
            in_valid = np.isin(ids, valid) if valid is not None else np.zeros(ids.size, bool)
            if ids.size and in_valid.all():
                # every id is a row of the validation split, none trained on
                positions, named = self._resolve([], ids, strict=False)
                if self._drop_validation_only(named, f"sample_id ({ids.size} row ids)"):
                    return self
            # ids of the validation split (never trained on) are dropped with the removal
            positions, named = self._resolve([], ids[~in_valid], strict=True)
            named = {**named, "ids": ids}
            request = {"sample_id": int(ids.size)}
            if named["n_parents"]:
                request["parents_of_merged_rows"] = named["n_parents"]
        else:
            positions = self._positions_from_mask(mask)
            request = {"mask": int(positions.size)}
            named = {"codes": [], "ids": np.empty(0, np.int64)}
        self._remove(
            positions,
            named,
            request=request,
            options={"X_holdout": X_holdout, "y_holdout": y_holdout},
            redact=redact,
        )
        return self

    def _split_forget(self, forget):
        items = [forget] if isinstance(forget, str | int | np.integer) else list(forget)
        sources = [f for f in items if isinstance(f, str)]
        ids = [f for f in items if not isinstance(f, str)]
        bad = [f for f in ids if not isinstance(f, int | np.integer) or isinstance(f, bool)]
        if bad:
            raise TypeError(f"forget must hold source ids (str) and row ids (int), got {bad[0]!r}")
        for s in sources:
            REGISTRY.versions(s)  # an unknown source id raises
        # an id of no registered source, or past its last row, raises: a fit that forgets
        # only the rows it has must not take a mistyped id for one it does not have
        return sources, validate_ids(np.asarray(ids, dtype=np.int64), REGISTRY)

    def _parents_travel(self):
        # An unfitted unlearner that forgets at fit (a GridSearchCV or cross_validate
        # clone sent to a worker) must follow its merged training rows to their parents
        # there: which rows a source id reaches, and what its event says of them. Which
        # merged rows the worker's data holds is not known when it is pickled, so the
        # parents of every merge and aggregate loaded here travel (24 bytes per merged
        # row); a fitted unlearner carries those of its own rows (``_sources``).
        return self.forget is not None and not hasattr(self, "train_row_ids_")

    def _source(self, code):
        """The source record of ``code``, with its parents when anyone has them."""
        code = int(code)
        source = self._sources.get(code)
        if source is None:
            return REGISTRY.by_code(code)
        if source.derived and source.parents is None:
            source = self._sources[code] = REGISTRY.complete(source)
        return source

    def _resolve(self, sources, ids, strict):
        """Positions (into the training rows) of the retained rows the request reaches,
        and what it named: ``codes`` of the sources, row ``ids``, ``n_parents``, how
        many of those ids are parents of merged rows rather than training rows, and
        ``unmatched``, the source ids and row ids that reach no training row (non-strict
        requests only: a strict one raises).

        Each training row is named by its own id and, when merged, by the ids of its
        leaf parents (:func:`~sktraceprop._lineage._rows.lineage_frame`); a request
        reaches a row through any of them. A source id names every version of it.
        """
        train_ids, retained = self.train_row_ids_, self.retained_mask_
        if self._parents is None:
            self._parents = (
                _merge_parents(train_ids, self._source)
                if self._derived
                else (np.empty(0, np.int64), np.empty(0, np.intp))
            )
        parent_ids, parent_rows = self._parents
        names = np.concatenate([train_ids, parent_ids])
        rows = np.concatenate([np.arange(train_ids.shape[0]), parent_rows])
        hit = np.zeros(train_ids.shape[0], dtype=bool)
        codes, unmatched = [], []
        if sources:
            name_codes = codes_of(names)
            known = {int(c): self._source(c).source_id for c in np.unique(name_codes)}
        for s in sources:
            versions = [int(v.code) for v in REGISTRY.versions(s)]  # unknown ids raise
            of_s_codes = [c for c, name in known.items() if name == s]
            codes += sorted(set(versions) | set(of_s_codes))
            of_s = rows[np.isin(name_codes, of_s_codes)]
            if strict and not of_s.size:
                raise UnlearningError(
                    f"source {s!r} has no retained training rows in this model: it was "
                    "never trained on, directly or through a merge; nothing was changed."
                )
            if strict and not retained[of_s].any():
                raise UnlearningError(
                    f"source {s!r} has no retained training rows in this model "
                    f"({np.unique(of_s).size} trained on, all removed before); nothing was "
                    "changed."
                )
            if not of_s.size:
                unmatched.append(s)
            if strict:
                _warn_if_several_files(s, [self._source(c) for c in of_s_codes])
            hit[of_s] = True
        n_parents = 0
        if ids.size:
            named = np.isin(names, ids)
            present = np.isin(ids, names)
            if strict and not present.all():
                bad = ids[~present]
                raise UnlearningError(
                    f"{bad.size} of the {ids.size} row ids were never trained on by this "
                    f"model, directly or through a merge (first: {int(bad[0])}); nothing "
                    "was changed."
                )
            if strict:
                live = np.isin(ids, names[named & retained[rows]])
                removed = ids[~live]
                if removed.size:
                    raise UnlearningError(
                        f"{removed.size} of the row ids were already removed (first: "
                        f"{int(removed[0])}); nothing was changed."
                    )
            hit[rows[named]] = True
            n_parents = int(np.sum(~np.isin(ids, train_ids) & present))
            unmatched += ids[~present].tolist()
        named = {"codes": codes, "ids": ids, "n_parents": n_parents, "unmatched": unmatched}
        return np.flatnonzero(hit & retained), named

    def _not_in_training_data(self, named):
        """The items of a request resolved non-strictly (source ids, row ids) that reach
        no training row of this fit, directly or through a merge, nor a row of a skorch
        validation split the unlearner keeps (those are dropped, and said, apart)."""
        unmatched = named["unmatched"]
        ids = getattr(self._method, "validation_ids", None)
        if not unmatched or ids is None:
            return unmatched
        held = np.concatenate([ids, lineage_frame(ids, self._source)["row_id"].to_numpy(np.int64)])
        held_sources = {self._source(c).source_id for c in np.unique(codes_of(held))}
        return [
            u
            for u in unmatched
            if (u not in held_sources if isinstance(u, str) else not np.isin(u, held))
        ]

    def _positions_from_mask(self, mask):
        mask = np.asarray(mask)
        n = self.train_row_ids_.shape[0]
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(
                f"mask must be a boolean array of shape ({n},) aligned with the training "
                f"rows (train_row_ids_); got dtype {mask.dtype} and shape {mask.shape}"
            )
        gone = mask & ~self.retained_mask_
        if gone.any():
            raise UnlearningError(
                f"the mask selects {int(gone.sum())} rows that were already removed; "
                "nothing was changed."
            )
        return np.flatnonzero(mask)

    # -- the removal and its record --------------------------------------------------------
    def _remove(self, positions, named, request, options, redact=None):
        if fingerprint(self.estimator_) != self._fingerprint_now:
            # The removal method holds the data and curvature of the model it fitted or
            # last corrected: it would describe the old one, and the event claim it.
            raise UnlearningError(
                "estimator_ changed since the unlearner last fitted or corrected it "
                "(refitted, trained further or modified in place): the removal would start "
                "from a model the unlearner did not prepare, and its event would name run "
                f"{self.run_id_}. Fit the unlearner again. Nothing was changed."
            )
        if positions.size == 0:
            raise UnlearningError("the request names no retained training row; nothing to do.")
        retained = self.retained_mask_.copy()
        retained[positions] = False
        if not retained.any():
            raise UnlearningError(
                "the request would remove every training row the model holds; refit on "
                "other data instead. Nothing was changed."
            )
        start = time.perf_counter()
        # The method holds the retained rows in training order: map positions to them.
        held = np.flatnonzero(self.retained_mask_)
        forget = np.searchsorted(held, positions)
        keep = np.searchsorted(held, np.flatnonzero(retained))
        dropped = self._validation_rows_named(named)
        if dropped is not None:
            options = {**options, "drop_validation": dropped}
        removal = self._method.remove(
            self.estimator_, forget, keep, self.get_params(deep=False), **options
        )
        final = removal.final
        seconds = time.perf_counter() - start
        rows, leaves = self._removed_rows(positions)
        event = {
            "time_utc": utc_now(),
            "estimator": class_path(final),
            **removal.fields,
            "seconds": seconds,
            "n_removed": int(positions.size),
            "n_retained": int(keep.size),
            **rows,
            "request": request,
        }
        kept_frame = kept_lineage(self, retained)  # read by the checks below, made once
        if "via_merge" in rows:
            kept = merged_parents_kept(self, kept_frame, leaves)
            if kept:
                event["merged_parents_kept"] = kept
                notes = [event.pop("note")] if "note" in event else []
                event["note"] = "; ".join([*notes, merged_parents_note(kept)])
        outside = outside_steps(self, retained, positions)
        if outside:
            event["steps_fitted_outside_over_removed_rows"] = outside
        unsourced = getattr(self, "_unsourced", None)
        if unsourced:
            event["columns_in_no_source"] = list(unsourced)
        changed = getattr(self, "_changed", None)
        if changed:
            event["columns_changed_after_loading"] = {c: list(v) for c, v in changed.items()}
        if self._derived:
            remaining = aggregates_over_removed(
                self, kept_frame, np.concatenate([named["ids"], leaves]), named["codes"]
            )
            if remaining:
                event["aggregates_over_removed_rows"] = remaining
        if neural_backend(final) is not None and not np.isfinite(event["certificate"]):
            raise UnlearningError(
                "the neural correction diverged (non-finite gradient); lower lr or raise "
                "damping. Nothing was changed."
            )
        erasing = None
        if redact is not None:  # read before the commit replaces the copy of the run
            erasing = stored_run_values(self, removal, event["row_ids"])
        self._commit(
            UnlearningEvent(with_caveats(self, event, removal, erasing=erasing)),
            removal,
            retained,
        )
        if erasing is not None:
            logged = self.unlearning_log_[-1]
            erase(
                self,
                erasing,
                redact,
                logged.get("seq", len(self.unlearning_log_)),
                np.asarray(event["row_ids"]),
            )
        # the values of a few hundred rows per load, kept in this process to notice
        # columns changed after loading: the removed rows' go too
        WITNESSES.forget(np.concatenate([self.train_row_ids_[positions], leaves]))

    def _drop_validation_only(self, named, what):
        """For a request that reaches no training row: drop the rows of the skorch
        validation split it names (never trained on, kept as the calibration holdout) and
        warn. The model is unchanged, so no unlearning event is logged; a store gets an
        ``unlearning.holdout_dropped`` event (the rows, the request), so that the record
        shows the request was carried out. True when it dropped any."""
        dropped = self._validation_rows_named(named)
        if dropped is None or not dropped.any():
            return False
        n = int(dropped.sum())
        ids = np.asarray(self._method.validation_ids, dtype=np.int64)[dropped]
        store = self._event_store()
        logged = ""
        if store is not None:
            event = store.append_event(
                "unlearning.holdout_dropped",
                {
                    "request": what,
                    "n_rows": n,
                    "row_ids": ids.tolist(),
                    "row_ids_sha256": row_ids_digest(ids),
                },
                run_id=getattr(self, "run_id_", None),
            )
            logged = f"; the store logged unlearning.holdout_dropped event seq {event['seq']}"
        self._method = self._method.without_validation(dropped)
        warnings.warn(
            f"{what} names no row the model trained on, but {n} row(s) of its skorch "
            "validation split (never trained on, kept as the calibration holdout): those "
            "were dropped from what the unlearner keeps. The model is unchanged (it never "
            f"trained on them), so no unlearning event was logged{logged}.",
            UserWarning,
            stacklevel=3,
        )
        return True

    def _validation_rows_named(self, named):
        """Mask over the rows of a skorch validation split that the method keeps (never
        trained on) of the sources or rows the request names, directly or as parents;
        None when it keeps none."""
        ids = getattr(self._method, "validation_ids", None)
        if ids is None or not (len(named["codes"]) or named["ids"].size):
            return None
        frame = lineage_frame(ids, self._source)
        leaves = frame["row_id"].to_numpy(np.int64)
        hit = np.isin(codes_of(leaves), named["codes"]) | np.isin(leaves, named["ids"])
        mask = np.isin(codes_of(ids), named["codes"]) | np.isin(ids, named["ids"])
        mask[np.unique(frame["row"].to_numpy(np.intp)[hit])] = True
        return mask

    def _removed_rows(self, positions):
        """Event fields naming the removed rows (ids, digest, counts and lines per source,
        the merges they came from), and the leaf row ids behind them."""
        removed_ids = self.train_row_ids_[positions]
        frame = lineage_frame(removed_ids, self._source)
        # Per source, a source being one content, not a name: two files read under one
        # source_id (two folders' data.csv) or two contents of one edited file are
        # counted apart, under the labels of source_labels (the source_id where no other
        # source carries it), and their lines are not spanned as if one file's. Labelled
        # among every source the model trained on: a removal from one of two "data"
        # files names which, though it removes nothing of the other.
        group, contents = row_groups(frame["row_id"].to_numpy(), self._source)
        labels = labels_among(self, contents)
        frame["source"] = np.asarray(labels, dtype=object)[group]
        by_source = frame.groupby("source", sort=True)
        lines = by_source["line"].agg(["min", "max"])
        fields = {
            "sources": {k: int(v) for k, v in by_source["row"].nunique().items()},
            "lines": {k: [int(lo), int(hi)] for k, lo, hi in lines.itertuples()},
            "row_ids": removed_ids,
            "row_ids_sha256": row_ids_digest(removed_ids),
        }
        if any(label != str(s.source_id) for label, s in zip(labels, contents)):
            # a label that is not the source_id alone: what it stands for
            fields["source_contents"] = {
                label: {"source_id": str(s.source_id), "uri": s.uri, "sha256": s.sha256}
                for label, s in sorted(zip(labels, contents), key=lambda p: p[0])
            }
        if "via" in frame.columns:
            via = frame.dropna(subset=["via"]).groupby("via", sort=True)["row"].nunique()
            fields["via_merge"] = {str(k): int(v) for k, v in via.items()}
        # Leaves that are rows of an aggregate stand for groups, not removed data.
        leaves = frame["row_id"].to_numpy(np.int64)
        kinds = {int(c): self._source(c).kind for c in np.unique(codes_of(leaves))}
        grouped = np.isin(codes_of(leaves), [c for c, k in kinds.items() if k == "aggregate"])
        return fields, leaves[~grouped]

    def _commit(self, event, removal, retained):
        """Store the event, then swap in the corrected model and drop the removed rows'
        data (nothing before touched the unlearner)."""
        # The corrected model's fingerprint, in the event: prediction events and reports
        # of the corrected model are matched to the removal that made it.
        after = self._corrected_fingerprint(removal)
        event = UnlearningEvent({**event, "model_fingerprint_after": after})
        store = self._event_store()
        if store is not None:
            stored = store.append_event("unlearning", event.payload(), run_id=self.run_id_)
            event = UnlearningEvent({**event, "seq": stored["seq"], "event_hash": stored["hash"]})

        # swapped in whole: a logged call of estimator_ in another thread answers and
        # logs with the model before or after, never a mix (see sktraceprop._model_lock)
        with exclusive(self.estimator_, "an unlearner's correction"):
            if isinstance(self.estimator_, Pipeline):
                for i, (name, step) in enumerate(removal.preprocessing or ()):
                    self.estimator_.steps[i] = (name, step)
                self.estimator_.steps[-1] = (self.estimator_.steps[-1][0], removal.final)
                # the replaced steps hold what was learnt from the removed rows
                release_replaced_parts(self.estimator_)
                lineage = getattr(self.estimator_, "lineage_", None)
                if lineage is not None:
                    self.estimator_.lineage_ = self._run_copy(lineage, event, removal, retained)
            else:
                # In place, as a pipeline's steps are replaced in place: whoever holds
                # estimator_ (a reference, an explainer fitted on it) holds the corrected
                # model, not one that keeps the removed rows' influence.
                state = vars(self.estimator_)
                state.clear()
                state.update(vars(removal.final))
        if hasattr(removal.final, "classes_"):
            self.classes_ = removal.final.classes_  # fewer when a class only removed rows had
        self._method = removal.method
        self._fingerprint_now = fingerprint(self.estimator_)
        if self._fingerprint_now != after:  # a defect of this library, never silent
            raise RuntimeError(
                "sktraceprop defect: the corrected model's fingerprint differs from the one "
                f"its unlearning event records ({self._fingerprint_now} != {after})"
            )
        self.retained_mask_ = retained
        record_trained_rows(self.estimator_, self._held_row_ids(), self._fingerprint_now)
        self.certificate_ = event["certificate"]
        self.n_iter_ = event["n_iter"]
        self.unlearning_log_.append(event)

    def _corrected_fingerprint(self, removal):
        """Fingerprint of the model as :meth:`_commit` will leave it (before it does)."""
        # A bare instance given the attributes (no pickling protocol: a skorch net's
        # would serialise its weights only for them to be replaced).
        model = object.__new__(type(self.estimator_))
        if isinstance(self.estimator_, Pipeline):
            vars(model).update(vars(self.estimator_))
            model.steps = list(self.estimator_.steps)  # replaced below, not the original's
            for i, (name, step) in enumerate(removal.preprocessing or ()):
                model.steps[i] = (name, step)
            model.steps[-1] = (model.steps[-1][0], removal.final)
        else:
            vars(model).update(vars(removal.final))
        return fingerprint(model)

    def _run_copy(self, lineage, event, removal, retained):
        """The unlearner's copy of the run, naming no value of a removed row, with the
        retained rows as its training rows and their statistics (the stored record keeps
        what it said at fit)."""
        X, y = removal.method.held_data()
        if removal.dropped_features:
            lineage = redact_features(
                lineage,
                removal.preprocessing,
                self.estimator_.steps[-1][0],
                f"unlearning event {event.get('seq', len(self.unlearning_log_) + 1)} "
                f"removed {len(removal.dropped_features)} feature name(s) that only "
                "removed rows produced from this copy of the run",
                X,
            )
        lineage = retained_rows_of(
            lineage,
            self.train_row_ids_[~retained],
            f"unlearning event {event.get('seq', len(self.unlearning_log_) + 1)}",
        )
        stats = retained_stats(
            lineage.source_stats,
            self.train_row_ids_[retained],
            X,
            y,
            classes=is_classifier(self.estimator_),
            n_events=len(self.unlearning_log_) + 1,
        )
        fit_params, notes = retained_fit_params(
            lineage, getattr(removal.method, "sample_weight", None), len(self.unlearning_log_) + 1
        )
        return dataclasses.replace(
            corrected_fingerprints(lineage, self.estimator_),
            source_stats=stats,
            fit_params=fit_params,
            notes=notes,
        )

    def _event_store(self):
        if self.store is not None:
            return self.store
        return getattr(self.estimator_, "store", None)

    # -- delegation ------------------------------------------------------------------------
    @available_if(inner_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the corrected estimator (accuracy or R^2)."""
        check_is_fitted(self)
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)
