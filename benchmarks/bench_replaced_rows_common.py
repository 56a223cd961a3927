"""What telling common values apart costs the replaced-row check of ``row_lineage``.

A witness row differing from its record in two columns or more is said replaced unless
it equals its record in a value that tells (:func:`sktraceprop._lineage._replaced_rows.
common_values`: a whole number, a boolean or a text held by another witness row tells
nothing). That is asked only where such a row exists: a frame as loaded asks nothing.
Timed in one process on the 100,000-row frame of ``bench_row_lineage_check.py`` (two
files of 50,000 rows: 4 floats, an int, a string), as loaded and with two float columns
changed in place on 10% of its rows: ``row_lineage`` with the rule, and with
``common_values`` replaced by "nothing is common" (the cost of the rule removed), the two
alternating; and ``common_values`` alone on the frame's witness rows, per column.

Run: python benchmarks/bench_replaced_rows_common.py --note ", loaded by other jobs"
"""

import argparse
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, timings, write_results  # noqa: E402
from _lineage_data import two_loaded_files  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._lineage import _witness  # noqa: E402
from sktraceprop._lineage._ids import distinct_codes  # noqa: E402
from sktraceprop._lineage._replaced_rows import common_values  # noqa: E402
from sktraceprop._lineage._source import REGISTRY  # noqa: E402
from sktraceprop._lineage._witness_view import witness_view  # noqa: E402


def _none_common(column):
    return np.zeros(column.missing.size, dtype=bool)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    rows, table = [], []
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = two_loaded_files(folder)
        edited = whole.copy()
        at = np.arange(0, len(whole), 10)
        edited.iloc[at, [0, 1]] = edited.iloc[at, [0, 1]].to_numpy() * 3 + 1
        for case, frame in {"as loaded": whole, "2 columns changed on 10%": edited}.items():
            stp.row_lineage(frame)  # (warm)
            calls = []
            timed = {"with the rule": [], "common values not asked": []}
            for _ in range(args.repeats):
                _witness.common_values = lambda c, k=calls: k.append(1) or common_values(c)
                timed["with the rule"] += timings(lambda f=frame: stp.row_lineage(f), 1)
                _witness.common_values = _none_common
                timed["common values not asked"] += timings(lambda f=frame: stp.row_lineage(f), 1)
            _witness.common_values = common_values
            for variant, times in timed.items():
                asked = len(calls) // args.repeats if variant == "with the rule" else 0
                rows.append(
                    {
                        "case": case,
                        "variant": variant,
                        "columns_asked_per_call": asked,
                        "fastest_s": min(times),
                        "median_s": statistics.median(times),
                    }
                )
                table.append(
                    [case, variant, asked, f"{min(times) * 1e3:.2f}"]
                    + [f"{statistics.median(times) * 1e3:.2f}"]
                )
        ids = np.asarray(edited.index, dtype=np.int64)
        sources = {int(c): REGISTRY.by_code(int(c)) for c in distinct_codes(ids)}
        view = witness_view(edited, ids, sources)
        for name in ("a", "n", "s"):
            times = timings(lambda n=name: common_values(view.columns[n]), args.repeats)
            case = f"common_values alone, column {name}, {view.ids.size} witness rows"
            rows.append(
                {"case": case, "fastest_s": min(times), "median_s": statistics.median(times)}
            )
            table.append(
                [case, "", 1, f"{min(times) * 1e3:.3f}", f"{statistics.median(times) * 1e3:.3f}"]
            )
    headers = ["frame", "row_lineage", "columns asked", "fastest (ms)", "median (ms)"]
    text = markdown_table(headers, table)
    print(text)
    info = machine()
    write_results(
        "replaced_rows_common",
        {"machine": info, "note": args.note, "repeats": args.repeats, "rows": rows},
        "## Common values in the replaced-row check (bench_replaced_rows_common.py)\n\n"
        "The 100,000-row frame of bench_row_lineage_check.py, as loaded and with two "
        f"float columns changed in place on 10% of its rows; {args.repeats} calls per "
        "variant, alternating; 'not asked': common_values replaced by a no-op. "
        f"Machine: {info['cpu']}, {info['cpu_count']} cores{args.note}; numpy "
        f"{info['numpy']}, pandas {info['pandas']}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
