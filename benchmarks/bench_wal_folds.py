"""Logged calls into a durable SQLite store, and the write-ahead log's checkpoints.

A traced pipeline (StandardScaler + LogisticRegression) answers ``--calls`` logged
``predict`` calls of 10,000 rows into durable SQLite stores (WAL, ``durability="full"``),
one store per case, the cases call by call (the same load on each): SQLite's automatic
checkpoint alone (run inside the commit that takes the log over 1,000 pages);
``store.fold_wal()`` every ``--fold-every`` calls, between calls; and ``fold_wal()``
every ``--fold-ms`` milliseconds from a thread of the caller's own. Per call: wall time,
the time of its write transactions (commit, and any checkpoint in it, included), and
whether the database file changed during the call (in WAL mode SQLite writes the file
only when it checkpoints); and the time of each fold between calls, which the caller
pays when it chooses.

Run: nice -n 19 python benchmarks/bench_wal_folds.py [--calls 720]
"""

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402

CASES = ("automatic", "between calls", "thread")


class _TimedStore(stp.stores.SQLiteStore):
    """A SQLiteStore that keeps the milliseconds of each write transaction (its commit,
    and any checkpoint SQLite runs in it, included)."""

    @contextlib.contextmanager
    def _writer(self):
        start = time.perf_counter()
        with super()._writer() as writer:
            yield writer
        self.write_ms.append((time.perf_counter() - start) * 1e3)


def _file_mark(path):
    stat = os.stat(path)
    return stat.st_mtime_ns, stat.st_size


def _quantiles(ms):
    p50, p99 = np.percentile(ms, [50, 99])
    return {"p50": float(p50), "p99": float(p99), "max": float(max(ms))}


def _folding(store, every_ms, stop):
    while not stop.wait(every_ms / 1e3):
        store.fold_wal()


def measure(folder, calls, fold_every, fold_ms, warm=5):
    """Per-call milliseconds of logged 10,000-row predict calls, by case."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(50_000, 10))
    X = stp.from_numpy(data, "numeric")
    y = (data[:, 0] + rng.normal(size=len(data)) > 0).astype(np.int64)
    batch = X.iloc[:10_000]
    cases = {}
    for name in CASES:
        store = _TimedStore(folder / f"{uuid.uuid4().hex}.db")
        store.write_ms = []
        pipe = stp.make_traced_pipeline(
            StandardScaler(), LogisticRegression(), store=store, log_predictions=True
        ).fit(X, y)
        for _ in range(warm):
            pipe.predict(batch)
        cases[name] = {"store": store, "pipe": pipe, "wall": [], "write": [], "wrote": 0}
    stop = threading.Event()
    thread = threading.Thread(
        target=_folding, args=(cases["thread"]["store"], fold_ms, stop), daemon=True
    )
    thread.start()
    folds = []
    try:
        for i in range(calls):
            for name, case in cases.items():
                store = case["store"]
                store.write_ms.clear()
                mark = _file_mark(store.path)
                start = time.perf_counter()
                case["pipe"].predict(batch)
                case["wall"].append((time.perf_counter() - start) * 1e3)
                case["write"].append(sum(store.write_ms))
                # (the thread's folds write the file too: counted for "automatic" and
                # "between calls" only)
                case["wrote"] += _file_mark(store.path) != mark
                if name == "between calls" and i % fold_every == fold_every - 1:
                    start = time.perf_counter()
                    store.fold_wal()
                    folds.append((time.perf_counter() - start) * 1e3)
    finally:
        stop.set()
        thread.join()
    out = {}
    for name, case in cases.items():
        out[name] = {
            "call_ms": _quantiles(case["wall"]),
            "write_ms": _quantiles(case["write"]),
            "calls_that_checkpointed": None if name == "thread" else case["wrote"],
        }
        case["store"].close()
    out["between calls"]["fold_ms"] = _quantiles(folds)
    out["between calls"]["folds"] = len(folds)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=720)
    parser.add_argument("--fold-every", type=int, default=5)
    parser.add_argument("--fold-ms", type=float, default=50.0)
    parser.add_argument("--folder", default=None, help="where the SQLite files go")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="stp-bench-wal-", dir=args.folder))
    results = {
        "machine": machine(),
        "command": f"python benchmarks/bench_wal_folds.py --calls {args.calls} "
        f"--fold-every {args.fold_every} --fold-ms {args.fold_ms:g}",
        "load_average_before": os.getloadavg(),
        "niceness": os.nice(0),
    }
    results["cases"] = measure(folder, args.calls, args.fold_every, args.fold_ms)
    results["load_average_after"] = os.getloadavg()
    said = {
        "automatic": "SQLite's automatic checkpoint",
        "between calls": f"`fold_wal()` every {args.fold_every} calls, between them",
        "thread": f"`fold_wal()` every {args.fold_ms:g} ms from a thread",
    }
    rows = []
    for name, case in results["cases"].items():
        wrote = case["calls_that_checkpointed"]
        rows.append(
            [
                said[name],
                *(
                    f"{case[part][q]:.1f}"
                    for part in ("call_ms", "write_ms")
                    for q in ("p50", "p99", "max")
                ),
                "(not told)" if wrote is None else f"{wrote} of {args.calls}",
            ]
        )
    table = markdown_table(
        [
            "WAL folded by",
            "call p50 ms",
            "p99",
            "max",
            "its writes p50 ms",
            "p99",
            "max",
            "calls that checkpointed",
        ],
        rows,
    )
    print(table)
    fold = results["cases"]["between calls"]["fold_ms"]
    m = results["machine"]
    load = "/".join(f"{a:.2f}" for a in results["load_average_before"])
    load_after = "/".join(f"{a:.2f}" for a in results["load_average_after"])
    md = f"""## Logged calls and the write-ahead log (`bench_wal_folds.py`)

{table}

{args.calls} logged `predict` calls of 10,000 rows (StandardScaler + LogisticRegression,
`log_predictions=True`) into each of three durable SQLite stores (WAL,
`durability='full'`), call by call so that all see the same load, after 5 untimed
calls each. "Its writes": the call's write transactions, commit included;
"checkpointed": the database file changed during the call (in WAL mode SQLite writes it
only when it checkpoints, inside the commit that takes the log over 1,000 pages; not
told for the thread, whose folds write the file at any time). Folds between calls:
{results["cases"]["between calls"]["folds"]}, {fold["p50"]:.1f} ms median,
{fold["max"]:.1f} ms at most, paid where the caller chooses, not by a call. Machine:
{m["cpu"]}, {m["cpu_count"]} cores (shared with other work), Python {m["python"]}; load
average (1, 5, 15 min) before {load}, after {load_after}, niceness {results["niceness"]}.
Command: `{results["command"]}`.
"""
    write_results("wal_folds", results, md)


if __name__ == "__main__":
    main()
