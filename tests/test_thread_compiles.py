"""No numba kernel is compiled on a thread the library starts (see
:mod:`sktraceprop._thread_compiles`).

numba's compiler wraps its work in ``warnings.catch_warnings``: process-wide state, not a
thread's. A compile on a library thread while the program records warnings in its own
``catch_warnings`` block undoes that block's handler when it ends, and warnings raised
meanwhile are lost. The truth is numba's own compile events, each with the thread it ran
on, in a fresh process whose numba cache is empty (so that every kernel is compiled),
over a broad workload: ``read_csv`` of files with quotes, ``\\r``, comments, compressed,
in chunks; merges; traced and untraced fits with files loaded; ``JLProjector`` on two
threads; KNN-Shapley; a grid search; logged predictions. A compile the library refused
on its thread (marked ``sktraceprop_refused``: it never reached numba's compiler, and
the caller redid the work) is not one; one that ran anywhere but the main thread fails.
"""

import gzip
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop

_SCRIPT = r"""
import sys
import threading
from numba.core import event

ran = []


class Seen(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        data = ev.data
        name = getattr(getattr(data.get("dispatcher"), "py_func", None), "__qualname__", "?")
        if not data.get("sktraceprop_refused"):
            ran.append((threading.current_thread().name, name))


event.register("numba:compile", Seen())

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp

data = Path(sys.argv[1])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    frames = []
    for name, kwargs in [
        ("plain.csv", {}),
        ("quoted.csv", {}),
        ("crlf.csv", {}),
        ("cr.csv", {"lineterminator": "\r"}),
        ("comments.csv", {"comment": "#", "skiprows": [1]}),
        ("plain.csv.gz", {}),
        ("quoted.csv", {"engine": "python"}),
        ("plain.csv", {"skipfooter": 2}),
        ("plain.csv", {"nrows": 500, "usecols": ["a", "y"]}),
        ("big.csv", {}),
    ]:
        frames.append(stp.read_csv(data / name, **kwargs))
    with stp.read_csv(data / "quoted.csv", chunksize=700) as chunks:
        for chunk in chunks:
            pass
    with stp.read_csv(data / "plain.csv.gz", chunksize=900) as chunks:
        for chunk in chunks:
            pass
    df = frames[0]
    other = frames[1]
    merged = stp.merge(df, other[["a", "t"]], on="a", how="inner")
    X, y = df[["a", "b"]], df["y"]
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    ).fit(X, y)
    pipe.predict(X)
    pipe.predict(pd.concat([X] * 20, ignore_index=True))
    # untraced arrays of rows the loaded files hold: found by their content
    untraced = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    untraced.fit(X.to_numpy(), y.to_numpy())
    untraced.fit(X.to_numpy()[::2] * 1.0, y.to_numpy()[::2])
    Z = np.random.default_rng(1).normal(size=(20000, 60))  # shared by two threads
    for density, inp in [
        ("auto", Z),
        (1e-3, Z),
        ("auto", Z.astype(np.float32)),
        ("auto", sp.csr_matrix(Z)),
    ]:
        stp.JLProjector(8, density=density, random_state=0, n_jobs=2).fit_transform(inp)
    stp.KNNShapleyValuer(n_neighbors=3).fit(X, y).value(X.iloc[:50], y.iloc[:50])
    GridSearchCV(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": [0.5, 2.0]},
        cv=KFold(2),
    ).fit(X, y)
off = sorted({c for c in ran if c[0] != "MainThread"})
print("OFF", off)
print("N", len(ran))
"""


def _files(folder):
    """CSV files whose reading takes every scan kernel: quoted fields (with separators,
    quotes and line breaks inside), CRLF and CR line ends, comments, gzip, a large file."""
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame(
        {
            "a": np.arange(n),
            "b": rng.normal(size=n).round(6),
            "c": rng.normal(size=n).round(6),
            "y": rng.integers(0, 2, n),
            "t": rng.choice(["x", 'say "hi"', "a,b", "two\nlines", "ü"], n),
        }
    )
    df.to_csv(folder / "plain.csv", index=False, columns=["a", "b", "c", "y"])
    df.to_csv(folder / "quoted.csv", index=False)
    df.to_csv(folder / "crlf.csv", index=False, columns=["a", "b", "y"], lineterminator="\r\n")
    df.to_csv(folder / "cr.csv", index=False, columns=["a", "b", "y"], lineterminator="\r")
    text = (folder / "plain.csv").read_text().splitlines()
    commented = [text[0], "# a comment", *[f"{line} # note" for line in text[1:]]]
    (folder / "comments.csv").write_text("\n".join(commented) + "\n")
    with gzip.open(folder / "plain.csv.gz", "wt") as out:
        out.write((folder / "plain.csv").read_text())
    pd.concat([df] * 40, ignore_index=True).assign(a=lambda d: np.arange(len(d))).to_csv(
        folder / "big.csv", index=False, columns=["a", "b", "c", "y"]
    )


def compiles_in_a_fresh_process(tmp_path, script_text, *args):
    """Run ``script_text`` (which prints ``N <compiles>`` and ``OFF <those off the main
    thread>``) with an empty numba cache, so that every kernel is compiled; return
    ``(N, OFF)`` as printed."""
    root = Path(sktraceprop.__file__).resolve().parents[1]
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path / "numba"),  # empty: every kernel is compiled
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    script = tmp_path / "compile_threads.py"
    script.write_text(script_text)
    done = subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    said = [line.split(" ", 1) for line in done.stdout.splitlines()]
    lines = {key: value for key, value in said if key in ("OFF", "N")}
    return int(lines["N"]), lines["OFF"]


def test_no_kernel_is_compiled_on_a_library_thread(tmp_path):
    (tmp_path / "data").mkdir()
    _files(tmp_path / "data")
    n, off = compiles_in_a_fresh_process(tmp_path, _SCRIPT, tmp_path / "data")
    assert n > 0  # the kernels were compiled in this process
    assert off == "[]", f"compiled on a library thread: {off}"


def test_a_compile_asked_on_a_thread_is_refused_there_and_done_by_the_caller():
    from concurrent.futures import ThreadPoolExecutor

    import numba

    from sktraceprop import _thread_compiles

    @numba.njit(cache=False)
    def twice(x):
        return 2 * x

    calls = []

    def work(x):
        calls.append(threading.current_thread().name)
        return twice(x)

    with ThreadPoolExecutor(1, thread_name_prefix="library") as pool:
        value = _thread_compiles.submit(pool, work, np.arange(3))
        assert twice.signatures == []  # refused there: nothing compiled yet
        got = value()
        assert got.tolist() == [0, 2, 4]
        assert len(twice.signatures) == 1  # compiled by the caller
        assert calls == [calls[0], threading.current_thread().name]
        assert calls[0].startswith("library")
        # compiled now: the thread runs it (a float array is a new specialisation,
        # refused there again)
        calls.clear()
        assert _thread_compiles.submit(pool, work, np.arange(3))().tolist() == [0, 2, 4]
        assert len(calls) == 1 and calls[0].startswith("library")
        calls.clear()
        assert _thread_compiles.submit(pool, work, np.ones(2))().tolist() == [2.0, 2.0]
        assert len(calls) == 2 and len(twice.signatures) == 2
    # the caller's own compiles are never refused, nor a thread's outside attempt
    twice(np.ones(2, np.float32))
    with ThreadPoolExecutor(1) as pool:
        pool.submit(twice, np.ones(2, np.int32)).result()
    assert len(twice.signatures) == 4


def test_warnings_the_caller_records_survive_a_refused_compile():
    from concurrent.futures import ThreadPoolExecutor

    import numba

    from sktraceprop import _thread_compiles

    @numba.njit(cache=False)
    def plus(x):
        return x + 1

    with ThreadPoolExecutor(1) as pool, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        handler = warnings.showwarning
        outcome = pool.submit(_thread_compiles.attempt, plus, 1).result()
        assert outcome == (False, None)
        assert warnings.showwarning is handler  # the block's handler is in place
        warnings.warn("still recorded", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["still recorded"]
    assert _thread_compiles.result(outcome, plus, 1) == 2


@settings(deadline=None, max_examples=12)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["int32", "int64", "float32", "float64"]),
            st.sampled_from(["C", "F", "strided"]),
            st.booleans(),  # read-only
        ),
        min_size=1,
        max_size=4,
    )
)
def test_refused_exactly_when_the_specialisation_is_not_compiled(kinds):
    """Each call is refused on the thread exactly when numba has not compiled its
    argument types yet (dtype, layout, read-only: each its own), and gives what the
    kernel gives in the caller."""
    from concurrent.futures import ThreadPoolExecutor

    import numba

    from sktraceprop import _thread_compiles

    @numba.njit(cache=False)
    def total(x):
        return x.sum()

    compiled = set()
    with ThreadPoolExecutor(1) as pool:
        for dtype, layout, read_only in kinds:
            x = np.arange(12, dtype=dtype).reshape(3, 4)
            x = np.asfortranarray(x) if layout == "F" else x[:, ::2] if layout == "strided" else x
            x.flags.writeable = not read_only
            kind = numba.typeof(x)
            _thread_compiles.prepare()
            outcome = pool.submit(_thread_compiles.attempt, total, x).result()
            assert outcome[0] == (kind in compiled)  # refused iff not compiled yet
            assert _thread_compiles.result(outcome, total, x) == x.sum()  # the truth
            compiled.add(kind)
            assert len(total.signatures) == len(compiled)
