"""What ``make test`` costs on a fresh clone: set-up time, download size, test time.

Clones the repository (its committed HEAD) into a temporary directory and runs the
README's test command there as a new user would: ``make .venv/.test`` (a virtual
environment and the test extras, pip's cache disabled so every wheel is fetched), then
``make test`` (lint, documentation build, test suite). Reports the seconds of each,
the wheels pip fetched (sizes as pip prints them for downloads, file sizes for wheels
taken from a local package mirror, which a user would download too), the size of the
virtual environment, the load average, and the exit status.

Run: python benchmarks/bench_make_test.py [--keep] [--lock FILE]
"""

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
_UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def timed(command, cwd, env, log):
    start, load = time.perf_counter(), os.getloadavg()[0]
    with open(log, "w") as out:
        rc = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    return time.perf_counter() - start, rc.returncode, load


@contextlib.contextmanager
def _lock(path):
    if path is None:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wheels(log_text):
    """``{wheel: bytes}`` pip fetched: downloads as printed, local files by size."""
    found = {}
    for name, size, unit in re.findall(
        r"^\s*Downloading (\S+\.whl) \(([\d.]+) (B|kB|MB|GB)\)", log_text, re.M
    ):
        found.setdefault(name, float(size) * _UNITS[unit])
    for path in re.findall(r"^Processing (/\S+\.whl)", log_text, re.M):
        found.setdefault(Path(path).name, float(os.path.getsize(path)))
    found = {k: v for k, v in found.items() if not k.startswith("pip-")}  # pip's own upgrade
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone for inspection")
    parser.add_argument(
        "--lock",
        help="a lock file to hold while `make test` runs (a machine shared with other timings)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stp-make-test-"))
    clone = work / "sktraceprop"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True
    ).stdout.strip()
    # a fresh user's environment: no virtual environment active, pip fetching everything
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PIP_NO_CACHE_DIR="1", PIP_VERBOSE="1")  # cancels -q: pip names every wheel
    setup_s, setup_rc, setup_load = timed(["make", ".venv/.test"], clone, env, work / "setup.log")
    fetched = wheels((work / "setup.log").read_text())
    files = (clone / ".venv").rglob("*")
    venv_bytes = sum(f.stat().st_size for f in files if f.is_file() and not f.is_symlink())
    with _lock(args.lock):  # the set-up mostly waits on pip; the tests use every core
        test_s, test_rc, test_load = timed(["make", "test"], clone, env, work / "test.log")
    tail = (work / "test.log").read_text().strip().splitlines()[-1]
    biggest = sorted(fetched.items(), key=lambda kv: -kv[1])[:5]
    rows = [
        ["set-up (`make .venv/.test`)", f"{setup_s / 60:.1f}", f"{setup_load:.1f}", setup_rc],
        ["`make test` (lint, docs, tests)", f"{test_s / 60:.1f}", f"{test_load:.1f}", test_rc],
    ]
    command = "python benchmarks/bench_make_test.py" + (
        f" --lock {args.lock}" if args.lock else ""
    )
    info = machine()
    table = markdown_table(["step", "minutes", "load average at start", "exit status"], rows)
    largest = ", ".join(f"{name.split('-')[0]} {size / 1e6:.0f} MB" for name, size in biggest)
    markdown = f"""## `make test` on a fresh clone (`bench_make_test.py`)

{table}

Clone of commit `{head}`. The set-up fetched {len(fetched)} wheels,
{sum(fetched.values()) / 1e6:.0f} MB in all (largest: {largest}); the virtual
environment takes {venv_bytes / 1e9:.1f} GB on disk. torch is the CPU-only wheel this
machine's package index offers; where pip picks a CUDA build of torch instead (PyPI's
default on Linux) its CUDA libraries come on top. Most wheels came from a local package
mirror, so the set-up time here is not a network's. The machine is shared with other
work (load average shown): on an idle 2-core machine both steps are shorter. Last line
of the test output: `{tail}`.

Machine: {info["cpu"]}, {info["cpu_count"]} cores, Python {info["python"]}. Command:
`{command}`.
"""
    write_results(
        "make_test",
        {
            "machine": info,
            "command": command,
            "commit": head,
            "setup_seconds": setup_s,
            "setup_exit_status": setup_rc,
            "setup_load_average": setup_load,
            "test_seconds": test_s,
            "test_exit_status": test_rc,
            "test_load_average": test_load,
            "wheels_bytes": fetched,
            "venv_bytes": venv_bytes,
            "test_last_line": tail,
        },
        markdown,
    )
    print(markdown)
    if args.keep or setup_rc or test_rc:  # (a failed step's log is kept to be read)
        print(f"kept: {work} (setup.log, test.log, the clone)")
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
