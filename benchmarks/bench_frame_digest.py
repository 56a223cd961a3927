"""Cost of naming a frame's content (the SHA-256 ``from_pandas`` records).

The digest serializes labels, dtypes and every cell by type (``_frame_digest.py``); the
one before it was SHA-256 over pandas' 64-bit ``hash_pandas_object`` row hashes, which
named some different frames alike. Both are timed on frames of 1,000,000 rows: nine
numeric columns (one with missing values), those with five more (a categorical, text
held as objects, ``str`` text, tz-aware times, nullable integers), a column of mixed
objects, and a pyarrow integer column. Median and fastest of interleaved runs.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_frame_digest.py [--repeats 7]
"""

import argparse
import gc
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

from sktraceprop._lineage._frame_digest import frame_digest  # noqa: E402

N = 1_000_000


def row_hash_digest(df):
    """The earlier digest's work: pandas' row hashes, then SHA-256 over them."""
    h = hashlib.sha256(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def frames():
    rng = np.random.default_rng(0)
    numeric = pd.DataFrame(
        {f"f{j}": rng.normal(size=N) for j in range(5)}
        | {f"i{j}": rng.integers(0, 1000, N) for j in range(3)}
        | {"b": rng.random(N) < 0.5}
    )
    numeric.loc[::7, "f0"] = np.nan
    words = rng.choice(["alpha", "beta", "gamma"], N)
    mixed = numeric.assign(
        cat=pd.Categorical(rng.choice(["a", "b", "c"], N)),
        text_object=pd.Series(words.astype(object), dtype=object),
        text_str=pd.Series(words).astype("str"),
        time=pd.date_range("2020", periods=N, freq="s", tz="Europe/Paris"),
        nullable=pd.array(rng.integers(0, 9, N), dtype="Int64"),
    )
    objects = pd.DataFrame({"o": pd.Series([1, "x", 2.5, None] * (N // 4), dtype=object)})
    arrow = pd.DataFrame({"a": pd.array(np.arange(N), dtype="int64[pyarrow]")})
    return {
        "numeric (9 columns)": numeric,
        "mixed (14 columns)": mixed,
        "mixed objects (1 column)": objects,
        "pyarrow int64 (1 column)": arrow,
    }


def seconds(f, df):
    gc.collect()
    start = time.perf_counter()
    f(df)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    results, rows = [], []
    for name, df in frames().items():
        times = {"row_hash": [], "frame_digest": []}
        for _ in range(args.repeats):  # interleaved, so both see the same machine load
            times["row_hash"].append(seconds(row_hash_digest, df))
            times["frame_digest"].append(seconds(frame_digest, df))
        med = {k: float(np.median(v)) for k, v in times.items()}
        best = {k: float(np.min(v)) for k, v in times.items()}
        results.append({"frame": name, "seconds": times, "median": med, "fastest": best})
        rows.append(
            [
                name,
                f"{med['row_hash'] * 1e3:.0f}",
                f"{med['frame_digest'] * 1e3:.0f}",
                f"{med['frame_digest'] / med['row_hash']:.2f}",
                f"{best['frame_digest'] / best['row_hash']:.2f}",
            ]
        )
        print(rows[-1], flush=True)
    table = markdown_table(
        ["frame (1M rows)", "row hash ms", "frame digest ms", "ratio", "ratio (fastest)"],
        rows,
    )
    markdown = f"""# Naming a frame's content (`bench_frame_digest.py`)

{table}

`frame_digest` (the SHA-256 `from_pandas` records: labels, dtypes and every cell by type)
against the digest before it (SHA-256 over pandas' 64-bit `hash_pandas_object`, which
named some different frames alike) on frames of {N} rows. Median of {args.repeats}
interleaved runs in one process; the last column compares the fastest runs. Numeric,
categorical, datetime, nullable and pyarrow numeric columns are hashed from their
memory, pyarrow text from its buffers; text and other objects held as Python objects
cost more (their cells are grouped by type and encoded in Python).
"""
    write_results(
        "frame_digest",
        {"machine": machine(), "command": " ".join(sys.argv), "results": results},
        markdown,
    )


if __name__ == "__main__":
    main()
