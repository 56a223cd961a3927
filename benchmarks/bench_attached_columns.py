"""Cost of identifying input columns attached by position from another traced source.

A traced fit given input columns that no source of its rows holds compares each (at
most 16) with the loaded columns of every source kept in this process
(``sktraceprop._lineage._attached``): one sort of the column, then a search of a few
witness values per loaded column, of all of them only where one is found. This script
times traced fits of ``LinearRegression`` on a 100,000-row frame read from a CSV file,
30 numeric columns, with 0, 1 or 3 columns of unknown source (``x``: another file's
column copied with ``.values``; ``z``: computed from it; ``f``: a 0/1 flag of it, not
checkable), with the check and with it replaced by a stub that finds nothing (the fit as
it was before), alternating; and the check alone.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_attached_columns.py [--repeats 7]
"""

import argparse
import gc
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage import _record  # noqa: E402
from sktraceprop._lineage._attached import attached_columns  # noqa: E402
from sktraceprop._lineage._ids import codes_of  # noqa: E402
from sktraceprop._lineage._source import REGISTRY  # noqa: E402
from sktraceprop._lineage._witness import WITNESSES  # noqa: E402


def _stub(X, columns, row_ids, source_of):
    return [], {}


def seconds(f):
    gc.collect()
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def frames(n_rows, n_columns, where):
    rng = np.random.default_rng(0)
    cols = {f"c{j}": rng.normal(size=n_rows) for j in range(n_columns)}
    cols["y"] = rng.normal(size=n_rows)
    pd.DataFrame(cols).to_csv(where / "A.csv", index=False)
    other = {"v": rng.normal(size=n_rows), "g": rng.integers(0, 2, n_rows)}
    pd.DataFrame(other).to_csv(where / "B.csv", index=False)
    A = stp.read_csv(where / "A.csv", source_id="bench_A")
    B = stp.read_csv(where / "B.csv", source_id="bench_B")
    return A, B


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=30)
    args = parser.parse_args(argv)
    results = {
        "machine": machine(),
        "command": "python benchmarks/bench_attached_columns.py "
        f"--repeats {args.repeats} --rows {args.rows} --columns {args.columns}",
        "cases": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        A, B = frames(args.rows, args.columns, Path(tmp))
        base = [f"c{j}" for j in range(args.columns)]
        X = A.copy()
        X["x"] = B["v"].values
        X["z"] = B["v"].values * 2 + 1
        X["f"] = B["g"].values
        cases = {"none": base, "1 attached": [*base, "x"], "3 unknown": [*base, "x", "z", "f"]}
        for case, columns in cases.items():
            Xc, y = X[columns], X["y"]

            def fit(Xc=Xc, y=y):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return stp.make_traced_pipeline(LinearRegression()).fit(Xc, y)

            named = [e["input_column"] for e in fit().lineage_.attached_columns]
            with_check, without = [], []
            for _ in range(args.repeats):
                with_check.append(seconds(fit))
                _record.attached_columns = _stub
                try:
                    without.append(seconds(fit))
                finally:
                    _record.attached_columns = attached_columns
            unknown = [c for c in columns if c not in base]
            ids = stp.row_ids(Xc)

            own = set(np.unique(codes_of(ids)).tolist())  # (not searched, as in a fit)

            def check_alone(Xc=Xc, unknown=unknown, ids=ids, own=own):
                return attached_columns(
                    Xc, unknown, ids, lambda code: None if code in own else REGISTRY.by_code(code)
                )

            check = [seconds(check_alone) for _ in range(args.repeats)]
            results["cases"][case] = {
                "unknown_columns": unknown,
                "named": named,
                "with_check_median_s": float(np.median(with_check)),
                "without_median_s": float(np.median(without)),
                "check_median_s": float(np.median(check)) if unknown else 0.0,
                "with_check_min_s": float(np.min(with_check)),
                "without_min_s": float(np.min(without)),
                "ratio": float(np.median(with_check) / np.median(without)),
                "ratio_min": float(np.min(with_check) / np.min(without)),
                "with_check_s": with_check,
                "without_s": without,
                "check_s": check,
            }
        results["loads_kept"] = len(WITNESSES.every_load()[1])
    rows = [
        [
            case,
            ", ".join(r["unknown_columns"]) or "none",
            ", ".join(r["named"]) or "none",
            f"{r['check_median_s'] * 1e3:.1f}" if r["unknown_columns"] else "not run",
            f"{r['without_min_s'] * 1e3:.0f}",
            f"{r['with_check_min_s'] * 1e3:.0f}",
            f"{r['ratio_min']:.3f}",
            f"{r['without_median_s'] * 1e3:.0f}",
            f"{r['with_check_median_s'] * 1e3:.0f}",
            f"{r['ratio']:.3f}",
        ]
        for case, r in results["cases"].items()
    ]
    headers = [
        "case",
        "unknown columns",
        "named",
        "check alone ms (median)",
        "fit ms, no check (fastest)",
        "fit ms, check (fastest)",
        "ratio",
        "fit ms, no check (median)",
        "fit ms, check (median)",
        "ratio",
    ]
    table = markdown_table(headers, rows)
    print(table)
    m = results["machine"]
    md = f"""## Columns attached by position at fit time (`bench_attached_columns.py`)

{table}

Traced fits of `LinearRegression` on a {args.rows:,}-row frame read from a CSV file with
{args.columns} numeric columns, plus columns of no known source: `x` (another file's
column copied with `.values`, identified), `z` (computed from it, checked, not
identified) and `f` (a 0/1 flag, not checkable). "no check": the identification
replaced by a stub that finds nothing (a fit as before it existed); the two alternate,
{args.repeats} times each, fastest and medians. "check alone": the identification
called directly, median ({results["loads_kept"]} loads kept in the process): the figure
to read; the fit times vary by more than it from run to run on this shared machine (the
"none" row runs no check at all, so its ratio shows that noise). A frame whose columns
all come from its sources never runs it.

Machine: {m["cpu"]}, {m["cpu_count"]} cores (shared with other jobs), Python
{m["python"]}, scikit-learn {m["scikit-learn"]}, pandas {m["pandas"]}. Command:
`flock -x /tmp/stp-cpu.lock {results["command"]}`.
"""
    write_results("attached_columns", results, md)


if __name__ == "__main__":
    main()
