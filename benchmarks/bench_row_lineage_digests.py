"""What a loop of ``row_lineage`` calls on rows of one large file costs, before and now.

``sktraceprop.row_lineage`` (and ``Lineage.trace``) check that each file still holds the
bytes it was read from (its SHA-256). They hashed every file at every call; now the
process keeps each digest with the file's status and hashes again only when the status
differs (``PROCESS_DIGESTS`` in ``sktraceprop/_lineage/_file_digests.py``). Timed on one
CSV file of ``--mb`` megabytes (numeric columns and a text column) read by
``sktraceprop.read_csv``: ``--calls`` calls of ``row_lineage`` on 4 of its rows, with the
kept digests dropped before each call (every call hashes the file: the code before) and
with them kept (the first call of the loop hashes). The whole loop, ``--repeats`` times,
the two variants alternating; fastest and median.

Run: python benchmarks/bench_row_lineage_digests.py --note ", loaded by other jobs"
"""

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, timings, write_results  # noqa: E402
from bench_explanation_digests import _write  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage._file_digests import PROCESS_DIGESTS  # noqa: E402


def _loop(rows, calls, drop):
    for _ in range(calls):
        if drop:
            PROCESS_DIGESTS.clear()
        stp.row_lineage(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=64.0)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    variants = {"hashed at every call (before)": True, "digest kept (now)": False}
    timed = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(folder) / "rows.csv"
        n = _write(path, args.mb)
        size = path.stat().st_size
        time.sleep(3.5)  # (a file modified in the 3 s before its read is never kept)
        rows = stp.read_csv(path, source_id="bench_row_lineage_digests").iloc[:4]
        for _ in range(args.repeats):  # (alternating: the load on the machine varies)
            for name, drop in variants.items():
                PROCESS_DIGESTS.clear()
                timed[name] += timings(lambda d=drop: _loop(rows, args.calls, d), 1)
    out, table = [], []
    for variant, times in timed.items():
        row = {"variant": variant, "fastest_s": min(times), "median_s": statistics.median(times)}
        out.append(row)
        table.append([variant, f"{row['fastest_s']:.2f}", f"{row['median_s']:.2f}"])
    text = markdown_table([f"{args.calls} row_lineage calls", "fastest (s)", "median (s)"], table)
    print(text)
    info = machine()
    write_results(
        "row_lineage_digests",
        {
            "machine": info,
            "note": args.note,
            "repeats": args.repeats,
            "calls": args.calls,
            "file_bytes": size,
            "file_rows": n,
            "rows": out,
        },
        "## row_lineage file digests (bench_row_lineage_digests.py)\n\n"
        f"One CSV file of {size / 1e6:.0f} MB ({n:,} rows) read by read_csv; {args.calls} "
        "calls of `row_lineage` on 4 of its rows, the kept digest dropped before each call "
        "(every call hashes the file, as before) and kept (the loop's first call hashes), "
        f"{args.repeats} loops of each, alternating. Machine: {info['cpu']}, "
        f"{info['cpu_count']} cores{args.note}; numpy {info['numpy']}, pandas "
        f"{info['pandas']}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
