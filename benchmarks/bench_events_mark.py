"""The mark of a store's removal events, read at every traced fit into a store: what an
index on the events' ``kind`` would save at ``--events`` events.

``_raw_events_mark(("unlearning", "store.erasure"))`` (stores/_sqlite_raw.py) counts the
events of those kinds and reads the last one's hash; the events table has no index on
``kind``, so SQLite scans it. A SQLite store is filled with ``--events`` appended events
(as a prediction log: ``--payload-bytes`` of text each, ``durability="fast"`` to build it
quickly) and ``--removals`` ``"unlearning"`` events among them; then the median of
``--repeats`` marks read through the store, and the same query on a copy of the file
given ``CREATE INDEX ... ON events (kind)`` (an index no store has: adding one needs a
schema upgrade), read with sqlite3. For scale: the median of traced fits of 2,000 rows
(StandardScaler + LogisticRegression) into the store, the mark included.

Run: nice -n 19 python benchmarks/bench_events_mark.py [--events 200000]
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._removal_events import KINDS  # noqa: E402


def _median_ms(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--removals", type=int, default=10)
    parser.add_argument("--payload-bytes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="stp-bench-mark-"))
    results = {
        "machine": machine(),
        "command": f"python benchmarks/bench_events_mark.py --events {args.events} "
        f"--removals {args.removals} --payload-bytes {args.payload_bytes} "
        f"--repeats {args.repeats}",
        "load_average_before": os.getloadavg(),
        "niceness": os.nice(0),
    }
    path = folder / "store.db"
    store = stp.stores.SQLiteStore(path, durability="fast")
    every = args.events // max(args.removals, 1)
    text = "x" * args.payload_bytes
    for i in range(args.events):
        if args.removals and i % every == every - 1:
            store.append_event("unlearning", {"row_ids": [i], "i": i})
        else:
            store.append_event("prediction.bench", {"rows": text, "i": i})
    store.close()
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2_000, 5))
    X = stp.from_numpy(data, "fit_rows")
    y = (data[:, 0] > 0).astype(np.int64)

    store = stp.stores.SQLiteStore(path, durability="fast")
    mark, plain = _median_ms(lambda: store._raw_events_mark(KINDS), args.repeats)
    expected = store._raw_events_mark(KINDS)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    with warnings.catch_warnings():
        # the bench's removals name rows of no source (warned at each fit, not timed apart)
        warnings.simplefilter("ignore", stp.exceptions.LineageWarning)
        fit, fits = _median_ms(lambda: pipe.fit(X, y), max(args.repeats // 3, 3))
    store.close()

    indexed = folder / "indexed.db"
    shutil.copyfile(path, indexed)
    con = sqlite3.connect(indexed, isolation_level=None)
    con.execute("CREATE INDEX events_kind ON events (kind)")
    where = f"kind IN ({', '.join('?' * len(KINDS))})"
    query = (
        "SELECT n, top, (SELECT hash FROM events WHERE seq = top) FROM (SELECT "
        f"count(*) AS n, max(seq) AS top FROM events WHERE {where})"
    )
    assert tuple(con.execute(query, KINDS).fetchone()) == tuple(expected)
    with_index, indexed_times = _median_ms(
        lambda: con.execute(query, KINDS).fetchone(), args.repeats
    )
    con.close()
    results.update(
        {
            "file_bytes": path.stat().st_size,
            "mark_ms": {"no index": mark, "index on kind": with_index},
            "mark_runs_ms": {"no index": plain, "index on kind": indexed_times},
            "fit_ms": fit,
            "fit_runs_ms": fits,
            "load_average_after": os.getloadavg(),
        }
    )
    rows = [
        [f"{args.events:,}", "no index (as stored)", f"{mark:.2f}", f"{fit:.1f}"],
        [f"{args.events:,}", "index on kind (a copy)", f"{with_index:.3f}", ""],
    ]
    table = markdown_table(["events", "events table", "mark ms (median)", "traced fit ms"], rows)
    print(table)
    m = results["machine"]
    load = "/".join(f"{a:.2f}" for a in results["load_average_before"])
    load_after = "/".join(f"{a:.2f}" for a in results["load_average_after"])
    md = f"""## The mark of a store's removal events (`bench_events_mark.py`)

{table}

The mark each traced fit into a store reads of its removal events (their count, the last
one's seq and hash: `_raw_events_mark`), on a SQLite store of {args.events:,} events
({args.removals} of them `"unlearning"`, the rest {args.payload_bytes}-byte payloads as a
prediction log; {results["file_bytes"] / 2**20:.0f} MiB file): through the store as it is
(no index on `kind`: a scan of the events table), and the same query on a copy given an
index on `kind` (which no store has: it needs a schema upgrade). Median of
{args.repeats} reads each. "Traced fit": the median of {len(fits)} fits of 2,000 rows
(StandardScaler + LogisticRegression) into the store, the mark included. Machine:
{m["cpu"]}, {m["cpu_count"]} cores (shared with other work), Python {m["python"]}; load
average (1, 5, 15 min) before {load}, after {load_after}, niceness {results["niceness"]}.
Command: `{results["command"]}`.
"""
    write_results("events_mark", results, md)


if __name__ == "__main__":
    main()
