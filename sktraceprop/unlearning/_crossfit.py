"""The crossfit calibration target: each row's loss under models that never saw it.

At ``fit``, clones of the model are fitted on repeated stratified K-fold splits of the
training rows, each on every fold but one. A removed row's estimated loss under a
retrain is its mean loss under the clones that left it out, scaled by the ratio of a
retrain's holdout loss to the clones' (a model trained on fewer rows fits unseen rows
worse), the retrain's interpolated between the full model's and the clones' by the
fraction of the rows that the removal, with those removed before it, leaves out
(:func:`crossfit_target`, :func:`crossfit_removal_target`). Rows of a skorch validation
split that was the clones' holdout leave it when their data is removed, and the two
levels are measured again without them (:func:`crossfit_holdout_kept`). This estimates the
retrain's loss on *these* rows, not on average rows. One ratio does not correct every
row alike, so clones far from the retrain's size bias the estimate: with 3 folds (a
third left out) the 1% removals on MNIST overshoot; more folds bring the clones closer
to a retrain but leave each row out of fewer clones for the same cost, which makes the
estimate noisier. The default, 36 clones x 6 folds (each row left out by 6 clones,
each trained on five sixths of the rows), was chosen on
``benchmarks/study_unlearning_neural_calibration.py``;
``benchmarks/bench_unlearning_neural.py --all-methods`` also scores 18 x 3.

The clones are fitted through :func:`~sktraceprop.utils._progress.map_blocks` (joblib,
``n_jobs``, progress under ``verbose``) and not kept: only each row's loss is.
"""

import importlib

import numpy as np
from sklearn.base import clone

from .._lineage._skorch import skorch_fit_indices
from ..utils._progress import map_blocks
from ._neural_backend import row_losses

__all__ = [
    "crossfit_folds",
    "crossfit_holdout_kept",
    "crossfit_losses",
    "crossfit_removal_target",
    "crossfit_target",
]


def crossfit_folds(Y, n_folds, rng):
    """A stratified assignment of the rows to ``n_folds`` folds.

    Each class's rows are shuffled and dealt to the folds in turn, from a random fold,
    so the folds differ in size by at most one row per class and, when every class has
    at least two rows, every union of ``n_folds - 1`` folds holds every class.
    """
    fold = np.empty(Y.shape[0], dtype=np.intp)
    for c in np.unique(Y):
        rows = np.flatnonzero(Y == c)
        fold[rng.permutation(rows)] = (np.arange(rows.shape[0]) + rng.integers(n_folds)) % n_folds
    return fold


def _clone_losses(block, backend_name, fitted, template, Z, Y, holdout):
    """Fit one clone on the rows not in ``block``; its losses on those rows and on the
    holdout. A module-level function so that process-based joblib backends can run it."""
    left_out, seed = block
    backend = importlib.import_module(backend_name)
    train = np.ones(Y.shape[0], dtype=bool)
    train[left_out] = False
    est = clone(template)
    with skorch_fit_indices(est) as seen:
        model = backend.fit_clone(fitted, est, Z[train], Y[train], seed)
    if seen.indices is not None:
        # a skorch net's validation split left these rows out of the clone's training too
        given = np.flatnonzero(train)
        train[:] = False
        train[given[seen.indices]] = True
        left_out = np.flatnonzero(~train)
    losses = row_losses(backend.last_layer_inputs(model, Z[left_out])[1], Y[left_out])
    holdout_losses = row_losses(backend.last_layer_inputs(model, holdout[0])[1], holdout[1])
    return left_out, losses, holdout_losses


def crossfit_losses(
    backend,
    fitted,
    template,
    Z,
    Y,
    *,
    n_models,
    n_folds,
    seed,
    holdout,
    n_jobs=None,
    verbose=0,
    return_left_out=False,
):
    """Per-row losses of rows left out by cross-fitted models, and their holdout loss.

    Fits ``n_models`` clones of the unfitted ``template`` (of the fitted model
    ``fitted``) on repeated stratified ``n_folds``-fold splits of the rows ``(Z, Y)``:
    clone ``m`` is fitted on every fold but fold ``m % n_folds`` of split
    ``m // n_folds`` (a fresh split each repeat), so with ``n_models`` a multiple of
    ``n_folds`` every row is left out by exactly ``n_models / n_folds`` clones, each of
    which trained on ``(n_folds - 1) / n_folds`` of the rows. Each clone is fitted with
    its own seed drawn from ``seed`` (the framework's random state is restored after),
    so the result does not depend on ``n_jobs`` when the joblib backend runs each fit
    in its own process (the default, loky) or sequentially; thread-based backends share
    the framework's global random state between fits.

    Returns ``(unseen, clones_holdout)``: ``unseen[i]`` is the mean loss of row ``i``
    under the clones that left it out (NaN if none did), ``clones_holdout[m, j]`` the
    loss of clone ``m`` on row ``j`` of the ``holdout`` rows ``(Z_h, Y_h)``. A skorch
    net with a ``train_split`` holds out part of each clone's rows as well: those rows
    count as left out by that clone. With ``return_left_out`` the mean fraction of the
    rows the clones left out (``1 / n_folds`` without such a split) comes third.
    """
    classes, counts = np.unique(Y, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            "calibration='crossfit' needs at least 2 training rows of every class (so "
            f"that every clone trains on every class); class {classes[counts.argmin()]!r} "
            f"has {counts.min()}."
        )
    rng = np.random.default_rng(seed)
    plan = []
    for m in range(n_models):
        if m % n_folds == 0:
            fold = crossfit_folds(Y, n_folds, rng)
        left_out = np.flatnonzero(fold == m % n_folds)
        plan.append((left_out, int(rng.integers(np.iinfo(np.int32).max))))
    results = map_blocks(
        _clone_losses,
        plan,
        shared=(backend.__name__, fitted, template, Z, Y, holdout[:2]),
        n_jobs=n_jobs,
        verbose=verbose,
        desc="crossfit clones",
    )
    n = Y.shape[0]
    total, count = np.zeros(n), np.zeros(n)
    for left_out, losses, _ in results:
        total[left_out] += losses
        count[left_out] += 1
    with np.errstate(invalid="ignore"):
        unseen = total / count
    clones_holdout = np.array([holdout_losses for _, _, holdout_losses in results])
    if return_left_out:
        fraction = float(np.mean([left_out.shape[0] / n for left_out, _, _ in results]))
        return unseen, clones_holdout, fraction
    return unseen, clones_holdout


def crossfit_target(unseen, fraction, model_holdout, clones_holdout, left_out):
    """The crossfit estimate of a retrain's mean loss on the removed rows.

    ``unseen`` are the removed rows' crossfit losses (each under clones trained without
    a fraction ``left_out`` of the rows, ``1 / crossfit_folds``). A retrain without a
    fraction ``fraction`` of the rows fits unseen rows like a model trained on
    ``1 - fraction`` of them: its holdout loss is interpolated linearly in the fraction
    left out between the two levels measured at ``fit``, the model's
    (``model_holdout``, nothing left out) and the clones' (``clones_holdout``,
    ``left_out``); linearly extrapolated past ``left_out``. The target is the removed
    rows' mean crossfit loss times that loss over the clones'::

        mean(unseen) * (model_holdout + (clones_holdout - model_holdout)
                        * fraction / left_out) / clones_holdout

    With ``fraction = 0`` it is the ratio to the model's own level; the clones'
    left-out fraction (a third with 3 folds) is far from a 1% removal's, and a
    retrain without 10% of the rows fits unseen rows measurably worse than one without
    1% (``benchmarks/study_unlearning_neural_calibration.py``).
    """
    level = model_holdout + (clones_holdout - model_holdout) * fraction / left_out
    return float(np.mean(unseen) * level / clones_holdout)


def _holdout_source(crossfit):
    """What the clones' holdout was: ``"validation split"`` or ``"X_holdout"`` (read
    from the source where a pickle from before the key lacks it)."""
    if "holdout_source" in crossfit:
        return crossfit["holdout_source"]
    return "validation split" if "validation split" in crossfit["source"] else "X_holdout"


def crossfit_holdout_kept(crossfit, stay):
    """``crossfit`` (see :class:`~._neural.NeuralCorrection`) once the skorch validation
    split keeps only its rows ``stay`` (a mask over them: the others were of removed
    data).

    Where the validation split was the clones' holdout, the dropped rows' losses go and
    the model's and the clones' holdout levels are measured again on the rows that stay
    (None where none stays: the target cannot be corrected, and a removal says so); a
    holdout given as ``X_holdout`` is left as it is.
    """
    if crossfit is None or _holdout_source(crossfit) != "validation split":
        return crossfit
    stay = np.asarray(stay, dtype=bool)
    kept = {
        **crossfit,
        "holdout_clones": crossfit["holdout_clones"][:, stay],
        "holdout_full": crossfit["holdout_full"][stay],
        "holdout_dropped": crossfit.get("holdout_dropped", 0) + int(np.sum(~stay)),
        "model_holdout": None,
        "clones_holdout": None,
    }
    if stay.any():
        kept["model_holdout"] = float(kept["holdout_full"].mean())
        kept["clones_holdout"] = float(kept["holdout_clones"].mean())
    return kept


def crossfit_removal_target(crossfit, forget, n_kept):
    """``(target, source)`` of a removal of the held rows ``forget`` that leaves
    ``n_kept`` rows held, under the crossfit calibration ``crossfit``.

    The retrain it estimates lacks every row removed since ``fit``, this removal's and
    earlier ones', so its share is of the rows the clones were fitted among (a pickle
    from before they were counted: of the rows held, exact for a first removal). Raises
    ValueError where no holdout row is left to correct the clones' level with.
    """
    if crossfit["model_holdout"] is None:
        raise ValueError(
            "calibration='crossfit' has no holdout rows left: every row of the skorch "
            "validation split its clones were corrected on was of removed data, and was "
            "dropped. Set calibration='holdout' and pass X_holdout and y_holdout to "
            "unlearn, or calibration='none'. Nothing was changed."
        )
    n_rows = crossfit.get("n_rows")
    n_removed = (n_rows if n_rows is not None else forget.shape[0] + n_kept) - n_kept
    fraction = n_removed / (n_removed + n_kept)
    target = crossfit_target(
        crossfit["unseen"][forget],
        fraction,
        crossfit["model_holdout"],
        crossfit["clones_holdout"],
        crossfit["left_out"],
    )
    source = crossfit["source"]
    if n_rows is not None and n_removed > forget.shape[0]:
        source += f" ({n_removed} of the {n_rows} rows removed, {forget.shape[0]} now)"
    dropped = crossfit.get("holdout_dropped", 0)
    if dropped:
        source += (
            f"; {dropped} row(s) of the validation split, of removed data, dropped from "
            "that holdout and its levels measured again without them"
        )
    return target, source
