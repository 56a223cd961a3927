"""Benchmark: exact influence for linear models (LDS and wall time), vs dattri and traker.

Run::

    python benchmarks/bench_influence.py

Competitors (optional) live in their own venv, run in a subprocess, skipped if missing::

    python3.11 -m venv benchmarks/.venv-attr
    benchmarks/.venv-attr/bin/pip install torch==2.13.0 numpy scikit-learn pandas scipy
    benchmarks/.venv-attr/bin/pip install dattri traker

Cases:

1. UCI Adult, 6,000 train / 500 test rows, one-hot + standardised features,
   LogisticRegression(C=1): LDS over 100 subsets of half the rows. The attribution time
   counts everything after the model is trained: per-sample gradients, the exact
   Hessian and its factorisation, test gradients and the score matrix.
2. The same scores from dattri (``IFAttributorExplicit``, ``TRAKAttributor``) and
   traker (TRAK on CPU, proj_dim 512) on the same features, model and subsets.
3. A larger multiclass case: 200,000 synthetic training rows, 10,000 test rows,
   7 classes, top-10 per test row, blockwise (peak memory from tracemalloc).
"""

import json
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_competitor_script  # noqa: E402
from _data import ADULT_CATEGORICAL, ADULT_NUMERIC, load_adult  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop.gradients import linear_model_objective  # noqa: E402
from sktraceprop.metrics._lds import _refit_margins, _rowwise_spearman  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ATTR_PYTHON = HERE / ".venv-attr" / "bin" / "python"
N_TRAIN, N_TEST, N_SUBSETS, ALPHA, SEED = 6000, 500, 100, 0.5, 0


def adult_case():
    X, y = load_adult("train")
    rng = np.random.RandomState(SEED)
    idx = rng.permutation(len(X))[: N_TRAIN + N_TEST]
    Xtr, ytr = X.iloc[idx[:N_TRAIN]], y[idx[:N_TRAIN]]
    Xte, yte = X.iloc[idx[N_TRAIN:]], y[idx[N_TRAIN:]]
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ADULT_NUMERIC),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ADULT_CATEGORICAL,
            ),
        ]
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(C=1.0, max_iter=1000))
    pipe.fit(Xtr, ytr)

    t0 = time.perf_counter()
    c0 = time.process_time()
    explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(Xtr, ytr)
    exp = explainer.explain(Xte, yte, top_k=10, keep_scores=True)
    attr_wall = time.perf_counter() - t0
    attr_cpu = time.process_time() - c0

    # The same subsets and retrained models serve every method.
    rng = np.random.RandomState(SEED)
    masks = np.zeros((N_SUBSETS, N_TRAIN), dtype=bool)
    for s in range(N_SUBSETS):
        masks[s, rng.choice(N_TRAIN, size=int(ALPHA * N_TRAIN), replace=False)] = True
    Xt_te = explainer._test_features(Xte)
    t0 = time.perf_counter()
    actual = np.column_stack(
        [
            _refit_margins(explainer.model_, explainer.Xt_, explainer.y_, None, m, Xt_te, yte)
            for m in masks
        ]
    )
    retrain_wall = time.perf_counter() - t0

    def lds(scores):
        return float(_rowwise_spearman(scores @ masks.T.astype(float), actual).mean())

    top = exp.top(1)
    rows = [
        {
            "method": "sktraceprop InfluenceExplainer (exact Hessian)",
            "lds": lds(exp.scores),
            "wall_s": attr_wall,
            "cpu_s": attr_cpu,
        }
    ]
    info = {
        "n_train": N_TRAIN,
        "n_test": N_TEST,
        "n_features": int(explainer.Xt_.shape[1]),
        "n_params": int(explainer.objective_.n_params),
        "test_accuracy": float((pipe.predict(Xte) == yte).mean()),
        "retrain_wall_s": retrain_wall,
        "example_top1": top.iloc[0][["train_index", "source_id", "line", "score"]].to_dict(),
    }
    competitors = run_competitors(explainer, Xt_te, yte, masks, actual)
    for row in competitors:
        if "scores" in row:
            row["lds"] = lds(np.asarray(row.pop("scores")))
        rows.append(row)
    return rows, info


def run_competitors(explainer, Xt_te, yte, masks, actual):
    if not ATTR_PYTHON.exists():
        print(f"note: {ATTR_PYTHON} missing: dattri and traker skipped (see module docstring)")
        return [{"method": "dattri / traker", "note": "skipped: benchmarks/.venv-attr missing"}]
    tmp = RESULTS / "_influence_inputs.npz"
    obj = linear_model_objective(explainer.model_)
    np.savez(
        tmp,
        Xtr=explainer.Xt_,
        ytr=explainer.y_,
        Xte=Xt_te,
        yte=yte,
        coef=explainer.model_.coef_,
        intercept=explainer.model_.intercept_,
        C=explainer.model_.C,
        n_params=obj.n_params,
    )
    return run_competitor_script(
        ATTR_PYTHON,
        HERE / "_influence_competitors.py",
        tmp,
        RESULTS / "_influence_competitors.json",
        "dattri / traker",
    )


def large_case():
    n_train, n_test, n_classes = 200_000, 10_000, 7
    X, y = make_classification(
        n_train + n_test, 20, n_informative=12, n_classes=n_classes, random_state=SEED
    )
    Xtr, ytr, Xte, yte = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    model = LogisticRegression(max_iter=500).fit(Xtr, ytr)
    tracemalloc.start()
    t0 = time.perf_counter()
    explainer = stp.InfluenceExplainer(FrozenEstimator(model), block_size=2048).fit(Xtr, ytr)
    exp = explainer.explain(Xte, yte, top_k=10)
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "n_train": n_train,
        "n_test": n_test,
        "n_classes": n_classes,
        "n_params": int(explainer.objective_.n_params),
        "top_k": 10,
        "block_size": 2048,
        "wall_s": wall,
        "peak_mib": peak / 2**20,
        "full_matrix_mib": n_train * n_test * 8 / 2**20,
        "scores_kept": exp.scores is not None,
    }


def main():
    RESULTS.mkdir(exist_ok=True)
    rows, info = adult_case()
    large = large_case()
    import scipy

    versions = {
        "sktraceprop": stp.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    for r in rows:
        versions.update(r.pop("versions", {}))
    lines = [
        "| method | LDS (100 subsets, alpha 0.5) | wall s | CPU s | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lds = f"{r['lds']:.3f}" if "lds" in r else "-"
        wall = f"{r['wall_s']:.2f}" if "wall_s" in r else "-"
        cpu = f"{r['cpu_s']:.2f}" if "cpu_s" in r else "-"
        lines.append(f"| {r['method']} | {lds} | {wall} | {cpu} | {r.get('note', '')} |")
    large_line = (
        f"| {large['n_train']:,} x {large['n_test']:,}, {large['n_classes']} classes, "
        f"{large['n_params']} params, top-{large['top_k']} | {large['wall_s']:.1f} s | "
        f"{large['peak_mib']:.0f} MiB | {large['full_matrix_mib']:.0f} MiB |"
    )
    table = "\n".join(lines)
    print(table)
    print(large_line)
    command = "python benchmarks/bench_influence.py"
    machine = {
        "processor": platform.processor(),
        "machine": platform.machine(),
        "cpu_count": __import__("os").cpu_count(),
        "python": platform.python_version(),
    }
    (RESULTS / "influence.json").write_text(
        json.dumps(
            {
                "adult": {"rows": rows, **info},
                "large_multiclass": large,
                "machine": machine,
                "versions": versions,
                "command": command,
            },
            indent=2,
            default=str,
        )
    )
    ours = rows[0]
    target_met = ours["lds"] >= 0.975 and ours["cpu_s"] <= 1.0
    md = f"""# Influence for linear models (`bench_influence.py`)

UCI Adult, {N_TRAIN:,} train / {N_TEST} test rows (seed {SEED}), one-hot + standardised
features ({info["n_features"]} columns, {info["n_params"]} parameters),
`LogisticRegression(C=1)` (test accuracy {info["test_accuracy"]:.3f}). LDS: Spearman over
{N_SUBSETS} retrained subsets of {int(ALPHA * 100)}% of the rows (the same subsets and
retrained models for every method; retraining took {info["retrain_wall_s"]:.1f} s and is
not in the times). Times cover everything after the model is trained (gradients,
Hessian, scores).

{table}

Larger multiclass case (synthetic, blockwise top-k, scores never held in full):

| case | wall | peak Python memory | full score matrix would be |
| --- | --- | --- | --- |
{large_line}

Command: `{command}` on {machine["processor"] or machine["machine"]}, {machine["cpu_count"]}
CPUs, scikit-learn {sklearn.__version__}.

{interpretation(ours, rows, large, target_met)}
"""
    (RESULTS / "influence.md").write_text(md)


def interpretation(ours, rows, large, target_met):
    verdict = "meets" if target_met else "misses"
    others = [r for r in rows[1:] if "lds" in r]
    comp = (
        "; ".join(f"{r['method']} {r['lds']:.3f} in {r['wall_s']:.1f} s" for r in others)
        if others
        else "no competitor ran (see the note column)"
    )
    return (
        f"The exact influence {verdict} the target of LDS >= 0.975 in <= 1 s CPU "
        f"(LDS {ours['lds']:.3f}, {ours['cpu_s']:.2f} s CPU including gradients). The seed "
        "README's 0.884 excluded gradient logging; here nothing is excluded. For a convex "
        "linear model the exact Hessian is small (parameters x parameters) and includes "
        "the L2 penalty, so no approximation or projection is needed; competitors on the "
        f"same model: {comp}. TRAK projects gradients and replaces the Hessian by the "
        "Gauss-Newton matrix of the projected features, which costs accuracy on a model "
        "this small. LDS measures ranking of subset outcomes, not LOO accuracy; half-size "
        "subsets move the parameters far, so first-order scores lose a little. Large case: "
        f"{large['wall_s']:.1f} s and {large['peak_mib']:.0f} MiB peak Python memory where "
        f"the full matrix would need {large['full_matrix_mib']:.0f} MiB." + traker_note(others)
    )


def traker_note(others):
    low = [r for r in others if r["method"].startswith("traker") and r["lds"] < 0.5]
    if not low:
        return ""
    return (
        " traker's LDS near zero is most likely our adaptation, not TRAK itself: its "
        "classification task needs one logit per class, so the binary model was copied into "
        "a 2-logit linear layer (a redundant, fixed zero row), with a single checkpoint; "
        "dattri's TRAK on the same model scores far higher. We did not debug it further "
        "within the time box."
    )


if __name__ == "__main__":
    main()
