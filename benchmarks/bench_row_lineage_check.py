"""What checking a frame's values costs ``sktraceprop.row_lineage``.

``row_lineage(frame)`` now compares the frame's witness rows with the values kept of
each load, as a traced fit does (refusing rows holding other rows' values, warning of
rows holding none of theirs). Timed in one process on a 100,000-row frame read by
``sktraceprop.read_csv`` (two files of 50,000 rows, 6 columns: 4 floats, an int, a
string), whole and as a 10% sample, its column ``a`` (a Series) and its four float columns as a
traced array (``sktraceprop.array``, checked as an array given with ``sample_id=``):
``row_lineage`` with the check, without it (the
check replaced by a no-op: the code before), and the check alone. Per case the fastest
and the median of ``--repeats`` calls, the two variants alternating.

Run: python benchmarks/bench_row_lineage_check.py --note ", loaded by other jobs"
"""

import argparse
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, timings, write_results  # noqa: E402
from _lineage_data import two_loaded_files  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage import _row_check  # noqa: E402
from sktraceprop._lineage._capture import carried_ids  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    check = _row_check.check_values
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = two_loaded_files(folder)
        cases = {
            "100,000 rows": whole,
            "10,000-row sample": whole.sample(10_000, random_state=0),
            "a Series of 100,000 rows": whole["a"],
            "a traced array, 100,000 x 4": stp.array(whole[["a", "b", "c", "d"]]),
        }
        rows, table = [], []
        for case, frame in cases.items():
            ids = carried_ids(frame)
            stp.row_lineage(frame)  # (warm: imports, caches)
            timed = {"with check": [], "without check (before)": []}
            for _ in range(args.repeats):  # (alternating: the load on the machine varies)
                _row_check.check_values = check
                timed["with check"] += timings(lambda f=frame: stp.row_lineage(f), 1)
                _row_check.check_values = lambda X, ids: None
                timed["without check (before)"] += timings(lambda f=frame: stp.row_lineage(f), 1)
            _row_check.check_values = check
            timed["check alone"] = timings(lambda f=frame, i=ids: check(f, i), args.repeats)
            for variant, times in timed.items():
                row = {
                    "case": case,
                    "variant": variant,
                    "fastest_s": min(times),
                    "median_s": statistics.median(times),
                }
                rows.append(row)
                table.append(
                    [
                        case,
                        variant,
                        f"{row['fastest_s'] * 1e3:.2f}",
                        f"{row['median_s'] * 1e3:.2f}",
                    ]
                )
    text = markdown_table(["frame", "row_lineage", "fastest (ms)", "median (ms)"], table)
    print(text)
    info = machine()
    write_results(
        "row_lineage_check",
        {"machine": info, "note": args.note, "repeats": args.repeats, "rows": rows},
        "## Value check of row_lineage (bench_row_lineage_check.py)\n\n"
        f"A frame read by read_csv from two 50,000-row files (and a Series, a traced "
        f"array of it); {args.repeats} calls per "
        "variant, alternating; before: the check replaced by a no-op. "
        f"Machine: {info['cpu']}, {info['cpu_count']} cores{args.note}; numpy "
        f"{info['numpy']}, pandas {info['pandas']}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
