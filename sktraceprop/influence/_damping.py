"""Damping of neural Gauss-Newton influence chosen from a few cheap retrains.

The curvature ``G`` of a trained net is a poor guide to how far retraining moves it:
the net was trained for a finite number of steps from a random start, which damps the
directions of small curvature by an amount the kernel alone does not show (on the
networks of ``benchmarks/bench_neural.py`` the best damping factor ranges from 1 to 30,
and generalised cross-validation on the kernel picks its smallest candidate every
time). So the damping is measured against what it should predict: ``n_retrains``
clones are trained on random subsets of ``alpha`` times the rows, leaving out a random
fifth of the rows (the *probe* rows), all with one seed. For every damping factor on a
grid, the scores predict each probe row's margin in each retrained model (the sum of
the scores of the subset's rows); the factor whose predictions rank the retrained
margins best (mean Spearman correlation over the probe rows, as for the LDS) is kept.

The same retrains offer a second choice of train-side weight: besides the explained
model's own ``1 - p`` of each row, the mean ``1 - p`` the retrained models give it (a
net fitted on a subset is less sure of rows, seen or not, than the final one, and on
some nets that weight predicts retrained models better). Each retrain's predictions
use weights from the other retrains only, so no retrain grades weights it produced.
"""

import numpy as np

from ._trak import _margins, _refit

__all__ = ["select_damping"]

#: Damping factors tried (multiples of the mean nonzero eigenvalue of G).
GRID = np.logspace(-2, 4, 25)
#: Retrains on subsets, and the fraction of the rows held out as probe rows.
N_RETRAINS = 8
PROBE_FRACTION = 0.2
#: Below this many rows the retrains say nothing: the factor falls back to 1.
MIN_ROWS = 20
FALLBACK_FACTOR = 1.0


def _smooth(curve):
    """Three-point running mean along the (log-spaced) grid: a peak of one point, in
    noise from few retrains, should not win over a broad plateau."""
    padded = np.concatenate([curve[:1], curve, curve[-1:]])
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def select_damping(state, model, Xt, y, q_models, *, rng, alpha, verbose=0):
    """Choose the damping factor and the train-side weights by probe retrains.

    Parameters
    ----------
    state : NeuralState
        Members with their solvers (damping not yet set).
    model : fitted estimator
        The explained model, cloned for the retrains.
    Xt, y : ndarray
        Training inputs and labels.
    q_models : ndarray of shape (n_train,)
        ``1 - p`` of the members, averaged.
    rng : RandomState
    alpha : float
        Fraction of the rows each retrain sees (that of the LDS).
    verbose : int, default=0
        Progress of the retrains.

    Returns
    -------
    factor : float
    weights : ndarray of shape (n_train,)
    selection : dict
        What was chosen and why: ``rule``, ``factor``, ``weights``, ``n_retrains``,
        ``n_probe_rows``, ``grid``, ``probe_lds`` (per weight rule, one value per grid
        factor), ``reason``, and what reproduces the retrains: ``probe_rows``,
        ``subsets`` (one boolean mask over the training rows per retrain) and ``seed``.
    """
    from ..metrics._lds import _rowwise_spearman
    from ..utils._progress import progress

    n = Xt.shape[0]
    if n < MIN_ROWS:
        return (
            FALLBACK_FACTOR,
            q_models,
            {
                "rule": "fallback",
                "factor": FALLBACK_FACTOR,
                "weights": "model",
                "reason": f"{n} training rows are too few to hold out probe rows "
                f"(at least {MIN_ROWS}); damping factor {FALLBACK_FACTOR:g}",
            },
        )
    n_probe = max(4, int(round(PROBE_FRACTION * n)))
    probe = np.sort(rng.choice(n, n_probe, replace=False))
    rest = np.setdiff1d(np.arange(n), probe)
    size = int(min(max(1, round(alpha * n)), rest.size))
    masks = np.zeros((N_RETRAINS, n), dtype=bool)
    for r in range(N_RETRAINS):
        masks[r, rng.choice(rest, size, replace=False)] = True
    seed = int(rng.randint(np.iinfo(np.int32).max))
    actual = np.empty((n_probe, N_RETRAINS))
    q_sub = np.empty((N_RETRAINS, n))
    for r in progress(range(N_RETRAINS), verbose=verbose, desc="damping retrains"):
        est = _refit(model, Xt[masks[r]], y[masks[r]], seed)
        margins, p = _margins(est, Xt, y)
        actual[:, r] = margins[probe]
        q_sub[r] = 1.0 - p.astype(np.float64)
    total = q_sub.sum(axis=0)
    weight_rules = {
        "model": np.repeat(q_models[None, :], N_RETRAINS, axis=0),
        # retrain r is predicted with the weights of the other retrains
        "subsets": (total[None, :] - q_sub) / (N_RETRAINS - 1),
    }
    curves = {}
    for rule, Q in weight_rules.items():
        W = (masks * Q).T  # (n, n_retrains)
        preds = [m.probe_sums(probe, W, GRID) for m in state.members]
        curves[rule] = np.array(
            [
                float(_rowwise_spearman(sum(p[g] for p in preds), actual).mean())
                for g in range(GRID.size)
            ]
        )
    best = max(curves, key=lambda rule: _smooth(curves[rule]).max())
    g = int(np.argmax(_smooth(curves[best])))
    factor = float(GRID[g])
    weights = q_models if best == "model" else total / N_RETRAINS
    other = "subsets" if best == "model" else "model"
    reason = (
        f"{N_RETRAINS} retrains on {size} of {n} rows (seed {seed}), scored on {n_probe} "
        f"held-out training rows: factor {factor:.3g} ranks their margins best "
        f"(probe LDS {curves[best][g]:.3f}; {other!r} weights at best "
        f"{curves[other].max():.3f})"
    )
    selection = {
        "rule": "probe retrains",
        "factor": factor,
        "weights": best,
        "n_retrains": N_RETRAINS,
        "n_probe_rows": n_probe,
        "grid": GRID.copy(),
        "probe_lds": curves,
        "reason": reason,
        "probe_rows": probe,
        "subsets": masks,
        "seed": seed,
    }
    return factor, weights, selection
