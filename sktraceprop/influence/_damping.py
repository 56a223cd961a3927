"""Damping of neural Gauss-Newton influence chosen from a few cheap retrains.

The curvature ``G`` of a trained net is a poor guide to how far retraining moves it:
the net was trained for a finite number of steps from a random start, which damps the
directions of small curvature by an amount the kernel alone does not show (on the two
networks of ``benchmarks/bench_neural.py`` measured so far the exact GGN's best damping
factor is 3.16 and 10 to 17.8, and generalised cross-validation on the kernel picks its
smallest candidate on both). So the damping is measured against what it should
predict: ``n_retrains`` clones are trained on random subsets of ``alpha`` times the rows,
leaving out a random fifth of the rows (the *probe* rows), all with one seed. For every
damping factor on a grid, the scores predict each probe row's margin in each retrained
model (the sum of the scores of the subset's rows); the factor whose predictions rank the retrained
margins best (mean Spearman correlation over the probe rows, as for the LDS) is kept.

The same retrains choose two more things. The train-side weight: the explained model's
own ``1 - p`` of each row, or the mean ``1 - p`` the retrained models give it (a net
fitted on a subset is less sure of rows, seen or not, than the final one, and on some
nets that weight predicts retrained models much better, on others worse); each
retrain's predictions use weights from the other retrains only, so no retrain grades
weights it produced. And, with an ensemble, whether its members' scores are averaged
or the explained model's are used alone: the candidates for ``n_models`` models include
those for fewer, so more models can only add choices.
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


def select_damping(state, model, Xt, y, *, rng, alpha, verbose=0):
    """Choose the damping factor, the members and the weights by probe retrains.

    Parameters
    ----------
    state : NeuralState
        Members with their solvers (damping not yet set).
    model : fitted estimator
        The explained model, cloned for the retrains.
    Xt, y : ndarray
        Training inputs and labels.
    rng : RandomState
    alpha : float
        Fraction of the rows each retrain sees (that of the LDS).
    verbose : int, default=0
        Progress of the retraining.

    Returns
    -------
    factor : float
    n_used : int
        The first ``n_used`` members are averaged (1: the explained model alone).
    weights : ndarray of shape (n_train,)
    selection : dict
        What was chosen and why: ``rule``, ``factor``, ``members``, ``weights``,
        ``n_retrains``, ``n_probe_rows``, ``grid``, ``probe_lds`` (one curve over the
        grid per candidate ``(members, weights)``), ``reason``, and what reproduces the
        retrains: ``probe_rows``, ``subsets`` (one boolean mask over the training rows
        per retrain) and ``seed``.
    """
    from ..metrics._lds import _rowwise_spearman
    from ..utils._progress import progress

    n = Xt.shape[0]
    members = state.members
    if n < MIN_ROWS:
        return (
            FALLBACK_FACTOR,
            len(members),
            np.mean([m.q for m in members], axis=0),
            {
                "rule": "fallback",
                "factor": FALLBACK_FACTOR,
                "members": "all" if len(members) > 1 else "explained model",
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
    # retrain r is predicted with the weights of the other retrains
    crossfit = (total[None, :] - q_sub) / (N_RETRAINS - 1)
    # candidates: the first m members averaged, for every m (nested: more models only
    # add candidates), times the two weightings
    curves, per_row, final_weights = {}, {}, {}
    for n_used in range(1, len(members) + 1):
        q_members = np.mean([m.q for m in members[:n_used]], axis=0)
        for rule, Q in (("model", np.broadcast_to(q_members, masks.shape)), ("subsets", crossfit)):
            W = (masks * Q).T  # (n, n_retrains)
            preds = [m.probe_sums(probe, W, GRID) for m in members[:n_used]]
            rows = np.array(
                [_rowwise_spearman(sum(p[g] for p in preds), actual) for g in range(GRID.size)]
            )
            key = (n_used, rule)
            curves[key] = rows.mean(axis=1)
            per_row[key] = rows[int(np.argmax(_smooth(curves[key])))]
            final_weights[key] = q_members if rule == "model" else total / N_RETRAINS
    # The plain influence (the explained model, its own weights) unless another candidate
    # ranks the probe margins better by more than twice the standard error of the
    # paired difference: a handful of retrains must not buy noise.
    base = (1, "model")
    best = base
    for key in curves:
        d = per_row[key] - per_row[base]
        se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else np.inf
        if d.mean() > 2 * se and _smooth(curves[key]).max() > _smooth(curves[best]).max():
            best = key
    g = int(np.argmax(_smooth(curves[best])))
    factor = float(GRID[g])

    def describe(key):
        members_text = "the explained model" if key[0] == 1 else f"the mean of {key[0]} models"
        return f"{members_text} with {key[1]!r} weights"

    runner_up = max((key for key in curves if key != best), key=lambda key: curves[key].max())
    reason = (
        f"{N_RETRAINS} retrains on {size} of {n} rows (seed {seed}), scored on {n_probe} "
        f"held-out training rows: {describe(best)}, damping factor {factor:.3g} (probe LDS "
        f"{curves[best][g]:.3f}; next best {describe(runner_up)}: "
        f"{curves[runner_up].max():.3f}; other candidates than the explained model with its "
        "own weights need a margin of two standard errors)"
    )
    selection = {
        "rule": "probe retrains",
        "factor": factor,
        "members": "explained model" if best[0] == 1 else f"first {best[0]}",
        "weights": best[1],
        "n_retrains": N_RETRAINS,
        "n_probe_rows": n_probe,
        "grid": GRID.copy(),
        "probe_lds": {
            f"{'explained model' if m == 1 else f'first {m}'}, {rule} weights": c
            for (m, rule), c in curves.items()
        },
        "reason": reason,
        "probe_rows": probe,
        "subsets": masks,
        "seed": seed,
    }
    return factor, best[0], final_weights[best], selection
