"""Peak memory and time of compliance_report and verify(report, store=) against a store
of N prediction events.

The store: a traced LogisticRegression fitted into SQLite, 20 real logged one-row calls,
then those calls' events copied, as another writer following the store's schema would
append them, until the chain holds N prediction events (each copy a new seq, time and
hash, with its call's salt): logging N calls through the model takes 6-13 ms each, this
takes seconds. ``store.verify()`` checks the chain before anything is measured.

Each measurement runs in a fresh child process (``--measure``): peak resident memory
(VmHWM, after import) and tracemalloc's peak of the call, and its wall seconds.

    python benchmarks/bench_report_memory.py --events 20000 --label after --note "..."
    python benchmarks/bench_report_memory.py --events 200000 --calls report --label after
    python benchmarks/bench_report_memory.py --render
    python benchmarks/bench_report_memory.py --events 50000 --results report_memory_50k.json

``--results`` names another results file in benchmarks/results (its table beside it):
a run at another size than the 200,000 events of report_memory.json is kept apart.

A check's process makes its report first (not measured): at 200,000 events that doubles
its time, hence ``--calls``.
"""

import argparse
import json
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.resolve()))
from _common import DEPLOYER as REPORT  # noqa: E402

RESULTS = HERE / "results" / "report_memory.json"  # and .md, the table


def build(path, n_events):
    """A SQLite store at ``path`` with ``n_events`` prediction events; the pickled model."""
    import pickle

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import sktraceprop as stp
    from sktraceprop.stores._chain import _spliced_hash

    rng = np.random.default_rng(0)
    data = rng.normal(size=(2000, 5))
    X = stp.from_numpy(data, "small")
    y = (data[:, 0] > 0).astype(np.int64)
    store = stp.stores.SQLiteStore(path)
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    ).fit(X, y)
    for i in range(20):
        pipe.predict(X.iloc[i : i + 1])
    store.close()
    with sqlite3.connect(path) as con:
        calls = con.execute(
            "SELECT e.run_id, e.kind, e.payload, s.salt FROM events e JOIN prediction_salts s "
            "ON s.seq = e.seq WHERE e.kind = 'prediction' ORDER BY e.seq"
        ).fetchall()
        seq, prev, stamp = con.execute(
            "SELECT seq, hash, created_at FROM events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        moment = datetime.fromisoformat(stamp)
        events, salts = [], []
        for i in range(n_events - len(calls)):
            run_id, kind, text, salt = calls[i % len(calls)]
            seq += 1
            moment += timedelta(microseconds=10)
            created = moment.isoformat(timespec="microseconds")
            digest = _spliced_hash(prev, seq, run_id, created, kind, text)
            events.append((seq, run_id, created, kind, text, prev, digest))
            salts.append((seq, salt))
            prev = digest
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", events)
        con.executemany("INSERT INTO prediction_salts VALUES (?, ?)", salts)
    store = stp.stores.SQLiteStore(path)
    store.verify()
    store.close()
    model = Path(path).with_suffix(".pkl")
    pipe.store = None
    model.write_bytes(pickle.dumps(pipe))
    return model


def _peak_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def measure(path, what):
    """One measurement in this process: ``{"seconds", "peak_rss_mib", "traced_peak_mib"}``."""
    import pickle
    import tracemalloc

    import sktraceprop as stp

    store = stp.stores.SQLiteStore(path)
    pipe = pickle.loads(Path(path).with_suffix(".pkl").read_bytes())
    pipe.store = store
    out_path = Path(path).with_suffix(".json")
    if what == "verify":
        report = stp.compliance.compliance_report(pipe, store=store, **REPORT)
        report.save(out_path)
        del report
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak: only the call is measured
    tracemalloc.start()
    start = time.perf_counter()
    if what == "report":
        stp.compliance.compliance_report(pipe, store=store, **REPORT)
    else:
        assert stp.compliance.verify(out_path, store=store) is True
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(_peak_kib() / 1024, 1),
        "traced_peak_mib": round(traced / 2**20, 1),
    }


def render(rows, notes):
    lines = [
        "## Report and verify memory with the store's prediction events",
        "",
        "compliance_report and verify(report, store=) against a SQLite store of N one-row "
        "prediction events (20 logged calls, copied as another writer appends them), each "
        "call in a fresh process: peak RSS is the process's high-water mark during the call "
        "(reset before it, so it includes the interpreter and libraries), tracemalloc the "
        "peak of Python allocations during it. Shared 2-core machine, one run each.",
        "",
        "| label | events | call | seconds | peak RSS MiB | tracemalloc peak MiB |",
        "|---|---:|---|---:|---:|---:|",
    ]
    lines[-2:-2] = [f"- {label}: {note}" for label, note in sorted(notes.items())] + [""]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['events']} | {r['call']} | {r['seconds']} | "
            f"{r['peak_rss_mib']} | {r['traced_peak_mib']} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[20000])
    parser.add_argument("--label", default="current")
    parser.add_argument("--calls", nargs="+", default=["report", "verify"])
    parser.add_argument("--note", help="what --label measures, in words (kept per label)")
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--results", default=RESULTS.name, help="file in benchmarks/results")
    parser.add_argument("--measure", nargs=2, metavar=("STORE", "CALL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    results = RESULTS.with_name(args.results)
    held = json.loads(results.read_text()) if results.exists() else {}
    rows, notes = held.get("rows", []), held.get("notes", {})
    if args.note:
        notes[args.label] = args.note
    if not args.render:
        # (a label's rows at other event counts stay)
        rows = [
            r
            for r in rows
            if (r["label"], r["events"], r["call"])
            not in {(args.label, n, c) for n in args.events for c in args.calls}
        ]
        with tempfile.TemporaryDirectory() as tmp:
            for n in args.events:
                path = str(Path(tmp) / f"events{n}.db")
                start = time.perf_counter()
                build(path, n)
                print(f"built {n} events in {time.perf_counter() - start:.1f} s", flush=True)
                for call in args.calls:
                    # a fresh process per call, started outside the checkout (PYTHONPATH
                    # names the code measured)
                    done = subprocess.run(
                        [sys.executable, str(Path(__file__).resolve()), "--measure", path, call],
                        capture_output=True,
                        text=True,
                        check=True,
                        cwd=tmp,
                    )
                    row = {"label": args.label, "events": n, "call": call}
                    row.update(json.loads(done.stdout.strip().splitlines()[-1]))
                    print(row, flush=True)
                    rows.append(row)
        results.parent.mkdir(exist_ok=True)
        results.write_text(
            json.dumps({"machine": platform.machine(), "notes": notes, "rows": rows}, indent=1)
            + "\n"
        )
    results.with_suffix(".md").write_text(render(rows, notes) + "\n")
    print(render(rows, notes))


if __name__ == "__main__":
    main()
