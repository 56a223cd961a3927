"""Cost of the checks a traced fit runs on an array without row ids, files loaded.

A traced fit on data without sktraceprop row ids, while traced files are loaded in the
process, looks for evidence that the data was made from loaded rows whose ids were
dropped (``X.values``, a scaler fitted outside the pipeline), to warn rather than record
an anonymous source silently. This script times that: scikit-learn's fit against the
same model in ``stp.make_traced_pipeline``, on

* ``breast_cancer``: scikit-learn's bundled data (569 x 30), written to a CSV and read
  with ``stp.read_csv``;
* ``numeric_100k``: a generated 100,000 x 30 numeric CSV;
* ``adult``: UCI Adult (vendored, mixed types); its six numeric columns are the array,

each given as ``X.values`` (the loaded values), ``StandardScaler().fit_transform(X)`` (a
scaler outside the pipeline), and an unrelated random array of the same shape, with 0
(read with pandas), 1 (the case's file) and 3 (two more 2,000 x 30 numeric files)
files loaded. Every (case, files) pair runs in a fresh process. Figures: the first
traced fit on the array, a repeated fit on the same array, plain fits (median of
``--repeats``), the check alone (``resolve_row_ids``), and a GridSearchCV (cv=5, 20
values of alpha) plain, traced, and traced with the reuse of searched arrays' rows
turned off (every fold searched, as before it), wall time of one run each.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_untraced_fit.py [--repeats 3]
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CASES = ("breast_cancer", "numeric_100k", "adult")
FILES = (0, 1, 3)
ARRAYS = ("values", "scaled", "random")


def _write_numeric(path, rows, seed):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(rows, 30)).round(6)
    header = ",".join(f"f{j}" for j in range(30))
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt="%.6f")
    return data


def _load(case, files, tmp):
    """The case's numeric frame and 0/1 target, read traced when ``files`` >= 1."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    import sktraceprop as stp

    read = stp.read_csv if files >= 1 else pd.read_csv
    if case == "breast_cancer":
        path = tmp / "breast_cancer.csv"
        load_breast_cancer(as_frame=True).frame.to_csv(path, index=False)
        df = read(path)
        return df.drop(columns="target"), df["target"].to_numpy()
    if case == "numeric_100k":
        path = tmp / "numeric.csv"
        data = _write_numeric(path, 100_000, 0)
        df = read(path)
        y = (data[:, 0] + data[:, 1] > 0).astype(np.int64)
        return df, y
    from _data import ADULT_NUMERIC, load_adult

    if files >= 1:
        X, y = load_adult("train")
    else:
        import gzip

        from _data import ADULT_COLUMNS, DATA

        with gzip.open(DATA / "adult.data.gz", "rt") as f:
            X = pd.read_csv(
                f, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?"
            ).dropna()
        y = X.pop("income").str.startswith(">50K").to_numpy().astype(np.int64)
    return X[ADULT_NUMERIC], y


def _seconds(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def _measure(A, y, rng, repeats, grid_search=True):
    """The figures of one array (the check's alone unless ``grid_search``)."""
    from sklearn.linear_model import RidgeClassifier
    from sklearn.model_selection import GridSearchCV

    import sktraceprop as stp
    from sktraceprop._lineage._capture import resolve_row_ids

    model = RidgeClassifier()
    grid = {"alpha": np.logspace(-3, 3, 20).tolist()}
    fresh = A.copy()  # (new memory, equal values)
    sub = A[rng.permutation(len(A))[: int(0.8 * len(A))]]
    traced_model = stp.make_traced_pipeline(model)
    traced_grid = {f"{traced_model.steps[-1][0]}__alpha": grid["alpha"]}
    row = {
        "check_first_s": _seconds(lambda: resolve_row_ids(A)),
        "check_repeat_s": _seconds(lambda: resolve_row_ids(A)),
        "check_copy_s": _seconds(lambda: resolve_row_ids(fresh)),
        "check_subset_s": _seconds(lambda: resolve_row_ids(sub)),
    }
    if not grid_search:
        return row
    plain = [_seconds(lambda: model.fit(A, y)) for _ in range(repeats)]
    traced = [_seconds(lambda: stp.make_traced_pipeline(model).fit(A, y)) for _ in range(repeats)]
    row["plain_fit_s"] = float(np.median(plain))
    row["traced_fit_s"] = float(np.median(traced))
    row["grid_plain_s"] = _seconds(lambda: GridSearchCV(model, grid, cv=5).fit(A, y))
    for reuse in (False, True):  # (before: every fold's rows searched; after: reused)
        with _searches(reuse) as made:
            took = _seconds(lambda: GridSearchCV(traced_model, traced_grid, cv=5).fit(A, y))
        name = "grid_traced_s" if reuse else "grid_traced_no_reuse_s"
        row[name] = took
        row[name[: -len("_s")] + "_searches"] = len(made)
    return row


@contextlib.contextmanager
def _searches(reuse):
    """Nothing remembered of earlier arrays; the scaled searches made (a list), with
    the reuse of searched arrays' rows (:mod:`sktraceprop._lineage._searched_rows`) on
    or off."""
    from sktraceprop._lineage import _scaled, _searched_rows, _untraced

    _untraced._FOUND.clear()
    _searched_rows._drop_all()
    made, real, answer = [], _scaled.find_scaled, _searched_rows.answer
    _scaled.find_scaled = lambda *a: made.append(1) or real(*a)
    if not reuse:
        _searched_rows.answer = lambda *a: None
    try:
        yield made
    finally:
        _scaled.find_scaled, _searched_rows.answer = real, answer


def run_one(case, files, repeats, grid_search=True):
    """Every figure of one (case, files) pair, in this process."""
    from sklearn.preprocessing import StandardScaler

    import sktraceprop as stp

    warnings.simplefilter("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="stp-untraced-"))
    X, y = _load(case, files, tmp)
    for k in range(max(0, files - 1)):
        _write_numeric(tmp / f"other{k}.csv", 2000, 10 + k)
        stp.read_csv(tmp / f"other{k}.csv")
    rng = np.random.default_rng(1)
    arrays = {
        "values": X.to_numpy(dtype=np.float64),
        "scaled": StandardScaler().fit_transform(X),
        "random": rng.normal(size=X.shape),
    }
    out = {name: _measure(A, y, rng, repeats, grid_search) for name, A in arrays.items()}
    return {"n_rows": int(len(X)), "n_columns": int(X.shape[1]), "arrays": out}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # (case, files): a child
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument(
        "--checks-only", action="store_true", help="time the checks alone, print JSON lines"
    )
    args = parser.parse_args(argv)
    if args.one:
        case, files = args.one[0], int(args.one[1])
        print(json.dumps(run_one(case, files, args.repeats, not args.checks_only)))
        return
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent), env.get("PYTHONPATH")) if p)
    if args.checks_only:  # (the code before a change: its checks alone, no table)
        for case in args.cases:
            for files in FILES:
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", case, str(files), "--repeats",
                     str(args.repeats), "--checks-only"],
                    capture_output=True, text=True, env=env, check=True,
                )  # fmt: skip
                got = json.loads(proc.stdout.strip().splitlines()[-1])
                print(json.dumps({"case": case, "files": files, **got}), flush=True)
        return
    from _common import machine, markdown_table, write_results

    results = {
        "machine": machine(),
        "command": f"python benchmarks/bench_untraced_fit.py --repeats {args.repeats}",
        "cases": {},
    }
    rows = []
    for case in args.cases:
        for files in FILES:
            proc = subprocess.run(
                [sys.executable, __file__, "--one", case, str(files), "--repeats",
                 str(args.repeats)],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                print(proc.stderr[-3000:], flush=True)
                raise SystemExit(f"{case} with {files} files failed")
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            results["cases"][f"{case}/{files}"] = got
            for name, r in got["arrays"].items():
                rows.append(
                    [
                        case, f"{got['n_rows']:,} x {got['n_columns']}", files, name,
                        f"{r['check_first_s'] * 1e3:.1f}", f"{r['check_repeat_s'] * 1e3:.1f}",
                        f"{r['check_subset_s'] * 1e3:.1f}",
                        f"{r['plain_fit_s']:.3f}", f"{r['traced_fit_s']:.3f}",
                        f"{r['grid_plain_s']:.2f}",
                        f"{r['grid_traced_no_reuse_s']:.2f} "
                        f"({r['grid_traced_no_reuse_searches']})",
                        f"{r['grid_traced_s']:.2f} ({r['grid_traced_searches']})",
                    ]
                )  # fmt: skip
                print(" | ".join(map(str, rows[-1])), flush=True)
    headers = [
        "case", "shape", "files loaded", "array", "check ms", "same array again ms",
        "80% of its rows ms", "plain fit s", "traced fit s", "GridSearchCV plain s",
        "GridSearchCV traced, every fold searched s (searches)",
        "GridSearchCV traced s (searches)",
    ]  # fmt: skip
    text = (
        "## Arrays without row ids fitted while traced files are loaded "
        "(`bench_untraced_fit.py`)\n\n" + markdown_table(headers, rows) + "\n\n" + NOTES
    )
    m = results["machine"]
    text += (
        f"\n\nMachine: {m['cpu']}, {m['cpu_count']} cores (shared; measured "
        f"{m['measured_at']}), Python {m['python']}, scikit-learn {m['scikit-learn']}, pandas "
        f"{m['pandas']}. Command: `{results['command']}`."
    )
    write_results("untraced_fit", results, text)
    print(text)


NOTES = """\
A traced fit on an array without row ids, while traced files are loaded, checks whether
the array holds loaded rows' values as loaded, or scaled (`sktraceprop/_lineage/_scaled.py`),
or whether y holds a loaded column (`_loaded_labels.py`), to warn instead of recording
an anonymous source silently. "check ms": that check alone (`resolve_row_ids`) on the
array, first time (with numba's loading of the search's kernels where it searches);
"same array again": the array given again (the check's result is kept per array
content, as GridSearchCV gives each fold's rows once per candidate); "80% of its rows":
a fresh subset of its rows, shuffled (an array all of whose rows are rows of arrays
searched reuses their answer: `_searched_rows.py`). "plain/traced fit s": median of the
repeats of RidgeClassifier alone and in `stp.make_traced_pipeline` (the traced figure
includes the whole traced fit: ids, run, statistics). GridSearchCV: cv=5 over 20 values
of alpha (101 fits), one run each, nothing remembered of earlier arrays before each
traced run; "every fold searched": the same code with the reuse of searched rows turned
off (each fold's rows, and X at the refit, searched: the code before it, plus the
rows' digests, which it still makes); in brackets the scaled searches made. 0 files
loaded: the data read with pandas (nothing to compare with).\
"""


if __name__ == "__main__":
    main()
