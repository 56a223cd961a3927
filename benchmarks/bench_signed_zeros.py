"""What hashing -0.0 as 0.0 costs the prediction log's row hashes.

The hashes of a logged call's input (``hash_rows`` and its snapshot path, the keyed
row digests) now add 0.0 to every float while copying it (sktraceprop/_signed_zeros.py).
This times them before and after: two source trees (``--before``, a checkout without
the change, e.g. ``git archive <commit> sktraceprop | tar -x -C DIR``; ``--after``, this
tree), each timed in its own process, the processes alternating. Per case: the fastest
call of each process (the figure least disturbed by other jobs on a loaded machine) and
its median call, each as the median over the processes, with the ratios after / before.

Cases: a 10,000 x 10 float64 frame (the snapshot path the log takes at that size), a
1 x 10 frame (hashed inline: one person's row), 10,000 rows of UCI Adult (text and
numbers), and the keyed row digests of the 10,000 x 10 frame; each also as a whole
logged ``predict`` (StandardScaler and LogisticRegression, MemoryStore).

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_signed_zeros.py --before DIR
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, run_child_in_tree, write_results  # noqa: E402

_CHILD = r"""
import gc, json, sys, time, warnings
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[2])
from _data import load_adult
import sktraceprop as stp
from sktraceprop._row_digests import row_digests
from sktraceprop._row_hash_start import start_hash_rows
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
assert stp.__file__.startswith(sys.argv[1]), stp.__file__
repeats = int(sys.argv[3])
rng = np.random.default_rng(0)
wide = pd.DataFrame(rng.normal(size=(10_000, 10)), columns=[f"x{i}" for i in range(10)])
adult = load_adult("train")[0].iloc[:10_000].reset_index(drop=True)
one = wide.iloc[[0]]
pipe = stp.make_traced_pipeline(
    StandardScaler(), LogisticRegression(), store=stp.stores.MemoryStore(),
    log_predictions=True,
).fit(wide, (wide["x0"] > 0).astype(int))
cases = {
    "hash 10,000 x 10 floats": lambda: start_hash_rows(wide)(),
    "hash 1 x 10 floats": lambda: start_hash_rows(one)(),
    "hash 10,000 Adult rows": lambda: start_hash_rows(adult)(),
    "row digests 10,000 x 10": lambda: row_digests(wide, "salt"),
    "logged predict 10,000 x 10": lambda: pipe.predict(wide),
    "logged predict 1 x 10": lambda: pipe.predict(one),
}
out = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name, call in cases.items():
        call()
        times = []
        for _ in range(repeats):
            gc.collect()
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        out[name] = [min(times), sorted(times)[len(times) // 2]]
print(json.dumps(out))
"""


def _run(tree, repeats):
    here = Path(__file__).resolve().parent
    return run_child_in_tree(_CHILD, tree, Path(tree).resolve(), here, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="a source tree without the change")
    parser.add_argument("--after", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--rounds", type=int, default=5, help="processes per tree")
    parser.add_argument("--repeats", type=int, default=41, help="calls per case and process")
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    runs = {"before": [], "after": []}
    for _ in range(args.rounds):
        for label in ("before", "after"):
            runs[label].append(_run(getattr(args, label), args.repeats))
    rows, table = [], []
    for case in runs["before"][0]:
        row = {"case": case}
        for k, stat in enumerate(("fastest", "median")):
            for label in ("before", "after"):
                row[f"{label}_{stat}_s"] = statistics.median(r[case][k] for r in runs[label])
            row[f"ratio_{stat}"] = row[f"after_{stat}_s"] / row[f"before_{stat}_s"]
        rows.append(row)
        table.append(
            [case]
            + [f"{row[f'{label}_fastest_s'] * 1e3:.3f}" for label in ("before", "after")]
            + [f"{row['ratio_fastest']:.2f}"]
            + [f"{row[f'{label}_median_s'] * 1e3:.3f}" for label in ("before", "after")]
            + [f"{row['ratio_median']:.2f}"]
        )
    headers = [
        "case",
        "fastest before (ms)",
        "fastest after (ms)",
        "ratio",
        "median before (ms)",
        "median after (ms)",
        "ratio",
    ]
    text = markdown_table(headers, table)
    print(text)
    info = machine()
    write_results(
        "signed_zeros",
        {
            "machine": info,
            "note": args.note,
            "rounds": args.rounds,
            "repeats": args.repeats,
            "rows": rows,
        },
        "## -0.0 hashed as 0.0 (bench_signed_zeros.py)\n\n"
        "Per process the fastest and the median call, each the median over "
        f"{args.rounds} processes per tree ({args.repeats} calls each, the trees "
        "alternating); before: the tree without the change. "
        f"Machine: {info['cpu']}, {info['cpu_count']} cores{args.note}; numpy "
        f"{info['numpy']}, pandas {info['pandas']}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
