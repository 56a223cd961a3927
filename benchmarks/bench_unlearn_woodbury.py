"""Benchmark: certified removal, Newton route chosen by cost, vs refit and the other route.

Run (each case in a fresh process)::

    flock -x /tmp/stp-cpu.lock nice -n 5 python benchmarks/bench_unlearn_woodbury.py

Data: the generated Zipf-distributed notes of ``bench_woodbury.py`` (scikit-learn's
text corpora cannot be downloaded here), ``TfidfVectorizer(max_features=terms)``
fitted once on all the rows (only the model is unlearned), a binary
``LogisticRegression(C=10, max_iter=5000)`` (lbfgs) fitted by
``GradientCorrectionUnlearner(tol=1e-8)`` (the default). Removal: 1% of the rows,
drawn at random, by row id.

The route is the shipped one (``_convex.newton_route``: matrix-free Newton steps,
conjugate gradients on Hessian-vector products through the sparse retained rows, no
``n x n`` or ``p x p`` matrix, where the dense route's estimated flops exceed
``DENSE_PER_MATRIX_FREE`` times those of ``CG_PRODUCTS`` products, or above
``MAX_NEWTON_PARAMS`` parameters; else the dense ``p x p`` Hessian built at fit,
downdated and factorised at each removal), and on two cases the other route too,
forced in the process (``_convex.DENSE_PER_MATRIX_FREE`` set to infinity or 0): the
wide TF-IDF case (2,000 x 3,000, 3,001 parameters, at most ``MAX_NEWTON_PARAMS``) and
a dense case with few features, generated Adult-like rows (6,000 x 100: standardised
numeric columns and one-hot blocks), where the dense route should be the one chosen.
Measured per case: ``unlearn`` wall time
(least of ``REPEATS`` calls, each on a fresh copy of the fitted unlearner loaded from a
pickle), the unlearner's ``fit`` time, a full refit (``LogisticRegression(C=10,
max_iter=5000)`` from scratch on the retained rows, lbfgs at its default tol, least of
``REPEATS``), an exact retrain (newton-cg, tol=1e-12, timed once), and each result's
distance to that exact retrain:
the largest difference of the decision function over all rows, and the parameter
distance over that of the original model (the removal's own effect).
"""

import copy
import json
import pickle
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, render_saved, write_results  # noqa: E402
from bench_woodbury import notes  # noqa: E402

#: (data, rows, features, routes): "auto" is the shipped routing, "dense" and
#: "matrix_free" are forced
CASES = [
    ("tfidf", 2000, 3000, ("auto", "dense")),
    ("adult", 6000, 100, ("auto", "matrix_free")),
    ("tfidf", 2000, 20000, ("auto",)),
    ("tfidf", 5000, 50000, ("auto",)),
]
#: _convex.DENSE_PER_MATRIX_FREE that forces each route (None: as shipped)
FORCE = {"auto": None, "dense": float("inf"), "matrix_free": 0.0}
REPEATS = 2
SHARE = 0.01
SEED = 0


def _model(**params):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=10.0, max_iter=5000, **params)


def _theta(model):
    return np.concatenate([model.coef_.ravel(), model.intercept_])


def adult_like(n_rows, n_features, seed):
    """Dense rows like the Adult census table one-hot encoded: a sixth standardised
    numeric columns, the rest one-hot blocks of 8 categories; a logistic label."""
    rng = np.random.default_rng(seed)
    n_num = n_features // 6
    blocks = [rng.normal(size=(n_rows, n_num))]
    left = n_features - n_num
    while left:
        width = min(8, left)
        blocks.append(np.eye(width)[rng.integers(0, width, n_rows)])
        left -= width
    Z = np.hstack(blocks)
    w = rng.normal(size=n_features) / np.sqrt(n_features / 8)
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-(Z @ w - 0.5)))).astype(int)
    return Z, y


def measure(data, n_rows, n_terms, path):
    """One case and Newton route, in this process: a dict of figures."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    import sktraceprop as stp
    from sktraceprop.gradients import linear_model_objective
    from sktraceprop.unlearning import _convex, _newton_steps

    if FORCE[path] is not None:
        _convex.DENSE_PER_MATRIX_FREE = FORCE[path]
    if data == "tfidf":
        X, y = notes(n_rows, SEED)
        Z = TfidfVectorizer(max_features=n_terms).fit_transform(X["text"]).tocsr()
    else:
        Z, y = adult_like(n_rows, n_terms, SEED)
    ids = stp.row_ids(stp.from_numpy(np.arange(n_rows)[:, None], source_id="notes"))
    rng = np.random.default_rng(SEED)
    removed = np.zeros(n_rows, dtype=bool)
    removed[rng.choice(n_rows, size=int(SHARE * n_rows), replace=False)] = True
    keep = ~removed
    out = {"data": data, "n_rows": n_rows, "n_terms": int(Z.shape[1]), "path": path}
    out["n_params"] = int(Z.shape[1] + 1)
    out["n_removed"] = int(removed.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        unl = stp.GradientCorrectionUnlearner(_model()).fit(Z, y, sample_id=ids)
        out["unlearner_fit_s"] = time.perf_counter() - t0
        out["holds_hessian"] = unl._method.hessian is not None
        out["route"] = "dense" if out["holds_hessian"] else "matrix_free"
        blob = pickle.dumps(unl)
        times = []
        for _ in range(REPEATS):
            fresh = pickle.loads(blob)
            t0 = time.perf_counter()
            fresh.unlearn(sample_id=ids[removed])
            times.append(time.perf_counter() - t0)
        out["unlearn_s"] = min(times)
        if out["route"] == "matrix_free":
            # the Newton steps alone (the rest of unlearn is the removal's record: event,
            # lineage, the search for other objects holding the rows)
            final = copy.deepcopy(unl.estimator_)
            objective = linear_model_objective(final)
            theta = objective.params()
            newton = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                _newton_steps.newton(
                    objective, Z[keep], y[keep], None, theta, None, theta,
                    tol=unl.tol, max_iter=unl.max_iter, damping=unl.damping,
                )  # fmt: skip
                newton.append(time.perf_counter() - t0)
            out["newton_s"] = min(newton)
        event = fresh.unlearning_log_[-1]
        out["method"], out["n_iter"] = event["method"], int(event["n_iter"])
        out["certificate"], out["tol"] = float(event["certificate"]), float(event["tol"])
        refits = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            refit = _model().fit(Z[keep], y[keep])
            refits.append(time.perf_counter() - t0)
        out["refit_s"] = min(refits)
        t0 = time.perf_counter()
        exact = _model(solver="newton-cg", tol=1e-12).fit(Z[keep], y[keep])
        out["exact_retrain_s"] = time.perf_counter() - t0
        original = _model(solver="newton-cg", tol=1e-12).fit(Z, y)
    truth, base = exact.decision_function(Z), np.linalg.norm(_theta(original) - _theta(exact))
    for name, model in (("unlearned", fresh.estimator_), ("refit", refit)):
        out[f"{name}_max_decision_diff"] = float(np.abs(model.decision_function(Z) - truth).max())
        out[f"{name}_param_ratio"] = float(np.linalg.norm(_theta(model) - _theta(exact)) / base)
    return out


def main():
    rows = []
    for data, n_rows, n_terms, paths in CASES:
        for path in paths:
            cmd = [sys.executable, __file__, "--one", data, str(n_rows), str(n_terms), path]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    render(rows, machine())


_ROUTE = {"dense": "dense p x p", "matrix_free": "matrix-free CG"}
_DATA = {"tfidf": "TF-IDF notes", "adult": "Adult-like dense"}

#: This script's figures before the routing by cost, when the dense route was taken
#: by every model of at most MAX_NEWTON_PARAMS parameters, and each removal found
#: another object holding the rows by a full garbage collection.
BEFORE = (
    "Before (the same script at commit 3cde151, measured 2026-12-05T04:57 on the same "
    "shared machine: every model of at most 4,096 parameters took the dense route, and "
    "a removal another object's rows matched ran a full garbage collection): at "
    "2000 x 3000 TF-IDF the default route was the dense one, unlearn 2.45 s and "
    "unlearner fit 1.8 s against a 0.02 s refit; the matrix-free route, forced, "
    "0.09 s (0.03 s of it the Newton steps, most of the rest the collection); "
    "2000 x 20000 0.15 s (Newton 0.05 s), 5000 x 50000 0.20 s (Newton 0.13 s); its "
    "full refits took 0.02 s / 0.19 s / 0.39 s, so compare the ratios where the run "
    "above had a busier machine (refit / unlearn then 0.17 matrix-free forced and "
    "0.01 dense at 2000 x 3000, 1.24 at 2000 x 20000, 1.96 at 5000 x 50000). "
    "Earlier (the Woodbury route the matrix-free one replaced, 02:07, busier machine): "
    "unlearn 0.98 s / 0.70 s / 5.44 s at 2000x3000 / 2000x20000 / 5000x50000, the "
    "dense path at 2000x3000 6.55 s."
)


def _name(r):
    how = "chosen" if r["path"] == "auto" else "forced"
    return f"{_ROUTE[r['route']]}, {how}"


def _verdict(rows):
    """One line per case: faster or slower than the refit and the exact retrain."""
    lines = []
    for r in rows:
        against = []
        for what, key in (("the full refit", "refit_s"), ("the exact retrain", "exact_retrain_s")):
            ratio = r[key] / r["unlearn_s"]
            word = "faster than" if ratio > 1 else "slower than"
            against.append(f"{word} {what} ({ratio:.2f}x)")
        line = (
            f"- {r['n_rows']} x {r['n_terms']} {_DATA[r['data']]} ({r['n_params']:,} "
            f"parameters), {_name(r)}: unlearner fit {r['unlearner_fit_s']:.2f} s, "
            f"unlearn {r['unlearn_s']:.2f} s, "
        )
        line += " and ".join(against)
        if "newton_s" in r:
            line += (
                f"; its Newton steps take {r['newton_s']:.2f} s, the rest is the removal's "
                "record (event, lineage, and the search for other objects holding the "
                "removed rows: this benchmark keeps the original unlearner alive, found "
                "from the caller's frame without a garbage collection)"
            )
        lines.append(line + ".")
    return "\n".join(lines)


def render(rows, info):
    """Print the table and write ``results/unlearn_woodbury.{json,md}``."""
    headers = [
        "data",
        "rows",
        "features",
        "removed",
        "Newton route",
        "unlearner fit (s)",
        "unlearn (s)",
        "of which Newton (s)",
        "Newton steps",
        "full refit (s)",
        "refit / unlearn",
        "exact retrain (s)",
        "max |decision - exact|, unlearned / refit",
        "param distance / removal's, unlearned / refit",
    ]
    table = [
        [
            _DATA[r["data"]],
            r["n_rows"],
            r["n_terms"],
            r["n_removed"],
            f"{_name(r)} ({r['method']})",
            f"{r['unlearner_fit_s']:.2f}",
            f"{r['unlearn_s']:.2f}",
            f"{r['newton_s']:.2f}" if "newton_s" in r else "-",
            r["n_iter"],
            f"{r['refit_s']:.2f}",
            f"{r['refit_s'] / r['unlearn_s']:.2f}",
            f"{r['exact_retrain_s']:.2f}",
            f"{r['unlearned_max_decision_diff']:.1e} / {r['refit_max_decision_diff']:.1e}",
            f"{r['unlearned_param_ratio']:.1e} / {r['refit_param_ratio']:.1e}",
        ]
        for r in rows
    ]
    md = "\n\n".join(
        [
            "# Certified removal: the Newton route by cost (`bench_unlearn_woodbury.py`)",
            "Generated Zipf-distributed notes (as `bench_woodbury.py`), "
            "`TfidfVectorizer(max_features=terms)` fitted once, and generated Adult-like "
            "dense rows (a sixth standardised numeric columns, the rest one-hot blocks); "
            "binary `LogisticRegression(C=10, max_iter=5000)` fitted by "
            "`GradientCorrectionUnlearner` (tol=1e-8); 1% of the rows removed at random. "
            "unlearn: least of "
            f"{REPEATS} calls on fresh copies of the fitted unlearner; full refit: the same "
            f"model fitted from scratch on the retained rows (lbfgs, least of {REPEATS}). "
            "Distances to an exact retrain (newton-cg, tol=1e-12, timed once): largest "
            "difference of "
            "the decision function over all rows, and parameter distance over the "
            "original model's (the removal's own effect). Newton route: chosen is the "
            "shipped routing by estimated cost (`_convex.newton_route`); forced, the "
            "other route (`DENSE_PER_MATRIX_FREE` set to infinity or 0). Dense p x p: "
            "the Hessian built at fit, downdated and factorised at each removal; "
            "matrix-free CG: Newton steps solved by conjugate gradients on "
            "Hessian-vector products through the retained rows. Each case in "
            "a fresh process, one run.",
            markdown_table(headers, table),
            _verdict(rows),
            BEFORE,
            "Command: `flock -x /tmp/stp-cpu.lock nice -n 5 python "
            "benchmarks/bench_unlearn_woodbury.py` "
            f"on {info['cpu']} ({info['cpu_count']} CPUs, shared), numpy {info['numpy']}, "
            f"scikit-learn {info['scikit-learn']}, measured {info['measured_at']}.",
        ]
    )
    print(md)
    payload = {"machine": info, "platform": platform.platform(), "cases": rows}
    write_results("unlearn_woodbury", payload, md)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--table":
        render_saved("unlearn_woodbury", render)  # (the table again, no measurement)
    elif len(sys.argv) > 1 and sys.argv[1] == "--one":
        data, n_rows, n_terms, path = sys.argv[2:6]
        print(json.dumps(measure(data, int(n_rows), int(n_terms), path)))
    else:
        main()
