"""Benchmark: exact influence on large sparse text models, Woodbury vs matrix-free route.

Run (each route and case in a fresh process, so that its peak resident memory is its own)::

    flock -x /tmp/stp-cpu.lock nice -n 5 python benchmarks/bench_influence_matrix_free.py

Data: the generated Zipf-distributed notes of ``bench_woodbury.py`` (scikit-learn's
text corpora cannot be downloaded here), ``TfidfVectorizer(max_features=terms)``,
``LogisticRegression(C=10, max_iter=5000)`` (lbfgs) fitted once per process; its fit
time is the alternative the explainer is weighed against (a refit without a row, to
see what removing it does, costs one such fit per row).

Measured per case and route: the explainer's ``fit`` wall time (the inverse Hessian or,
matrix-free, nothing but the stationarity check's solves; the model is not refitted),
``explain`` of 1, 100 and 1,000 test rows (wall time, each after the previous), the
process's peak resident memory above what it held before the explainer's fit
(``VmHWM`` reset through ``/proc/self/clear_refs``, Linux only) over the fit and over
the explains, and the route ``solver="auto"`` chooses. Where both routes run, the
largest difference of the 100 rows' scores relative to the largest score. The
Woodbury route runs under an address-space limit (``prlimit --as``, :data:`LIMIT`) so
that it fails with ``MemoryError`` rather than exhaust the shared machine.
"""

import json
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, render_saved, write_results  # noqa: E402
from bench_woodbury import _pipeline, _reset_peak, _status_mib, notes  # noqa: E402

CASES = [(5000, 50000), (20000, 100000)]
ROUTES = ("woodbury", "matrix_free")
EXPLAINED = (1, 100, 1000)
#: Test rows explained per case where fewer than EXPLAINED (none now)
CASE_EXPLAINED = {}
LIMIT = 8 << 30
SEED = 0


def measure(n_rows, n_terms, solver, scores_out):
    """One route on one case, in this process: a dict of figures."""
    import sktraceprop as stp

    explained = CASE_EXPLAINED.get((n_rows, n_terms), EXPLAINED)
    X, y = notes(n_rows + max(EXPLAINED), SEED)
    X_tr, y_tr, X_te = X.iloc[:n_rows], y[:n_rows], X.iloc[n_rows:]
    t0 = time.perf_counter()
    pipe = _pipeline(n_terms).fit(X_tr, y_tr)
    out = {"n_rows": n_rows, "n_terms": int(pipe[-1].coef_.size), "solver": solver}
    out["model_fit_s"] = time.perf_counter() - t0
    out["nnz"] = int(pipe[:-1].transform(X_tr).nnz)
    before = _reset_peak()
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = stp.InfluenceExplainer(pipe, solver=solver).fit(X_tr, y_tr)
    except MemoryError as exc:
        out["refused"] = f"MemoryError: {exc}"
        out["fit_s"] = time.perf_counter() - t0
        return out
    out["fit_s"] = time.perf_counter() - t0
    out["fit_peak_mib"] = _status_mib("VmHWM") - before
    out["route"] = explainer.hessian_route_["route"]
    out["auto_route"] = _auto_route(explainer)
    # the most iterations of any column, per block solved: the fit's, then explain's
    out["cg_iterations_fit"] = list(getattr(explainer._inv_hessian, "n_iter", []))
    print(json.dumps(out), file=sys.stderr, flush=True)  # kept if a later step is killed
    before = _reset_peak()
    out["explain_s"] = {}
    for n_test in explained:
        t0 = time.perf_counter()
        exp = explainer.explain(X_te.iloc[:n_test], keep_scores=n_test == 100)
        out["explain_s"][n_test] = time.perf_counter() - t0
        print(json.dumps(out), file=sys.stderr, flush=True)
        if n_test == 100:
            np.save(scores_out, exp.scores)
    out["explain_peak_mib"] = _status_mib("VmHWM") - before
    out["cg_iterations"] = list(getattr(explainer._inv_hessian, "n_iter", []))
    return out


def _auto_route(explainer):
    """The route ``solver="auto"`` takes for the explainer's model, from its estimate."""
    from sktraceprop.influence._hessian_route import choose_route

    route = choose_route(
        explainer.objective_,
        explainer.Xt_,
        explainer._row_weights,
        explainer.n_bound_,
        "auto",
        explainer.block_size,
    )
    return route["route"]


def _run(n_rows, n_terms, solver, scores_out):
    cmd = [sys.executable, __file__, "--one", str(n_rows), str(n_terms), solver, scores_out]
    if solver == "woodbury":
        cmd = ["prlimit", f"--as={LIMIT}", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        return json.loads(lines[-1])
    err = done.stderr.strip().splitlines() or ["(no message)"]
    tail = err[-1]
    partial = [line for line in err if line.startswith("{")]
    out = {"n_rows": n_rows, "n_terms": n_terms, "solver": solver}
    if partial:  # what it measured before it failed
        out = json.loads(partial[-1])
    return {**out, "failed": tail[:300]}


def main(cases=CASES, routes=ROUTES, add=False):
    """Run ``routes`` on ``cases``; with ``add``, into the cases of the saved results
    (the other routes' figures kept)."""
    rows = []
    tmp = Path(__file__).resolve().parent / "results"
    saved = {}
    if add:
        for case in json.loads((tmp / "influence_matrix_free.json").read_text())["cases"]:
            key = (case["woodbury"]["n_rows"], case["woodbury"]["n_terms"])
            saved[key] = case
    for n_rows, n_terms in cases:
        case = saved.pop((n_rows, n_terms), {})
        for solver in routes:
            scores = tmp / f".mf_scores_{solver}.npy"
            case[solver] = _run(n_rows, n_terms, solver, str(scores))
            print(case[solver], flush=True)
        files = [tmp / f".mf_scores_{solver}.npy" for solver in ROUTES]
        if all(f.exists() for f in files):
            a, b = (np.load(f) for f in files)
            case["max_relative_difference"] = float(np.abs(a - b).max() / np.abs(a).max())
        for f in files:
            f.unlink(missing_ok=True)
        rows.append(case)
    rows += list(saved.values())
    rows.sort(key=lambda case: case["woodbury"]["n_rows"])
    render(rows, machine())


def _cell(figures, fmt, *keys):
    """The figure at ``keys``; where it is missing, why (a route that failed or was
    refused, or ``-``: not measured)."""
    value = figures
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if value is not None:
        return fmt.format(value)
    for bad in ("refused", "failed"):
        if bad in figures:
            return "MemoryError" if "MemoryError" in figures[bad] else "failed"
    return "-"


def render(rows, info):
    """Print the table and write ``results/influence_matrix_free.{json,md}``."""
    headers = [
        "rows",
        "terms",
        "nnz",
        "route",
        "model fit (s)",
        "explainer fit (s)",
        "fit peak (MiB)",
        "explain 1 / 100 / 1,000 rows (s)",
        "explain peak (MiB)",
        "auto route",
    ]
    table = []
    for case in rows:
        for solver in ROUTES:
            f = case[solver]
            any_ok = next((case[s] for s in ROUTES if "nnz" in case[s]), f)
            table.append(
                [
                    f["n_rows"],
                    any_ok.get("n_terms", f["n_terms"]),
                    f"{any_ok['nnz']:,}" if "nnz" in any_ok else "-",
                    solver,
                    _cell(f, "{:.1f}", "model_fit_s"),
                    f"MemoryError after {f['fit_s']:.0f} s"
                    if "refused" in f
                    else _cell(f, "{:.1f}", "fit_s"),
                    _cell(f, "{:,.0f}", "fit_peak_mib"),
                    " / ".join(_cell(f, "{:.2f}", "explain_s", str(k)) for k in EXPLAINED),
                    _cell(f, "{:,.0f}", "explain_peak_mib"),
                    next((case[s]["auto_route"] for s in ROUTES if "auto_route" in case[s]), "-"),
                ]
            )
    diffs = [
        f"{case['woodbury']['n_rows']} x {case['woodbury']['n_terms']}: "
        f"{case['max_relative_difference']:.1e}"
        for case in rows
        if "max_relative_difference" in case
    ]
    parts = [
        "# Exact influence on large sparse text: Woodbury vs matrix-free "
        "(`bench_influence_matrix_free.py`)",
        "Generated free-text notes (as `bench_woodbury.py`), `TfidfVectorizer(max_features="
        "terms)`, `LogisticRegression(C=10, max_iter=5000)` fitted once per process (model "
        "fit: the time a refit costs, the alternative to influence); "
        "`InfluenceExplainer(pipe, solver=...)` fitted on it, then `explain` of 1, 100 and "
        "1,000 test rows in turn. Peaks: the process's resident memory high-water mark "
        "above what it held before the explainer's fit (fit), and before the first "
        f"`explain` (explain). The Woodbury route runs under a {LIMIT >> 30} GiB "
        "address-space limit (`prlimit --as`); MemoryError: it exceeded it. auto route: "
        "what `solver='auto'` chooses from its estimate. One run per cell.",
        markdown_table(headers, table),
        "Largest |Woodbury - matrix-free| score over the largest |score| (100 rows): "
        + ("; ".join(diffs) if diffs else "-")
        + ".",
        "Command: `flock -x /tmp/stp-cpu.lock nice -n 5 python "
        f"benchmarks/bench_influence_matrix_free.py` on {info['cpu']} ({info['cpu_count']} "
        f"CPUs, shared with other jobs), numpy {info['numpy']}, scikit-learn "
        f"{info['scikit-learn']}, measured {info['measured_at']} (a case's route run again "
        "with `--add ROWS TERMS ROUTE` replaces its figures and keeps the other route's, "
        "measured by the run before on the same machine; the 20,000-row matrix-free line "
        "was so added after the first run's was stopped). `-`: not measured.",
    ]
    md = "\n\n".join(parts)
    print(md)
    payload = {"machine": info, "platform": platform.platform(), "cases": rows}
    write_results("influence_matrix_free", payload, md)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--table":
        render_saved("influence_matrix_free", render)  # (the table again, no measurement)
    elif len(sys.argv) > 1 and sys.argv[1] == "--one":
        n_rows, n_terms, solver, scores_out = sys.argv[2:6]
        print(json.dumps(measure(int(n_rows), int(n_terms), solver, scores_out)))
    elif len(sys.argv) > 1 and sys.argv[1] == "--add":
        # --add ROWS TERMS ROUTE...: run those routes of one case into the saved results
        main([(int(sys.argv[2]), int(sys.argv[3]))], tuple(sys.argv[4:]), add=True)
    else:
        main()
