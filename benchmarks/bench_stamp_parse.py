"""Reading the library's own time stamps: what parsing ``--stamps`` of them costs.

Every audit event's ``created_at`` is a stamp the library wrote itself (``utc_now``:
``2026-12-06T10:00:00.123456+00:00``); a compliance report reads them all
(``check_stamped``, ``event_times``, each call's month), a store's chain walk compares
each with the one before (``set_back``), the exporters order removals by them
(``iso_ns``). Stored times are read to the nanosecond (sktraceprop/_exact_time.py); the
library's own stamps, which ``datetime`` holds exactly, by ``datetime.fromisoformat``
alone. Cases: those readers over ``--stamps`` stamps, one microsecond apart or so, each
the process's CPU time (``time.process_time``: other jobs on a shared machine add
little to it), the best of ``--repeats`` calls; for scale, ``datetime.fromisoformat``
alone (to the microsecond only), and times other writers stamp (``+01:00``, nine
fractional digits), read the general way.

With ``--before DIR`` (a source tree without the change, e.g. ``git archive <commit>
sktraceprop | tar -x -C DIR``) each tree is timed in its own process, ``--rounds``
processes per tree, alternating; per case the best over them. A case a tree cannot run
(a reader it does not have) is left blank.

Run: nice -n 19 python benchmarks/bench_stamp_parse.py [--before DIR]
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, run_child_in_tree, write_results  # noqa: E402

HERE = Path(__file__).resolve().parent
#: What each case reads, in words (the table's rows, in order).
CASES = {
    "fromisoformat": "datetime.fromisoformat, one at a time (to the microsecond only)",
    "parse_time": "parse_time, one at a time (a report: each call's month)",
    "event_times": "event_times (a report's figures of the log)",
    "check_stamped": "check_stamped (a report's check of every event's time)",
    "set_back": "set_back of each stamp and the one before (a store's chain walk)",
    "iso_ns": "iso_ns, one at a time (the exporters' order of removals)",
    "offset": "parse_time, one at a time, stamped +01:00 (another writer)",
    "nine_digits": "parse_time, one at a time, nine fractional digits",
}

_CHILD = r"""
import gc, json, sys, time
from datetime import datetime, timedelta, timezone
import sktraceprop
assert sktraceprop.__file__.startswith(sys.argv[1]), sktraceprop.__file__
n, repeats = int(sys.argv[2]), int(sys.argv[3])
start = datetime(2026, 1, 1, tzinfo=timezone.utc)
moments = [start + timedelta(microseconds=i * 7919) for i in range(n)]
own = [m.isoformat(timespec="microseconds") for m in moments]
plus_one = [m.astimezone(timezone(timedelta(hours=1))).isoformat(timespec="microseconds")
            for m in moments]
nine = [t[:26] + f"{i % 1000:03d}" + t[26:] for i, t in enumerate(own)]
events = [{"seq": i + 1, "kind": "prediction", "created_at": t} for i, t in enumerate(own)]
cases = {"fromisoformat": lambda: [datetime.fromisoformat(t) for t in own]}
from sktraceprop.compliance._evidence import check_stamped, parse_time
from sktraceprop.compliance._log_times import event_times
from sktraceprop.stores._append import set_back
cases["parse_time"] = lambda: [parse_time(t) for t in own]
cases["event_times"] = lambda: event_times(events)
cases["check_stamped"] = lambda: check_stamped(events, "store")
cases["set_back"] = lambda: [set_back(a, b) for a, b in zip(own, own[1:])]
try:
    from sktraceprop._exact_time import iso_ns
    cases["iso_ns"] = lambda: [iso_ns(t) for t in own]
except ImportError:  # (a tree from before times were read to the nanosecond)
    pass
cases["offset"] = lambda: [parse_time(t) for t in plus_one]
cases["nine_digits"] = lambda: [parse_time(t) for t in nine]
out = {}
for name, call in cases.items():
    try:
        call()
    except ValueError:  # (a tree that refuses them: nine digits before the change)
        continue
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        t = time.process_time()
        call()
        best = min(best, time.process_time() - t)
    out[name] = best
print(json.dumps(out))
"""


def _run(tree, stamps, repeats):
    return run_child_in_tree(_CHILD, tree, Path(tree).resolve(), stamps, repeats)


def _best(runs):
    """Per case, the best over the processes (None where no process ran it)."""
    return {case: min((r[case] for r in runs if case in r), default=None) for case in CASES}


def _ms(seconds):
    return "" if seconds is None else f"{seconds * 1e3:.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stamps", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7, help="calls per case and process")
    parser.add_argument("--rounds", type=int, default=2, help="processes per tree")
    parser.add_argument("--before", help="a source tree without the change")
    parser.add_argument("--after", default=str(HERE.parent))
    args = parser.parse_args(argv)
    trees = {"after": args.after} | ({"before": args.before} if args.before else {})
    runs = {label: [] for label in trees}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for label, tree in sorted(trees.items(), reverse=True):  # (before first)
            runs[label].append(_run(tree, args.stamps, args.repeats))
    best = {label: _best(r) for label, r in runs.items()}
    headers = ["case", "after (ms)"]
    rows = []
    for case, words in CASES.items():
        row = [words, _ms(best["after"][case])]
        if args.before:
            before, after = best["before"][case], best["after"][case]
            row[1:1] = [_ms(before)]
            row.append("" if before is None or after is None else f"{after / before:.2f}")
        rows.append(row)
    if args.before:
        headers = ["case", "before (ms)", "after (ms)", "after / before"]
    table = markdown_table(headers, rows)
    print(table)
    command = (
        f"python benchmarks/bench_stamp_parse.py --stamps {args.stamps} --repeats "
        f"{args.repeats} --rounds {args.rounds}" + (" --before DIR" if args.before else "")
    )
    info = machine()
    results = {
        "machine": info,
        "command": command,
        "stamps": args.stamps,
        "best_of": {"repeats": args.repeats, "rounds": args.rounds},
        "clock": "time.process_time (CPU seconds of the process)",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "niceness": os.nice(0),
        "cases": CASES,
        "best_s": best,
        "runs_s": runs,
    }
    load = "/".join(f"{a:.2f}" for a in load_before)
    md = f"""## Reading the library's own time stamps (`bench_stamp_parse.py`)

{table}

CPU time (`time.process_time`) of reading {args.stamps:,} stamps as the library writes
them (`2026-12-06T10:00:00.123456+00:00`), the best of {args.repeats} calls in each of
{args.rounds} processes per tree{", the trees alternating" if args.before else ""}.
Machine: {info["cpu"]}, {info["cpu_count"]} cores, Python {info["python"]}; load average
(1, 5, 15 min) before {load}, niceness {results["niceness"]}.
Command: `{command}`.
"""
    write_results("stamp_parse", results, md)


if __name__ == "__main__":
    main()
