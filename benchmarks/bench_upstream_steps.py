"""Cost of steps fitted outside the pipeline on parts of a file (a scaler per hospital).

A user scales each group of rows with its own scaler before ``pd.concat`` and fits a
model on the result. Traced, each scaler is a ``stp.TracedEstimator``: every
``transform`` keeps its output on the witness rows and the ids of all the rows it
transformed (8 bytes a row), and the traced fit finds which steps the rows went through
(by their values) and records, per step, the set of rows it transformed (``Op.rows``).
This script times the whole workflow (per-group fit_transform, concat, model fit),
plain scikit-learn against traced, in pairs back to back (the order alternating), and
checks the result: every training row's trace must list exactly its group's scaler.

Cases: UCI Adult (the six numeric columns scaled per ``race``, 5 groups, 30,162 rows,
into LogisticRegression) and a 1,000,000-row numeric frame (10 float columns scaled per
one of 10 hospitals, into LogisticRegression).

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_upstream_steps.py [--repeats 9]
"""

import argparse
import gc
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, paired_ratio, write_results  # noqa: E402
from _data import ADULT_NUMERIC, load_adult  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage._run import op_labels  # noqa: E402
from sktraceprop._lineage._upstream_outputs import OUTPUTS  # noqa: E402


def _plain(frame, y, group, columns):
    parts = [
        StandardScaler().set_output(transform="pandas").fit_transform(g[columns])
        for _, g in frame.groupby(group, sort=True)
    ]
    X = pd.concat(parts)
    return LogisticRegression(max_iter=200).fit(X, y.loc[X.index])


def _traced(frame, y, group, columns):
    scalers, parts = [], []
    for _, g in frame.groupby(group, sort=True):
        scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        parts.append(scaler.fit_transform(g[columns]))
        scalers.append(scaler)
    X = pd.concat(parts)
    model = stp.TracedEstimator(LogisticRegression(max_iter=200)).fit(X, y.loc[X.index])
    return model, scalers, X


def _seconds(f):
    gc.collect()
    start = time.perf_counter()
    out = f()
    return time.perf_counter() - start, out


def _check(model, scalers, X, frame, group):
    """Rows whose trace does not list exactly their group's scaler (must be 0)."""
    run = model.lineage_
    labels = dict(zip(op_labels(run.ops), (op.fingerprint for op in run.ops)))
    upstream = {op.fingerprint for op in run.ops if op.sources is not None}
    want_by_group = {
        key: s.lineage_.ops[-1].fingerprint
        for (key, _), s in zip(frame.groupby(group, sort=True), scalers)
    }
    of_row = dict(zip(stp.row_ids(frame).tolist(), frame[group].tolist()))
    trace = model.trace(np.arange(len(X)))
    wrong = 0
    for row_id, ops in zip(trace["row_id"].tolist(), trace["ops"]):
        listed = {labels[o] for o in ops} & upstream
        wrong += listed != {want_by_group[of_row[row_id]]}
    return wrong


def measure(name, frame, plain_frame, y, plain_y, group, columns, repeats):
    print(f"{name}: {len(frame):,} rows, {frame[group].nunique()} groups", flush=True)
    _plain(plain_frame, plain_y, group, columns)  # warm imports and caches
    _traced(frame, y, group, columns)
    plain_s, traced_s = [], []
    for r in range(repeats):
        # (each repeat's scalers have the fitted state, so the fingerprints, of the last)
        pair = [
            ("plain", lambda: _plain(plain_frame, plain_y, group, columns)),
            ("traced", lambda: _traced(frame, y, group, columns)),
        ]
        for label, f in pair if r % 2 == 0 else pair[::-1]:
            s, out = _seconds(f)
            (plain_s if label == "plain" else traced_s).append(s)
            if label == "traced":
                model, scalers, X = out
        print(f"  repeat {r}: plain {plain_s[-1]:.3f} s, traced {traced_s[-1]:.3f} s", flush=True)
    ratio, interval = paired_ratio(traced_s, plain_s, interval="bootstrap90")
    wrong = _check(model, scalers, X, frame, group)
    kept = sum(OUTPUTS.rows(s.lineage_.ops[-1].fingerprint).nbytes for s in scalers)
    record = model.lineage_.to_dict()
    op_rows_bytes = len(json.dumps(record.get("op_rows"), separators=(",", ":")))
    return {
        "case": name,
        "rows": len(frame),
        "groups": int(frame[group].nunique()),
        "plain_median_s": float(np.median(plain_s)),
        "traced_median_s": float(np.median(traced_s)),
        "ratio": ratio,
        "interval90": interval,
        "plain_s": plain_s,
        "traced_s": traced_s,
        "rows_listed_wrongly": int(wrong),
        "kept_ids_bytes": int(kept),
        "kept_ids_bytes_per_row": kept / len(frame),
        "op_rows_json_bytes": op_rows_bytes,
        "op_rows_json_bytes_per_row": op_rows_bytes / len(frame),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    results = []

    X, y = load_adult()
    X = X[[*ADULT_NUMERIC, "race"]]
    plain_adult = pd.DataFrame(X.to_numpy(), columns=X.columns).astype(X.dtypes.to_dict())
    results.append(
        measure(
            "adult",
            X,
            plain_adult,
            pd.Series(y, index=X.index),
            pd.Series(y),
            "race",
            ADULT_NUMERIC,
            args.repeats,
        )
    )

    rng = np.random.default_rng(0)
    columns = [f"x{k}" for k in range(10)]
    values = rng.normal(size=(args.rows, 10))
    plain_big = pd.DataFrame(values, columns=columns)
    plain_big["hospital"] = rng.integers(0, 10, args.rows)
    big_y = pd.Series((values[:, 0] + values[:, 1] > 0).astype(np.int64))
    traced_big = stp.from_pandas(plain_big, source_id="numeric_1m")
    results.append(
        measure(
            "numeric_1m",
            traced_big,
            plain_big,
            pd.Series(big_y.to_numpy(), index=traced_big.index),
            big_y,
            "hospital",
            columns,
            max(3, args.repeats // 2),
        )
    )

    rows = [
        [
            r["case"],
            f"{r['rows']:,}",
            r["groups"],
            f"{r['plain_median_s']:.3f}",
            f"{r['traced_median_s']:.3f}",
            f"{r['ratio']:.3f}",
            f"{r['interval90'][0]:.3f}-{r['interval90'][1]:.3f}",
            f"{r['kept_ids_bytes_per_row']:.1f}",
            f"{r['op_rows_json_bytes']:,} ({r['op_rows_json_bytes_per_row']:.3f} B/row)",
            r["rows_listed_wrongly"],
        ]
        for r in results
    ]
    table = markdown_table(
        [
            "case",
            "rows",
            "groups",
            "plain s",
            "traced s",
            "ratio",
            "90% interval",
            "ids kept B/row",
            "op_rows in the run",
            "rows listed wrongly",
        ],
        rows,
    )
    command = "flock -x /tmp/stp-cpu.lock python benchmarks/bench_upstream_steps.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    markdown = f"""## Steps fitted outside the pipeline on parts of a file

{table}

A scaler per group of rows (Adult: the six numeric columns per `race`; numeric: ten
columns per one of ten hospitals), the parts concatenated and fitted into a logistic
regression: scikit-learn alone against `stp.TracedEstimator` scalers and a traced model.
Wall time of the whole workflow; "ratio" is the median over repeats of traced/plain, each
pair run back to back (the order alternating), with a 90% bootstrap interval of that
median. "ids kept B/row": the ids of the rows each scaler transformed, kept in the
process (what lets a run list each scaler for its own rows only). "op_rows in the run":
the JSON of those sets in the run's record (an exact bitmap per source, compressed). "rows
listed wrongly": training rows whose trace does not list exactly their group's scaler,
counted after the last repeat (before `Op.rows`, every row listed every group's scaler).
No target is set for this workflow; the fit-overhead target of `bench_lineage.py` is
<= 1.05. Measured by `{command.strip()}` on {machine()["cpu"]} ({machine()["cpu_count"]}
cores).
"""
    print(markdown)
    payload = {"machine": machine(), "command": command.strip(), "results": results}
    write_results("upstream_steps", payload, markdown)


if __name__ == "__main__":
    main()
