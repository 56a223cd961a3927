"""Run time of every gallery example, each in a fresh process as a user would run it.

The documentation build runs the examples one after another in one process; here each
runs alone (``MPLBACKEND=Agg``, in an empty temporary directory), and the script
reports its wall time, its CPU time (user + system, all threads: on an idle 2-core
machine the wall time is at most this, so it bounds the time a user waits even when
the machine the figures were taken on was busy), the machine's load average when it
started, and the figures it left open. Target: every example under a minute on 2 cores.

Run: python benchmarks/bench_examples.py [--repeats 1]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*/plot_*.py"))
RUNNER = (
    "import runpy, sys; import matplotlib.pyplot as plt; "
    "runpy.run_path(sys.argv[1], run_name='__main__'); "
    "print('FIGURES', len(plt.get_fignums()))"
)


def run(path):
    """(wall seconds, CPU seconds, figures, load average) of one run of one example."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", RUNNER, str(path)],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
        )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{path.name} failed:\n{out.stderr[-3000:]}")
    figures = int(out.stdout.rsplit("FIGURES", 1)[1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, figures, load


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    rows, records = [], []
    for path in EXAMPLES:
        runs = [run(path) for _ in range(args.repeats)]
        wall = min(r[0] for r in runs)
        cpu = min(r[1] for r in runs)
        name = f"{path.parent.name}/{path.name}"
        records.append(
            {
                "example": name,
                "wall_s": [r[0] for r in runs],
                "cpu_s": [r[1] for r in runs],
                "figures": runs[0][2],
                "load_average_1min": [r[3] for r in runs],
            }
        )
        rows.append(
            [name, f"{wall:.1f}", f"{cpu:.1f}", runs[0][2], f"{min(r[3] for r in runs):.1f}"]
        )
        print(" | ".join(str(c) for c in rows[-1]), flush=True)
    command = "python benchmarks/bench_examples.py" + (
        f" --repeats {args.repeats}" if args.repeats != 1 else ""
    )
    info = machine()
    table = markdown_table(
        ["example", "wall s", "CPU s (user+sys)", "figures", "load average at start"], rows
    )
    markdown = f"""## Gallery examples (`bench_examples.py`)

{table}

Each example run alone in a fresh process ({args.repeats} run(s), the fastest shown),
as `python examples/<family>/plot_<topic>.py` with `MPLBACKEND=Agg`. CPU time counts
every thread; on an idle 2-core machine the wall time is at most the CPU time, so CPU
time under 60 s means under a minute there. Wall times depend on what else the shared
machine ran (the load average at the start of each run is shown). Target: every
example under a minute on 2 cores, with at least one figure.

Machine: {info["cpu"]}, {info["cpu_count"]} cores, Python {info["python"]}. Command:
`{command}`.
"""
    write_results("examples", {"machine": info, "command": command, "examples": records}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
