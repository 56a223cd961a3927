"""A credit team's job at their scale, end to end: what each step costs in time and memory.

Two CSV files written with numpy (a main book and one branch's book of ``--branch`` rows;
60 columns: 40 numeric, 4 of them with missing values, 12 categorical, 4 dates, the label)
are read with ``stp.read_csv``; dates become day numbers; 5,000 rows are held out. A traced
pipeline (ColumnTransformer: impute + StandardScaler on the numbers, OneHotEncoder on the
categories; LogisticRegression) is fitted into a SQLiteStore with ``log_predictions=True``,
serves ``--served`` predictions in batches of 1,000, an InfluenceExplainer explains the
5,000 held-out rows (top 10), a GradientCorrectionUnlearner removes the branch's source,
and a compliance report is written from the store, which then verifies.

Each step's wall time and peak resident memory (``VmHWM``, reset before the step through
``/proc/self/clear_refs``) are reported. Then how three costs grow: the compliance report
and ``store.verify()`` against the number of prediction events in the store (1K, 10K,
100K, logged by a small numeric model; one row each).

Sizes: the credit team's file is 500,000 rows; the default here is 200,000 (150,000 +
the branch's 50,000), as the explanation's cost grows with test rows x training rows (5,000
x 195,000 took 63 CPU seconds, about 200 wall seconds on the shared 2-core machine; 445,000
training rows would take the trial past 10 minutes). The growth table stops at 16,000
events: one-row logged calls cost about 5 ms each here, so 100,000 would take 9 minutes
to log; report and verify() grow linearly over 1,000 to 16,000 events.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_user_scale.py [--rows 200000]
(``--render``: the table again from results/user_scale.json, no measurement)
"""

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEPLOYER as REPORT  # noqa: E402
from _common import RESULTS, machine, markdown_table, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402

N_NUM, N_MISSING, N_CAT, N_DATE = 40, 4, 12, 4
NUM = [f"x{i}" for i in range(N_NUM)]
CAT = [f"c{i}" for i in range(N_CAT)]
DATE = [f"d{i}" for i in range(N_DATE)]


def peak_reset():
    """Reset the process's peak resident memory (Linux: ``5`` to ``clear_refs``)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Steps:
    """Wall seconds and peak memory of each step, printed as it ends."""

    def __init__(self):
        self.rows = []

    def run(self, name, call, note=""):
        peak_reset()
        before = rss_mib()
        start, cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = call()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        said = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        row = {
            "step": name,
            "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "rss_before_mib": round(before, 1),
            "peak_mib": round(peak_mib(), 1),
            "note": note,
            "warnings": said,
        }
        self.rows.append(row)
        print(
            f"{name:<34} {wall:8.2f} s ({cpu:7.2f} s CPU)  peak {row['peak_mib']:8.1f} MiB  "
            f"{note}",
            flush=True,
        )
        for w in said:
            print(f"    {w[:300]}", flush=True)
        return out


def write_book(path, n, seed):
    """A CSV of ``n`` rows: numbers (some missing), categories, dates, a label."""
    rng = np.random.default_rng(seed)
    cols = {}
    num = rng.normal(size=(n, N_NUM)).round(4)
    num[:, :N_MISSING][rng.random((n, N_MISSING)) < 0.05] = np.nan
    for i, name in enumerate(NUM):
        cols[name] = num[:, i]
    for i, name in enumerate(CAT):
        levels = np.array([f"k{i}_{j}" for j in range(3 + 2 * i)], dtype=object)
        cols[name] = levels[rng.integers(0, len(levels), n)]
    start = np.datetime64("2015-01-01")
    for name in DATE:
        cols[name] = (start + rng.integers(0, 3650, n).astype("timedelta64[D]")).astype(str)
    logit = np.nan_to_num(num[:, :8]) @ rng.normal(size=8) + (cols["c0"] == "k0_0") - 0.3
    cols["label"] = (logit + rng.logistic(size=n) > 0).astype(np.int64)
    pd.DataFrame(cols).to_csv(path, index=False)


def days(frame):
    for name in DATE:
        frame[name] = (pd.to_datetime(frame[name]) - pd.Timestamp("2015-01-01")).dt.days
    return frame


def make_pipe(store):
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUM + DATE),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CAT),
        ]
    )
    return stp.make_traced_pipeline(
        pre, LogisticRegression(max_iter=1000), store=store, log_predictions=True
    )


def trial(args, tmp, steps):
    main_csv, branch_csv = tmp / "main.csv", tmp / "branch.csv"
    steps.run(
        "write CSVs (numpy + pandas)",
        lambda: (
            write_book(main_csv, args.rows - args.branch, 0),
            write_book(branch_csv, args.branch, 1),
        ),
        note=f"{args.rows:,} rows x 61 columns in all",
    )
    main = steps.run("read_csv main", lambda: stp.read_csv(main_csv, source_id="main"))
    branch = steps.run("read_csv branch", lambda: stp.read_csv(branch_csv, source_id="branch"))
    df = steps.run("concat + dates to days", lambda: days(pd.concat([main, branch])))
    main = branch = None  # (freed: the concat holds the rows)
    rng = np.random.default_rng(0)
    test = np.zeros(len(df), dtype=bool)
    test[rng.choice(len(df), args.test, replace=False)] = True
    X, y = df.drop(columns="label"), df["label"]
    X_tr, y_tr, X_te = X[~test], y[~test], X[test]
    df = None
    store = stp.stores.SQLiteStore(tmp / "audit.db")
    pipe = make_pipe(store)
    steps.run("fit traced pipeline", lambda: pipe.fit(X_tr, y_tr), note=f"{len(X_tr):,} rows")

    def serve():
        for start in range(0, args.served, 1000):
            pipe.predict(X_tr.iloc[start % (len(X_tr) - 1000) :][:1000])

    steps.run("serve predictions (logged)", serve, note=f"{args.served:,} rows, 1K a call")
    explainer = stp.InfluenceExplainer(pipe)
    steps.run("InfluenceExplainer.fit", lambda: explainer.fit(X_tr, y_tr))
    steps.run(
        "explain test rows (top 10)",
        lambda: explainer.explain(X_te, top_k=10, log=True),
        note=f"{len(X_te):,} test rows",
    )
    explainer = None
    unlearner = stp.GradientCorrectionUnlearner(pipe)
    steps.run("GradientCorrectionUnlearner.fit", lambda: unlearner.fit(X_tr, y_tr))
    event = steps.run(
        "unlearn source 'branch'",
        lambda: unlearner.unlearn(source_id="branch").unlearning_log_[-1],
    )
    print(f"    removed {event['n_removed']:,} rows by {event['method']}")
    steps.run(
        "compliance report",
        lambda: stp.compliance_report(
            unlearner, store=store, output_path=tmp / "report.json", **REPORT
        ),
    )
    steps.run(
        "store.verify()", store.verify, note=f"{(tmp / 'audit.db').stat().st_size >> 20} MiB"
    )
    return {"n_removed": int(event["n_removed"]), "method": event["method"]}


def growth(tmp, counts):
    """Seconds of the report and of verify() with ``n`` one-row prediction events."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2000, 5))
    X = stp.from_numpy(data, "small")
    y = (data[:, 0] > 0).astype(np.int64)
    out = []
    for n in counts:
        store = stp.stores.SQLiteStore(tmp / f"events{n}.db")
        pipe = stp.make_traced_pipeline(
            StandardScaler(), LogisticRegression(), store=store, log_predictions=True
        ).fit(X, y)
        start = time.perf_counter()
        for i in range(n):
            pipe.predict(X.iloc[i % 2000 : i % 2000 + 1])
        logging = time.perf_counter() - start
        peak_reset()
        start = time.perf_counter()
        store.verify()
        verify = time.perf_counter() - start
        start = time.perf_counter()
        stp.compliance_report(pipe, output_path=tmp / f"report{n}.json", **REPORT)
        report = time.perf_counter() - start
        row = {
            "events": n,
            "log_seconds_per_call": round(logging / n, 5),
            "verify_seconds": round(verify, 3),
            "report_seconds": round(report, 3),
            "report_peak_mib": round(peak_mib(), 1),
            "report_bytes": (tmp / f"report{n}.json").stat().st_size,
        }
        out.append(row)
        print(row, flush=True)
        store.close()
    return out


def render(steps, grown, meta):
    table = markdown_table(
        ["step", "wall s", "CPU s", "peak MiB", "note"],
        [
            (
                s["step"],
                f"{s['seconds']:.2f}",
                f"{s['cpu_seconds']:.2f}",
                f"{s['peak_mib']:.0f}",
                s["note"],
            )
            for s in steps
        ],
    )
    table2 = markdown_table(
        ["prediction events", "log s/call", "verify() s", "report s", "report MiB", "report KiB"],
        [
            (
                f"{g['events']:,}",
                f"{g['log_seconds_per_call'] * 1e3:.2f} ms",
                f"{g['verify_seconds']:.2f}",
                f"{g['report_seconds']:.2f}",
                f"{g['report_peak_mib']:.0f}",
                f"{g['report_bytes'] >> 10:,}",
            )
            for g in grown
        ],
    )
    return (
        f"## User scale: a credit team's job end to end\n\n"
        f"{meta['rows']:,} rows x 60 columns (the branch's source {meta['branch']:,} rows; "
        f"{meta['test']:,} held out and explained), {meta['served']:,} predictions served "
        f"in batches of 1,000, one run on {meta['machine']['cpu']} "
        f"({meta['machine']['cpu_count']} cores, shared). Peak: resident memory high-water "
        f"mark of the process during the step (reset before it); CPU: the process's "
        f"CPU seconds (wall time includes waiting for the shared cores). The file "
        f"of the brief is 500,000 rows, scaled down to fit the trial in 10 minutes: "
        f"explaining costs test rows x training rows.\n\n{table}\n\n"
        f"Growth with the store's prediction events (one-row calls of a small model):\n\n"
        f"{table2}\n"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--branch", type=int, default=50_000)
    parser.add_argument("--test", type=int, default=5_000)
    parser.add_argument("--served", type=int, default=200_000)
    parser.add_argument("--events", type=int, nargs="*", default=[1_000, 4_000, 16_000])
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--render", action="store_true")
    args = parser.parse_args()
    if args.render:
        saved = json.loads((RESULTS / "user_scale.json").read_text())
        markdown = render(saved["steps"], saved["growth"], saved)
        (RESULTS / "user_scale.md").write_text(markdown.rstrip() + "\n")
        print(markdown)
        return
    steps = Steps()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        result = trial(args, tmp, steps)
        grown = growth(tmp, args.events)
    meta = {k: getattr(args, k) for k in ("rows", "branch", "test", "served")}
    meta["machine"] = machine()
    markdown = render(steps.rows, grown, meta)
    print(markdown)
    if not args.no_save:
        payload = {**meta, "command": " ".join(sys.argv), "steps": steps.rows}
        payload.update(result=result, growth=grown)
        write_results("user_scale", payload, markdown)


if __name__ == "__main__":
    main()
