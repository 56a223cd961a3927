"""Shared helpers for the benchmark scripts: machine description and result files."""

import contextlib
import gc
import json
import os
import platform
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

#: The deployer's statements the benchmarks' compliance reports are made with.
DEPLOYER = {
    "system_name": "CreditScorer",
    "system_version": "1.0.0",
    "deployer_name": "Example Bank SA",
    "high_risk_category": "creditworthiness",
    "intended_purpose": "Score consumer loan applications for manual review",
    "human_oversight": ["Head of credit risk"],
}


def machine():
    """What the figures were measured on."""
    import numpy as np
    import pandas as pd
    import sklearn

    import sktraceprop

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "sktraceprop": sktraceprop.__version__,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


@contextlib.contextmanager
def sigterm_unwinds():
    """SIGTERM raises ``SystemExit(143)`` inside, in the main thread, so the script's own
    cleanup (``finally``, ``with TemporaryPostgres``) runs as after Ctrl-C; the handler
    before is put back after. A script owns its process and may choose so; the library's
    TemporaryPostgres only stops its server and lets SIGTERM end the process."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, frame):
    # (a second SIGTERM during the cleanup ends the process at once, as by default)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise SystemExit(128 + signum)


def write_results(name, payload, markdown):
    """Write ``results/<name>.json`` and ``results/<name>.md``."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")


def timings(call, repeats, clock=time.perf_counter):
    """Seconds of ``repeats`` calls of ``call()``, each after ``gc.collect()``, by
    ``clock``: wall time by default, ``time.process_time`` for this process's CPU time."""
    out = []
    for _ in range(repeats):
        gc.collect()
        t = clock()
        call()
        out.append(clock() - t)
    return out


def render_saved(name, render):
    """Call ``render(cases, machine)`` on ``results/<name>.json``: the table again, no
    measurement."""
    path = RESULTS / f"{name}.json"
    saved = json.loads(path.read_text())
    render(saved["cases"], saved["machine"])
    # ``render`` writes the payload a measurement writes, with this machine's platform:
    # the figures were measured on the saved one, so that is put back.
    if "platform" in saved:
        rewritten = json.loads(path.read_text())
        rewritten["platform"] = saved["platform"]
        path.write_text(json.dumps(rewritten, indent=2) + "\n")


def markdown_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def run_competitor_script(python, script, inputs, out, method):
    """Run ``script inputs out`` with another venv's ``python``; return the rows it wrote.

    The competitors' libraries live in their own virtual environments, so they run in a
    subprocess: the inputs go through ``inputs`` (an .npz the caller wrote) and the
    result rows come back as JSON in ``out``. Both files are deleted afterwards. A failed
    run gives one row for ``method`` whose note holds the end of its stderr.
    """
    try:
        proc = subprocess.run(
            [str(python), str(script), str(inputs), str(out)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        print(proc.stdout[-3000:], flush=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], flush=True)
        if out.exists():
            return json.loads(out.read_text())
        return [{"method": method, "note": f"failed: {proc.stderr[-300:]}"}]
    finally:
        inputs.unlink(missing_ok=True)
        out.unlink(missing_ok=True)


def paired_ratio(traced, plain, interval="iqr", seed=0):
    """Median over repeats of traced/plain, each repeat's two timings taken back to back
    (a slow phase of a shared machine moves both), and an interval: the ratios'
    interquartile range (``"iqr"``) or a 90% bootstrap interval of their median
    (``"bootstrap90"``)."""
    ratios = np.asarray(traced) / np.asarray(plain)
    if interval == "iqr":
        bounds = np.percentile(ratios, [25, 75])
    else:
        rng = np.random.default_rng(seed)
        boot = np.median(rng.choice(ratios, size=(4000, ratios.size)), axis=1)
        bounds = np.percentile(boot, [5, 95])
    return float(np.median(ratios)), [float(v) for v in bounds]


def run_child_in_tree(child, tree, *args):
    """Run the script ``child`` (``python -c``) with the package from the source tree
    ``tree`` (``PYTHONPATH``) and ``args``; the JSON its last output line holds."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run(
        [sys.executable, "-c", child, *map(str, args)],
        env=env,
        cwd=os.path.abspath(os.sep),  # (python -c puts the working folder before PYTHONPATH)
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise RuntimeError(f"timing {tree} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
