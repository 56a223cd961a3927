"""The crossfit calibration target: each row's loss under models that never saw it.

At ``fit``, clones of the model are fitted on repeated stratified K-fold splits of the
training rows, each on every fold but one. A removed row's estimated loss under a
retrain is its mean loss under the clones that left it out, times the ratio of the
full model's loss on a holdout to the clones' (a model trained on fewer rows fits
unseen rows worse). This estimates the retrain's loss on *these* rows, not on average
rows. Few folds bias it (half-data clones, ``K = 2``, fit unseen rows unlike a model
trained on nearly all of them, and one ratio does not correct that row by row); many
folds leave each row out of fewer clones for the same cost, which makes it noisier.
``benchmarks/bench_unlearning_neural.py --all-methods`` compares 18 clones x 3 folds
(the default) with 9 x 3.

The clones are fitted through :func:`~sktraceprop.utils._progress.map_blocks` (joblib,
``n_jobs``, progress under ``verbose``) and not kept: only each row's loss is.
"""

import importlib

import numpy as np
from sklearn.base import clone

from ..utils._progress import map_blocks
from ._neural_backend import row_losses

__all__ = ["crossfit_folds", "crossfit_losses"]


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
    model = backend.fit_clone(fitted, clone(template), Z[train], Y[train], seed)
    losses = row_losses(backend.last_layer_inputs(model, Z[left_out])[1], Y[left_out])
    return losses, row_losses(backend.last_layer_inputs(model, holdout[0])[1], holdout[1])


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
    loss of clone ``m`` on row ``j`` of the ``holdout`` rows ``(Z_h, Y_h)``.
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
    for (left_out, _), (losses, _) in zip(plan, results):
        total[left_out] += losses
        count[left_out] += 1
    with np.errstate(invalid="ignore"):
        unseen = total / count
    return unseen, np.array([holdout_losses for _, holdout_losses in results])
