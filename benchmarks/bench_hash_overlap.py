"""What hashing a CSV file beside pandas' parser costs, against hashing it after.

``stp.read_csv`` hashes the file (SHA-256) and scans its lines on a thread beside
``pandas.read_csv`` (``sktraceprop/_lineage/_io.py``). This measures whether that overlap
hides the hash, on the files of the CSV-to-model benchmarks (``bench_lineage.py``): per
file, interleaved in one process,

- ``pandas``: ``pandas.read_csv`` alone;
- ``beside``: the same read with a thread hashing the file at the same time (4 MB
  reads into one buffer, as the scan reads);
- ``after``: the read, then the hash in the calling thread;

each timed by wall clock and by the process's CPU time (all threads), and the hashing
thread's own CPU time. "pandas CPU beside" is the process's CPU time of a ``beside`` run
less its hashing thread's: what pandas' own threads spent while the hash ran beside
them. pandas parses a file of 5 MB or more on several threads (its parallel reader)
unless an option such as ``index_col`` rules it out; "parser cores" is the plain read's
CPU time over its wall time.

Run: python benchmarks/bench_hash_overlap.py [--repeats 9] [--csv-rows 1000000]
     [--pipeline-rows 300000]
"""

import argparse
import gc
import hashlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from _csv_files import write as write_csv_files  # noqa: E402

CHUNK = 1 << 22


def sha256_of(path, out=None):
    """SHA-256 of ``path`` read in 4 MB pieces into one buffer; ``out`` gets the
    calling thread's CPU seconds."""
    start = time.thread_time()
    sha, buffer = hashlib.sha256(), bytearray(CHUNK)
    with open(path, "rb") as fh:
        while n := fh.readinto(buffer):
            sha.update(memoryview(buffer)[:n])
    if out is not None:
        out.append(time.thread_time() - start)
    return sha.hexdigest()


def run(mode, path, options):
    """``(wall s, process CPU s, hashing thread CPU s)`` of one read in ``mode``."""
    gc.collect()
    hashed = []
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "beside":
        thread = threading.Thread(target=sha256_of, args=(path, hashed))
        thread.start()
        try:
            pd.read_csv(path, **options)
        finally:
            thread.join()
    else:
        pd.read_csv(path, **options)
        if mode == "after":
            sha256_of(path, hashed)
    return time.perf_counter() - wall, time.process_time() - cpu, sum(hashed)


MODES = ("pandas", "beside", "after")


def measure(path, options, repeats):
    """Every mode's runs, interleaved (the order rotates every repeat)."""
    for mode in MODES:  # warm: file cache, imports
        run(mode, path, options)
    runs = {mode: [] for mode in MODES}
    for r in range(repeats):
        for mode in MODES[r % 3 :] + MODES[: r % 3]:
            runs[mode].append(run(mode, path, options))
    return runs


def summary(runs):
    med = {m: np.median(np.array(v), axis=0).tolist() for m, v in runs.items()}
    beside = np.array(runs["beside"])
    return {
        "median_wall_cpu_hash_s": med,
        "pandas_cpu_beside_s": float(np.median(beside[:, 1] - beside[:, 2])),
        "parser_cores": float(np.median([c / w for w, c, _ in runs["pandas"]])),
        "wall_beside_over_after": float(np.median(beside[:, 0] / np.array(runs["after"])[:, 0])),
    }


def table(cases):
    rows = []
    for name, r in cases.items():
        m = r["median_wall_cpu_hash_s"]
        rows.append(
            [
                name,
                f"{r['parser_cores']:.2f}",
                f"{1e3 * m['pandas'][0]:.0f}",
                f"{1e3 * m['beside'][0]:.0f}",
                f"{1e3 * m['after'][0]:.0f}",
                f"{r['wall_beside_over_after']:.2f}",
                f"{1e3 * m['pandas'][1]:.0f}",
                f"{1e3 * r['pandas_cpu_beside_s']:.0f}",
                f"{1e3 * m['beside'][2]:.0f}",
            ]
        )
    return markdown_table(
        [
            "file",
            "parser cores",
            "pandas wall ms",
            "beside wall ms",
            "after wall ms",
            "beside / after (paired)",
            "pandas CPU ms",
            "pandas CPU beside ms",
            "hash CPU ms",
        ],
        rows,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--pipeline-rows", type=int, default=300_000)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    big = write_csv_files(tmp, args.csv_rows)
    small = write_csv_files(tmp, args.pipeline_rows)
    files = {
        f"numeric ({args.csv_rows:,} rows)": (big["numeric"], {}),
        f"patients ({args.pipeline_rows:,} rows, index_col=0)": (
            small["patients"],
            {"index_col": 0},
        ),
        f"labs ({args.pipeline_rows:,} rows)": (small["labs"], {}),
    }
    results = {
        "machine": machine(),
        "command": f"python benchmarks/bench_hash_overlap.py --repeats {args.repeats} "
        f"--csv-rows {args.csv_rows} --pipeline-rows {args.pipeline_rows}",
        "load_average_start": os.getloadavg(),
        "cases": {},
    }
    for name, (path, options) in files.items():
        runs = measure(path, options, args.repeats)
        results["cases"][name] = {"runs_wall_cpu_hash_s": runs, **summary(runs)}
    results["load_average_end"] = os.getloadavg()
    m = results["machine"]
    loads = "/".join(f"{x:.1f}" for x in results["load_average_start"])
    loads_end = "/".join(f"{x:.1f}" for x in results["load_average_end"])
    md = f"""## Hashing a CSV file beside pandas' parser (`bench_hash_overlap.py`)

{table(results["cases"])}

`stp.read_csv` computes the file's SHA-256 (and scans its lines) on a thread beside
`pandas.read_csv`. Per file of the CSV-to-model benchmarks, interleaved in one process
({args.repeats} repeats, medians): `pandas.read_csv` alone; "beside": the same read with
a thread hashing the file at the same time (4 MB reads into one buffer, as the scan
does); "after": the read, then the hash. "beside / after" is the median over repeats of
the two runs' wall-time ratio. "pandas CPU beside" is the process's CPU time of a
"beside" run less the hashing thread's own ("hash CPU"): what pandas' threads spent
while the hash ran beside them. "parser cores" is the plain read's CPU time over its
wall time (pandas 3 parses a file of 5 MB or more on several threads unless an option
such as `index_col` rules it out).

Machine: {m["cpu"]}, {m["cpu_count"]} cores, pandas {m["pandas"]}; load average (1, 5,
15 min) at the start {loads}, at the end {loads_end} (other processes shared the
machine). Command: `{results["command"]}`.
"""
    print(md)
    write_results("hash_overlap", results, md)


if __name__ == "__main__":
    main()
