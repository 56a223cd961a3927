"""What ``stp.merge`` adds to ``pd.merge``, part by part (the study pipeline's merge).

The two files of ``bench_lineage.py``'s "study" pipeline (patients with an index column,
labs; ``benchmarks/_csv_files.py``) are read once traced and once plain, then joined
``on="pid", how="left"`` by ``pandas.merge`` and by ``sktraceprop.merge``, interleaved,
``--repeats`` times. Thread CPU time (the steadier figure on a shared machine; the
parents' SHA-256 runs on a thread of its own and is not counted) and wall time, medians.
Inside ``stp.merge`` the library's parts are timed by wrapping the functions it calls
for one more set of runs (thread CPU time): the ``pd.merge`` it runs (with two position
columns), the check of both inputs against what was loaded (``changes``), the parents
table, the witness rows kept, the row ids; "rest" is the remainder.

Run: python benchmarks/bench_merge_overhead.py [--rows 300000] [--repeats 31]
"""

import argparse
import gc
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from _csv_files import write as write_csv_files  # noqa: E402

import sktraceprop as stp  # noqa: E402
import sktraceprop._lineage._derive as derive  # noqa: E402

KW = {"on": "pid", "how": "left"}
# (object, attribute, label): stp.merge's parts, wrapped where merge looks them up
PARTS = [
    (derive.pd, "merge", "pd.merge inside (with position columns)"),
    (derive, "changes", "inputs compared with what was loaded (changes)"),
    (derive.Parents, "from_positions", "parents table"),
    (derive.WITNESSES, "add", "witness rows kept"),
    (derive, "row_ids", "row ids of the inputs"),
]


def _cpu(func):
    gc.collect()
    wall, cpu = time.perf_counter(), time.thread_time()
    func()
    return time.thread_time() - cpu, time.perf_counter() - wall


def interleaved(calls, repeats):
    for func in calls.values():
        func()  # warm
    out = {name: {"cpu": [], "wall": []} for name in calls}
    names = list(calls)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            cpu, wall = _cpu(calls[name])
            out[name]["cpu"].append(cpu)
            out[name]["wall"].append(wall)
    return out


def parts(left, right, repeats):
    """Median thread CPU time of each part of ``stp.merge``."""
    acc = defaultdict(list)
    current = defaultdict(float)
    saved = []
    for obj, attr, label in PARTS:
        func = getattr(obj, attr)

        def timed(*args, _f=func, _label=label, **kwargs):
            start = time.thread_time()
            try:
                return _f(*args, **kwargs)
            finally:
                current[_label] += time.thread_time() - start

        saved.append((obj, attr, func))
        setattr(obj, attr, timed)
    try:
        for _ in range(repeats):
            current.clear()
            total, _ = _cpu(lambda: stp.merge(left, right, **KW))
            for _obj, _attr, label in PARTS:
                acc[label].append(current[label])
            acc["total"].append(total)
    finally:
        for obj, attr, func in saved:
            setattr(obj, attr, func)
    med = {label: float(np.median(v)) for label, v in acc.items()}
    med["rest"] = med["total"] - sum(med[label] for _o, _a, label in PARTS)
    return med


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=31)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    paths = write_csv_files(tmp, args.rows)
    start_load = os.getloadavg()
    traced = stp.read_csv(paths["patients"], index_col=0), stp.read_csv(paths["labs"])
    plain = pd.read_csv(paths["patients"], index_col=0), pd.read_csv(paths["labs"])
    runs = interleaved(
        {
            "pd.merge": lambda: pd.merge(*plain, **KW),
            "stp.merge": lambda: stp.merge(*traced, **KW),
        },
        args.repeats,
    )
    med = {n: {k: float(np.median(v)) for k, v in r.items()} for n, r in runs.items()}
    split = parts(*traced, args.repeats)
    results = {
        "machine": machine(),
        "command": "python benchmarks/bench_merge_overhead.py "
        f"--rows {args.rows} --repeats {args.repeats}",
        "median_s": med,
        "runs_s": runs,
        "extra_cpu_s": med["stp.merge"]["cpu"] - med["pd.merge"]["cpu"],
        "parts_cpu_s": split,
        "load_average_start": start_load,
        "load_average_end": os.getloadavg(),
    }
    rows = [[name, f"{1e3 * m['cpu']:.1f}", f"{1e3 * m['wall']:.1f}"] for name, m in med.items()]
    rows.append(["extra of stp.merge", f"{1e3 * results['extra_cpu_s']:+.1f}", ""])
    table = markdown_table(["call", "thread CPU ms", "wall ms"], rows)
    part_rows = [[label, f"{1e3 * s:.1f}"] for label, s in split.items()]
    part_table = markdown_table(["part of stp.merge", "thread CPU ms"], part_rows)
    m = results["machine"]
    loads = "/".join(f"{x:.1f}" for x in start_load)
    md = f"""## What `stp.merge` adds to `pd.merge` (`bench_merge_overhead.py`)

{table}

{part_table}

The study pipeline's merge (`bench_lineage.py`: patients with an index column and quoted
text, left-joined with labs on `pid`, {args.rows:,} rows each): medians of {args.repeats}
interleaved runs of each, thread CPU time (the parents' SHA-256 runs on a thread of its
own, beside the check of the inputs) and wall time; then {args.repeats} more runs of
`stp.merge` with its parts timed. Machine: {m["cpu"]}, {m["cpu_count"]} cores, pandas
{m["pandas"]}; load average at the start {loads} (other processes shared the machine).
Command: `{results["command"]}`.
"""
    print(md)
    write_results("merge_overhead", results, md)


if __name__ == "__main__":
    main()
