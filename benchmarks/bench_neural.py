"""Benchmark: neural attribution at its defaults, by LDS, on nets of different kinds.

Run::

    python benchmarks/bench_neural.py                  # every case (see README for time)
    python benchmarks/bench_neural.py --cases tabular_torch,digits_cnn_torch
    python benchmarks/bench_neural.py --no-competitors # skip traker and dattri (their rows
                                                       # from an earlier run are kept)
    python benchmarks/bench_neural.py --report-only    # rewrite neural.md from neural.json
    flock -x /tmp/stp-cpu.lock python benchmarks/bench_neural.py --time-fit --cases tabular_torch
                                                       # one default fit per case, timed alone

Cases (``CASES``): a tabular MLP on scikit-learn's breast-cancer data, an MLP and a small
CNN on scikit-learn's 8 x 8 digits, the MNIST MLPs (4 vs 9 in torch and as a JAX
``JaxClassifier``, and 10 classes), all trained once with seed 0 (the explained model).

LDS: ``N_SUBSETS`` random halves of the training rows; on each the model is retrained
from scratch under two protocols: **fixed** (every retrain with the explained model's
seed, so margins vary only with the data) and **varied** (a seed per subset). The
retrained test margins are cached under ``benchmarks/data/neural_cache.tmp``. Every
method of a case is scored on the same subsets and retrained models; the LDS noise
from using ``N_SUBSETS`` subsets is the bootstrap standard deviation over subsets.

Rows:

* ``default``: ``InfluenceExplainer(FrozenEstimator(model), n_models=M,
  random_state=s)``, nothing else set (method and damping "auto"), for ``M`` in
  ``N_MODELS`` and ``s`` in ``SEEDS``; LDS is the mean over the seeds (and its spread).
* ``exact GGN (best damping)``: the exact Gauss-Newton influence (``method="ggn"``)
  with the model's own ``1 - p`` weights at the damping factor of ``GRID`` that scores
  best on these very retrains (an oracle: the reference the defaults are held to).
* ``gradient dot product``: ``grad m(z) . grad m(x_i) * (1 - p_i)``, exact gradients.
* ``traker`` / ``dattri`` (torch cases, ``--no-competitors`` skips): TRAK on the
  explained model (one checkpoint, projection 2048, their default regularisation) in
  ``benchmarks/.venv-attr`` (see ``_neural_competitors.py``).

Times cover everything after the explained model is trained (for the defaults:
damping retrains, extra members, gradients, projections, solves and the test scores).
"""

import argparse
import fcntl
import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

# One BLAS thread, set before numpy loads it: on the shared 2-core machine a second thread
# waits for a busy core (a 40 x 201,217 Gram product took 7.7 s with two, 0.14 s with one).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.special import expit  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine, markdown_table, run_competitor_script, write_results  # noqa: E402
from _data_mnist import load_mnist5k  # noqa: E402

from sktraceprop import InfluenceExplainer  # noqa: E402
from sktraceprop.influence._damping import GRID  # noqa: E402
from sktraceprop.influence._neural_members import _TRAK_DIRECTIONS  # noqa: E402
from sktraceprop.influence._neural_refit import refit_subset_margins  # noqa: E402
from sktraceprop.metrics._lds import _rowwise_spearman  # noqa: E402

CACHE = HERE / "data" / "neural_cache.tmp"
RESULTS = HERE / "results"
ATTR_PYTHON = HERE / ".venv-attr" / "bin" / "python"
N_SUBSETS, ALPHA, SEED = 40, 0.5, 0
N_MODELS = (1, 2, 3)
SEEDS = (0, 1, 2)
N_BOOTSTRAP = 200
PROJ_DIM = 2048  # the competitors'; InfluenceExplainer's default n_components too
ABLATION_CASES = ("tabular_torch", "digits_mlp_torch")

# name: (framework, data, torch module or JAX hidden layers, n_out, recipe)
CASES = {
    "tabular_torch": dict(
        kind="torch",
        data="breast_cancer",
        net="TabularMLP",
        n_out=1,
        recipe=dict(max_epochs=100, lr=0.01, batch_size=32, optimizer="SGD", momentum=0.9),
    ),
    "digits_mlp_torch": dict(
        kind="torch",
        data="digits",
        net="DigitsMLP",
        n_out=10,
        recipe=dict(max_epochs=40, lr=1e-3, batch_size=64, optimizer="Adam"),
    ),
    "digits_cnn_torch": dict(
        kind="torch",
        data="digits",
        net="DigitsCNN",
        n_out=10,
        recipe=dict(max_epochs=40, lr=3e-3, batch_size=64, optimizer="Adam"),
    ),
    "mnist49_torch": dict(
        kind="torch",
        data="mnist49",
        net="MnistMLP",
        n_out=1,
        recipe=dict(max_epochs=30, lr=1e-3, batch_size=64, optimizer="Adam"),
    ),
    "mnist49_jax": dict(
        kind="jax",
        data="mnist49",
        net=(256,),
        n_out=1,
        recipe=dict(max_epochs=30, lr=1e-3, batch_size=64, optimizer="Adam"),
    ),
    "mnist10_torch": dict(
        kind="torch",
        data="mnist10",
        net="MnistMLP",
        n_out=10,
        recipe=dict(max_epochs=10, lr=1e-3, batch_size=128, optimizer="Adam"),
    ),
}


# -- data and models -----------------------------------------------------------------------


def load_data(name):
    """(X_train, y_train, X_test, y_test): float32 inputs, int64 class indices."""
    rng = np.random.RandomState(SEED)
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer
        from sklearn.preprocessing import StandardScaler

        X, y = load_breast_cancer(return_X_y=True)
        idx = rng.permutation(len(y))
        tr, te = idx[:400], idx[400:]
        X = StandardScaler().fit(X[tr]).transform(X).astype(np.float32)
        return X[tr], y[tr], X[te], y[te]
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        idx = rng.permutation(len(y))
        tr, te = idx[:1000], idx[1000:1200]
        return X[tr], y[tr], X[te], y[te]
    X, y = load_mnist5k()
    X = X.to_numpy(dtype=np.float32)
    if name == "mnist49":
        keep = np.flatnonzero((y == 4) | (y == 9))
        idx = keep[rng.permutation(keep.size)]
        y = (y == 9).astype(np.int64)
        tr, te = idx[:800], idx[800:1000]
    else:
        idx = rng.permutation(len(y))
        tr, te = idx[:4000], idx[4000:4200]
    return X[tr], y[tr], X[te], y[te]


def make_model(case):
    spec = CASES[case]
    r = spec["recipe"]
    if spec["kind"] == "jax":
        from sktraceprop.adapters import JaxClassifier, mlp

        # torch.nn.Linear's initialisation: the JAX twin of the torch MLP
        init_fn, apply_fn = mlp(hidden=spec["net"], init="torch")
        return JaxClassifier(
            apply_fn,
            init_fn,
            n_epochs=r["max_epochs"],
            batch_size=r["batch_size"],
            learning_rate=r["lr"],
            random_state=SEED,
        )
    import skorch
    import torch
    from _neural_nets import NETS

    optimizer = getattr(torch.optim, r["optimizer"])
    extra = {"optimizer__momentum": r["momentum"]} if "momentum" in r else {}
    common = dict(
        module=NETS[spec["net"]],
        module__n_out=spec["n_out"],
        max_epochs=r["max_epochs"],
        batch_size=r["batch_size"],
        lr=r["lr"],
        optimizer=optimizer,
        train_split=None,
        verbose=0,
        **extra,
    )
    if spec["n_out"] == 1:
        return skorch.NeuralNetBinaryClassifier(**common)
    return skorch.NeuralNetClassifier(criterion=torch.nn.CrossEntropyLoss, **common)


def fit_target(case, y):
    """Targets as the estimator takes them (float for skorch's binary net)."""
    spec = CASES[case]
    return y.astype(np.float32) if spec["kind"] == "torch" and spec["n_out"] == 1 else y


def fit_model(case, X, y):
    est = make_model(case)
    if CASES[case]["kind"] == "jax":
        return est.fit(X, y)
    import torch

    torch.manual_seed(SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, fit_target(case, y))


# -- retrained margins ---------------------------------------------------------------------


def subset_masks(n):
    rng = np.random.RandomState(SEED)
    masks = np.zeros((N_SUBSETS, n), dtype=bool)
    for s in range(N_SUBSETS):
        masks[s, rng.choice(n, size=int(round(ALPHA * n)), replace=False)] = True
    return masks


def protocol_seeds(protocol):
    if protocol == "fixed":
        return np.full(N_SUBSETS, SEED)
    return np.random.RandomState(SEED + 1).randint(np.iinfo(np.int32).max, size=N_SUBSETS)


def retrained_margins(case, model, Xtr, ytr_fit, Xte, yte, masks, protocol):
    """Test margins of the model retrained on every subset (cached on disk)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    spec = repr((case, CASES[case], protocol, repr(model)))
    key = hashlib.sha1(masks.tobytes() + spec.encode()).hexdigest()
    path = CACHE / f"{case}_{protocol}_{key[:12]}.npy"
    if path.exists():
        return np.load(path), None
    t0 = time.perf_counter()
    actual = np.column_stack(
        [
            refit_subset_margins(model, Xtr, ytr_fit, m, Xte, yte, s)[0]
            for m, s in zip(masks, protocol_seeds(protocol))
        ]
    )
    elapsed = time.perf_counter() - t0
    np.save(path, actual)
    return actual, elapsed


def lds(pred, actual):
    return float(_rowwise_spearman(pred, actual).mean())


def lds_noise(pred, actual, rng):
    """Standard deviation of the LDS over bootstrap resamples of the subsets."""
    values = []
    for _ in range(N_BOOTSTRAP):
        cols = rng.randint(actual.shape[1], size=actual.shape[1])
        values.append(lds(pred[:, cols], actual[:, cols]))
    return float(np.std(values, ddof=1))


# -- methods -------------------------------------------------------------------------------


def _frozen(model):
    from sklearn.frozen import FrozenEstimator

    return FrozenEstimator(model)


def run_default(model, Xtr, ytr_fit, Xte, yte, masks, n_models, seed):
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = InfluenceExplainer(_frozen(model), n_models=n_models, random_state=seed)
        exp.fit(Xtr, ytr_fit)
        pred = exp.influence_sums(Xte, yte, masks)
    info = {
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "method": exp.method_,
        "factor": exp.damping_selection_["factor"],
        "weights": exp.damping_selection_["weights"],
    }
    return pred, info


def exact_reference(model, Xtr, ytr_fit, Xte, yte, masks, actual):
    """Exact GGN influence, model weights, at every factor of GRID: the best per protocol."""
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exp = InfluenceExplainer(_frozen(model), method="ggn", damping=1.0).fit(Xtr, ytr_fit)
    except ValueError as exc:
        return {"note": f"not computed: {exc}"}
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    state = exp.trak_
    member = state.members[0]
    q = member.q
    # test gradients once: the primal applies each damping's inverse to them, the dual
    # part does not depend on the damping
    if member.space == "primal":
        Ft = member._test_gradients(Xte, yte, None, exp.block_size)
    else:
        part = member.test_part(Xte, yte, None, exp.block_size)
    curves = {p: [] for p in actual}
    for factor in GRID:
        state.set_damping(factor, q)
        A = Ft @ member._map if member.space == "primal" else part
        pred = np.zeros((Xte.shape[0], masks.shape[0]))
        for start in range(0, Xtr.shape[0], exp.block_size):
            tr = slice(start, min(start + exp.block_size, Xtr.shape[0]))
            pred += state.train_block(A, tr) @ masks[:, tr].T.astype(np.float64)
        for p, a in actual.items():
            curves[p].append(lds(pred, a))
    best = {p: int(np.argmax(c)) for p, c in curves.items()}
    return {
        "lds": {p: curves[p][best[p]] for p in curves},
        "factor": {p: float(GRID[best[p]]) for p in curves},
        "curves": {p: [float(v) for v in c] for p, c in curves.items()},
        "fit_wall_s": fit_s,
        "fit_cpu_s": fit_cpu,
        "space": state.members[0].space,
    }


def gradient_dot(case, model, Xtr, ytr, Xte, yte, masks):
    """``grad m(z) . grad m(x_i) (1 - p_i)`` with exact gradients, block by block."""
    from sktraceprop.influence._neural_model import _gradients, _margins

    t0, c0 = time.perf_counter(), time.process_time()
    Gt = np.asarray(_gradients(model, Xte, yte, None, 64), dtype=np.float64)
    # 1 - p from the margin in float64: float32 keeps no digit of it near p = 1
    q = expit(-_margins(model, Xtr, ytr)[0].astype(np.float64))
    pred = np.zeros((Xte.shape[0], masks.shape[0]))
    for start in range(0, Xtr.shape[0], 256):
        sl = slice(start, start + 256)
        G = np.asarray(_gradients(model, Xtr[sl], ytr[sl], None, 64), dtype=np.float64)
        pred += (Gt @ G.T * q[sl]) @ masks[:, sl].T
    return pred, time.perf_counter() - t0, time.process_time() - c0


def kernel_ablation(model, Xtr, ytr, Xte, yte, masks, actual, exact):
    """LDS over the damping grid of the kernels a Gauss-Newton influence could use.

    All exact (no projection) except TRAK's, all with the model's ``1 - p`` weights:
    TRAK's ``Phi^T Phi`` (projected to ``PROJ_DIM`` as TRAK does), the GGN of the margin
    alone (``sum_i p_i (1 - p_i) grad m_i grad m_i^T``, TRAK's output function with its
    Gauss-Newton weights), and the GGN of the softmax cross-entropy (``method="ggn"``).
    Also where generalised cross-validation of the linearised model (the ridge
    regression of its working residuals ``sqrt((1 - p) / p)`` on the weighted kernel)
    puts the damping.
    """
    from sktraceprop.influence._gauss_newton import DualSolver
    from sktraceprop.influence._neural_model import _gradients, _margins
    from sktraceprop.projection import JLProjector

    J = np.asarray(_gradients(model, Xtr, ytr, None, 64), dtype=np.float64)
    Jt = np.asarray(_gradients(model, Xte, yte, None, 64), dtype=np.float64)
    m = _margins(model, Xtr, ytr)[0].astype(np.float64)
    p, q = expit(m), expit(-m)  # (1 - p from the margin: float32 keeps no digit of it)
    r = np.sqrt(p * q)
    proj = JLProjector(PROJ_DIM, random_state=SEED).fit(J[:1].astype(np.float32))
    Phi = proj.transform(J.astype(np.float32)).astype(np.float64)
    Phit = proj.transform(Jt.astype(np.float32)).astype(np.float64)
    kernels = {
        "TRAK kernel Phi^T Phi (projected)": (Phi, Phit, np.ones_like(r)),
        "margin GGN (exact)": (J, Jt, r),
    }
    out = {}
    for label, (F, Ft, w) in kernels.items():
        K = F @ F.T
        solver = DualSolver(K, w[:, None] * K, w[:, None] * K * w)
        Kt, Lt = Ft @ F.T, (Ft @ F.T * w) @ solver.basis
        curve = {a: [] for a in actual}
        for factor in GRID:
            pred = (solver.scores(Kt, Lt, factor * solver.scale) * q) @ masks.T
            for a in actual:
                curve[a].append(lds(pred, actual[a]))
        out[label] = curve
    if "curves" in exact:
        out["softmax GGN (exact, method='ggn')"] = exact["curves"]
    # GCV of the weighted ridge regression of the working residuals on the margin GGN
    K = J @ J.T
    s, U = np.linalg.eigh(r[:, None] * K * r)
    s = np.clip(s, 0.0, None)
    scale = s[s > 1e-10 * s.max()].mean()
    c = U.T @ np.sqrt(q / p)
    gcv = []
    for factor in GRID:
        h = s / (s + factor * scale)
        resid = U @ ((1.0 - h) * c)
        gcv.append(float(len(q) * (resid**2).sum() / (len(q) - h.sum()) ** 2))
    # how much of the loss Hessian in the logits the largest directions hold (the
    # projected method keeps _TRAK_DIRECTIONS of them)
    from sktraceprop.gradients._curvature import output_curvature

    z = np.asarray(model.forward(Xtr), dtype=np.float64).reshape(len(Xtr), -1)
    _, w = output_curvature(np.log(np.clip(z, 1e-300, None)) if _outputs_proba(model) else z)
    held = np.cumsum(w, axis=1).mean(axis=0) / w.sum(axis=1).mean()
    return {
        "curves": {k: {a: [float(v) for v in c] for a, c in cv.items()} for k, cv in out.items()},
        "gcv": gcv,
        "gcv_factor": float(GRID[int(np.argmin(gcv))]),
        "trace_held_by_top_directions": [float(v) for v in held],
    }


def _outputs_proba(model):
    """Whether the skorch module returns probabilities (NLLLoss), not logits."""
    import torch

    return isinstance(getattr(model, "criterion_", None), torch.nn.NLLLoss)


def run_competitors(case, model, Xtr, ytr, Xte, yte, masks, actual):
    """traker and dattri TRAK on the explained torch model, same retrained margins."""
    if not ATTR_PYTHON.exists():
        print(f"note: {ATTR_PYTHON} missing: traker and dattri skipped")
        return [{"method": "traker / dattri", "note": "skipped: benchmarks/.venv-attr missing"}]
    RESULTS.mkdir(exist_ok=True)
    tmp, out = RESULTS / "_neural_inputs.npz", RESULTS / "_neural_competitors.json"
    spec = CASES[case]
    state = {f"sd__{k}": v.detach().cpu().numpy() for k, v in model.module_.state_dict().items()}
    np.savez(
        tmp,
        Xtr=Xtr,
        ytr=np.asarray(ytr).astype(np.int64),
        Xte=Xte,
        yte=np.asarray(yte).astype(np.int64),
        net=spec["net"],
        n_out=spec["n_out"],
        proj_dim=PROJ_DIM,
        **state,
    )
    rows = run_competitor_script(
        ATTR_PYTHON, HERE / "_neural_competitors.py", tmp, out, "traker / dattri"
    )
    for r in rows:
        if "scores" in r:
            scores = np.asarray(r.pop("scores"), dtype=np.float64)
            r["lds"] = {p: lds(scores @ masks.T, a) for p, a in actual.items()}
        print({k: v for k, v in r.items()}, flush=True)
    return rows


def time_default_fit(case):
    """One default fit (``random_state=0``, one model) of the case's explained model, timed
    alone: the run's own rows are timed beside other work (``nice``, shared cores)."""
    Xtr, ytr, _, _ = load_data(CASES[case]["data"])
    model = fit_model(case, Xtr, ytr)
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = InfluenceExplainer(_frozen(model), random_state=0).fit(Xtr, fit_target(case, ytr))
    return {
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "method": exp.method_,
        "load_avg_1min": load,
    }


# -- a case --------------------------------------------------------------------------------


def run_case(case, args):
    Xtr, ytr, Xte, yte = load_data(CASES[case]["data"])
    ytr_fit = fit_target(case, ytr)
    t0 = time.perf_counter()
    model = fit_model(case, Xtr, ytr)
    train_s = time.perf_counter() - t0
    acc = float((np.asarray(model.predict(Xte)).astype(np.int64) == yte).mean())
    masks = subset_masks(Xtr.shape[0])
    actual, retrain_s = {}, {}
    for protocol in ("fixed", "varied"):
        actual[protocol], retrain_s[protocol] = retrained_margins(
            case, model, Xtr, ytr_fit, Xte, yte, masks, protocol
        )
    print(f"[{case}] acc {acc:.3f}, train {train_s:.1f} s, retrain {retrain_s}", flush=True)
    rng = np.random.RandomState(SEED)

    defaults = []
    noise = None
    for n_models in N_MODELS:
        for seed in SEEDS:
            pred, info = run_default(model, Xtr, ytr_fit, Xte, yte, masks, n_models, seed)
            info.update(n_models=n_models, seed=seed)
            info["lds"] = {p: lds(pred, a) for p, a in actual.items()}
            if n_models == 1 and seed == SEEDS[0]:
                noise = {p: lds_noise(pred, a, rng) for p, a in actual.items()}
            print(case, "default", info, flush=True)
            defaults.append(info)

    exact = exact_reference(model, Xtr, ytr_fit, Xte, yte, masks, actual)
    print(case, "exact", {k: v for k, v in exact.items() if k != "curves"}, flush=True)
    pred, wall, cpu = gradient_dot(case, model, Xtr, ytr, Xte, yte, masks)
    dot = {"lds": {p: lds(pred, a) for p, a in actual.items()}, "wall_s": wall, "cpu_s": cpu}
    print(case, "gradient dot", dot, flush=True)
    ablation = None
    if case in ABLATION_CASES:
        ablation = kernel_ablation(model, Xtr, ytr, Xte, yte, masks, actual, exact)
        print(case, "ablation GCV factor", ablation["gcv_factor"], flush=True)
    competitors = []
    if args.competitors and CASES[case]["kind"] == "torch":
        competitors = run_competitors(case, model, Xtr, ytr, Xte, yte, masks, actual)
    return {
        "case": case,
        "spec": {k: v for k, v in CASES[case].items()},
        "n_params": int(sum(np.size(v) for v in _param_arrays(model))),
        "n_train": int(Xtr.shape[0]),
        "n_test": int(Xte.shape[0]),
        "test_accuracy": acc,
        "train_s": train_s,
        "retrain_s": retrain_s,
        "lds_noise": noise,
        "defaults": defaults,
        "exact": exact,
        "gradient_dot": dot,
        "ablation": ablation,
        "competitors": competitors,
    }


def _param_arrays(model):
    if hasattr(model, "params_"):
        import jax

        return jax.tree_util.tree_leaves(model.params_)
    return [p.detach().numpy() for p in model.module_.parameters()]


# -- report --------------------------------------------------------------------------------


def _mean_sd(values):
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def summarise(case):
    """Mean LDS (and spread over seeds) and time per ensemble size."""
    out = {}
    for n_models in N_MODELS:
        rows = [r for r in case["defaults"] if r["n_models"] == n_models]
        if not rows:
            continue
        out[n_models] = {
            "lds": {p: _mean_sd([r["lds"][p] for r in rows]) for p in ("fixed", "varied")},
            "wall_s": float(np.mean([r["wall_s"] for r in rows])),
            "cpu_s": float(np.mean([r["cpu_s"] for r in rows])),
            "chosen": sorted({f"{r['method']}, x{r['factor']:.3g}, {r['weights']}" for r in rows}),
        }
    return out


def verdicts(case, summary):
    """The targets of the case, met or missed, with the figures."""
    lines = []
    one = summary.get(1)
    if one is None:
        return lines
    for p in ("fixed", "varied"):
        ours = one["lds"][p][0]
        exact = case["exact"].get("lds", {}).get(p)
        if exact is None:
            lines.append(f"{p}: exact GGN reference not computed ({case['exact'].get('note')})")
        else:
            ok = ours >= exact - 0.02
            lines.append(
                f"{p}: default {ours:.3f} vs exact GGN (best damping) {exact:.3f}: "
                + ("met" if ok else f"MISSED by {exact - 0.02 - ours:.3f}")
            )
        dot = case["gradient_dot"]["lds"][p]
        lines.append(
            f"{p}: default {ours:.3f} vs gradient dot product {dot:.3f}: "
            + ("met" if ours >= dot else "MISSED")
        )
        means = [summary[m]["lds"][p][0] for m in N_MODELS if m in summary]
        mono = all(b >= a for a, b in zip(means, means[1:]))
        lines.append(
            f"{p}: ensembles {' -> '.join(f'{v:.3f}' for v in means)} ("
            + ", ".join(str(m) for m in N_MODELS if m in summary)
            + " models): "
            + ("monotone" if mono else "NOT monotone")
        )
    return lines


def report(cases, info=None):
    headers = [
        "case", "method", "models", "LDS fixed seed", "LDS varied seeds",
        "wall s", "CPU s", "chosen (method, damping factor, weights)",
    ]  # fmt: skip
    table = []
    for case in cases:
        summary = summarise(case)
        for n_models, s in summary.items():
            table.append(
                [
                    case["case"],
                    "default",
                    n_models,
                    "{:.3f} ± {:.3f}".format(*s["lds"]["fixed"]),
                    "{:.3f} ± {:.3f}".format(*s["lds"]["varied"]),
                    f"{s['wall_s']:.1f}",
                    f"{s['cpu_s']:.1f}",
                    "; ".join(s["chosen"]),
                ]
            )
        ex = case["exact"]
        if "lds" in ex:
            table.append(
                [
                    case["case"],
                    f"exact GGN, best damping ({ex['space']})",
                    1,
                    f"{ex['lds']['fixed']:.3f}",
                    f"{ex['lds']['varied']:.3f}",
                    f"{ex['fit_wall_s']:.1f} (fit)",
                    f"{ex['fit_cpu_s']:.1f} (fit)",
                    "factor {fixed:.3g} / {varied:.3g} (oracle)".format(**ex["factor"]),
                ]
            )
        else:
            table.append([case["case"], "exact GGN", 1, "-", "-", "-", "-", ex["note"][:120]])
        dot = case["gradient_dot"]
        table.append(
            [
                case["case"],
                "gradient dot product",
                1,
                f"{dot['lds']['fixed']:.3f}",
                f"{dot['lds']['varied']:.3f}",
                f"{dot['wall_s']:.1f}",
                f"{dot['cpu_s']:.1f}",
                "exact gradients, 1 - p weights",
            ]
        )
        for r in case["competitors"]:
            if "lds" in r:
                table.append(
                    [
                        case["case"],
                        r["method"],
                        1,
                        f"{r['lds']['fixed']:.3f}",
                        f"{r['lds']['varied']:.3f}",
                        f"{r['wall_s']:.1f}",
                        f"{r['cpu_s']:.1f}",
                        r["note"],
                    ]
                )
            else:
                table.append([case["case"], r["method"], 1, "-", "-", "-", "-", r["note"]])
    print(markdown_table(headers, table))
    if info is None:
        info = machine()
        import torch

        info["torch"] = torch.__version__
        try:
            import jax

            info["jax"] = jax.__version__
        except ImportError:
            pass
    lines = []
    for case in cases:
        summary = summarise(case)
        noise = case["lds_noise"]
        timed = case.get("fit_time")
        timed = (
            ""
            if timed is None
            else f" One default fit timed alone (`--time-fit`, exclusive lock, load average "
            f"{timed['load_avg_1min']:.1f} before it): {timed['wall_s']:.1f} s wall, "
            f"{timed['cpu_s']:.1f} s CPU ({timed['method']})."
        )
        lines.append(
            f"- **{case['case']}** ({case['n_params']:,} parameters, {case['n_train']} train / "
            f"{case['n_test']} test rows, test accuracy {case['test_accuracy']:.3f}; "
            f"LDS noise from {N_SUBSETS} subsets, bootstrap sd: fixed "
            f"{noise['fixed']:.3f}, varied {noise['varied']:.3f}): "
            + "; ".join(verdicts(case, summary))
            + "."
            + timed
        )
    ablation = []
    for case in cases:
        ab = case.get("ablation")
        if not ab:
            continue
        for label, curve in ab["curves"].items():
            cells = []
            for p in ("fixed", "varied"):
                g = int(np.argmax(curve[p]))
                cells.append(f"{curve[p][g]:.3f} (x{GRID[g]:.3g})")
            one = int(np.argmin(np.abs(np.log(GRID))))
            ablation.append(
                [
                    case["case"],
                    label,
                    *cells,
                    "{:.3f} / {:.3f}".format(curve["fixed"][one], curve["varied"][one]),
                ]
            )
    ablation_md = ""
    if ablation:
        gcv = "; ".join(
            f"{c['case']}: x{c['ablation']['gcv_factor']:.3g}" for c in cases if c.get("ablation")
        )
        ablation_md = (
            "\n\n### Which kernel (exact gradients unless projected, the model's 1 - p "
            "weights, damping swept)\n\n"
            + markdown_table(
                [
                    "case",
                    "kernel",
                    "best LDS fixed (factor)",
                    "best LDS varied (factor)",
                    "LDS at factor 1 (fixed / varied)",
                ],
                ablation,
            )
            + "\n\nFactors are multiples of the mean nonzero eigenvalue of each kernel. "
            "Generalised cross-validation of the linearised model (weighted ridge "
            "regression of its working residuals on the margin GGN) would choose: "
            + gcv
            + f" (the grid runs from {GRID[0]:g} to {GRID[-1]:g})."
        )
        held = [
            f"{c['case']}: "
            + ", ".join(f"{v:.3f}" for v in c["ablation"]["trace_held_by_top_directions"])
            for c in cases
            # results written before this figure was recorded lack it
            if c.get("ablation") and len(c["ablation"].get("trace_held_by_top_directions", [])) > 1
        ]
        if held:
            ablation_md += (
                " Share of the trace of each row's loss Hessian in the logits held by its "
                '1, 2, ... largest directions (mean over rows; `method="trak"` keeps '
                f"{_TRAK_DIRECTIONS}"
                "): " + "; ".join(held) + "."
            )
    commands = sorted(
        {c.get("command", "python benchmarks/bench_neural.py") for c in cases}
        | {c["competitors_command"] for c in cases if c.get("competitors_command")}
    )
    md = (
        "# Neural attribution at its defaults (`bench_neural.py`)\n\n"
        + markdown_table(headers, table)
        + "\n\nCommand(s): "
        + ", ".join(f"`{c}`" for c in commands)
        + f" on {info['cpu']}, {info['cpu_count']} CPUs, torch {info.get('torch')}, "
        f"jax {info.get('jax', '-')}.\n\n"
        f"LDS: Spearman over {N_SUBSETS} random halves of the training rows, each retrained "
        "from scratch with the explained model's seed (fixed) or a seed per subset "
        "(varied); the same subsets and retrained models for every row of a case. "
        f"Default rows: mean ± sd over explainer seeds {list(SEEDS)} (`random_state`), "
        "nothing else set; their time is the mean per fit plus scoring the test rows, "
        "after the explained model was trained. The table's wall times are load-affected "
        "(runs under `nice -n 19` beside other work on the shared 2-core machine; CPU s "
        "counts this process alone, one torch and one BLAS thread); fit times measured "
        "alone, where taken, follow each case. The exact GGN row is an oracle: the "
        "damping factor is chosen on these retrains. Targets per case (default, one "
        "model): LDS >= exact GGN - 0.02, >= gradient dot product, and the mean LDS "
        "non-decreasing with the number of models, under both protocols:\n\n"
        + "\n".join(lines)
        + ablation_md
        + "\n"
    )
    payload = {
        "command": commands,
        "machine": info,
        "n_subsets": N_SUBSETS,
        "alpha": ALPHA,
        "seeds": list(SEEDS),
        "n_models": list(N_MODELS),
        "cases": cases,
    }
    write_results("neural", payload, md)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help="comma-separated case names to (re)run")
    parser.add_argument("--no-competitors", dest="competitors", action="store_false")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--time-fit",
        action="store_true",
        help="only time one default fit per case (run under an exclusive lock); the "
        "case's other results must exist",
    )
    args = parser.parse_args()
    path = RESULTS / "neural.json"
    if args.report_only:
        payload = json.loads(path.read_text())
        report(payload["cases"], payload["machine"])
        return
    import torch

    # the nets are small: one thread per matrix product, no waiting on a second one (numpy's
    # BLAS too: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS above)
    torch.set_num_threads(1)
    wanted = [c for c in args.cases.split(",") if c] or list(CASES)
    unknown = sorted(set(wanted) - set(CASES))
    if unknown:
        raise SystemExit(f"unknown cases {unknown}; known: {list(CASES)}")
    command = "python benchmarks/bench_neural.py " + " ".join(sys.argv[1:])
    for case in wanted:
        if args.time_fit:
            timing = time_default_fit(case)
            timing["command"] = command.strip()
            print(case, "default fit timed", timing, flush=True)
        else:
            t0 = time.perf_counter()
            result = run_case(case, args)
            result["case_wall_s"] = time.perf_counter() - t0
            result["command"] = command.strip()
        # several runs (disjoint --cases) may write at once: merge under a lock
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(CACHE / "results.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            old = json.loads(path.read_text())["cases"] if path.exists() and args.cases else []
            results = {c["case"]: c for c in old if "defaults" in c}
            if args.time_fit:
                if case not in results:
                    raise SystemExit(f"{case}: no results to add a fit time to; run it first")
                results[case]["fit_time"] = timing
            else:
                # a rerun replaces the case, a fit time of the earlier code included;
                # with --no-competitors the competitors' rows of the last run that had
                # them are kept (they do not depend on this library's code), with the
                # command that measured them
                kept = results.get(case, {}).get("competitors") or []
                if not args.competitors and kept:
                    result["competitors"] = kept
                    result["competitors_command"] = results[case].get(
                        "competitors_command", results[case].get("command")
                    )
                results[case] = result
            report([results[c] for c in CASES if c in results])


if __name__ == "__main__":
    main()
