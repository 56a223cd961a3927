"""Neural unlearning on MNIST 5K: GradientCorrectionUnlearner vs retraining from scratch.

An MLP 784-256-10 (skorch, SGD, fixed epochs, same initialisation) on 4,000 training
rows; removals of 1% and 5% random rows and of a contiguous block of 10% (one file's
worth of rows). For each: forget-loss gap closed (100% = retrain), test accuracy minus
the retrain's, function-space distance ratio on test rows (0 = retrain, 1 = original),
and seconds vs a retrain. The noise floor is a retrain with another seed compared with
the reference retrain.

Run: ``python benchmarks/bench_unlearning_neural.py`` (about 5 minutes on 2 cores).
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

from sktraceprop.metrics import unlearning_report  # noqa: E402
from sktraceprop.unlearning import GradientCorrectionUnlearner  # noqa: E402

EPOCHS = 15
N_TRAIN = 4000


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

    start = time.perf_counter()
    base = GradientCorrectionUnlearner(net(), n_steps=50, lr=0.05).fit(X_tr, y_tr)
    t_fit = time.perf_counter() - start
    original = base.estimator_
    blob = pickle.dumps(base)
    rng = np.random.default_rng(1)
    scenarios = {
        "random 1%": rng.permutation(N_TRAIN)[: N_TRAIN // 100],
        "random 5%": rng.permutation(N_TRAIN)[: N_TRAIN // 20],
        "block 10% (one source)": np.arange(N_TRAIN // 10),
    }
    rows, results = [], []
    for name, idx in scenarios.items():
        forget = np.zeros(N_TRAIN, dtype=bool)
        forget[idx] = True
        t0 = time.perf_counter()
        retrained = net().fit(X_tr[~forget], y_tr[~forget])
        t_retrain = time.perf_counter() - t0
        other = net(seed=1).fit(X_tr[~forget], y_tr[~forget])
        configs = [
            ("last_layer", "none", 0),
            ("last_layer", "none", 50),
            ("full", "none", 50),
            ("full", "holdout", 50),
        ]
        for influence, calibration, n_steps in configs:
            unl = pickle.loads(blob).set_params(
                n_steps=n_steps, lr=0.05, influence=influence, calibration=calibration
            )
            holdout = {"X_holdout": X_hold, "y_holdout": y_hold} if calibration != "none" else {}
            t0 = time.perf_counter()
            unl.unlearn(mask=forget, **holdout)
            t_unl = time.perf_counter() - t0
            rep = unlearning_report(
                unl.estimator_, retrained, original, X_tr[forget], y_tr[forget], X_te, y_te
            )
            noise = unlearning_report(
                other, retrained, original, X_tr[forget], y_tr[forget], X_te, y_te
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
                "certificate": event["certificate"],
                "seconds_unlearn": t_unl,
                "seconds_retrain": t_retrain,
                "accuracy_unlearned": unl.score(X_te, y_te),
                "accuracy_retrained": retrained.score(X_te, y_te),
                "accuracy_original": original.score(X_te, y_te),
                "noise_floor_distance_ratio_test": noise["distance_ratio_test"],
                "noise_floor_gap_closed_percent": noise["forget_gap_closed_percent"],
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
                    f"{noise['distance_ratio_test']:.2f}",
                    f"{noise['forget_gap_closed_percent']:.0f}%",
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
        "noise floor: other-seed retrain ratio",
        "noise floor: other-seed gap closed",
        "seconds unlearn / retrain",
    ]
    md = (
        "# Neural unlearning: MLP 784-256-10 (skorch) on MNIST 5K\n\n"
        f"{N_TRAIN} training rows, {X_te.shape[0]} evaluation rows, {EPOCHS} epochs SGD "
        "(lr 0.1, momentum 0.9, weight decay 5e-4); GradientCorrectionUnlearner with the "
        "influence step (auto damping) over the last layer or over all parameters (damped "
        "Gauss-Newton, conjugate gradients), optionally shortened so the removed rows' mean "
        "loss does not exceed the original model's loss on 500 calibration holdout rows "
        "(never the evaluation rows), then n_steps SGD steps (lr 0.05, batch 128). "
        f"Original fit (incl. unlearner setup): {t_fit:.1f} s. Targets from the issue: gap "
        "closed 90-110%, accuracy within 1 point of retrain.\n\n" + markdown_table(headers, rows)
    )
    m = machine()
    verdicts = []
    for influence, calibration, n_steps in configs:
        config = (influence, calibration, n_steps)
        group = [r for r in results if (r["influence"], r["calibration"], r["n_steps"]) == config]
        gaps = [r["forget_gap_closed_percent"] for r in group]
        acc = max(abs(100 * r["score_delta"]) for r in group)
        speed = [r["seconds_retrain"] / r["seconds_unlearn"] for r in group]
        gap_ok = all(90 <= g <= 110 for g in gaps)
        kind = (
            "over-unlearning"
            if min(gaps) > 110
            else "under-unlearning"
            if max(gaps) < 90
            else "under- and over-unlearning across removals"
        )
        verdicts.append(
            f"- {influence} influence, calibration {calibration}, {n_steps} steps: gap closed "
            f"{min(gaps):.0f}-{max(gaps):.0f}% "
            f"({'meets' if gap_ok else f'misses, {kind}'}; target 90-110%), "
            f"accuracy within {acc:.2f} points of the retrain "
            f"({'meets' if acc <= 1 else 'misses'} the 1-point target), "
            f"{min(speed):.1f}-{max(speed):.1f}x the retrain's speed"
        )
    md += (
        "\n\n" + "\n".join(verdicts) + "\n\n"
        "Speed is retrain seconds over unlearning seconds (below 1: slower than retraining "
        "at this small scale). A retrain with another seed is about as far from the "
        "reference retrain as the unlearned models (the noise-floor columns), so the distance "
        "ratio mostly measures seed noise; the gap closed does not. The full-parameter step "
        "is the first-order removal estimate and overshoots on memorised rows; shortening it "
        "to a holdout loss is a heuristic that needs rows the model never saw.\n\n"
        f"Machine: {m['cpu']}, {m['cpu_count']} cores, Python {m['python']}. Command: "
        "`python benchmarks/bench_unlearning_neural.py`.\n"
    )
    write_results(
        "unlearning_neural",
        {"machine": machine(), "epochs": EPOCHS, "n_train": N_TRAIN, "results": results},
        md,
    )
    print(md)


if __name__ == "__main__":
    main()
