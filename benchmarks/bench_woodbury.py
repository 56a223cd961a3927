"""Benchmark: exact influence on a TF-IDF text pipeline, dense Hessian vs Woodbury route.

Run (each measurement in a fresh process, so that its peak resident memory is its own)::

    flock -x /tmp/stp-cpu.lock python benchmarks/bench_woodbury.py

Data: free-text notes a user might bring, generated here (scikit-learn has no text
corpus offline): pseudo-words drawn from a Zipf distribution (exponent 1.1) over a
large vocabulary, 20 to 200 words per note, a binary label that depends on a few
hundred of the words plus noise. ``TfidfVectorizer(max_features=d)`` keeps the ``d``
most frequent terms; ``LogisticRegression(C=10)`` is fitted once, and the explainer is
fitted on the fitted pipeline with ``solver="dense"`` and ``solver="woodbury"``.

Measured per case and route: the explainer's ``fit`` wall time (the inverse Hessian,
the stationarity check and the leverages; the model is not refitted), ``explain`` of
200 test rows, and the process's peak resident memory (``VmHWM``, reset through
``/proc/self/clear_refs`` before the explainer's fit and again before ``explain``, so
Linux only) above what it held then: the fit's peak and explain's. Where the dense
route cannot run (its matrices exceed the machine's memory) the refusal is recorded,
not a figure. Where both run, the largest difference of their scores relative to the
largest score is recorded.

``--before DIR COMMIT`` also runs the Woodbury route of the wide cases with the package
at ``DIR`` (the tree of an earlier commit, named ``COMMIT`` in the table, whose explain
built ``block_size x p`` gradient blocks), under a 12 GiB address-space limit so that it fails with
``MemoryError`` rather than exhausting the shared machine; a failure is recorded as
such.
"""

import gc
import json
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, render_saved, write_results  # noqa: E402

CASES = [(1000, 4000), (2000, 9000), (5000, 50000), (5000, 200000)]
BEFORE_CASES = [(5000, 50000), (5000, 200000)]
BEFORE_LIMIT = 12 << 30
N_TEST = 200
SEED = 0


def _word(code, syllables=("ka", "lo", "mi", "te", "su", "ra", "no", "vi", "de", "po", "ze")):
    """Pseudo-word number ``code``: its base-11 digits as syllables, then a digit."""
    out, c = [], code
    while True:
        out.append(syllables[c % 11])
        c //= 11
        if not c:
            return "".join(out) + str(code % 7)


def notes(n, seed, n_words=400_000):
    """``n`` Zipf-distributed notes and their labels (about half positive)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 200, size=n)
    ranks = np.empty(0, dtype=np.int64)
    while ranks.size < lengths.sum():
        draw = rng.zipf(1.1, size=2 * int(lengths.sum()))
        ranks = np.concatenate([ranks, draw[draw <= n_words] - 1])
    used, codes = np.unique(ranks[: lengths.sum()], return_inverse=True)
    words = np.array([_word(int(c)) for c in used])
    weights = np.zeros(n_words)
    informative = rng.choice(2000, size=300, replace=False)
    weights[informative] = rng.normal(scale=1.5, size=300)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    texts, scores = [], np.empty(n)
    for i in range(n):
        doc = codes[bounds[i] : bounds[i + 1]]
        texts.append(" ".join(words[doc]))
        scores[i] = weights[used[doc]].sum() / np.sqrt(lengths[i]) + rng.normal()
    labels = (scores > np.median(scores)).astype(int)
    return pd.DataFrame({"text": texts}), labels


def _pipeline(n_terms):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    import sktraceprop as stp

    text = stp.make_traced_column_transformer((TfidfVectorizer(max_features=n_terms), "text"))
    return stp.make_traced_pipeline(text, LogisticRegression(C=10.0, max_iter=5000))


def _status_mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"{key} not in /proc/self/status")


def _reset_peak():
    """Reset the peak resident memory (Linux ``clear_refs``), return the resident now."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_mib("VmRSS")


def measure(n_rows, n_terms, solver, scores_out=None):
    """One route on one case, in this process: a dict of figures."""
    import sktraceprop as stp

    X, y = notes(n_rows + N_TEST, SEED)
    X_tr, y_tr, X_te = X.iloc[:n_rows], y[:n_rows], X.iloc[n_rows:]
    pipe = _pipeline(n_terms).fit(X_tr, y_tr)
    n_params = int(pipe[-1].coef_.size + 1)
    before = _reset_peak()
    out = {"n_rows": n_rows, "n_terms": int(pipe[-1].coef_.size), "n_params": n_params}
    out["solver"] = solver
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = stp.InfluenceExplainer(pipe, solver=solver).fit(X_tr, y_tr)
    except MemoryError as exc:
        out["refused"] = str(exc)
        out["fit_s"] = time.perf_counter() - t0
        return out
    out["fit_s"] = time.perf_counter() - t0
    out["peak_rss_above_mib"] = _status_mib("VmHWM") - before
    before = _reset_peak()
    t0 = time.perf_counter()
    try:
        scores = explainer.explain(X_te, keep_scores=True).scores
    except MemoryError as exc:
        out["explain_refused"] = f"MemoryError: {exc}"
        return out
    out["explain_s"] = time.perf_counter() - t0
    out["explain_peak_rss_above_mib"] = _status_mib("VmHWM") - before
    out["route"] = explainer.hessian_route_["route"]
    out["estimated_flops"] = {
        "dense": explainer.hessian_route_["dense_flops"],
        "woodbury": explainer.hessian_route_["woodbury_flops"],
    }
    if scores_out:
        np.save(scores_out, scores)
    return out


def _before(code_dir, n_rows, n_terms):
    """The Woodbury route with the package at ``code_dir``, memory limited."""
    import os

    env = {**os.environ, "PYTHONPATH": str(code_dir)}
    cmd = [sys.executable, __file__, "--one", str(n_rows), str(n_terms), "woodbury", ""]
    done = subprocess.run(
        ["prlimit", f"--as={BEFORE_LIMIT}", *cmd], capture_output=True, text=True, env=env
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        return json.loads(lines[-1])
    tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
    return {"n_rows": n_rows, "n_terms": n_terms, "failed": tail[:300]}


def main(before_dir=None, before_commit=None):
    rows = []
    tmp = Path(__file__).resolve().parent / "results"
    for n_rows, n_terms in CASES:
        case = {}
        for solver in ("woodbury", "dense"):
            scores_file = tmp / f".woodbury_scores_{solver}.npy"
            cmd = [
                sys.executable,
                __file__,
                "--one",
                str(n_rows),
                str(n_terms),
                solver,
                str(scores_file),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            case[solver] = json.loads(done.stdout.strip().splitlines()[-1])
            print(case[solver], flush=True)
        if "refused" not in case["dense"]:
            a = np.load(tmp / ".woodbury_scores_dense.npy")
            b = np.load(tmp / ".woodbury_scores_woodbury.npy")
            case["max_relative_difference"] = float(np.abs(a - b).max() / np.abs(a).max())
        for solver in ("woodbury", "dense"):
            (tmp / f".woodbury_scores_{solver}.npy").unlink(missing_ok=True)
        if before_dir is not None and (n_rows, n_terms) in BEFORE_CASES:
            case["woodbury_before"] = _before(before_dir, n_rows, n_terms)
            case["before_commit"] = before_commit
            print(case["woodbury_before"], flush=True)
        rows.append(case)
    render(rows, machine())


def _cell(figures, key, fmt):
    for bad in ("refused", "failed", "explain_refused"):
        if bad in figures:
            return "MemoryError" if "MemoryError" in figures[bad] else "failed"
    return fmt.format(figures[key]) if key in figures else "-"


def render(rows, info):
    """Print the tables and write ``results/woodbury.{json,md}`` from the cases."""
    headers = [
        "rows",
        "terms",
        "parameters",
        "dense fit (s)",
        "dense fit peak (MiB)",
        "Woodbury fit (s)",
        "Woodbury fit peak (MiB)",
        f"explain {N_TEST} rows, dense / Woodbury (s)",
        "explain peak, dense / Woodbury (MiB)",
        "max score difference",
    ]
    table = []
    for case in rows:
        d, w = case["dense"], case["woodbury"]
        refused = "refused" in d
        table.append(
            [
                w["n_rows"],
                w["n_terms"],
                w["n_params"],
                "MemoryError before allocating" if refused else f"{d['fit_s']:.1f}",
                "-" if refused else f"{d['peak_rss_above_mib']:,.0f}",
                f"{w['fit_s']:.1f}",
                f"{w['peak_rss_above_mib']:,.0f}",
                ("-" if refused else f"{d['explain_s']:.1f}") + f" / {w['explain_s']:.1f}",
                ("-" if refused else f"{d['explain_peak_rss_above_mib']:,.0f}")
                + f" / {w['explain_peak_rss_above_mib']:,.0f}",
                f"{case['max_relative_difference']:.1e}"
                if "max_relative_difference" in case
                else "-",
            ]
        )
    parts = [
        "# Exact influence on TF-IDF text: dense Hessian vs Woodbury (`bench_woodbury.py`)",
        "Generated free-text notes (Zipf-distributed pseudo-words, 20-200 per note, "
        "labels from a few hundred words plus noise), `TfidfVectorizer(max_features="
        "terms)` (terms: those kept, at most the notes' distinct words), "
        "`LogisticRegression(C=10)` fitted once; `InfluenceExplainer(pipe, "
        "solver=...)` fitted on it (the inverse Hessian, stationarity, leverages), "
        f"then `explain` of {N_TEST} test rows. Peaks: the process's resident memory "
        "high-water mark above what it held before the explainer's fit, and again "
        "before `explain` (each route in a fresh process; resident memory, so arrays "
        "placed in memory the fit had freed add nothing). Max score difference: "
        "largest |dense - Woodbury| over the largest |score|. One run per cell.",
        markdown_table(headers, table),
    ]
    before = [case for case in rows if "woodbury_before" in case]
    if before:
        commit = before[0]["before_commit"]
        headers = [
            "rows",
            "terms",
            f"fit (s), {commit} / now",
            f"fit peak (MiB), {commit} / now",
            f"explain {N_TEST} rows (s), {commit} / now",
            f"explain peak (MiB), {commit} / now",
        ]
        table = []
        for case in before:
            b, w = case["woodbury_before"], case["woodbury"]
            table.append(
                [
                    w["n_rows"],
                    w["n_terms"],
                    _cell(b, "fit_s", "{:.1f}") + f" / {w['fit_s']:.1f}",
                    _cell(b, "peak_rss_above_mib", "{:,.0f}")
                    + f" / {w['peak_rss_above_mib']:,.0f}",
                    _cell(b, "explain_s", "{:.1f}") + f" / {w['explain_s']:.1f}",
                    _cell(b, "explain_peak_rss_above_mib", "{:,.0f}")
                    + f" / {w['explain_peak_rss_above_mib']:,.0f}",
                ]
            )
        parts += [
            f"Woodbury route before (commit {commit}: `explain` built `block_size x p` "
            "dense gradient blocks, `fit`'s stationarity check a `1024 x p` block) and "
            "now (scores through the rows, no `p`-sized row): the earlier code run with "
            f"`--before`, under a {BEFORE_LIMIT >> 30} GiB address-space limit "
            "(`prlimit --as`); MemoryError: it exceeded it.",
            markdown_table(headers, table),
        ]
    parts.append(
        "Command: `flock -x /tmp/stp-cpu.lock python benchmarks/bench_woodbury.py"
        + (
            f" --before <tree of {before[0]['before_commit']}> {before[0]['before_commit']}"
            if before
            else ""
        )
        + f"` on {info['cpu']} ({info['cpu_count']} CPUs, shared), numpy {info['numpy']}, "
        f"scikit-learn {info['scikit-learn']}, measured {info['measured_at']}."
    )
    md = "\n\n".join(parts)
    print(md)
    payload = {"machine": info, "platform": platform.platform(), "cases": rows}
    write_results("woodbury", payload, md)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--table":
        render_saved("woodbury", render)  # (the table again, no measurement)
    elif len(sys.argv) > 1 and sys.argv[1] == "--one":
        n_rows, n_terms, solver, scores_out = sys.argv[2:6]
        print(json.dumps(measure(int(n_rows), int(n_terms), solver, scores_out)))
    elif len(sys.argv) > 3 and sys.argv[1] == "--before":
        main(Path(sys.argv[2]).resolve(), sys.argv[3])
    else:
        main()
