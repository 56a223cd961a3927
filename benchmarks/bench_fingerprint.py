"""Cost of fingerprinting a fitted pipeline with user code (a logged predict does it on
every call).

A pipeline of four ``FunctionTransformer`` steps of user functions, a user transformer
class and a logistic regression, fitted on 200 rows. Three layouts of the same code: the
user functions call their helpers through a module attribute (``helpers.helper(X)``,
which scheme 6 follows and hashes), through names imported from it (``from helpers
import helper``: hashed by every scheme), or through the module imported inside each
function (scheme 6: by its file's SHA-256). ``fingerprint(pipe)`` is timed in a process
running the checkout given by ``--before`` (another sktraceprop) and in one running
this checkout, alternately, each round a median of ``--repeats`` calls; the table gives
the median and fastest of the rounds' medians, in microseconds.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_fingerprint.py --before /work/main
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_HELPERS = """
import numpy as np
SCALE = 2.0
def helper(X):
    return np.asarray(X) * SCALE + 1
def clip(X):
    return np.clip(X, -3, 3)
def shift(X, by=0.5):
    return X - by
"""
_BY_MODULE = """
import numpy as np
import bench_fp_helpers as helpers
from sklearn.base import BaseEstimator, TransformerMixin
def scaled(X):
    return helpers.helper(X)
def clipped(X):
    return helpers.clip(helpers.shift(X))
def logged(X):
    return np.log1p(np.abs(X))
def both(X):
    return helpers.shift(helpers.helper(X), by=2.0)
class Step(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self
    def transform(self, X):
        return helpers.clip(X)
"""
_BY_NAME = _BY_MODULE.replace(
    "import bench_fp_helpers as helpers", "from bench_fp_helpers import clip, helper, shift"
).replace("helpers.", "")
#: The helpers' module imported inside each function (hashed by its file's SHA-256).
_BY_IMPORT = re.sub(
    r"(?m)^( +)return helpers\.",
    r"\1import bench_fp_helpers as helpers\n\1return helpers.",
    _BY_MODULE.replace("import bench_fp_helpers as helpers\n", ""),
)
#: The layouts timed, and how their functions reach the helpers.
_LAYOUTS = (
    ("module", "helpers.helper(X)"),
    ("name", "helper(X)"),
    ("import", "import helpers inside"),
)


def _child(layout, repeats):
    """Time ``fingerprint`` here; print ``{"scheme", "median_us", "min_us"}``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sktraceprop._lineage._fingerprint import SCHEME, fingerprint

    user = __import__(f"bench_fp_{layout}")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 5)), rng.integers(0, 2, 200)
    pipe = make_pipeline(
        *(
            FunctionTransformer(func=f)
            for f in (user.scaled, user.clipped, user.logged, user.both)
        ),
        user.Step(),
        LogisticRegression(),
    ).fit(X, y)
    for _ in range(20):  # warm the caches a logged predict would have warmed
        fingerprint(pipe)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fingerprint(pipe)
        times.append(time.perf_counter() - start)
    print(json.dumps({"scheme": SCHEME, "median_us": statistics.median(times) * 1e6}))


def _digest_costs(folder, repeats):
    """Microseconds per digest of a module file a function imports, kept
    (``file_digest`` on a settled file: one ``os.stat``) and read afresh (open, read,
    SHA-256: what every call did before), for three file sizes."""
    import hashlib

    from sktraceprop._lineage._fingerprint_imports import file_digest

    def fresh(path):
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).digest()

    paths = {}
    for kib in (1, 30, 300):
        path = folder / f"digest_{kib}.py"
        path.write_text(("x = 1  # padding\n" * 64 * kib)[: kib * 1024])
        paths[kib] = str(path)
    time.sleep(2.5)  # settled: times 2 s before the first read
    rows = []
    for kib, path in paths.items():
        assert file_digest(path) == fresh(path)
        costs = {}
        for name, fn in (("kept", file_digest), ("read", fresh)):
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                fn(path)
                times.append(time.perf_counter() - start)
            costs[name] = statistics.median(times) * 1e6
        rows.append((kib, costs["read"], costs["kept"]))
    return rows


def _measure(checkout, folder, layout, repeats):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout), str(folder)])}
    out = subprocess.run(
        [sys.executable, __file__, "--child", layout, "--repeats", str(repeats)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=False, help="another checkout to compare")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child == "digest":  # in this checkout's process, in the folder
        print(json.dumps({"rows": _digest_costs(Path.cwd(), args.repeats)}))
        return
    if args.child:
        _child(args.child, args.repeats)
        return
    sys.path.insert(0, str(HERE))
    from _common import machine, markdown_table, write_results

    checkouts = {"after": ROOT}
    if args.before:
        checkouts = {"before": Path(args.before).resolve(), **checkouts}
    rows, payload = [], {"machine": machine(), "cases": []}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "bench_fp_helpers.py").write_text(textwrap.dedent(_HELPERS))
        (folder / "bench_fp_module.py").write_text(textwrap.dedent(_BY_MODULE))
        (folder / "bench_fp_name.py").write_text(textwrap.dedent(_BY_NAME))
        (folder / "bench_fp_import.py").write_text(textwrap.dedent(_BY_IMPORT))
        # a file's digest is kept once its times lie 2 s before a read: as a module
        # edited minutes before a model serves is
        time.sleep(2.5)
        for layout, words in _LAYOUTS:
            medians = {name: [] for name in checkouts}
            schemes = {}
            for _ in range(args.rounds):
                for name, checkout in checkouts.items():
                    got = _measure(checkout, folder, layout, args.repeats)
                    medians[name].append(got["median_us"])
                    schemes[name] = got["scheme"]
            for name in checkouts:
                row = [
                    words,
                    f"{name} (scheme {schemes[name]})",
                    f"{statistics.median(medians[name]):.0f}",
                    f"{min(medians[name]):.0f}",
                ]
                rows.append(row)
                payload["cases"].append(
                    {
                        "layout": layout,
                        "checkout": name,
                        "scheme": schemes[name],
                        "median_us": statistics.median(medians[name]),
                        "min_us": min(medians[name]),
                        "round_medians_us": medians[name],
                    }
                )
        digests = _measure(ROOT, folder, "digest", args.repeats * 5)["rows"]
    table = markdown_table(["helpers called as", "checkout", "median us", "fastest us"], rows)
    print(table)
    digest_table = markdown_table(
        ["module file", "read and hashed us", "kept (os.stat) us"],
        [(f"{kib} KiB", f"{read:.1f}", f"{kept:.1f}") for kib, read, kept in digests],
    )
    print(digest_table)
    payload["digests"] = [
        {"kib": kib, "read_us": read, "kept_us": kept} for kib, read, kept in digests
    ]
    command = "python benchmarks/bench_fingerprint.py " + " ".join(sys.argv[1:])
    before = "not measured"
    if args.before:
        commit = subprocess.run(
            ["git", "-C", args.before, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        before = f"{args.before} at {commit or 'an unknown commit'}"
        payload["before"] = before
    payload["command"] = command
    m = payload["machine"]
    text = f"""## Fingerprinting a pipeline with user code (`bench_fingerprint.py`)

{table}

Microseconds per `fingerprint(pipe)` (a logged predict makes one per call) of a fitted
pipeline of four `FunctionTransformer` steps of user functions, a user transformer
and a logistic regression: the median and the fastest of {args.rounds} rounds, each the
median of {args.repeats} calls in a fresh process, the checkouts alternating. The user
functions call five helpers through their module's name (`helpers.helper(X)` after
`import helpers`: scheme 6 follows the attributes read and hashes each helper by its
code), by names imported from it (`helper(X)`: hashed by every scheme), or through the
module imported inside each function (`import helpers` in its body: scheme 6 hashes the
module's file by its SHA-256; since session 53 a file whose times lie more than 2 s
before a read is read once, and again only when `os.stat` says anything of it changed,
where it was read on every call before). The helpers' files were written 2.5 s before
the first call. Before: {before}; after: this checkout.

{digest_table}

The part of one call spent on one imported module's file, in this checkout's process:
its SHA-256 kept (`file_digest` of a settled file: one `os.stat`, compared) against the
file opened, read and hashed (what every call did before), the median of
{args.repeats * 5} calls each, by file size.

Machine: {m["cpu"]}, {m["cpu_count"]} cores shared with other work (other helpers'
tests and benchmarks ran at the same time), Python {m["python"]}, scikit-learn
{m["scikit-learn"]}, pandas {m["pandas"]}. Command: `{command}`.
"""
    write_results("fingerprint", payload, text)


if __name__ == "__main__":
    main()
