"""What looking for a loaded column computed over rows costs a traced fit.

A column changed after loading is tried against the operations over rows
(``_lineage/_over_rows.py``: ``cumsum``, ``diff``, ``rolling(w).mean()``...) before
the fit warns of it. Timed in one process on a 100,000-row frame (``--rows``) read by
``sktraceprop.read_csv`` (6 float columns and a group key): the search alone
(``over_rows``) and the whole value check it is part of (``changes``), with two
columns scaled in place, or all six standardised (no operation matches: every one is
tried), or column ``a`` overwritten with one (a moving sum or centred mean, an
exponentially weighted mean, a running sum per group ``g`` among them), on the frame in
the file's order and on an 80% sample shuffled (the ids' order must be sorted for). Per
case the fastest and the median of ``--repeats`` calls.

Run: python benchmarks/bench_over_rows.py --note ", loaded by other jobs" [--rows 300000]
"""

import argparse
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, timings, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage._changes import changes  # noqa: E402
from sktraceprop._lineage._over_rows import over_rows  # noqa: E402
from sktraceprop._lineage._source_tables import source_table  # noqa: E402

CHANGES = {
    "a, b scaled (none matches)": lambda d: d.assign(a=d["a"] * 2.54, b=d["b"] + 1),
    "a-f standardised (none matches)": lambda d: d.assign(
        **{c: (d[c] - d[c].mean()) / d[c].std() for c in "abcdef"}
    ),
    "a.cumsum()": lambda d: d.assign(a=d["a"].cumsum()),
    "a.diff()": lambda d: d.assign(a=d["a"].diff().fillna(0.0)),
    "a.rolling(3).mean()": lambda d: d.assign(a=d["a"].rolling(3).mean().fillna(0.0)),
    "a.rolling(3).sum()": lambda d: d.assign(a=d["a"].rolling(3).sum().fillna(0.0)),
    "a.rolling(5, center=True).mean()": lambda d: d.assign(
        a=d["a"].rolling(5, center=True).mean().fillna(0.0)
    ),
    "a.ewm(span=10).mean()": lambda d: d.assign(a=d["a"].ewm(span=10).mean()),
    "g: a.cumsum()": lambda d: d.assign(a=d.groupby("g")["a"].cumsum()),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--note", default="", help="what else ran on the machine")
    parser.add_argument(
        "--rows",
        type=int,
        default=100_000,
        help="rows of the frame (results/over_rows.json for 100,000; over_rows_<rows>.json else)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.rows
    data = pd.DataFrame(rng.normal(size=(n, 6)).round(4), columns=list("abcdef"))
    data["g"] = rng.integers(0, 4, n)
    rows, table = [], []
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(folder) / "over.csv"
        data.to_csv(path, index=False)
        loaded = stp.read_csv(path)
        for change, make in CHANGES.items():
            for order in ("file order", "80% shuffled"):
                frame = make(loaded)
                if order != "file order":
                    frame = frame.sample(frac=0.8, random_state=0)
                ids = frame.index.to_numpy()
                found = changes(frame, ids)
                sources = source_table(ids)
                timed = {
                    "over_rows": timings(
                        lambda f=frame, i=ids, c=found, s=sources: over_rows(f, i, c, s),
                        args.repeats,
                    ),
                    "whole check (changes)": timings(
                        lambda f=frame, i=ids: changes(f, i), args.repeats
                    ),
                }
                for part, times in timed.items():
                    row = {
                        "change": change,
                        "order": order,
                        "part": part,
                        "found": [list(map(str, f)) for f in found.over_rows],
                        "fastest_s": min(times),
                        "median_s": statistics.median(times),
                    }
                    rows.append(row)
                    table.append(
                        [
                            change,
                            order,
                            part,
                            f"{row['fastest_s'] * 1e3:.2f}",
                            f"{row['median_s'] * 1e3:.2f}",
                        ]
                    )
    text = markdown_table(["change", "rows", "timed", "fastest (ms)", "median (ms)"], table)
    print(text)
    info = machine()
    write_results(
        "over_rows" if n == 100_000 else f"over_rows_{n}",
        {"machine": info, "note": args.note, "repeats": args.repeats, "rows": rows},
        "## Loaded columns computed over rows (bench_over_rows.py)\n\n"
        f"A {n:,}-row frame read by read_csv; {args.repeats} calls each. "
        f"Machine: {info['cpu']}, {info['cpu_count']} cores{args.note}; numpy "
        f"{info['numpy']}, pandas {info['pandas']}.\n\n"
        + text
        + "\n\nCommand: `python benchmarks/bench_over_rows.py "
        + " ".join(sys.argv[1:])
        + "`.\n",
    )


if __name__ == "__main__":
    main()
