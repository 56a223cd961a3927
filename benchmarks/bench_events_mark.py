"""The mark of a store's removal events, read at every traced fit into a store: what the
index on the events' ``kind`` (store schema 5) saves at ``--events`` events.

``_raw_events_mark(("unlearning", "store.erasure"))`` (stores/_sqlite_raw.py) counts the
events of those kinds and reads the last one's hash. A SQLite store is filled with
``--events`` appended events (as a prediction log: ``--payload-bytes`` of text each,
``durability="fast"`` to build it quickly) and ``--removals`` ``"unlearning"`` events
among them; it is created at schema 5, with the index. A copy is turned into the store
schema 4 wrote (the index dropped, both records of its version set to 4, read with
sqlite3), where the mark scans the events table. The median of ``--repeats`` marks read
through each store; for scale, the median of traced fits of 2,000 rows (StandardScaler +
LogisticRegression) into each, the mark included (on the schema-4 copy with its upgrade
held off, as a handle that could not upgrade it); then what upgrading the schema-4 copy
to 5 costs (its first write: the index built, two rows and an event written), and each
file's size.

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


def _as_schema_4(path):
    """Turn the store at ``path`` into one as schema 4 wrote it: no index on kind."""
    con = sqlite3.connect(path, isolation_level=None)
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    triggers = triggers.fetchall()
    con.execute("BEGIN")
    for name, _ in triggers:
        con.execute(f"DROP TRIGGER {name}")
    con.execute("DROP INDEX events_kind")
    con.execute("UPDATE stp_meta SET value = '4' WHERE key = 'schema_version'")
    con.execute("UPDATE schema_version SET version = 4 WHERE version = 5")
    for _, definition in triggers:
        con.execute(definition)
    con.execute("COMMIT")
    con.execute("VACUUM")
    con.close()


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

    old = folder / "schema4.db"
    shutil.copyfile(path, old)
    _as_schema_4(old)
    upgraded = folder / "upgraded.db"
    shutil.copyfile(old, upgraded)

    sizes = {"schema 4": old.stat().st_size, "schema 5": path.stat().st_size}
    marks, fits, seen = {}, {}, {}
    for name, where in (("schema 4 (no index)", old), ("schema 5 (index on kind)", path)):
        store = stp.stores.SQLiteStore(where, durability="fast")
        # (a handle that could not upgrade it: the fits below write to it as version 4)
        store._upgrade_tried = True
        marks[name] = _median_ms(lambda s=store: s._raw_events_mark(KINDS), args.repeats)
        seen[name] = tuple(store._raw_events_mark(KINDS))
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        with warnings.catch_warnings():
            # the bench's removals name rows of no source (warned at each fit)
            warnings.simplefilter("ignore", stp.exceptions.LineageWarning)
            fits[name] = _median_ms(lambda p=pipe: p.fit(X, y), max(args.repeats // 3, 3))
        assert store.schema_version == (4 if where == old else 5)
        store.close()
    (expected,) = set(seen.values())  # the same mark, with the index or without
    store = stp.stores.SQLiteStore(upgraded, durability="fast")
    start = time.perf_counter()
    store.append_event("review", {})  # the first write upgrades it
    upgrade_ms = (time.perf_counter() - start) * 1e3
    assert store.schema_version == 5 and tuple(store._raw_events_mark(KINDS)) == expected
    store.close()
    results.update(
        {
            "file_bytes": sizes,
            "mark_ms": {k: v[0] for k, v in marks.items()},
            "mark_runs_ms": {k: v[1] for k, v in marks.items()},
            "fit_ms": {k: v[0] for k, v in fits.items()},
            "fit_runs_ms": {k: v[1] for k, v in fits.items()},
            "upgrade_4_to_5_ms": upgrade_ms,
            "load_average_after": os.getloadavg(),
        }
    )
    rows = [
        [f"{args.events:,}", name, f"{marks[name][0]:.3f}", f"{fits[name][0]:.1f}"]
        for name in marks
    ]
    table = markdown_table(["events", "store", "mark ms (median)", "traced fit ms"], rows)
    print(table)
    m = results["machine"]
    load = "/".join(f"{a:.2f}" for a in results["load_average_before"])
    load_after = "/".join(f"{a:.2f}" for a in results["load_average_after"])
    grown = (sizes["schema 5"] - sizes["schema 4"]) / 2**20
    md = f"""## The mark of a store's removal events (`bench_events_mark.py`)

{table}

The mark each traced fit into a store reads of its removal events (their count, the last
one's seq and hash: `_raw_events_mark`), on a SQLite store of {args.events:,} events
({args.removals} of them `"unlearning"`, the rest {args.payload_bytes}-byte payloads as a
prediction log; {sizes["schema 4"] / 2**20:.0f} MiB file): a copy as store schema 4 wrote
it (no index on `kind`: a scan of the events table) and the store as schema 5 creates it
(an index on `kind`, {grown:.1f} MiB more). Median of {args.repeats} reads each. "Traced
fit": the median of {len(fits[name][1])} fits of 2,000 rows (StandardScaler +
LogisticRegression) into the store, the mark included. Upgrading the schema-4 copy to 5
(its first write: the index built over {args.events:,} events, in one transaction with its
`store.upgrade` event) took {upgrade_ms:.0f} ms, once. Machine: {m["cpu"]},
{m["cpu_count"]} cores (shared with other work), Python {m["python"]}; load average (1, 5,
15 min) before {load}, after {load_after}, niceness {results["niceness"]}.
Command: `{results["command"]}`.
"""
    write_results("events_mark", results, md)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
