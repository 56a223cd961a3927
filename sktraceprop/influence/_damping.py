"""Damping of neural Gauss-Newton influence chosen from a few cheap retrains.

The curvature ``G`` of a trained net is a poor guide to how far retraining moves it:
the net was trained for a finite number of steps from a random start, which damps the
directions of small curvature by an amount the kernel alone does not show (on the two
networks of ``benchmarks/bench_neural.py`` measured so far the exact GGN's best damping
factor is 3.16 and 10 to 17.8, and generalised cross-validation on the kernel picks its
smallest candidate on both). So the damping is measured against what it should
predict: ``N_RETRAINS`` clones are trained on random subsets of ``alpha`` times the rows,
leaving out a random fifth of the rows (the *probe* rows), in ``N_SEEDS`` groups with
one seed per group. For every damping factor on a grid, the scores predict each probe
row's margin in each retrained model (the sum of the scores of the subset's rows), and
are graded as the LDS does: Spearman correlation over the retrains per probe row, mean
over the probe rows. A seed moves a row's margin in every retrain of its group alike,
which no subset caused, so each group's mean is removed from both sides first.

The factor is the one-standard-error rule on that curve: from the best of the smoothed
curve, the damping grows while the score stays within one standard error of the best
(the error over probe rows of the paired difference). Eight retrains are noisy, and in
that noise a small damping (a less regularised influence) looks best more often than
it is.

The same retrains choose two more things. The train-side weight: the explained model's
own ``1 - p`` of each row, or the mean ``1 - p`` the retrained models give it (a net
fitted on a subset is less sure of rows, seen or not, than the final one, and on some
nets that weight predicts retrained models much better, on others worse). Retrains of
one group share a seed, hence an initialisation: weights taken from them grade their
own group's retrains too well (with one seed for all retrains, they won the probes of
the benchmark's digits CNN and lost to the model's own weights against retrains from
the explained model's seed), so each retrain is scored with the weights of the other
group only. And, with an
ensemble, whether the mean of its first ``m`` members' scores is used or the explained
model's alone: the candidates for ``n_models`` models include those for fewer, so more
models only add choices. Every candidate other than the plain one (the explained model,
its own weights) is compared with it at their chosen factors, paired over the probe
rows, and is adopted only if it gains more than two standard errors; the error is the
larger of the one over probe rows and the jackknife one over retrains, since the probe
rows share the same eight retrains and an error over rows alone misses their noise
(with it, the benchmark's MNIST MLP in JAX adopted the mean of three members and
lost 0.10 LDS). Of the candidates that pass, the one with the largest gain is kept.
"""

import numpy as np
from scipy.special import expit

from ._neural_model import _margins
from ._neural_refit import refit_on

__all__ = ["select_damping"]

#: Damping factors tried (multiples of the mean nonzero eigenvalue of G).
GRID = np.logspace(-2, 4, 25)
#: Retrains on subsets, in this many seed groups (one seed per group), and the fraction
#: of the rows held out as probe rows.
N_RETRAINS = 8
N_SEEDS = 2
PROBE_FRACTION = 0.2
#: Below this many rows the retrains say nothing: the factor falls back to 1.
MIN_ROWS = 20
FALLBACK_FACTOR = 1.0


def _smooth(curve):
    """Three-point running mean along the (log-spaced) grid: a peak of one point, in
    noise from few retrains, should not win over a broad plateau."""
    padded = np.concatenate([curve[:1], curve, curve[-1:]])
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def most_damped_within_one_se(rows):
    """Grid index of the damping for one candidate, from its per-probe-row scores
    ``rows`` (grid x probe rows): the one-standard-error rule (Breiman et al., 1984;
    Hastie, Tibshirani and Friedman, 2009, 7.10), with the error of the paired
    difference. From the best of the smoothed mean curve, the damping grows while the
    curve stays within one standard error (over probe rows) of the difference of its
    scores from those at the best: with few retrains, a smaller damping (a less
    regularised, noisier influence) looks best more often than it is."""
    curve = _smooth(rows.mean(axis=1))
    g = best = int(np.argmax(curve))
    n = rows.shape[1]
    while g + 1 < curve.size:
        d = rows[g + 1] - rows[best]
        se = d.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
        if curve[g + 1] < curve[best] - se:
            break
        g += 1
    return g


def _centred(a, groups):
    """``a`` (rows x retrains) less each row's mean over the retrains of each seed group."""
    out = np.array(a, dtype=np.float64)
    for g in np.unique(groups):
        cols = groups == g
        out[:, cols] -= out[:, cols].mean(axis=1, keepdims=True)
    return out


def probe_lds(pred, actual, groups):
    """Spearman correlation per probe row of predicted and retrained margins over the
    retrains, each seed group's mean removed from both: a seed moves a row's margin in
    all retrains of its group alike, which is not the influence of a subset."""
    from ..metrics._lds import _rowwise_spearman

    return _rowwise_spearman(_centred(pred, groups), _centred(actual, groups))


def paired_gain(pred, pred_base, actual, groups):
    """Mean gain in probe LDS of ``pred`` over ``pred_base`` and its standard error.

    The probe rows share the same retrains, so the error over rows misses the noise of
    the retrains themselves (the main one of an LDS): the error is the larger of the one
    over probe rows and the jackknife one over retrains (each left out in turn).
    """
    d = probe_lds(pred, actual, groups) - probe_lds(pred_base, actual, groups)
    if d.size < 2:
        return float(d.mean()), np.inf
    over_rows = d.std(ddof=1) / np.sqrt(d.size)
    r = actual.shape[1]
    loo = np.empty(r)
    for j in range(r):
        keep = np.arange(r) != j
        loo[j] = np.mean(
            probe_lds(pred[:, keep], actual[:, keep], groups[keep])
            - probe_lds(pred_base[:, keep], actual[:, keep], groups[keep])
        )
    over_retrains = np.sqrt((r - 1) / r * np.sum((loo - loo.mean()) ** 2))
    return float(d.mean()), float(max(over_rows, over_retrains))


def crossfit_weights(q_sub, groups):
    """Weights that score retrain ``r``: the mean ``1 - p`` of the retrains of the
    other seed groups (other subsets and another seed: weights from retrains sharing
    ``r``'s seed share its initialisation, and would grade themselves)."""
    out = np.empty_like(q_sub)
    for g in np.unique(groups):
        out[groups == g] = q_sub[groups != g].mean(axis=0)
    return out


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
        grid per candidate ``(members, weights)``), ``probe_factor`` (each candidate's
        factor), ``probe_gain`` (each other candidate's mean paired gain over the
        explained model with its own weights, and its standard error), ``reason``, and
        what reproduces the retrains: ``probe_rows``, ``subsets`` (one boolean mask over
        the training rows per retrain), ``seeds`` (one per retrain), ``probe_margins``
        (probe rows x retrains) and ``retrain_weights`` (the ``1 - p`` each retrain
        gives every training row).
    """
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
    groups = np.arange(N_RETRAINS) % N_SEEDS
    group_seeds = rng.randint(np.iinfo(np.int32).max, size=N_SEEDS)
    seeds = group_seeds[groups]
    actual = np.empty((n_probe, N_RETRAINS))
    q_sub = np.empty((N_RETRAINS, n))
    for r in progress(range(N_RETRAINS), verbose=verbose, desc="damping retrains"):
        # a skorch validation split leaves rows of the subset out: they are not removed
        est, masks[r] = refit_on(model, Xt, y, masks[r], int(seeds[r]))
        margins = _margins(est, Xt, y)[0].astype(np.float64)
        actual[:, r] = margins[probe]
        q_sub[r] = expit(-margins)  # 1 - p, without p's rounding (see _neural_model)
    crossfit = crossfit_weights(q_sub, groups)
    # candidates: the first m members averaged, for every m (nested: more models only
    # add candidates), times the two weightings
    curves, chosen, sums, final_weights = {}, {}, {}, {}
    for n_used in range(1, len(members) + 1):
        q_members = np.mean([m.q for m in members[:n_used]], axis=0)
        for rule, Q in (("model", np.broadcast_to(q_members, masks.shape)), ("subsets", crossfit)):
            W = (masks * Q).T  # (n, n_retrains)
            preds = [m.probe_sums(probe, W, GRID) for m in members[:n_used]]
            key = (n_used, rule)
            sums[key] = [sum(p[g] for p in preds) for g in range(GRID.size)]
            rows = np.array([probe_lds(s, actual, groups) for s in sums[key]])
            curves[key] = rows.mean(axis=1)
            chosen[key] = most_damped_within_one_se(rows)
            final_weights[key] = q_members if rule == "model" else q_sub.mean(axis=0)
    # The plain influence (the explained model, its own weights) unless another candidate
    # ranks the probe margins better by more than twice the standard error of the
    # paired difference (over probe rows and over retrains): a handful of retrains must
    # not buy noise. Of those that do, the largest gain.
    base = (1, "model")
    best, best_gain = base, 0.0
    gains = {}
    for key in curves:
        if key == base:
            continue
        gains[key] = paired_gain(sums[key][chosen[key]], sums[base][chosen[base]], actual, groups)
        gain, se = gains[key]
        if gain > 2 * se and gain > best_gain:
            best, best_gain = key, gain
    g = chosen[best]
    factor = float(GRID[g])

    def describe(key):
        members_text = "the explained model" if key[0] == 1 else f"the mean of {key[0]} models"
        return f"{members_text} with {key[1]!r} weights"

    def label(key):
        return f"{'explained model' if key[0] == 1 else f'first {key[0]}'}, {key[1]} weights"

    peak = int(np.argmax(_smooth(curves[best])))
    if best == base:
        other = max(gains, key=lambda key: gains[key][0])
        verdict = (
            f"the best other candidate, {describe(other)}, gains {gains[other][0]:+.3f} "
            f"(standard error {gains[other][1]:.3f})"
        )
    else:
        verdict = (
            f"it gains {gains[best][0]:+.3f} (standard error {gains[best][1]:.3f}) over "
            f"{describe(base)}"
        )
    reason = (
        f"{N_RETRAINS} retrains on {size} of {n} rows ({N_RETRAINS // N_SEEDS} with each of "
        f"the seeds {', '.join(map(str, group_seeds))}), scored on {n_probe} held-out "
        f"training rows: {describe(best)}, damping factor {factor:.3g} (probe LDS "
        f"{curves[best][g]:.3f}: the most damped factor within one standard error of the "
        f"best factor, {GRID[peak]:.3g}); {verdict}; another candidate than the explained model "
        "with its own weights must gain more than two standard errors (over probe rows "
        "and over retrains)"
    )
    selection = {
        "rule": "probe retrains",
        "factor": factor,
        "members": "explained model" if best[0] == 1 else f"first {best[0]}",
        "weights": best[1],
        "n_retrains": N_RETRAINS,
        "n_probe_rows": n_probe,
        "grid": GRID.copy(),
        "probe_lds": {label(key): c for key, c in curves.items()},
        "probe_factor": {label(key): float(GRID[c]) for key, c in chosen.items()},
        "probe_gain": {label(key): gain for key, gain in gains.items()},
        "reason": reason,
        "probe_rows": probe,
        "subsets": masks,
        "seeds": seeds,
        "probe_margins": actual,
        "retrain_weights": q_sub,
    }
    return factor, best[0], final_weights[best], selection
