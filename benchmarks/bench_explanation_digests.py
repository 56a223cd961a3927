"""What an ``Explanation``'s access to its training rows' files costs, first and later.

``Explanation.train_rows``, ``top`` and ``trace`` check that each file still holds the
bytes it was read from (its SHA-256). They hashed every file at every access; now the
process keeps each digest with the file's status (``PROCESS_DIGESTS``, shared with
``row_lineage``) and hashes again only when the status differs
(``sktraceprop/_lineage/_file_digests.py``). Timed on one CSV file of
``--mb`` megabytes (numeric columns and a text column) read by ``sktraceprop.read_csv``,
an explainer fitted on ``--train`` of its rows: the first access of ``train_rows`` and
``top(2)`` (the process's digests dropped before it: what every access cost before),
and later accesses of the same explanation. Median and fastest of
``--repeats``, alternating.

Run: python benchmarks/bench_explanation_digests.py --note ", loaded by other jobs"
"""

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, timings, write_results  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage._file_digests import PROCESS_DIGESTS  # noqa: E402


def _write(path, mb, seed=0):
    """A CSV of about ``mb`` megabytes: 3 floats, a label and a 400-character text."""
    rng = np.random.default_rng(seed)
    n = int(mb * 1e6 / 440)
    x = rng.normal(size=(n, 3)).round(4)
    y = (x[:, 0] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    text = "t" * 400
    with open(path, "w") as f:
        f.write("a,b,c,y,note\n")
        for row, label in zip(x.tolist(), y.tolist()):
            f.write(f"{row[0]},{row[1]},{row[2]},{label},{text}\n")
    return n


def _access(explanation):
    return explanation.train_rows, explanation.top(2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=128.0)
    parser.add_argument("--train", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(folder) / "rows.csv"
        n = _write(path, args.mb)
        size = path.stat().st_size
        time.sleep(3.5)  # (a file modified in the 3 s before its read is never kept)
        frame = stp.read_csv(path, source_id="bench_digests")
        X = frame[["a", "b", "c"]].iloc[: args.train]
        y = frame["y"].iloc[: args.train]
        explainer = stp.InfluenceExplainer(LogisticRegression()).fit(X, y)
        explanation = explainer.explain(X.iloc[:2], y.iloc[:2], top_k=3)
        _access(explanation)  # (its digests kept: later accesses)
        timed = {"first access (every access before)": [], "later access": []}
        for _ in range(args.repeats):  # (alternating: the load on the machine varies)
            PROCESS_DIGESTS.clear()  # (none kept: the first access hashes)
            timed["first access (every access before)"] += timings(lambda: _access(explanation), 1)
            timed["later access"] += timings(lambda: _access(explanation), 1)
    rows, table = [], []
    for variant, times in timed.items():
        row = {"variant": variant, "fastest_s": min(times), "median_s": statistics.median(times)}
        rows.append(row)
        table.append([variant, f"{row['fastest_s'] * 1e3:.1f}", f"{row['median_s'] * 1e3:.1f}"])
    text = markdown_table(["train_rows + top(2)", "fastest (ms)", "median (ms)"], table)
    print(text)
    info = machine()
    write_results(
        "explanation_digests",
        {
            "machine": info,
            "note": args.note,
            "repeats": args.repeats,
            "file_bytes": size,
            "file_rows": n,
            "train_rows": args.train,
            "rows": rows,
        },
        "## Explanation file digests (bench_explanation_digests.py)\n\n"
        f"One CSV file of {size / 1e6:.0f} MB ({n:,} rows) read by read_csv, an explainer "
        f"fitted on {args.train} of its rows; `train_rows` and `top(2)` of one explanation, "
        f"first (no digest kept) and later, {args.repeats} of each, alternating. "
        f"Machine: {info['cpu']}, {info['cpu_count']} cores{args.note}; numpy "
        f"{info['numpy']}, pandas {info['pandas']}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
