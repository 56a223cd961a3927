"""Cost of fingerprinting a fitted pipeline with user code (a logged predict does it on
every call).

A pipeline of four ``FunctionTransformer`` steps of user functions, a user transformer
class and a logistic regression, fitted on 200 rows. Two layouts of the same code: the
user functions call their helpers through a module attribute (``helpers.helper(X)``,
which scheme 6 follows and hashes) or through names imported from it (``from helpers
import helper``: hashed by every scheme). ``fingerprint(pipe)`` is timed in a process
running the checkout given by ``--before`` (a scheme-5 sktraceprop) and in one running
this checkout, alternately, each round a median of ``--repeats`` calls; the table gives
the median and fastest of the rounds' medians, in microseconds.

Run: flock -x /tmp/stp-cpu.lock python benchmarks/bench_fingerprint.py --before /work/main
"""

import argparse
import json
import os
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
    parser.add_argument("--before", required=False, help="a scheme-5 checkout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--child")
    args = parser.parse_args()
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
        for layout, words in (("module", "helpers.helper(X)"), ("name", "helper(X)")):
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
    table = markdown_table(["helpers called as", "checkout", "median us", "fastest us"], rows)
    print(table)
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
functions call five helpers either through their module's name (`helpers.helper(X)`
after `import helpers`) or by names imported from it (`helper(X)`). Scheme 5 named a
module a function holds and hashed nothing of what it reads from it, so the first
layout was cheap there and an edited or replaced helper went unseen; scheme 6 follows
the attributes read and hashes each helper by its code, as every scheme hashes helpers
imported by name, so the first layout now costs about what the second does. Before:
{before}; after: this checkout.

Machine: {m["cpu"]}, {m["cpu_count"]} cores shared with other work (other helpers'
tests and benchmarks ran at the same time), Python {m["python"]}, scikit-learn
{m["scikit-learn"]}, pandas {m["pandas"]}. Command: `{command}`.
"""
    write_results("fingerprint", payload, text)


if __name__ == "__main__":
    main()
