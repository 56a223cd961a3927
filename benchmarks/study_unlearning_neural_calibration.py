"""Study: can the crossfit target be corrected for small removals, from fit-time data only?

On MNIST the crossfit calibration with 18 clones x 3 folds overshoots 1% removals
(``bench_unlearning_neural.py``: mean 116% of the forget-loss gap, 22% in the 90-110%
band) and slightly undershoots 5% and 10% ones (94%), while on UCI Adult it meets the
target. The unlearner ends each
calibrated removal within a fraction of a point of the gap its target implies, so a
target can be scored without running the unlearner: its gap closed is
``(target - L0) / (Lr - L0)``, ``L0`` the removed rows' mean loss under the original
network and ``Lr`` under the mean of the benchmark's 6 retrains without them.

This script fits, for each data set, the benchmark's original network and 3 sets of
crossfit clones (``random_state`` 0-2, as the benchmark does) for each fold setting in
``FOLDS``, and scores, on the benchmark's 36 removals (same seeds), targets built only
from what the unlearner has at removal time (the clones' losses on the rows they left
out and on the holdout rows, and the model's holdout losses):

* ``ratio``: the previous library target, the removed rows' mean clone loss times the
  ratio of the model's holdout loss to the clones';
* ``ratio to the removal's size``: the library's target (``crossfit_target``), the same
  with the model's holdout loss replaced by a retrain's, interpolated linearly between
  the model's (nothing left out) and the clones' (a ``1 / folds`` fraction left out) at
  the fraction of rows the removal removes;
* ``isotonic`` and ``linear``: each removed row's clone loss mapped, row by row, to the
  model's loss on a holdout row with that clone loss (isotonic or least-squares fit on
  the holdout rows; their clone losses averaged over as many clones as a training row's,
  one per split, so that both carry the same clone noise), then averaged;
* ``uncorrected``: the mean clone loss.

It also prints, per removal, how much of the removed rows' clone loss their 3 hardest
rows carry: the evidence for where the error of small removals comes from.

``Lr`` comes from the benchmark's retrains (``reference_retrains``: cached under
``benchmarks/cache``, else retrained; the same networks either way); the targets never
see them. Long CPU work without timing:
``nice -n 19 python benchmarks/study_unlearning_neural_calibration.py [--data Adult]``
(about 7 minutes for MNIST and 5 for Adult on a quiet 2-core machine, more if the
retrains are not cached; a run of one data set keeps the other's figures). Writes
``results/study_unlearning_neural_calibration.json``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.isotonic import IsotonicRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_unlearning_neural as bench  # noqa: E402
from _common import RESULTS  # noqa: E402

from sktraceprop.metrics import per_sample_loss  # noqa: E402
from sktraceprop.unlearning import GradientCorrectionUnlearner  # noqa: E402
from sktraceprop.unlearning._crossfit import crossfit_target  # noqa: E402

#: (clones, folds) settings fitted: the previous default, 18 x 3, and 18 x 6 (near its
#: cost). The library's new default, 36 x 6, is scored by pooling two sets of 18 x 6:
#: ``crossfit_losses`` plans 36 x 6 as 6 independent 6-fold splits, one clone per fold,
#: as two 18 x 6 sets are (their splits and seeds come from two random states, not one).
FOLDS = ((18, 3), (18, 6))
#: the pairs of 18 x 6 sets pooled into three 36 x 6 ones
POOLED = ((0, 1), (1, 2), (0, 2))
KINDS = ("random 1%", "random 5%", "block 10%")


def _targets(crossfit, n_folds):
    """name -> function of the removed rows' positions: the target of each variant."""
    u, n = crossfit["unseen"], crossfit["unseen"].shape[0]
    levels = (crossfit["model_holdout"], crossfit["clones_holdout"], crossfit["left_out"])
    clones, full = crossfit["holdout_clones"], crossfit["holdout_full"]
    # clone m leaves out fold m % n_folds of its split: the clones with one fold index
    # are one per split, as many as leave out each training row
    x = np.concatenate([clones[k::n_folds].mean(axis=0) for k in range(n_folds)])
    y = np.tile(full, n_folds)
    iso = IsotonicRegression(out_of_bounds="clip").fit(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    return {
        "ratio": lambda rows: crossfit_target(u[rows], 0.0, *levels),
        "ratio to the removal's size": lambda rows: crossfit_target(
            u[rows], rows.size / n, *levels
        ),
        "isotonic": lambda rows: iso.predict(u[rows]).mean(),
        "linear": lambda rows: (intercept + slope * u[rows]).mean(),
        "uncorrected": lambda rows: u[rows].mean(),
    }


def _with_pooled(fitted):
    """The fitted sets, plus the 36 x 6 sets pooled from pairs of 18 x 6 ones."""
    out = dict(fitted)
    for i, (a, b) in enumerate(POOLED):
        one, two = fitted[18, 6, a], fitted[18, 6, b]
        out[36, 6, i] = {
            "unseen": (one["unseen"] + two["unseen"]) / 2,  # 3 + 3 clones per row
            "model_holdout": one["model_holdout"],
            "clones_holdout": (one["clones_holdout"] + two["clones_holdout"]) / 2,
            "left_out": one["left_out"],
            "holdout_clones": np.vstack([one["holdout_clones"], two["holdout_clones"]]),
            "holdout_full": one["holdout_full"],
        }
    return out


def _score(gaps):
    gaps = np.asarray(gaps)
    inside = (gaps >= bench.BAND[0]) & (gaps <= bench.BAND[1])
    return {
        "n": int(gaps.size),
        "in_band": float(inside.mean()),
        "rms": bench._rms(gaps),
        "mean": float(gaps.mean()),
    }


def study(name, references=None):
    """``references``: ``{removal: Lr}`` from an earlier benchmark run, or None to
    take ``Lr`` from the benchmark's retrains (cached or retrained)."""
    loader, spec, lr, _ = bench.DATASETS[name]
    X, y = loader()
    n, h = bench.N_TRAIN, bench.N_HOLDOUT
    X_tr, y_tr, X_h, y_h = X[:n], y[:n], X[n : n + h], y[n : n + h]
    d_in = X.shape[1]
    plan = bench.removals(bench.REMOVAL_SEEDS[name])
    fitted, original = {}, None
    for n_clones, n_folds in FOLDS:
        for clone_set in range(bench.N_CLONE_SETS):
            start = time.perf_counter()
            torch.manual_seed(0)  # the benchmark's original network
            unl = GradientCorrectionUnlearner(
                bench.make_net(spec, d_in),
                lr=lr,
                calibration="crossfit",
                n_crossfit=n_clones,
                crossfit_folds=n_folds,
                random_state=clone_set,
            ).fit(X_tr, y_tr, X_holdout=X_h, y_holdout=y_h)
            fitted[n_clones, n_folds, clone_set] = unl._method.crossfit
            original = unl.estimator_
            print(
                f"{name} {n_clones} x {n_folds}, set {clone_set}: "
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
    loss0 = per_sample_loss(original, X_tr, y_tr)
    rows_out, gaps = [], {}
    for removal, rows in plan.items():
        forget = np.zeros(n, dtype=bool)
        forget[rows] = True
        l0 = float(loss0[rows].mean())
        if references is None:
            retrains = bench.reference_retrains(name, spec, d_in, X_tr[~forget], y_tr[~forget])
            lr_mean = float(
                np.mean([per_sample_loss(m, X_tr[rows], y_tr[rows]).mean() for m in retrains])
            )
        else:
            lr_mean = references[removal]
        record = {"removal": removal, "loss_original": l0, "loss_retrain_mean": lr_mean}
        for (n_clones, n_folds, clone_set), crossfit in _with_pooled(fitted).items():
            u = crossfit["unseen"][rows]
            if (n_clones, n_folds, clone_set) == (*FOLDS[0], 0):
                record["top3_share_of_clone_loss"] = float(np.sort(u)[-3:].sum() / u.sum())
            for variant, target in _targets(crossfit, n_folds).items():
                gap = 100 * (target(rows) - l0) / (lr_mean - l0)
                gaps.setdefault((f"{n_clones} x {n_folds}", variant), []).append((removal, gap))
        rows_out.append(record)
        print(f"{name} {removal}: gap {lr_mean - l0:.4f}", flush=True)
    summary = {}
    for (setting, variant), scored in gaps.items():
        entry = {"all": _score([g for _, g in scored])}
        for kind in KINDS:
            entry[kind] = _score([g for r, g in scored if r.startswith(kind)])
        summary[f"{setting}, {variant}"] = entry
    return {"removals": rows_out, "summary": summary}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", nargs="+", choices=list(bench.DATASETS), default=list(bench.DATASETS)
    )
    parser.add_argument(
        "--references", type=Path,
        help="a results file of bench_unlearning_neural.py: take each removal's mean "
        "retrain loss from it instead of retraining (the same networks: same seeds)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    path = RESULTS / "study_unlearning_neural_calibration.json"
    out = json.loads(path.read_text()) if path.exists() else {}
    for name in args.data:
        references = None
        if args.references is not None:
            earlier = json.loads(args.references.read_text())["data"][name]
            assert earlier["removal_seed"] == bench.REMOVAL_SEEDS[name]
            references = {r["removal"]: r["loss_retrain_mean"] for r in earlier["results"]}
        out[name] = study(name, references)
        for label, entry in out[name]["summary"].items():
            print(
                f"{name} {label}: "
                + "; ".join(
                    f"{kind} {100 * s['in_band']:.0f}% in band, rms {s['rms']:.1f}, "
                    f"mean {s['mean']:.0f}%"
                    for kind, s in entry.items()
                )
            )
        shares = [r["top3_share_of_clone_loss"] for r in out[name]["removals"]]
        for kind in KINDS:
            part = [
                s for r, s in zip(out[name]["removals"], shares) if r["removal"].startswith(kind)
            ]
            print(
                f"{name} {kind}: the 3 hardest rows carry {100 * np.median(part):.0f}% "
                "(median) of the removed rows' clone loss"
            )
        out[name]["command"] = (
            "nice -n 19 python benchmarks/study_unlearning_neural_calibration.py"
            + ("" if args.data == list(bench.DATASETS) else " --data " + " ".join(args.data))
            + ("" if args.references is None else f" --references {args.references}")
        )
    path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
