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

Run: python benchmarks/bench_store_appends.py [--appends 300] [--rounds 3]
"""

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, sigterm_unwinds, write_results  # noqa: E402

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", default=None, help="where the SQLite files go")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="stp-bench-appends-", dir=args.folder))
    results = {
        "machine": machine(),
        "command": f"python benchmarks/bench_store_appends.py --appends {args.appends} "
        f"--warm {args.warm} --rounds {args.rounds}",
        "file_system": file_system(folder),
        "cases": {},
    }

    def sqlite(**kw):
        return lambda: stp.stores.SQLiteStore(folder / f"{uuid.uuid4().hex}.db", **kw)

    # (removed however the run ends: an error, Ctrl-C, or SIGTERM, which sigterm_unwinds
    # turns into SystemExit here)
    try:
        with sigterm_unwinds(), TemporaryPostgres(fsync=True) as server:
            results["postgresql"] = server.version()
            cases = {
                "SQLite WAL, durability='full' (default): FULL": sqlite(),
                "SQLite WAL, durability='fast': NORMAL": sqlite(durability="fast"),
                "SQLite rollback journal (DELETE): FULL": lambda: rollback_journal_store(
                    folder / f"{uuid.uuid4().hex}.db"
                ),
                "PostgreSQL (fsync on), durability='full': synchronous_commit on": (
                    lambda: stp.stores.PostgresStore(
                        server.dsn, schema=f"a_{uuid.uuid4().hex[:12]}"
                    )
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
    finally:
        shutil.rmtree(folder, ignore_errors=True)
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
Python {m["python"]}. Command: `{results["command"]}`.
"""
    write_results("store_appends", results, md)


if __name__ == "__main__":
    main()
