"""Cost of the per-source statistics a traced fit records (``Lineage.source_stats``).

Every traced fit counts, per source of the rows given to fit, the label balance and the
missing values per column. This script times that count against the plain fit it is
added to, on the two fit-overhead cases of ``bench_lineage.py``: UCI Adult (one-hot and
scaling into LogisticRegression) and a 1,000,000-row numeric frame (StandardScaler into
LogisticRegression). Fit and count alternate; the ratio ``(fit + count) / fit`` is given
for the medians and for the fastest of each.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_source_stats.py [--repeats 9]
"""

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from _data import load_adult  # noqa: E402
from bench_lineage import adult_pipelines, big_pipelines  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage._capture import resolve_row_ids  # noqa: E402
from sktraceprop._lineage._stats import source_stats  # noqa: E402


def seconds(f):
    gc.collect()
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def measure(make_plain, X, y, repeats):
    ids = resolve_row_ids(X)
    plain = make_plain()
    fit, count = [], []
    seconds(lambda: clone(plain).fit(X, y))
    for _ in range(repeats):
        fit.append(seconds(lambda: clone(plain).fit(X, y)))
        count.append(seconds(lambda: source_stats(X, y, ids, classes=True)))
    return {
        "fit_median_s": float(np.median(fit)),
        "stats_median_s": float(np.median(count)),
        "fit_min_s": float(np.min(fit)),
        "stats_min_s": float(np.min(count)),
        "ratio": float((np.median(fit) + np.median(count)) / np.median(fit)),
        "ratio_min": float((np.min(fit) + np.min(count)) / np.min(fit)),
        "fit_s": fit,
        "stats_s": count,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    results = {
        "machine": machine(),
        "command": "python benchmarks/bench_source_stats.py "
        f"--repeats {args.repeats} --big-rows {args.big_rows}",
        "cases": {},
    }
    X, y = load_adult("train")
    plain, _ = adult_pipelines(None)
    results["cases"]["adult"] = {"n_rows": len(X), **measure(plain, X, y, args.repeats)}
    rng = np.random.default_rng(0)
    data = rng.normal(size=(args.big_rows, 10))
    Xb = stp.from_numpy(data, "big_numeric")
    yb = (data[:, 0] + 0.5 * data[:, 1] + rng.normal(size=args.big_rows) > 0).astype(np.int64)
    plain, _ = big_pipelines(None)
    results["cases"]["numeric_1m"] = {
        "n_rows": args.big_rows,
        **measure(plain, Xb, yb, max(3, args.repeats // 2)),
    }
    rows = [
        [
            case,
            f"{r['n_rows']:,}",
            f"{r['fit_median_s'] * 1e3:.1f}",
            f"{r['stats_median_s'] * 1e3:.2f}",
            f"{r['ratio']:.3f}",
            f"{r['fit_min_s'] * 1e3:.1f}",
            f"{r['stats_min_s'] * 1e3:.2f}",
            f"{r['ratio_min']:.3f}",
        ]
        for case, r in results["cases"].items()
    ]
    headers = [
        "case",
        "rows",
        "fit ms (median)",
        "statistics ms (median)",
        "ratio",
        "fit ms (fastest)",
        "statistics ms (fastest)",
        "ratio",
    ]
    table = markdown_table(headers, rows)
    print(table)
    m = results["machine"]
    md = f"""## Per-source statistics at fit time (`bench_source_stats.py`)

{table}

What recording `Lineage.source_stats` (label balance and missing values per column,
per source, counted on the rows given to fit) adds to a fit, on the fit-overhead cases
of `bench_lineage.py`: the plain fit and the count alternate ({args.repeats} times for
Adult, {max(3, args.repeats // 2)} for the 1M-row frame); "ratio" is (fit + count) / fit
for the medians, then for the fastest of each. It adds to the traced-fit overhead that
`bench_lineage.py` measures (target <= 1.05 on numeric data).

Machine: {m["cpu"]}, {m["cpu_count"]} cores (shared), Python {m["python"]}, scikit-learn
{m["scikit-learn"]}, pandas {m["pandas"]}. Command:
`flock -x /tmp/stp-cpu.lock {results["command"]}`.
"""
    write_results("source_stats", results, md)


if __name__ == "__main__":
    main()
