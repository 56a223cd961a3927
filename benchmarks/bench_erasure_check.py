"""The refit check's cost per erasure event a store holds.

Every traced fit writing to a store checks its rows against the store's removal events
(``_removed_in_store.removed_in_store``). Here a store holds one fit of a 5,000-row
source ``people`` and one of a 1,000-row source ``other``; ``--events`` erasure events
(default 10,000) are made from a real erasure's event, each naming two random lines of
``people`` (three in four) or of ``other``. The rows checked are lines 1-2,500 of
``people`` (about half the events erased one of them). The table gives the median and
fastest of ``--repeats`` checks (the events already read, as a running process keeps
them), in milliseconds, and per event in microseconds, each checkout in a fresh child
process; and a digest of the answer (the rows and the events named), which must be the
same in every checkout.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_erasure_check.py --before /work/main
"""

import argparse
import copy
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _store_and_events(n_events, seed=0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import sktraceprop as stp
    from sktraceprop._removal_events import removal_events

    rng = np.random.default_rng(seed)
    store = stp.stores.MemoryStore()
    frames = {}
    for name, n in (("people", 5_000), ("other", 1_000)):
        X = stp.from_numpy(rng.normal(size=(n, 3)), name)
        y = X["x0"].to_numpy() > 0
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store).fit(X, y)
        frames[name] = X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(frames["other"])[[0]], reason="template")
    (template,) = removal_events(store)
    runs = store.list_runs()["run_id"].tolist()
    from sktraceprop._lineage._ids import codes_of
    from sktraceprop._lineage._source import REGISTRY

    sha = {
        name: REGISTRY.by_code(int(codes_of(stp.row_ids(X)[:1])[0])).sha256
        for name, X in frames.items()
    }
    events = []
    for k in range(n_events):
        name = "people" if rng.random() < 0.75 else "other"
        n_rows = 5_000 if name == "people" else 1_000
        lines = sorted(rng.choice(np.arange(1, n_rows + 1), 2, replace=False).tolist())
        event = copy.deepcopy(template)
        event["seq"] = template["seq"] + 1 + k
        event["payload"]["rows"] = [{"source_id": name, "sha256": sha[name], "lines": lines}]
        event["payload"]["runs"] = runs
        events.append(event)
    return store, stp.row_ids(frames["people"])[:2_500], events


def _measure(n_events, repeats):
    """Time the check here; print its times and the answer's digest."""
    from sktraceprop._removed_in_store import removed_in_store

    store, ids, events = _store_and_events(n_events)
    times, found = [], None
    for _ in range(repeats + 1):  # (the first warms the caches)
        start = time.perf_counter()
        found = removed_in_store(store, ids, events=events)
        times.append(time.perf_counter() - start)
    digest = hashlib.sha256()
    for removed in found:
        digest.update(np.asarray(removed.ids, np.int64).tobytes())
        digest.update(removed.what.split(" in ")[0].encode())
    print(json.dumps({"seconds": times[1:], "hit": len(found), "answer": digest.hexdigest()}))


def _child(checkout, args):
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),  # (not a checkout: its package is PYTHONPATH's)
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", help="another checkout to compare")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2, help="each checkout in turn, again")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(args.events, args.repeats)
        return
    sys.path.insert(0, str(HERE))
    from _common import machine, markdown_table, write_results

    checkouts = {"after": ROOT}
    if args.before:
        checkouts = {"before": Path(args.before).resolve(), **checkouts}
    payload = {"machine": machine(), "events": args.events, "checks": []}
    rows, answers = [], set()
    for _ in range(args.rounds):
        for name, checkout in checkouts.items():
            got = _child(
                checkout,
                ["--measure", "--events", str(args.events), "--repeats", str(args.repeats)],
            )
            payload["checks"].append({"checkout": name, **got})
            answers.add(got["answer"])
            median = statistics.median(got["seconds"])
            rows.append(
                (
                    name,
                    got["hit"],
                    f"{median * 1e3:.0f}",
                    f"{min(got['seconds']) * 1e3:.0f}",
                    f"{median / args.events * 1e6:.0f}",
                    got["answer"][:16],
                )
            )
    if len(answers) != 1:
        raise SystemExit(f"the checkouts' answers differ: {sorted(answers)}")
    table = markdown_table(
        ["checkout", "events with rows", "median ms", "fastest ms", "us per event", "answer"],
        rows,
    )
    print(table)
    command = "python benchmarks/bench_erasure_check.py " + " ".join(sys.argv[1:])
    markdown = (
        "## The refit check against many erasure events\n\n"
        f"`{command}`\n\n"
        f"A store of a fit of a 5,000-row and of a 1,000-row source and {args.events:,} "
        "erasure events (copies of a real erasure's event, each naming two random lines "
        "of one source); the refit check of lines 1-2,500 of the first source, as every "
        "traced fit writing to the store runs it, the events already read. Median and "
        f"fastest of {args.repeats} checks, each checkout in a fresh process, in turn "
        f"{args.rounds} times; the answer (the rows and the event named, digested) is the "
        "same in every checkout. Before, each event's lines were matched to the fit's "
        "rows by themselves (one pass over the fit's rows of that source an event); now "
        "the lines of every event are matched in one pass and split by event "
        "(`sktraceprop/_removed_batch.py`).\n\n"
        f"{table}\n"
    )
    write_results("erasure_check", payload, markdown)


if __name__ == "__main__":
    main()
