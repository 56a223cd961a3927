"""What the step watch of a traced fit costs (``sktraceprop._lineage._fitted_elsewhere``).

While a traced pipeline fits, each step's watched state is digested when the step's fit
returns and again when the run is checked. The watch digests all a step holds
(``watched_state``: private fitted state such as a KNN's ``_fit_X``, and parameters),
with SHA-256; before, it digested the attributes named ``name_`` alone, with BLAKE2b (that
selection is reproduced here as the baseline, ``_name_state``). For each case: the best
of ``--repeats`` of one watch digest of every step (the watch takes two per fit) under
each, and of the whole traced fit with each (the baseline put in the watch's place), in
one process, the two interleaved, in CPU time (``time.process_time``). Cases:
StandardScaler + LogisticRegression on 200 x 5 rows (small), a KNeighborsClassifier on
``--knn-rows`` x 20, and StandardScaler + LogisticRegression on ``--big-rows`` x 20.

Run: nice -n 19 python benchmarks/bench_step_watch.py [--knn-rows 200000 --big-rows 1000000]
"""

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, markdown_table, timings, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage import _watch_digests as watch  # noqa: E402
from sktraceprop._lineage._fingerprint_walk import _feed  # noqa: E402


def _name_state(step):
    """The selection before: attributes named ``name_``, less lists of names."""
    return {
        k: v
        for k, v in vars(step).items()
        if k.endswith("_") and not k.startswith("__") and not watch.is_names(v)
    }


def _blake2b_digest(value, before=True, by_id=None):
    h = hashlib.blake2b(digest_size=16)
    try:
        _feed(h, value)
    except (ValueError, TypeError):
        return None
    return h.digest()


WAYS = {
    "name_ attributes, BLAKE2b (before)": (_name_state, _blake2b_digest),
    "all it holds, SHA-256 (now)": (watch.state, watch.digest),
}


def _use(way):
    watch.state, watch.digest = WAYS[way]


def _cases(args):
    rng = np.random.default_rng(0)
    out = {}
    for name, rows, make in (
        (
            "small: scaler + logistic, 200 x 5",
            200,
            lambda: [StandardScaler(), LogisticRegression()],
        ),
        (f"KNN, {args.knn_rows} x 20", args.knn_rows, lambda: [KNeighborsClassifier()]),
        (
            f"scaler + logistic, {args.big_rows} x 20",
            args.big_rows,
            lambda: [StandardScaler(), LogisticRegression()],
        ),
    ):
        data = rng.normal(size=(rows, 5 if rows == 200 else 20))
        out[name] = (stp.from_numpy(data, f"watch_{rows}"), data[:, 0] > 0, make)
    return out


def _cpu(call):
    """CPU seconds (this process, every thread) of one call of ``call()``: on a machine
    other jobs share, what the wall clock adds waiting for a core is not the watch's."""
    return timings(call, 1, clock=time.process_time)


def _digest_all(steps, way):
    state, digest = WAYS[way]
    return [digest(v) for step in steps for v in state(step).values()]


def _measure(pipe, X, y, args):
    """Best ms of one digest of every step, and of a traced fit, each way (interleaved)."""
    pipe.fit(X, y)
    steps = [step for _, step in pipe.steps]
    digest = {way: [] for way in WAYS}
    fit = {way: [] for way in WAYS}
    for _ in range(args.repeats):
        for way in WAYS:
            digest[way] += _cpu(lambda w=way: _digest_all(steps, w))
    for _ in range(args.fit_repeats):
        for way in WAYS:
            _use(way)
            fit[way] += _cpu(lambda: pipe.fit(X, y))
    _use("all it holds, SHA-256 (now)")
    return {
        way: {"digest_ms": 1e3 * min(digest[way]), "fit_ms": 1e3 * min(fit[way])} for way in WAYS
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knn-rows", type=int, default=200_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--fit-repeats", type=int, default=5)
    parser.add_argument(
        "--from-saved",
        action="store_true",
        help="write results/step_watch.md again from results/step_watch.json, no measurement",
    )
    args = parser.parse_args(argv)
    if args.from_saved:
        payload = json.loads((RESULTS / "step_watch.json").read_text())
        _write(payload["cases"], payload)
        return
    saved = WAYS["all it holds, SHA-256 (now)"]
    cases = {}
    try:
        for case, (X, y, make) in _cases(args).items():
            cases[case] = _measure(stp.make_traced_pipeline(*make()), X, y, args)
    finally:
        watch.state, watch.digest = saved
    payload = {
        "machine": machine(),
        "command": f"python benchmarks/bench_step_watch.py --knn-rows {args.knn_rows} "
        f"--big-rows {args.big_rows} --repeats {args.repeats} "
        f"--fit-repeats {args.fit_repeats}",
        "repeats": args.repeats,
        "fit_repeats": args.fit_repeats,
        "load_average_before": os.getloadavg(),
        "cases": cases,
    }
    _write(cases, payload)


def _write(cases, payload):
    rows = [
        [case, way, f"{t['digest_ms']:.3f}", f"{t['fit_ms']:.1f}"]
        for case, ways in cases.items()
        for way, t in ways.items()
    ]
    table = markdown_table(
        [
            "case",
            "watched",
            "one digest of every step (CPU ms, best)",
            "traced fit (CPU ms, best)",
        ],
        rows,
    )
    print(table)
    info, load = payload["machine"], payload["load_average_before"]
    text = f"""## What the step watch of a traced fit costs (`bench_step_watch.py`)

{table}

While a traced pipeline fits, each step's watched state is digested when its fit
returns and again when the run is checked (two digests per fit). "all it holds" is what
the watch digests now (private fitted state such as a KNN's `_fit_X`, and parameters,
SHA-256); "name_ attributes" is the selection before (BLAKE2b), reproduced here as the
baseline. CPU time (`time.process_time`), the best of {payload.get("repeats", 7)} digests and of
{payload.get("fit_repeats", 5)} traced fits with each put in the watch's place, interleaved, in one
process. Machine: {info["cpu"]}, {info["cpu_count"]} cores, Python {info["python"]}; load
average (1, 5, 15 min) before {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}: CPU time is
what this process used, which a loaded machine moves less than wall time.
Command: `{payload["command"]}`.
"""
    write_results("step_watch", payload, text)


if __name__ == "__main__":
    main()
