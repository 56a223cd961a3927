"""Memory kept for rows removed in a process, and the refit check's cost with a store.

Two measurements, each in a fresh child process running the checkout given by
``--before`` (another sktraceprop) and then this checkout:

* memory: a removal of 10,000, 100,000 and 1,000,000 rows of one source is recorded in
  this process as an unlearner's removal does (``_record_in_process``); the table gives
  the memory it keeps (``tracemalloc``, after ``gc.collect()``) and its peak while
  recording, in MB, and the seconds to record it.
* fit time: a SQLite store holding 0, 1 or 100 ``"unlearning"`` events (each of 20 rows
  of a 5,000-row source, the process's own record of them cleared, as after a restart);
  a traced ``StandardScaler`` + ``LogisticRegression`` writing to the store is fitted on
  the 2,000 rows never removed; the table gives the median and fastest of ``--repeats``
  fits, and of the refit check alone (``warn_refit_on_removed``), in milliseconds.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_removed_rows.py --before /work/main
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = (10_000, 100_000, 1_000_000)
EVENTS = (0, 1, 100)
PER_EVENT = 20  # rows each unlearning event removes


def _memory(n):
    """Record a removal of ``n`` rows here; print what it kept and its peak, in bytes."""
    import gc
    import tracemalloc
    import types

    import numpy as np

    import sktraceprop as stp
    from sktraceprop._lineage._source import REGISTRY
    from sktraceprop.unlearning._record import _record_in_process

    frame = stp.from_numpy(np.zeros((n, 1), np.float32), "people")
    ids = frame.index.to_numpy().astype(np.int64)
    del frame
    unl = types.SimpleNamespace(train_row_ids_=ids, _source=REGISTRY.by_code, run_id_="r")
    event = {"time_utc": "2026-12-06T00:00:00Z"}
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    _record_in_process(unl, np.arange(n), ids[:0], event)
    seconds = time.perf_counter() - start
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"kept": kept - base, "peak": peak - base, "seconds": seconds}))


def _fit_times(n_events, repeats, folder):
    """Fit a traced pipeline writing to a store of ``n_events`` removals; print times."""
    import warnings

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import sktraceprop as stp
    from sktraceprop import _removed_rows

    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(5_000, 5)), "people")
    y = (X["x0"].to_numpy() + rng.normal(size=5_000) > 0).astype(int)
    # (a store of this process's own: the other checkout's runs and events not in it)
    store = stp.stores.SQLiteStore(Path(folder) / f"audit{n_events}-{os.getpid()}.db")
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()), store=store
    ).fit(X, y)
    ids = X.index.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(n_events):
            unl.unlearn(sample_id=ids[k * PER_EVENT : (k + 1) * PER_EVENT])
    _removed_rows.clear()  # as after a restart: the store alone records them
    keep = slice(3_000, None)  # never removed
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    Xk, yk, idk = X.iloc[keep], y[keep], ids[keep]
    fits, checks = [], []
    for _ in range(repeats + 1):  # (the first warms the caches a running process has)
        start = time.perf_counter()
        pipe.fit(Xk, yk)
        fits.append(time.perf_counter() - start)
        start = time.perf_counter()
        _removed_rows.warn_refit_on_removed(idk, "bench", store=store)
        checks.append(time.perf_counter() - start)
    print(json.dumps({"fit": fits[1:], "check": checks[1:]}))


def _child(checkout, args, folder):
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,  # (python's own folder first on sys.path, not the checkout's root)
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", help="another checkout to compare")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--memory", type=int)
    parser.add_argument("--fit", type=int)
    parser.add_argument("--folder")
    args = parser.parse_args()
    if args.memory is not None:
        _memory(args.memory)
        return
    if args.fit is not None:
        _fit_times(args.fit, args.repeats, args.folder)
        return
    sys.path.insert(0, str(HERE))
    from _common import machine, markdown_table, write_results

    checkouts = {"after": ROOT}
    if args.before:
        checkouts = {"before": Path(args.before).resolve(), **checkouts}
    payload = {"machine": machine(), "memory": [], "fit": []}
    mem_rows, fit_rows = [], []
    with tempfile.TemporaryDirectory() as folder:
        for n in SIZES:
            for name, checkout in checkouts.items():
                got = _child(checkout, ["--memory", str(n)], folder)
                payload["memory"].append({"rows": n, "checkout": name, **got})
                mem_rows.append(
                    (
                        f"{n:,}",
                        name,
                        f"{got['kept'] / 1e6:.2f}",
                        f"{got['peak'] / 1e6:.1f}",
                        f"{got['seconds']:.2f}",
                    )
                )
        for n_events in EVENTS:
            for name, checkout in checkouts.items():
                got = _child(
                    checkout,
                    ["--fit", str(n_events), "--repeats", str(args.repeats), "--folder", folder],
                    folder,
                )
                payload["fit"].append({"events": n_events, "checkout": name, **got})
                fit_rows.append(
                    (
                        n_events,
                        name,
                        f"{statistics.median(got['fit']) * 1e3:.0f}",
                        f"{min(got['fit']) * 1e3:.0f}",
                        f"{statistics.median(got['check']) * 1e3:.1f}",
                        f"{min(got['check']) * 1e3:.1f}",
                    )
                )
    mem_table = markdown_table(
        ["removed rows", "checkout", "kept MB", "peak MB", "record s"], mem_rows
    )
    fit_table = markdown_table(
        [
            "removal events",
            "checkout",
            "fit median ms",
            "fit fastest ms",
            "check median ms",
            "check fastest ms",
        ],
        fit_rows,
    )
    print(mem_table)
    print(fit_table)
    command = "python benchmarks/bench_removed_rows.py " + " ".join(sys.argv[1:])
    markdown = (
        "## Removed rows: memory kept and the refit check\n\n"
        f"`{command}`\n\n"
        "Memory this process keeps for one removal of n rows of a source (tracemalloc, "
        "after gc), its peak while recording, and the seconds to record it:\n\n"
        f"{mem_table}\n\n"
        f"A traced fit of 2,000 rows writing to a SQLite store of 0, 1 and 100 unlearning "
        f"events ({PER_EVENT} rows each), median and fastest of {args.repeats} fits, and "
        "of the refit check alone (on the shared 2-core machine the fits' medians differ "
        "by tens of milliseconds from one run of this script to the next, in either "
        "checkout: a fit's time here is mostly its own writes; the check's figures repeat "
        "more closely):\n\n"
        f"{fit_table}\n"
    )
    write_results("removed_rows", payload, markdown)


if __name__ == "__main__":
    main()
