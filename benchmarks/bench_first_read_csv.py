"""A process's first ``sktraceprop.read_csv`` (and its second), with numba's cache
empty (every scan kernel compiled) and warm (loaded from the cache), against
``pandas.read_csv`` of the same file in the same process.

The scan runs on a helper thread beside pandas; a kernel it would compile there is
refused and the scan redone in the caller (sktraceprop._thread_compiles), so a first
call with an empty cache runs the scan after pandas instead of beside it. This measures
what that costs, and that later calls (and a first call with a warm cache) keep the
overlap: after the first two calls, seven more of ``read_csv`` and ``pandas.read_csv``
interleaved (their medians). Each figure is the median over ``--repeats`` fresh
processes. "kernels compiled": numba compiles (``"numba:compile"`` events, nested ones
included) during the first ``read_csv``. The "usecols" case reads two of the numeric
file's eleven columns, where pandas' parse is short and what the first read adds shows.

Run: python benchmarks/bench_first_read_csv.py [--rows 300000] [--repeats 3]
     [--label after]  (the code measured is the sktraceprop first on PYTHONPATH)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, markdown_table, write_results  # noqa: E402
from _csv_files import write as write_csv_files  # noqa: E402

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import pandas as pd
import sktraceprop as stp
path, options = sys.argv[1], json.loads(sys.argv[2])
out = {"compiled": 0}
t = time.perf_counter()
from numba.core import event  # (timed: the first read_csv imports numba)
class Count(event.Listener):
    def on_start(self, ev):
        out["compiled"] += 1
    def on_end(self, ev):
        pass
event.register("numba:compile", Count())
stp.read_csv(path, **options); out["first"] = time.perf_counter() - t
compiled = out["compiled"]  # (the first call's; the listener counts on)
t = time.perf_counter(); stp.read_csv(path, **options); out["second"] = time.perf_counter() - t
t = time.perf_counter(); pd.read_csv(path, **options); out["pandas"] = time.perf_counter() - t
later, plain = [], []
for _ in range(7):
    t = time.perf_counter(); stp.read_csv(path, **options); later.append(time.perf_counter() - t)
    t = time.perf_counter(); pd.read_csv(path, **options); plain.append(time.perf_counter() - t)
out["later"], out["later_pandas"] = sorted(later)[3], sorted(plain)[3]
out["module"] = stp.__file__
out["compiled"] = compiled
print(json.dumps(out))
"""


def run(path, options, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), SKTRACEPROP_NO_WARMUP="1")
    # (run elsewhere: ``python -c`` puts the working directory first on sys.path, and
    # from the repository's root a --label before run measured the checkout's code)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), json.dumps(options)],
        env=env,
        cwd=Path(cache).parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label", default="current")
    args = parser.parse_args()
    cases = {
        "quoted": ("quoted", {"index_col": 0}),
        "numeric": ("numeric", {}),
        "numeric usecols": ("numeric", {"usecols": ["f0", "label"]}),
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = write_csv_files(tmp, args.rows)
        for case, (file, options) in cases.items():
            for state in ("empty cache", "warm cache"):
                times = []
                for r in range(args.repeats):
                    cache = tmp / f"numba-{case}-{r}"
                    if state == "warm cache":
                        run(paths[file], options, cache)  # fills it
                    times.append(run(paths[file], options, cache))
                keys = ("first", "second", "pandas", "later", "later_pandas", "compiled")
                med = {k: float(np.median([t[k] for t in times])) for k in keys}
                results[f"{case}, {state}"] = {"median_s": med, "runs": times}
    payload = {
        "module": results[next(iter(results))]["runs"][0]["module"],
        "label": args.label,
        "rows": args.rows,
        "repeats": args.repeats,
        "machine": machine(),
        "results": results,
    }
    print(render({args.label: payload}))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"first_read_csv_{args.label}.json").write_text(
        json.dumps(payload, indent=2) + "\n"
    )
    runs = {p.stem[len("first_read_csv_") :]: p for p in RESULTS.glob("first_read_csv_*.json")}
    payloads = {label: json.loads(path.read_text()) for label, path in sorted(runs.items())}
    write_results("first_read_csv", {"labels": sorted(payloads)}, render(payloads))


def render(payloads):
    """The README section: one table per run kept (``results/first_read_csv_<label>.json``)."""
    parts = [
        "## A process's first `read_csv` (`bench_first_read_csv.py`)",
        "",
        "The scan's helper thread never compiles a numba kernel (a compile there undoes the",
        "program's `warnings.catch_warnings` block: `sktraceprop/_thread_compiles.py`); with",
        "numba's cache empty the scan is refused there and redone after pandas, in the",
        "caller. Each figure: the median over fresh processes, 300,000-row files of",
        '`_csv_files.py`; "later": medians of 7 interleaved `stp.read_csv` /',
        "`pandas.read_csv` after the first two calls. One table per run kept (its label: the",
        'code it measured, first on `PYTHONPATH`). "kernels compiled": numba compiles during',
        'the first call (nested ones included); "numeric usecols" reads two of its eleven',
        "columns. The runs labelled before/after (2026-12-05) started their processes in",
        "the working directory, first on `sys.path` for `python -c`: if run from the repository",
        "root, both measured its checkout (the usecols60 runs start them elsewhere).",
    ]
    for label, payload in payloads.items():
        m = payload["machine"]
        rows = []
        for key, found in payload["results"].items():
            med = found["median_s"]
            ratio = med["later"] / med["later_pandas"]
            case, state = key.split(", ")
            compiled = f"{med['compiled']:.0f}" if "compiled" in med else "-"
            rows.append(
                [case, state, compiled]
                + [f"{med[k]:.3f}" for k in ("first", "second", "pandas")]
                + [f"{med['later']:.3f} / {med['later_pandas']:.3f} = {ratio:.2f}x"]
            )
        table = markdown_table(
            [
                "file",
                "numba cache",
                "kernels compiled",
                "first read_csv (s)",
                "second (s)",
                "pandas (s)",
                "later: read_csv / pandas (median of 7, s)",
            ],
            rows,
        )
        parts += [
            "",
            f"**{label}** ({payload['repeats']} processes each, {payload['rows']:,} rows; "
            f"{m['cpu']}, {m['cpu_count']} cores, shared; measured {m['measured_at']}):",
            "",
            table,
        ]
    parts += [
        "",
        "Command: `python benchmarks/bench_first_read_csv.py --label <label>`.",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    main()
