"""``read_csv(chunksize=...)`` read by iteration and by ``get_chunk(size)``, against
pandas' own reader of the same file, and the cost of calling pandas from a frame that
stands for the caller's line (``_csv_warnings.as_user_call``).

A ``get_chunk(size)`` whose chunk's first or last record the first scan did not keep
costs one more pass over the file (``TracedChunks.n_rescans`` counts them): one for a
single odd size followed by ``chunksize`` chunks, two for one size asked throughout.
Each figure is the median of ``--repeats`` reads in one process, after one read that
compiles or loads the scan kernels.

Run: python benchmarks/bench_csv_get_chunk.py [--rows 300000] [--repeats 3]
"""

import argparse
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from _csv_files import write as write_csv_files  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage._csv_warnings import as_user_call  # noqa: E402

CHUNKSIZE = 50_000
PATTERNS = {
    "iterate (chunksize 50,000)": [None] * 1000,
    "get_chunk(1,000), then iterate": [1000] + [None] * 1000,
    "get_chunk(7,000) throughout": [7000] * 1000,
}


def _read(read, path, sizes):
    reader = read(path, chunksize=CHUNKSIZE, index_col=0)
    rows = 0
    for size in sizes:
        try:
            rows += len(next(reader) if size is None else reader.get_chunk(size))
        except StopIteration:
            break
    return rows, getattr(reader, "n_rescans", None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv_files(Path(tmp), args.rows)["quoted"]
        size_mb = path.stat().st_size / 1e6
        stp.read_csv(path, index_col=0)  # the scan kernels compiled or loaded
        for name, sizes in PATTERNS.items():
            found = {}
            for label, read in (("sktraceprop", stp.read_csv), ("pandas", pd.read_csv)):
                times = []
                for _ in range(args.repeats):
                    t = time.perf_counter()
                    rows, rescans = _read(read, path, sizes)
                    times.append(time.perf_counter() - t)
                assert rows == args.rows, rows
                found[label] = {"median_s": float(np.median(times)), "runs": times}
                if rescans is not None:
                    found["rescans"] = rescans
            results[name] = found
    noop = lambda: None  # noqa: E731
    n = 20_000
    call_us = {
        "direct": min(timeit.repeat(noop, number=n, repeat=5)) / n * 1e6,
        "as_user_call": min(timeit.repeat(lambda: as_user_call(noop), number=n, repeat=5))
        / n
        * 1e6,
    }
    payload = {
        "command": "python " + " ".join(sys.argv),
        "rows": args.rows,
        "file_mb": size_mb,
        "repeats": args.repeats,
        "chunksize": CHUNKSIZE,
        "machine": machine(),
        "results": results,
        "call_us": call_us,
    }
    markdown = render(payload)
    print(markdown)
    write_results("csv_get_chunk", payload, markdown)


def render(payload):
    m = payload["machine"]
    rows = [
        [
            name,
            found.get("rescans", "-"),
            f"{found['sktraceprop']['median_s']:.2f}",
            f"{found['pandas']['median_s']:.2f}",
            f"{found['sktraceprop']['median_s'] / found['pandas']['median_s']:.1f}x",
        ]
        for name, found in payload["results"].items()
    ]
    call = payload["call_us"]
    return "\n".join(
        [
            "## Chunked `read_csv` with `get_chunk(size)` (`bench_csv_get_chunk.py`)",
            "",
            f"The `quoted` file of `_csv_files.py`, {payload['rows']:,} rows "
            f"({payload['file_mb']:.0f} MB), `index_col=0`, `chunksize="
            f"{payload['chunksize']:,}`, read whole by each pattern; median of "
            f"{payload['repeats']} reads in one process. Extra passes: "
            "`TracedChunks.n_rescans` (a chunk whose first or last record the first scan "
            "did not keep is checked after one more pass over the file).",
            "",
            markdown_table(
                ["pattern", "extra passes", "sktraceprop s", "pandas s", "ratio"], rows
            ),
            "",
            f"Calling pandas from the frame that stands for the caller's line (so its "
            f"warnings name that line): {call['as_user_call'] - call['direct']:.1f} µs a "
            f"call ({call['as_user_call']:.2f} µs against {call['direct']:.2f} µs for a "
            "direct call of a no-op).",
            "",
            f"Machine: {m['cpu']}, {m['cpu_count']} cores (shared with other jobs while "
            f"measured), Python {m['python']}, pandas {m['pandas']}, {m['measured_at']}; "
            f"`{payload['command']}`.",
        ]
    )


if __name__ == "__main__":
    main()
