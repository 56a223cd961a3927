"""What watching a ColumnTransformer's parts as steps adds to a traced fit
(``sktraceprop._lineage._watch_parts``).

A traced pipeline whose first step is a ``ColumnTransformer`` of ``--parts`` parts (each a
``StandardScaler`` + ``PCA`` pipeline on two columns) and whose last is a logistic
regression, on ``--rows`` rows: the best of ``--repeats`` fits, in CPU time
(``time.process_time``), interleaved in one process, of the traced pipeline with its
parts watched (now), with the watch of the parts switched off (the step watched as one,
as before), and of the same scikit-learn pipeline untraced, on the plain array and on the
traced frame the traced fit is given (pandas' column selection is part of the ratio).
Prints the table and writes
``results/parts_watch.json`` and ``.md``.

Run: nice -n 19 python benchmarks/bench_parts_watch.py [--parts 20 --rows 20000]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, timings, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage._fitted_elsewhere import StepFits  # noqa: E402


def _column_transformer(parts):
    return ColumnTransformer(
        [
            (f"p{i}", make_pipeline(StandardScaler(), PCA(n_components=1)), [2 * i, 2 * i + 1])
            for i in range(parts)
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", type=int, default=20)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    data = np.random.default_rng(0).normal(size=(args.rows, 2 * args.parts))
    X, y = stp.from_numpy(data, "parts_watch"), data[:, 0] > 0
    ct = _column_transformer(args.parts)
    traced = stp.TracedPipeline([("prep", ct), ("lr", LogisticRegression())])
    plain = Pipeline([("prep", clone(ct)), ("lr", LogisticRegression())])
    plain_frame = clone(plain)
    watch_parts = StepFits.watch_parts

    def as_before():
        StepFits.watch_parts = lambda self, name, step: None
        try:
            traced.fit(X, y)
        finally:
            StepFits.watch_parts = watch_parts

    ways = {
        "traced, parts watched (now)": lambda: traced.fit(X, y),
        "traced, step watched as one (before)": as_before,
        "scikit-learn Pipeline, untraced": lambda: plain.fit(data, y),
        "scikit-learn Pipeline, untraced, on the traced frame": lambda: plain_frame.fit(X, y),
    }
    best = {way: [] for way in ways}
    start_load = os.getloadavg()
    for call in ways.values():
        call()  # (warm: imports, first compilations)
    for _ in range(args.repeats):
        for way, call in ways.items():
            best[way] += timings(call, 1, clock=time.process_time)
    plain_ms = 1e3 * min(best["scikit-learn Pipeline, untraced"])
    rows = [
        [way, f"{1e3 * min(t):.1f}", f"{1e3 * min(t) / plain_ms:.1f}x"] for way, t in best.items()
    ]
    results = {
        "machine": machine(),
        "command": "python benchmarks/bench_parts_watch.py "
        f"--parts {args.parts} --rows {args.rows} --repeats {args.repeats}",
        "cpu_s": best,
        "load_average_start": start_load,
        "load_average_end": os.getloadavg(),
    }
    table = markdown_table(["fit", "CPU ms (best)", "of the untraced fit"], rows)
    m = results["machine"]
    loads = "/".join(f"{x:.1f}" for x in start_load)
    md = f"""## Watching the parts of a ColumnTransformer (`bench_parts_watch.py`)

{table}

A traced pipeline whose first step is a `ColumnTransformer` of {args.parts} parts (each a
`StandardScaler` + `PCA` pipeline on two columns) and whose last is a logistic
regression, on {args.rows:,} rows: the least CPU time (this process, every thread) of
{args.repeats} interleaved fits of the traced pipeline with its parts watched as steps
(`sktraceprop/_lineage/_watch_parts.py`: a part refitted or changed elsewhere during the
traced fit is named), of the same with that watch switched off (the step watched as
one), and of the same scikit-learn pipeline untraced (on the array, and on the traced
frame the traced fit is given: a `DataFrame`, its columns selected by pandas). What else
the traced fit adds
(the lineage of every part's op, fitted-state fingerprints, the watch of the step
itself) is not split here. Machine: {m["cpu"]}, {m["cpu_count"]} cores, Python
{m["python"]}; load average at the start {loads}. Command: `{results["command"]}`.
"""
    print(md)
    write_results("parts_watch", results, md)


if __name__ == "__main__":
    main()
