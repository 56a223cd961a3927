"""Unlearning on UCI Adult: GradientCorrectionUnlearner against an exact retrain.

Data: the Adult training file (30,162 complete rows), a random subset of ``--n-train``
rows (20,000; the seed project's protocol used 6,000 and is run side by side), tested on
the Adult test file. For "one whole source" each workclass subset is registered as its
own source (``stp.from_pandas`` per workclass; lines become row positions inside the
workclass), and ``Local-gov`` is removed with ``unlearn(source_id=...)``.

Features: one-hot categoricals + standardised numerics (fitted once on the training
rows, outside the unlearner: only the model is unlearned). Model:
``LogisticRegression(max_iter=1000)`` (lbfgs, C=1, default tol). Removals: 1% random
rows, 5% random rows, one whole source.

Reference: an exact retrain on the retained rows (``newton-cholesky``, tol=1e-12);
"original" in the distance ratio is the exact optimum on all rows, so both distances
measure the effect of the removal, not solver tolerance. Time: least of ``--repeats``
``unlearn`` calls (each on a copy of the fitted unlearner loaded from a pickle, no other
object holding the rows) against the least of
fitting ``LogisticRegression(max_iter=1000)`` from scratch on the retained rows.

A second block unlearns from the whole pipeline (``preprocessing="refit"``, the
default for a pipeline): the same removals on ``n_train`` rows, the one-hot encoder and
scaler refitted on the retained rows inside ``unlearn``; the reference is a retrain of
the whole pipeline (exact solver), the time is against fitting the whole pipeline from
scratch. Removing ``Local-gov`` removes a category the encoder then no longer has.

Memory: what the unlearner keeps of the retained rows to correct the model again later
(features and Hessian, or the pipeline's raw input) is measured as the size of the
pickled unlearner minus that of the pickled model, after each removal; the peak memory
of one ``unlearn`` call, of one refit from scratch and of the two fits is measured with
``tracemalloc`` on separate, untimed calls.

Run: python benchmarks/bench_unlearning.py [--n-train 20000] [--seed-n 6000] [--repeats 5]
"""

import argparse
import gc
import os
import pickle
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from _data import ADULT_CATEGORICAL, ADULT_NUMERIC, load_adult  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop.metrics import function_space_distance_ratio, unlearning_report  # noqa: E402

SOURCE = "Local-gov"
DELTAGRAD_RATIO = 0.027  # reported by DeltaGrad (Wu et al., ICML 2020); not measured here


def prepare(n_train, seed):
    X_all, y_all = load_adult("train")
    X_te, y_te = load_adult("test")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(X_all), size=n_train, replace=False))
    X, y = X_all.iloc[pick], y_all[pick]
    frames, targets = [], []
    for workclass, part in X.groupby("workclass", sort=True):
        # One source per workclass, so that a whole source can be removed by name.
        frames.append(stp.from_pandas(part.reset_index(drop=True), f"adult{n_train}:{workclass}"))
        targets.append(y[(X["workclass"] == workclass).to_numpy()])
    X, y = pd.concat(frames), np.concatenate(targets)
    ct = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), ADULT_CATEGORICAL),
        (StandardScaler(), ADULT_NUMERIC),
    )
    Z = ct.fit_transform(X)
    return X, Z, y, ct.transform(X_te), y_te


def timed(fn, repeats, setup=None):
    """Least wall time of ``fn(setup())`` over repeats (``setup`` runs outside the clock).

    The minimum, as ``timeit`` reports, is the figure least disturbed by other
    processes on a shared machine.
    """
    times, out = [], None
    for _ in range(repeats):
        arg = setup() if setup is not None else None
        start = time.perf_counter()
        out = fn(arg) if setup is not None else fn()
        times.append(time.perf_counter() - start)
    return float(np.min(times)), out


def peak_bytes(fn, setup=None):
    """Peak memory Python and numpy allocate while ``fn(setup())`` runs (tracemalloc;
    ``setup`` runs before tracing starts). Run apart from the timed calls, as tracing
    slows allocation."""
    arg = setup() if setup is not None else None
    tracemalloc.start()
    try:
        fn(arg) if setup is not None else fn()
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def exact_fit(Z, y):
    return LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(Z, y)


def held_bytes(unl):
    """Bytes the unlearner keeps beyond the model: its pickle minus the model's."""
    return len(pickle.dumps(unl)) - len(pickle.dumps(unl.estimator_))


def _record(n_train, name, forget, event):
    """The fields every row of results starts with."""
    return {
        "n_train": n_train,
        "removal": name,
        "n_removed": int(forget.sum()),
        **{k: event[k] for k in ("method", "n_iter", "n_hessian_updates", "certificate")},
    }


def _fresh(blob):
    """A fitted unlearner loaded from ``blob``, after collecting the garbage of earlier
    copies (outside the clock)."""
    gc.collect()
    return pickle.loads(blob)


def timed_removals(blob, ids, n_train, seed, repeats):
    """Each removal of the protocol, timed on fresh copies of the fitted unlearner
    pickled in ``blob``: ``(name, forget mask, unlearned copy, least seconds, peak bytes
    of one call)``. No other object in the process holds the rows while a copy removes
    them, as for a user with one unlearner: a removal whose rows another fitted object
    holds also runs a full garbage collection, to tell that object from garbage."""
    for name, request, forget in removals(ids, n_train, seed):
        unlearn_s, done = timed(
            lambda fitted, r=request: fitted.unlearn(**r), repeats, lambda: _fresh(blob)
        )
        peak = peak_bytes(lambda fitted, r=request: fitted.unlearn(**r), lambda: _fresh(blob))
        yield name, forget, done, unlearn_s, peak
        del done  # it holds the rows the next removal removes


def removals(ids, n_train, seed):
    """``(name, unlearn request, forget mask)`` of the three removals of the protocol."""
    rng = np.random.default_rng(seed + 1)
    sources = stp.row_lineage(ids)["source_id"].to_numpy()
    requests = {
        "1% random": {"sample_id": ids[rng.choice(n_train, n_train // 100, replace=False)]},
        "5% random": {"sample_id": ids[rng.choice(n_train, n_train // 20, replace=False)]},
        f"source {SOURCE}": {"source_id": f"adult{n_train}:{SOURCE}"},
    }
    for name, request in requests.items():
        if "sample_id" in request:
            yield name, request, np.isin(ids, request["sample_id"])
        else:
            yield name, request, sources == request["source_id"]


def run_protocol(n_train, repeats, seed=0):
    X, Z, y, Z_te, y_te = prepare(n_train, seed)
    ids = stp.row_ids(X)
    model = LogisticRegression(max_iter=1000)
    template = stp.GradientCorrectionUnlearner(model)
    fit_s, _ = timed(lambda: clone(model).fit(Z, y), repeats)
    unl_fit_s, unl = timed(lambda: clone(template).fit(Z, y, sample_id=ids), repeats)
    fit_peak = peak_bytes(lambda: clone(model).fit(Z, y))
    unl_fit_peak = peak_bytes(lambda: clone(template).fit(Z, y, sample_id=ids))
    exact_original = exact_fit(Z, y)
    accuracy_original = float(unl.score(Z_te, y_te))
    held_fit = held_bytes(unl)
    blob = pickle.dumps(unl)
    del unl
    rows = []
    for name, forget, done, unlearn_s, peak in timed_removals(blob, ids, n_train, seed, repeats):
        keep = ~forget
        event = done.unlearning_log_[-1]
        scratch_s, scratch = timed(lambda k=keep: clone(model).fit(Z[k], y[k]), repeats)
        refit_peak = peak_bytes(lambda k=keep: clone(model).fit(Z[k], y[k]))
        truth = exact_fit(Z[keep], y[keep])
        report = unlearning_report(
            done.estimator_, truth, exact_original, Z[forget], y[forget], Z_te, y_te
        )
        rows.append(
            {
                **_record(n_train, name, forget, event),
                "unlearn_s": unlearn_s,
                "refit_s": scratch_s,
                "speedup": scratch_s / unlearn_s,
                "accuracy_original": accuracy_original,
                "refit_distance_ratio_test": function_space_distance_ratio(
                    scratch, truth, exact_original, Z_te
                ),
                "held_bytes": held_bytes(done),
                "unlearn_peak_bytes": peak,
                "refit_peak_bytes": refit_peak,
                **report,
            }
        )
        del done  # it holds the rows the next removal removes
    return {
        "fit_s": fit_s,
        "unlearner_fit_s": unl_fit_s,
        "held_bytes_fit": held_fit,
        "fit_peak_bytes": fit_peak,
        "unlearner_fit_peak_bytes": unl_fit_peak,
        "features_bytes": int(np.asarray(Z).nbytes),
        "rows": rows,
    }


def make_pipe(solver_params=None):
    ct = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), ADULT_CATEGORICAL),
        (StandardScaler(), ADULT_NUMERIC),
    )
    return make_pipeline(ct, LogisticRegression(max_iter=1000, **(solver_params or {})))


def run_pipeline_protocol(n_train, repeats, seed=0):
    """The same removals from the whole pipeline, against a retrain of the whole pipeline."""
    X, _, y, _, _ = prepare(n_train, seed)
    X_te, y_te = load_adult("test")
    ids = stp.row_ids(X)
    exact = {"solver": "newton-cholesky", "tol": 1e-12}
    unl = stp.GradientCorrectionUnlearner(make_pipe()).fit(X, y)
    exact_original = make_pipe(exact).fit(X, y)
    held_fit = held_bytes(unl)
    blob = pickle.dumps(unl)
    del unl
    rows = []
    for name, forget, done, unlearn_s, peak in timed_removals(blob, ids, n_train, seed, repeats):
        keep = ~forget
        event = done.unlearning_log_[-1]
        scratch_s, _ = timed(lambda k=keep: make_pipe().fit(X[k], y[k]), repeats)
        refit_peak = peak_bytes(lambda k=keep: make_pipe().fit(X[k], y[k]))
        truth = make_pipe(exact).fit(X[keep], y[keep])
        report = unlearning_report(done, truth, exact_original, X[forget], y[forget], X_te, y_te)
        rows.append(
            {
                **_record(n_train, name, forget, event),
                "preprocessing": event["preprocessing"],
                "note": event.get("note", ""),
                "unlearn_s": unlearn_s,
                "refit_s": scratch_s,
                "speedup": scratch_s / unlearn_s,
                "held_bytes": held_bytes(done),
                "unlearn_peak_bytes": peak,
                "refit_peak_bytes": refit_peak,
                **report,
            }
        )
        del done  # it holds the rows the next removal removes
    return {"held_bytes_fit": held_fit, "raw_input_bytes": raw_bytes(X), "rows": rows}


def raw_bytes(X):
    return int(X.memory_usage(deep=True, index=True).sum())


def _lead_cells(r):
    """The first six cells of a table row: rows, removal, method, certificate, ratio."""
    return [
        f"{r['n_train']:,}",
        r["removal"],
        f"{r['n_removed']:,}",
        f"{r['method']} ({r['n_iter']}, {r['n_hessian_updates']} H)",
        f"{r['certificate']:.1e}",
        f"{r['distance_ratio_test']:.1e}",
    ]


def _peaks(r):
    return f"{r['unlearn_peak_bytes'] / 1e6:.1f} / {r['refit_peak_bytes'] / 1e6:.1f}"


def _peak_range(rows):
    unl = [r["unlearn_peak_bytes"] / 1e6 for r in rows]
    ref = [r["refit_peak_bytes"] / 1e6 for r in rows]
    return (
        f"an `unlearn` call peaked at {min(unl):.1f}-{max(unl):.1f} MB, a refit at "
        f"{min(ref):.1f}-{max(ref):.1f} MB"
    )


def fmt(x, digits=3):
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=20000)
    parser.add_argument("--seed-n", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    results = {n: run_protocol(n, args.repeats) for n in (args.n_train, args.seed_n)}
    pipeline = run_pipeline_protocol(args.n_train, args.repeats)
    pipeline_rows = pipeline["rows"]
    pipe_headers = [
        "train rows", "removal", "removed", "method (steps)", "certificate",
        "distance ratio (test)", "forget gap closed %", "test acc. delta",
        "unlearn s", "pipeline refit s", "speedup", "kept MB", "peak MB unlearn / refit",
    ]  # fmt: skip
    pipe_table = markdown_table(
        pipe_headers,
        [
            [
                *_lead_cells(r),
                f"{r['forget_gap_closed_percent']:.3f}",
                f"{r['score_delta']:+.5f}",
                f"{r['unlearn_s']:.3f}",
                f"{r['refit_s']:.3f}",
                f"{r['speedup']:.0f}x",
                f"{r['held_bytes'] / 1e6:.1f}",
                _peaks(r),
            ]
            for r in pipeline_rows
        ],
    )
    print(pipe_table)
    pipe_worst = max(r["distance_ratio_test"] for r in pipeline_rows)
    pipe_speed = [r["speedup"] for r in pipeline_rows]
    dropped = [r for r in pipeline_rows if "dropped" in r["note"]]
    headers = [
        "train rows", "removal", "removed", "method (steps)", "certificate",
        "distance ratio (test)",
        "lbfgs refit ratio (test)", "distance ratio (forget)", "forget gap closed %",
        "test acc. delta", "MIA AUC orig / unl / retrain", "unlearn s", "refit s", "speedup",
        "kept MB", "peak MB unlearn / refit",
    ]  # fmt: skip
    table = []
    for res in results.values():
        for r in res["rows"]:
            table.append(
                [
                    *_lead_cells(r),
                    f"{r['refit_distance_ratio_test']:.1e}",
                    f"{r['distance_ratio_forget']:.1e}",
                    f"{r['forget_gap_closed_percent']:.3f}",
                    f"{r['score_delta']:+.5f}",
                    f"{r['mia_auc_original']:.3f} / {r['mia_auc_unlearned']:.3f} / "
                    f"{r['mia_auc_retrained']:.3f}",
                    f"{r['unlearn_s']:.4f}",
                    f"{r['refit_s']:.3f}",
                    f"{r['speedup']:.0f}x",
                    f"{r['held_bytes'] / 1e6:.1f}",
                    _peaks(r),
                ]
            )
    table_md = markdown_table(headers, table)
    print(table_md)
    main_rows = results[args.n_train]["rows"]
    worst_ratio = max(r["distance_ratio_test"] for r in main_rows)
    gaps = [r["forget_gap_closed_percent"] for r in main_rows]
    slowest = min(r["speedup"] for r in main_rows)
    fit_overhead = {n: res["unlearner_fit_s"] / res["fit_s"] for n, res in results.items()}
    largest = results[args.n_train]
    info = {**machine(), "load_average_1_5_15": list(os.getloadavg())}
    command = (
        f"python benchmarks/bench_unlearning.py --n-train {args.n_train} "
        f"--seed-n {args.seed_n} --repeats {args.repeats}"
    )
    verdict_ratio = "meets" if worst_ratio <= 0.01 else "misses"
    verdict_gap = "meets" if all(99 <= g <= 101 for g in gaps) else "misses"
    verdict_speed = "meets" if slowest >= 10 else "misses"
    below = min(fit_overhead.values()) < 1
    noise_note = "; a ratio below 1 can only be timing noise" if below else ""
    markdown = f"""## Unlearning (`bench_unlearning.py`)

{table_md}

UCI Adult, `LogisticRegression(max_iter=1000)` on one-hot + scaled features, tested on the
Adult test file; "1% / 5% random" remove random training rows by id, "source Local-gov"
removes the whole workclass source by name (each workclass was registered as its own
source). The reference is an exact retrain (newton-cholesky, tol 1e-12) without the
rows; the distance ratio is ||f_unl - f_retrain|| / ||f_orig - f_retrain|| on decision
values, with f_orig the exact optimum on all rows. "method (steps)" is the correction
used, its Newton-type steps and Hessian recomputations; the certificate is
||grad J_R|| / |R| of the retained objective. Time: least of {args.repeats} `unlearn`
calls, each on a copy of the fitted unlearner loaded from a pickle with no other object
in the process holding the rows (a removal whose rows another fitted object holds, an
explainer say, also runs a full garbage collection to tell it from garbage), vs least
of {args.repeats} fits of the same estimator from scratch on the retained rows (final
step only; preprocessing is not refitted in either).

Against the targets on {args.n_train:,} rows: worst distance ratio {worst_ratio:.1e}
({verdict_ratio} <= 0.01; DeltaGrad reports about {DELTAGRAD_RATIO} on its own
protocol, not measured here), forget gap closed {min(gaps):.3f}-{max(gaps):.3f}%
({verdict_gap} 99-101%), slowest speedup {slowest:.0f}x ({verdict_speed} >= 10x). The
correction reaches the exact retained optimum: its distance to the exact retrain is
smaller than that of the default-tolerance lbfgs refit it is timed against ("lbfgs
refit ratio"). Caching the Hessian is part of the unlearner's `fit`, measured at
{fit_overhead[args.n_train]:.2f}x a plain fit on {args.n_train:,} rows
({fit_overhead[args.seed_n]:.2f}x on {args.seed_n:,}{noise_note}),
paid once for any number of later
removals. The membership-inference AUC (loss threshold, forget rows vs test rows) of
the unlearned model equals the retrain's. Caveats: one data set, one model, random
removals are easy for a strongly convex objective; the larger the removed share, the
more steps (and Hessian recomputations) the correction needs, and past `max_iter` it
refits. The seed project's {args.seed_n:,}-row protocol is the second block; its
published ">100% gap closed" came from editing stored gradients, not the model.

Memory ("kept MB"): to correct the model again, the unlearner keeps the retained rows'
features (float64), targets and the Hessian; after fit on {args.n_train:,} rows that is
{largest["held_bytes_fit"] / 1e6:.1f} MB beyond the pickled model (the features alone are
{largest["features_bytes"] / 1e6:.1f} MB, {largest["held_bytes_fit"] / args.n_train:.0f} bytes per
row in all), and it shrinks with every removal, since the removed rows' data is dropped.
"peak MB" is the most memory Python and numpy allocated during one `unlearn` call and
during one refit from scratch on the retained rows, the latter including the copy of
the retained rows' features it is given (tracemalloc, on separate untimed calls):
{_peak_range(main_rows)}. Fitting the unlearner (the model, then the Hessian of the
objective over all rows) peaked at {largest["unlearner_fit_peak_bytes"] / 1e6:.1f} MB,
against {largest["fit_peak_bytes"] / 1e6:.1f} MB for fitting the model alone on the
same features.

### The whole pipeline (`preprocessing="refit"`)

{pipe_table}

The unlearner refits the one-hot encoder and the scaler on the retained rows inside
`unlearn` and corrects the model on the new features from its current parameters; the
reference is the whole pipeline retrained with an exact solver, and "pipeline refit s"
fits the whole pipeline from scratch (lbfgs, default tolerance). Worst distance ratio
{pipe_worst:.1e}, speedups {min(pipe_speed):.0f}x to {max(pipe_speed):.0f}x: slower than
correcting the model alone, since the preprocessing is refitted, every row transformed
again and the Hessian evaluated afresh (no downdate). Here the unlearner keeps the raw
input of the retained rows instead of features: {pipeline["held_bytes_fit"] / 1e6:.1f} MB
after fit beyond the pickled pipeline (the DataFrame's own memory is
{pipeline["raw_input_bytes"] / 1e6:.1f} MB); {_peak_range(pipeline_rows)}.{
        " Removing the source drops the one-hot column of its category, which no retained row"
        " has; the correction removes that coefficient and goes on, as a retrain lacks it."
        if dropped
        else ""
    }

Machine: {info["cpu"]}, {info["cpu_count"]} cores, Python {info["python"]}, scikit-learn
{info["scikit-learn"]}, numpy {info["numpy"]}; load average at the end
{info["load_average_1_5_15"][0]:.1f} (the machine was shared with other jobs, so
absolute times are noisy). Command: `{command}`.
"""
    payload = {
        "benchmark": "unlearning",
        "command": command,
        "machine": info,
        "deltagrad_reported_distance_ratio": DELTAGRAD_RATIO,
        "results": {str(n): res for n, res in results.items()},
        "whole_pipeline": pipeline,
        "targets": {
            "distance_ratio_max": 0.01,
            "gap_closed_percent": [99, 101],
            "speedup_min": 10,
        },
    }
    write_results("unlearning", payload, markdown)


if __name__ == "__main__":
    main()
