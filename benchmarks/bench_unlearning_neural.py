"""Neural unlearning on MNIST 5K: GradientCorrectionUnlearner vs retraining from scratch.

An MLP 784-256-10 (skorch, SGD, fixed epochs) on 4,000 training rows; four draws each of
removing 1% and 5% random rows and a contiguous block of 10% (one file's worth of
rows). The reference is the mean of ``N_RETRAIN`` retrains without the removed rows
(other initialisation and batch-order seeds): a neural retrain is itself random, and
each single retrain's distance from that mean is reported as the noise floor. For each
removal: forget-loss gap closed (100% = the mean retrain), test accuracy minus the
retrains' mean, function-space distance ratio on test rows (0 = retrain, 1 = original),
and seconds vs one retrain. The "scale for 100%" column is an oracle, measured with the
retrains: the fraction of the full-parameter influence step that would close exactly
100% of the gap (no fine-tuning); how much it varies between removals is what a fixed or
calibrated scale would have to predict.

Run: ``python benchmarks/bench_unlearning_neural.py`` (about 4 minutes on 2 cores).
"""

import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, markdown_table, write_results  # noqa: E402
from _data_mnist import load_mnist5k  # noqa: E402
from skorch import NeuralNetClassifier  # noqa: E402

from sktraceprop.metrics import (  # noqa: E402
    forget_loss_gap_closed,
    function_space_distance_ratio,
    per_sample_loss,
    unlearning_report,
)
from sktraceprop.unlearning import (  # noqa: E402
    GradientCorrectionUnlearner,  # noqa: E402
    _neural,
    _neural_torch,
)

EPOCHS = 15
N_TRAIN = 4000
N_RETRAIN = 8
N_CROSSFIT = 8
N_CROSSFIT_MORE = 24


class MLP(torch.nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
        )

    def forward(self, X):
        return self.net(X)


def net(seed=0):
    return NeuralNetClassifier(
        MLP,
        module__seed=seed,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=EPOCHS,
        lr=0.1,
        batch_size=128,
        optimizer__momentum=0.9,
        optimizer__weight_decay=5e-4,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
    )


def _oracle_scale(original, X_tr, y_tr, forget, target_loss, weight_decay):
    """Fraction ``t`` of the full influence step at which the forget rows' mean loss
    equals ``target_loss`` (bisection; measured with the retrains, so an oracle)."""
    model = pickle.loads(pickle.dumps(original))
    f, r = np.flatnonzero(forget), np.flatnonzero(~forget)
    Z, Y = _neural_torch.prepare(model, X_tr, y_tr)
    delta, _ = _neural.full_gauss_newton_step(
        _neural_torch, model, Z, Y, f, r, weight_decay=weight_decay, damping=0.0
    )
    theta = _neural_torch.params_vector(model)

    def loss_at(t):
        _neural_torch.set_params_vector(model, theta + t * delta)
        return float(per_sample_loss(model, X_tr[f], y_tr[f]).mean())

    return _neural._calibrate(loss_at, target_loss, n_bisect=30)[0]


def main():
    X, y = load_mnist5k()
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    perm = np.random.default_rng(0).permutation(X.shape[0])
    # The rows after the training set are split in two: a calibration holdout (only the
    # calibrated method reads it) and the evaluation rows every figure is measured on.
    tr, hold, te = perm[:N_TRAIN], perm[N_TRAIN : N_TRAIN + 500], perm[N_TRAIN + 500 :]
    X_tr, y_tr, X_te, y_te = X[tr], y[tr], X[te], y[te]
    X_hold, y_hold = X[hold], y[hold]

    torch.manual_seed(0)
    start = time.perf_counter()
    base = GradientCorrectionUnlearner(net(), n_steps=50, lr=0.05).fit(X_tr, y_tr)
    t_fit = time.perf_counter() - start
    original = base.estimator_
    blob = pickle.dumps(base)
    # The same original model (same seeds), with the crossfit calibration's half-data
    # clones fitted at fit (the calibration holdout is needed there for it).
    crossfit_blobs, t_crossfit = {}, {}
    for n_clones in (N_CROSSFIT, N_CROSSFIT_MORE):
        torch.manual_seed(0)
        start = time.perf_counter()
        crossfit = GradientCorrectionUnlearner(
            net(), calibration="crossfit", n_crossfit=n_clones, random_state=0
        ).fit(X_tr, y_tr, X_holdout=X_hold, y_holdout=y_hold)
        t_crossfit[n_clones] = time.perf_counter() - start - t_fit
        assert np.allclose(crossfit.predict_proba(X_te), base.predict_proba(X_te), atol=1e-6)
        crossfit_blobs[n_clones] = pickle.dumps(crossfit)
    # How much the mean loss of k rows a model never saw varies between random draws of
    # them (relative std): the noise a population-level calibration target carries.
    unseen = per_sample_loss(original, np.r_[X_hold, X_te], np.r_[y_hold, y_te])
    draw = np.random.default_rng(2)
    unseen_spread = {
        k: float(
            np.std([draw.choice(unseen, k, replace=False).mean() for _ in range(2000)])
            / unseen.mean()
        )
        for k in (40, 200, 400)
    }
    rng = np.random.default_rng(1)
    scenarios = {
        "random 1% (a)": rng.permutation(N_TRAIN)[: N_TRAIN // 100],
        "random 5% (a)": rng.permutation(N_TRAIN)[: N_TRAIN // 20],
        "block 10% (a)": np.arange(N_TRAIN // 10),
        "random 1% (b)": rng.permutation(N_TRAIN)[: N_TRAIN // 100],
        "random 5% (b)": rng.permutation(N_TRAIN)[: N_TRAIN // 20],
        "block 10% (b)": np.arange(N_TRAIN // 2, N_TRAIN // 2 + N_TRAIN // 10),
        "random 1% (c)": rng.permutation(N_TRAIN)[: N_TRAIN // 100],
        "random 5% (c)": rng.permutation(N_TRAIN)[: N_TRAIN // 20],
        "block 10% (c)": np.arange(N_TRAIN // 4, N_TRAIN // 4 + N_TRAIN // 10),
        "random 1% (d)": rng.permutation(N_TRAIN)[: N_TRAIN // 100],
        "random 5% (d)": rng.permutation(N_TRAIN)[: N_TRAIN // 20],
        "block 10% (d)": np.arange(3 * N_TRAIN // 4, 3 * N_TRAIN // 4 + N_TRAIN // 10),
    }
    configs = [
        ("last_layer", "none", 0),
        ("full", "none", 50),
        ("last_layer", "holdout", 10),
        ("last_layer", "crossfit", 10),
        ("full", "crossfit", 10),
        ("last_layer", f"crossfit-{N_CROSSFIT_MORE}", 10),
    ]
    rows, results, oracle_rows, floor_gaps = [], [], [], []
    for name, idx in scenarios.items():
        forget = np.zeros(N_TRAIN, dtype=bool)
        forget[idx] = True
        retrains, t_retrain = [], []
        for seed in range(N_RETRAIN):
            torch.manual_seed(100 + seed)  # batch order
            t0 = time.perf_counter()
            retrains.append(net(seed=seed).fit(X_tr[~forget], y_tr[~forget]))
            t_retrain.append(time.perf_counter() - t0)
        t_retrain = float(np.mean(t_retrain))
        retrain_loss = np.mean(
            [per_sample_loss(m, X_tr[forget], y_tr[forget]).mean() for m in retrains]
        )
        scale = _oracle_scale(original, X_tr, y_tr, forget, retrain_loss, 5e-4)
        # The noise floor: each retrain against the mean of the *other* retrains, as if
        # it were an unlearned model (a perfect unlearner is just another retrain).
        spread, ratios = [], []
        for j, single in enumerate(retrains):
            others = retrains[:j] + retrains[j + 1 :]
            spread.append(
                forget_loss_gap_closed(single, others, original, X_tr[forget], y_tr[forget])
            )
            ratios.append(function_space_distance_ratio(single, others, original, X_te))
        floor_gaps.extend(spread)
        oracle_rows.append(
            [
                name,
                int(forget.sum()),
                f"{min(spread):.0f}-{max(spread):.0f}%",
                f"{min(ratios):.2f}-{max(ratios):.2f}",
                f"{scale:.2f}",
            ]
        )
        print(oracle_rows[-1], flush=True)
        for influence, calibration, n_steps in configs:
            if calibration.startswith("crossfit"):
                n_clones = int(calibration.split("-")[1]) if "-" in calibration else N_CROSSFIT
                unl = pickle.loads(crossfit_blobs[n_clones]).set_params(calibration="crossfit")
            else:
                unl = pickle.loads(blob).set_params(calibration=calibration)
            unl.set_params(n_steps=n_steps, lr=0.05, influence=influence)
            holdout = (
                {"X_holdout": X_hold, "y_holdout": y_hold} if calibration == "holdout" else {}
            )
            t0 = time.perf_counter()
            unl.unlearn(mask=forget, **holdout)
            t_unl = time.perf_counter() - t0
            rep = unlearning_report(
                unl.estimator_, retrains, original, X_tr[forget], y_tr[forget], X_te, y_te
            )
            event = unl.unlearning_log_[-1]
            res = {
                "scenario": name,
                "n_removed": int(forget.sum()),
                "influence": influence,
                "calibration": calibration,
                "n_steps": n_steps,
                "lr": 0.05,
                "damping_used": event["damping"],
                "step_scale": event["step_scale"],
                "certificate": event["certificate"],
                "seconds_unlearn": t_unl,
                "seconds_retrain": t_retrain,
                "accuracy_unlearned": unl.score(X_te, y_te),
                "accuracy_retrained_mean": float(np.mean([m.score(X_te, y_te) for m in retrains])),
                "accuracy_original": original.score(X_te, y_te),
                "oracle_scale_for_100_percent": scale,
                **rep,
            }
            results.append(res)
            rows.append(
                [
                    name,
                    res["n_removed"],
                    f"{influence}, {calibration}",
                    n_steps,
                    f"{rep['forget_gap_closed_percent']:.0f}% ({rep['verdict']})",
                    f"{100 * rep['score_delta']:+.2f}",
                    f"{rep['distance_ratio_test']:.2f}",
                    f"{t_unl:.2f} / {t_retrain:.1f}",
                ]
            )
            print(rows[-1], flush=True)
    headers = [
        "removal",
        "rows",
        "influence step, calibration",
        "n_steps",
        "forget gap closed",
        "test acc - retrain (pts)",
        "distance ratio (test)",
        "seconds unlearn / retrain",
    ]
    oracle_headers = [
        "removal",
        "rows",
        "one retrain vs the others' mean: gap closed",
        "one retrain vs the others' mean: distance ratio (test)",
        "oracle: full-step scale for 100%",
    ]
    md = (
        "# Neural unlearning: MLP 784-256-10 (skorch) on MNIST 5K\n\n"
        f"{N_TRAIN} training rows, {X_te.shape[0]} evaluation rows, {EPOCHS} epochs SGD "
        "(lr 0.1, momentum 0.9, weight decay 5e-4). The reference is the mean of "
        f"{N_RETRAIN} retrains from scratch without the removed rows (initialisation and "
        "batch-order seeds differ). GradientCorrectionUnlearner with the influence step "
        "(auto damping) over the last layer or over all parameters (damped Gauss-Newton, "
        "conjugate gradients), then n_steps SGD steps (lr 0.05, batch 128). Calibration "
        "scales the step (bisection) so that the removed rows' mean loss after the "
        "correction matches an estimate of their loss under a retrain: *holdout*, the "
        "original model's mean loss on 500 calibration rows it never saw (never the "
        f"evaluation rows); *crossfit*, each removed row's loss under {N_CROSSFIT} clones "
        "(*crossfit-k*: k clones) fitted on random halves of the training rows that left "
        "it out, times the ratio of the original's to the clones' loss on those 500 "
        f"calibration rows. Original fit (incl. unlearner setup): {t_fit:.1f} s; the "
        f"crossfit clones, once per fitted model: {t_crossfit[N_CROSSFIT]:.1f} s more "
        f"({t_crossfit[N_CROSSFIT_MORE]:.1f} s for {N_CROSSFIT_MORE}). Targets from the "
        "issue: gap closed 90-110%, accuracy within 1 point of retrain.\n\n"
        + markdown_table(headers, rows)
        + "\n\nThe noise floor and the oracle, per removal:\n\n"
        + markdown_table(oracle_headers, oracle_rows)
    )
    m = machine()
    verdicts = []
    for influence, calibration, n_steps in configs:
        config = (influence, calibration, n_steps)
        group = [r for r in results if (r["influence"], r["calibration"], r["n_steps"]) == config]
        gaps = [r["forget_gap_closed_percent"] for r in group]
        acc = max(abs(100 * r["score_delta"]) for r in group)
        speed = [r["seconds_retrain"] / r["seconds_unlearn"] for r in group]
        inside = sum(90 <= g <= 110 for g in gaps)
        kind = (
            "over-unlearning"
            if min(gaps) > 110
            else "under-unlearning"
            if max(gaps) < 90
            else "under- and over-unlearning across removals"
        )
        verdicts.append(
            f"- {influence} influence, calibration {calibration}, {n_steps} steps: gap closed "
            f"{min(gaps):.0f}-{max(gaps):.0f}%, {inside} of {len(gaps)} removals in 90-110% "
            f"({'meets' if inside == len(gaps) else f'misses, {kind}'}), "
            f"accuracy within {acc:.2f} points of the retrains' mean "
            f"({'meets' if acc <= 1 else 'misses'} the 1-point target), "
            f"{min(speed):.1f}-{max(speed):.1f}x the speed of one retrain"
        )
    scales = [float(r[-1]) for r in oracle_rows]
    md += (
        "\n\n" + "\n".join(verdicts) + "\n\n"
        "Speed is the mean retrain's seconds over unlearning seconds (below 1: slower than "
        "retraining at this small scale). The noise-floor columns score each retrain as "
        f"if it were an unlearned model, against the mean of the other {N_RETRAIN - 1}: "
        f"a single retrain lands at {min(floor_gaps):.0f}-{max(floor_gaps):.0f}% and in "
        f"90-110% in {sum(90 <= g <= 110 for g in floor_gaps)} of {len(floor_gaps)} "
        "cases, so the 90-110% band is about as narrow as the retrain's own seed noise, "
        "and a distance ratio in the floor's range cannot be told from a retrain. "
        "The full-parameter step is the first-order removal estimate and overshoots on "
        "memorised rows; the last-layer step barely moves them. The oracle column shows "
        "why no fixed scale fixes that: the fraction of the full step that closes exactly "
        f"100% ranges from {min(scales):.2f} to {max(scales):.2f} across these removals "
        "(the forget loss rises steeply with it). A calibration must therefore estimate "
        "the retrain's loss on the removed rows themselves. The holdout estimate is the "
        "mean loss of unseen rows, blind to how hard the removed rows are: the mean loss "
        "of k rows the original never saw varies between random draws by "
        + ", ".join(f"{100 * v:.0f}% (k = {k})" for k, v in unseen_spread.items())
        + " of itself (relative std over 2,000 draws from the "
        f"{unseen.shape[0]} holdout and evaluation rows). The crossfit estimate is per "
        "row, from clones that never saw it; what remains is the clones' own seed noise "
        "and the half-data correction.\n\n"
        f"Machine: {m['cpu']}, {m['cpu_count']} cores, Python {m['python']}. Command: "
        "`python benchmarks/bench_unlearning_neural.py`.\n"
    )
    write_results(
        "unlearning_neural",
        {
            "machine": machine(),
            "epochs": EPOCHS,
            "n_train": N_TRAIN,
            "n_retrain": N_RETRAIN,
            "n_crossfit": [N_CROSSFIT, N_CROSSFIT_MORE],
            "seconds_fit": t_fit,
            "seconds_crossfit_setup": {str(k): v for k, v in t_crossfit.items()},
            "unseen_mean_loss_relative_std": unseen_spread,
            "results": results,
            "noise_floor_and_oracle": [dict(zip(oracle_headers, r)) for r in oracle_rows],
        },
        md,
    )
    print(md)


if __name__ == "__main__":
    main()
