"""Peak memory of ``read_csv(chunksize=...)`` over a whole file, by chunk size.

Each chunk is checked before it is handed out against the bytes of its first and last
records. Those bytes were once kept from the first pass over the file for every chunk:
with ``chunksize=1`` every record's bytes stayed in memory until the reader was dropped.
Now the first pass keeps each chunk's record spans (where the records lie in the text,
24 bytes a chunk bound), and the bytes are read when the chunk is checked.

Each reading runs in a fresh process (a file of ``--rows`` rows of the ``quoted`` kind:
the reader made, which scans the whole file, then its first ``--chunks`` chunks read
and dropped one by one: the whole file for the larger sizes; a 100,000-row file read
one row at a time takes an hour here, its per-chunk checks a millisecond each), which
reports the memory Python holds once the reader is made and its first chunk read (what
stays for the whole read), the peak of the memory Python allocated (``tracemalloc``,
started after a small file was read alike, which loads the scan kernels; NumPy's arrays
are counted, pandas' C parser buffers are not) and the time.

Run: python benchmarks/bench_csv_chunk_memory.py [--rows 100000] [--chunks 300]
[--label after]
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, markdown_table, write_results  # noqa: E402
from _csv_files import write as write_csv_files  # noqa: E402

SIZES = (1, 100, 10_000)

CHILD = r"""
import json, sys, time, tracemalloc
import pandas as pd
import sktraceprop as stp

path, size, reader, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
read = stp.read_csv if reader == "sktraceprop" else pd.read_csv
for chunk in read(sys.argv[5], chunksize=size, index_col=0):
    pass  # (a small file read alike first: the scan kernels compiled or loaded)
tracemalloc.start()
t = time.perf_counter()
rows = 0
chunks = read(path, chunksize=size, index_col=0)
for k, chunk in enumerate(chunks):
    rows += len(chunk)
    if k == 0:
        held = tracemalloc.get_traced_memory()[0]
    if k + 1 == limit:
        break
seconds = time.perf_counter() - t
print(json.dumps({"rows": rows, "peak_mb": tracemalloc.get_traced_memory()[1] / 1e6,
                  "held_mb": held / 1e6, "seconds": seconds}))
"""


def _measure(path, small, size, reader, limit):
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(size), reader, str(limit), str(small)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--label", default="after")
    parser.add_argument("--chunks", type=int, default=300)
    args = parser.parse_args()
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv_files(Path(tmp), args.rows)["quoted"]
        small = write_csv_files(Path(tmp), 2_000)["quoted"]
        size_mb = path.stat().st_size / 1e6
        for size in SIZES:
            for reader in ("sktraceprop", "pandas"):
                got = _measure(path, small, size, reader, args.chunks)
                assert got["rows"] == min(args.rows, size * args.chunks), got
                found[f"{reader} {size}"] = got
                print(
                    f"{reader:12s} chunksize {size:>6,}: peak {got['peak_mb']:8.2f} MB, "
                    f"{got['seconds']:8.2f} s",
                    flush=True,
                )
    name = f"csv_chunk_memory_{args.label}"
    payload = {"machine": machine(), "rows": args.rows, "file_mb": size_mb, "found": found}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    before = RESULTS / "csv_chunk_memory_before.json"
    before = json.loads(before.read_text())["found"] if before.exists() else {}
    rows = []
    for size in SIZES:
        ours, theirs = found[f"sktraceprop {size}"], found[f"pandas {size}"]
        old = before.get(f"sktraceprop {size}")
        rows.append(
            [
                f"{size:,}",
                f"{old['held_mb']:.1f}" if old else "-",
                f"{ours['held_mb']:.1f}",
                f"{old['peak_mb']:.1f}" if old else "-",
                f"{ours['peak_mb']:.1f}",
                f"{theirs['peak_mb']:.1f}",
                f"{old['seconds']:.1f}" if old else "-",
                f"{ours['seconds']:.1f}",
                f"{theirs['seconds']:.1f}",
            ]
        )
    table = markdown_table(
        [
            "chunksize",
            "held MB before",
            "held MB now",
            "peak MB before",
            "peak MB now",
            "peak MB pandas",
            "s before",
            "s now",
            "s pandas",
        ],
        rows,
    )
    markdown = (
        f"### read_csv(chunksize=...): peak memory over a whole file\n\n"
        f"{args.rows:,} rows ({size_mb:.1f} MB, the `quoted` file): the reader made (one "
        f"pass over the whole file) and its first {args.chunks} chunks read and dropped; "
        "the memory Python holds once the reader is made (the file scanned) and its first "
        "chunk read (held: what stays for the whole read), and the peak of the memory "
        "Python allocated (`tracemalloc`; the scan's blocks), in a fresh process. "
        "Before: every chunk's first and last records' bytes were kept from the "
        "first pass (with chunksize 1, every record's); now their spans, and the bytes "
        f"are read as each chunk is checked. `python benchmarks/bench_csv_chunk_memory.py`"
        f" on {machine()['cpu']} ({machine()['cpu_count']} cores shared with other jobs: "
        f"times are indicative).\n\n{table}\n"
    )
    write_results("csv_chunk_memory", payload, markdown)
    print(table)


if __name__ == "__main__":
    main()
