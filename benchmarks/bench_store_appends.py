"""Stores: what one durable append costs (``append_event``, as a logged prediction,
an erasure or an unlearning record is written), by sync level.

Each append is one write transaction with its hash-chain event. SQLiteStore commits with
``synchronous=FULL`` by default (``durability="full"``: the write-ahead log is synced to
disk before the call returns) and with ``NORMAL`` where the user opts out
(``durability="fast"``: the last commits can be lost on a power loss); a file switched to
a rollback journal always commits with ``FULL``. PostgreSQL (fsync on): each write
transaction of a durable store keeps the server's ``synchronous_commit`` (raised to
``on`` where it is ``off``); a ``"fast"`` one sets it ``off``. Per append: the median
and 90th percentile of ``--appends`` appends after ``--warm`` untimed ones, one store
per case, cases interleaved ``--rounds`` times. The stores' folder is on a real disk
(``fsync`` is a no-op on tmpfs, which would hide the cost): its file system is in the
results.

Logged calls and the write-ahead log: a traced pipeline (StandardScaler +
LogisticRegression) answering ``--calls`` logged ``predict`` calls of 10,000 rows into a
durable SQLite store (WAL, ``durability="full"``), in two stores call by call (the same
load on both): one left to SQLite's automatic checkpoint (inside the commit that takes
the log over 1,000 pages), one folded by ``store.fold_wal()`` every ``--fold-every``
calls, between calls. Per call: wall time, the time of its write transaction(s), and
whether the database file changed during it (in WAL mode SQLite writes the file only
when it checkpoints); and the time of each fold, which the caller pays when it chooses.

Run: python benchmarks/bench_store_appends.py [--appends 300] [--rounds 3] [--calls 360]
"""

import argparse
import contextlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop.stores._postgres_server import TemporaryPostgres  # noqa: E402


def file_system(folder):
    """The type of the file system holding ``folder`` (``df -T``), or "unknown"."""
    try:
        out = subprocess.run(["df", "-T", str(folder)], capture_output=True, text=True)
        return out.stdout.splitlines()[1].split()[1]
    except (OSError, IndexError):
        return "unknown"


def rollback_journal_store(path):
    stp.stores.SQLiteStore(path).close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return stp.stores.SQLiteStore(path)


def per_append_ms(store, appends, warm):
    """Milliseconds of each of ``appends`` timed ``append_event`` calls on ``store``."""
    for i in range(warm):
        store.append_event("bench.warm", {"i": i})
    out = []
    for i in range(appends):
        t = time.perf_counter()
        store.append_event("bench.append", {"i": i})
        out.append((time.perf_counter() - t) * 1e3)
    return out


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


def logged_calls(folder, calls, fold_every, warm=5):
    """Per-call milliseconds of logged 10,000-row predict calls into two durable SQLite
    stores, call by call: SQLite's automatic checkpoint, and ``fold_wal()`` between calls."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(50_000, 10))
    X = stp.from_numpy(data, "numeric")
    y = (data[:, 0] + rng.normal(size=len(data)) > 0).astype(np.int64)
    batch = X.iloc[:10_000]
    cases = {}
    for name in ("automatic", "folded"):
        store = _TimedStore(folder / f"{uuid.uuid4().hex}.db")
        store.write_ms = []
        pipe = stp.make_traced_pipeline(
            StandardScaler(), LogisticRegression(), store=store, log_predictions=True
        ).fit(X, y)
        for _ in range(warm):
            pipe.predict(batch)
        cases[name] = {"store": store, "pipe": pipe, "wall": [], "write": [], "wrote": 0}
    folds = []
    for i in range(calls):
        for name, case in cases.items():
            store = case["store"]
            store.write_ms.clear()
            mark = _file_mark(store.path)
            start = time.perf_counter()
            case["pipe"].predict(batch)
            case["wall"].append((time.perf_counter() - start) * 1e3)
            case["write"].append(sum(store.write_ms))
            case["wrote"] += _file_mark(store.path) != mark
            if name == "folded" and i % fold_every == fold_every - 1:
                start = time.perf_counter()
                store.fold_wal()
                folds.append((time.perf_counter() - start) * 1e3)
    out = {}
    for name, case in cases.items():
        out[name] = {
            "call_ms": _quantiles(case["wall"]),
            "write_ms": _quantiles(case["write"]),
            "calls_that_checkpointed": case["wrote"],
        }
        case["store"].close()
    out["folded"]["fold_ms"] = _quantiles(folds)
    out["folded"]["folds"] = len(folds)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", default=None, help="where the SQLite files go")
    parser.add_argument("--calls", type=int, default=360)
    parser.add_argument("--fold-every", type=int, default=5)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="stp-bench-appends-", dir=args.folder))
    results = {
        "machine": machine(),
        "command": f"python benchmarks/bench_store_appends.py --appends {args.appends} "
        f"--warm {args.warm} --rounds {args.rounds} --calls {args.calls} "
        f"--fold-every {args.fold_every}",
        "file_system": file_system(folder),
        "cases": {},
        "load_average_before": os.getloadavg(),
        "niceness": os.nice(0),
    }

    def sqlite(**kw):
        return lambda: stp.stores.SQLiteStore(folder / f"{uuid.uuid4().hex}.db", **kw)

    with TemporaryPostgres(fsync=True) as server:
        results["postgresql"] = server.version()
        cases = {
            "SQLite WAL, durability='full' (default): FULL": sqlite(),
            "SQLite WAL, durability='fast': NORMAL": sqlite(durability="fast"),
            "SQLite rollback journal (DELETE): FULL": lambda: rollback_journal_store(
                folder / f"{uuid.uuid4().hex}.db"
            ),
            "PostgreSQL (fsync on), durability='full': synchronous_commit on": (
                lambda: stp.stores.PostgresStore(server.dsn, schema=f"a_{uuid.uuid4().hex[:12]}")
            ),
            "PostgreSQL (fsync on), durability='fast': synchronous_commit off": (
                lambda: stp.stores.PostgresStore(
                    server.dsn, schema=f"a_{uuid.uuid4().hex[:12]}", durability="fast"
                )
            ),
        }
        raw = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, make in cases.items():
                store = make()
                raw[name].append(per_append_ms(store, args.appends, args.warm))
                store.close()
    results["logged_calls"] = logged_calls(folder, args.calls, args.fold_every)
    results["load_average_after"] = os.getloadavg()
    rows = []
    for name, per_round in raw.items():
        ms = sorted(t for one in per_round for t in one)
        median = statistics.median(ms)
        p90 = ms[int(0.9 * (len(ms) - 1))]
        # each round's median, not every append's time (the file stays small)
        by_round = [statistics.median(one) for one in per_round]
        results["cases"][name] = {"median_ms": median, "p90_ms": p90, "round_medians_ms": by_round}
        rows.append([name, f"{median:.2f}", f"{p90:.2f}"])
    table = markdown_table(["store, sync level", "ms per append (median)", "p90 ms"], rows)
    print(table)
    logged = results["logged_calls"]
    said = {"automatic": "SQLite's automatic checkpoint", "folded": "`fold_wal()` between calls"}
    call_rows = [
        [
            said[name],
            *(
                f"{case[part][q]:.1f}"
                for part in ("call_ms", "write_ms")
                for q in ("p50", "p99", "max")
            ),
            f"{case['calls_that_checkpointed']} of {args.calls}",
        ]
        for name, case in logged.items()
    ]
    calls_table = markdown_table(
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
        call_rows,
    )
    print(calls_table)
    fold = logged["folded"]["fold_ms"]
    m = results["machine"]
    md = f"""## Store appends by sync level (`bench_store_appends.py`)

{table}

One `append_event` per call (one write transaction with its hash-chain event, as each
logged prediction, erasure or unlearning record is written); {args.appends} timed
appends after {args.warm} untimed ones, per store, {args.rounds} rounds with the cases
interleaved, a new store each time. `durability='full'`, the default, syncs the
write-ahead log to disk before each call returns; `'fast'` can lose the last appends on
a power loss or system crash. SQLite files on {results["file_system"]}; PostgreSQL
{results["postgresql"]}: a local temporary server (fsync on) reached over TCP on
127.0.0.1. Machine: {m["cpu"]}, {m["cpu_count"]} cores (shared with other work),
Python {m["python"]}; load average (1, 5, 15 min) before
{"/".join(f"{a:.2f}" for a in results["load_average_before"])}, after
{"/".join(f"{a:.2f}" for a in results["load_average_after"])}, niceness {results["niceness"]}.
Command: `{results["command"]}`.

### Logged calls and the write-ahead log

{calls_table}

{args.calls} logged `predict` calls of 10,000 rows (StandardScaler + LogisticRegression,
`log_predictions=True`) into each of two durable SQLite stores (WAL,
`durability='full'`), call by call so that both see the same load, after 5 untimed
calls. "Its writes": the call's write transactions, commit included; "checkpointed":
the database file changed during the call (in WAL mode SQLite writes it only when it
checkpoints, inside the commit that takes the log over 1,000 pages). The second store
was folded by `store.fold_wal()` every {args.fold_every} calls, between calls:
{logged["folded"]["folds"]} folds, {fold["p50"]:.1f} ms median, {fold["max"]:.1f} ms at
most, paid where the caller chooses (idle time, or a thread of its own), not by a call.
"""
    write_results("store_appends", results, md)


if __name__ == "__main__":
    main()
