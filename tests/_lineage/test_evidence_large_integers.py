"""Evidence searches over integer columns past float32's (and float64's) precision.

Account numbers near 2**60 one apart are one float32 (and, 256 apart, one float64).
Three searches keyed them so: a loaded column renamed after its rows' ids were moved
(``_renamed``, searched whole past 512 rows) was found nowhere, and the fit named the
moved ids' lines, every one wrong, with only a note; a column attached by position
from another source (``_attached``) held no value on one row only, and was said "not
compared"; another merged row's values moved onto a merge's gap (``_filled_merge``)
were held by every row near them, and were noted as a fill, not refused. The truth is
the raw files, read with ``csv``. ``_searched_rows`` digests rows as float64 bytes, so
two int64 rows one apart share a digest; what it reuses, the scaled search, reads the
same float64 values, so its answer is the one a search gives (pinned here).
"""

import csv
import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import _searched_rows
from sktraceprop._lineage._witness_values import series_integers
from sktraceprop.exceptions import LineageError, LineageWarning
from tests._lineage._raw_files import keys_by_line
from tests._lineage.test_filled_merge import _move, check_filled

BACKENDS = ["numpy", "numpy_nullable"]
try:
    import pyarrow  # noqa: F401

    BACKENDS.append("pyarrow")
except ImportError:  # pragma: no cover
    pass
BASE = 2**60


def _read(path, backend, **kw):
    if backend != "numpy":
        kw["dtype_backend"] = backend
    return stp.read_csv(path, source_id=path.stem, **kw)


def _field(path, line, column):
    """Field ``column`` of the record on physical ``line`` of the raw file."""
    text = path.read_text().splitlines()
    header = next(csv.reader(io.StringIO(text[0])))
    return next(csv.reader(io.StringIO(text[line - 1])))[header.index(column)]


def _fit(X, y, model=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = stp.make_traced_pipeline(model or Ridge()).fit(X, y)
    return pipe, [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]


def _accounts(path, n, offset=0):
    rng = np.random.default_rng(offset)
    rows = [f"r{i},{BASE + offset + i},{2 * BASE + 3 * i},{rng.normal():.5f}" for i in range(n)]
    path.write_text("key,a,b,y\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [30, 3000])
def test_reversed_ids_then_renamed_large_integers_are_refused(tmp_path, backend, n):
    # (3000 rows: the renamed columns are found by searching them whole; they were found
    # nowhere at float32, and the fit named every row's line wrong with only a note)
    path = tmp_path / f"acc_{backend}_{n}.csv"
    _accounts(path, n, offset=n)
    df = _read(path, backend)
    df.index = df.index[::-1]
    X = df[["a", "b"]].add_suffix("_s")
    with pytest.raises(LineageError, match="loaded as") as caught:
        _fit(X, df["y"].astype(float))
    message = str(caught.value)
    row = int(message.split()[1])
    held = int(message.split(f"{path.stem} line ")[1].split()[0])
    # the line named holds the key and the very account number of the row named
    assert _field(path, held, "key") == df["key"].iloc[row]
    assert int(_field(path, held, "a")) == int(df["a"].iloc[row])


@pytest.mark.parametrize("backend", BACKENDS)
def test_renamed_large_integers_in_place_fit_and_trace_their_own_lines(tmp_path, backend):
    path = tmp_path / f"kept_{backend}.csv"
    _accounts(path, 3000, offset=7)
    df = _read(path, backend)
    X = df[["a", "b"]].add_suffix("_s")
    pipe, _ = _fit(X, df["y"].astype(float))
    lines = pipe.trace(np.arange(len(X)))["line"]
    assert [_field(path, int(k), "key") for k in lines] == list(df["key"])


def _sources(tmp_path, backend, tag, n=400):
    """Source A (a float feature, a target) and source B (account numbers one apart,
    shuffled) of ``n`` rows each: ``(A, B, path of B)``."""
    rng = np.random.default_rng(len(tag))
    pa, pb = tmp_path / f"a_{tag}.csv", tmp_path / f"b_{tag}.csv"
    pa.write_text("key,f,y\n" + "".join(f"a{i},{rng.normal():.6f},{i % 2}\n" for i in range(n)))
    order = rng.permutation(n)
    offset = 1000 * len(tag) + 10**6 * BACKENDS.index(backend)
    pb.write_text("key,v\n" + "".join(f"b{i},{BASE + offset + order[i]}\n" for i in range(n)))
    return _read(pa, "numpy"), _read(pb, backend), pb


@pytest.mark.parametrize("backend", BACKENDS)
def test_large_integers_attached_by_position_are_named(tmp_path, backend):
    A, B, pb = _sources(tmp_path, backend, "copied")
    X = A[["f"]].copy()
    X["x"] = B["v"].array  # (B's account numbers, in B's row order, no lineage)
    raw = [int(_field(pb, line, "v")) for line in range(2, len(B) + 2)]
    assert [int(v) for v in X["x"]] == raw  # the truth: x is B's column v, row by row
    _, said = _fit(X, A["y"].astype(float))
    attached = [m for m in said if "attached by position" in m]
    assert len(attached) == 1, said
    assert f"x holds column v of source '{pb.stem}' (same lines" in attached[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_large_integers_raised_by_one_are_not_taken_for_the_attached_column(tmp_path, backend):
    A, B, pb = _sources(tmp_path, backend, "raised")
    X = A[["f"]].copy()
    X["x"] = (B["v"] + 1).array
    raw = [int(_field(pb, line, "v")) for line in range(2, len(B) + 2)]
    assert all(int(v) != r for v, r in zip(X["x"], raw))  # no row holds its B value
    pipe, said = _fit(X, A["y"].astype(float))
    assert not [m for m in said if "attached" in m and pb.stem in m], said
    # checked (not said unknown): each value is held by one row only, as integers
    assert not any("not compared with the loaded columns" in m for m in pipe.lineage_.notes)


def _merge_files(tmp_path, backend):
    def write(path, header, tag, n, missing, big):
        lines = [header]
        for i in range(n):
            if i % 6 in missing:
                continue
            a, b = (BASE + 9 + i, 2 * BASE + 3 * i) if big else (f"{i}.5", f"{i}.25")
            lines.append(f"{tag}{i},{i % 6},{a},{b},{i % 2}")
        path.write_text("\n".join(lines) + "\n")
        return _read(path, backend)

    paths = tmp_path / "L.csv", tmp_path / "R.csv"
    left = write(paths[0], "key,k,a,b,y", "l", 24, (), False)
    right = write(paths[1], "rkey,k,c,d,z", "r", 26, {0}, True)
    return left, right, keys_by_line(*paths)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "numpy"])
def test_another_merged_rows_large_integers_in_a_gap_are_refused(tmp_path, backend):
    # (a NumPy merge with gaps holds c and d as float64, which rounds them before any
    # check: nullable and Arrow integers keep them; they were noted as a fill)
    left, right, records = _merge_files(tmp_path, backend)
    m = stp.merge(left, right, on="k", how="left")
    assert all(str(t) != "float64" for t in m[["c", "d"]].dtypes)
    gap = int(np.flatnonzero(m["rkey"].isna().to_numpy())[0])
    donor = int(np.flatnonzero(m["rkey"].notna().to_numpy())[3])
    X = _move(m, "R", [(gap, donor)])
    X[["c", "d"]] = X[["c", "d"]].fillna(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert check_filled(m, X, ["c", "d"], records, moved=True) == "refused"


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "numpy"])
def test_merged_large_integers_left_on_their_rows_fit(tmp_path, backend):
    left, right, records = _merge_files(tmp_path, backend)
    m = stp.merge(left, right, on="k", how="left")
    X = m.copy()
    X[["c", "d"]] = X[["c", "d"]].fillna(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert check_filled(m, X, ["c", "d"], records, moved=False) == "fitted"


def test_searched_rows_of_integers_one_apart_share_a_digest_and_the_search_answer(
    tmp_path, monkeypatch
):
    path = tmp_path / "searched.csv"
    rng = np.random.default_rng(3)
    rows = [
        f"{1000 + i},{BASE + 512 * int(rng.integers(0, 2**31))},{rng.normal():.4f},{i % 2}"
        for i in range(150)
    ]
    path.write_text("key,a,c,y\n" + "\n".join(rows) + "\n")
    df = stp.read_csv(path, source_id="searched")
    ints = df[["a"]].to_numpy()
    # the documented limit: rows are their float64 bytes, and int64 rows one apart share them
    digests = _searched_rows.row_digests(ints.astype(np.float64))
    raised = _searched_rows.row_digests((ints + 1).astype(np.float64))
    assert (digests == raised).all()
    y = df["y"].to_numpy()
    made = {}
    for reuse in (True, False):
        if not reuse:
            monkeypatch.setattr(_searched_rows, "answer", lambda *a: None)
        said = []
        for shift in (0, 1):
            frame = pd.DataFrame({"a": df["a"] + shift, "c": df["c"]})
            X = StandardScaler().fit_transform(frame)
            for part in (X, X[1:]):
                _, warned = _fit(part, y[len(y) - len(part) :], LogisticRegression())
                said.append([re.sub(r"\d+ of the values", "", m) for m in warned])
        made[reuse] = said
    assert made[True] == made[False]  # reused: what a search of the array says
    message = made[True][0][0]
    row = int(re.search(r"row (\d+) of X holds", message).group(1))
    line = int(re.search(r"searched line (\d+)", message).group(1))
    assert _field(path, line, "key") == str(df["key"].iloc[row])


@settings(max_examples=30, deadline=None)
@given(
    offsets=st.lists(st.integers(-(2**12), 2**12), min_size=1, max_size=20),
    missing=st.lists(st.booleans(), min_size=20, max_size=20),
    dtype=st.sampled_from(
        ["int64", "Int64", "UInt64", *(["int64[pyarrow]"] * ("pyarrow" in BACKENDS))]
    ),
)
def test_series_integers_are_the_exact_values(offsets, missing, dtype):
    values = [BASE + o for o in offsets]
    series = pd.Series(values, dtype=dtype)
    if dtype != "int64":
        series[np.array(missing[: len(values)])] = pd.NA
    exact, gone = series_integers(series)
    assert gone.tolist() == series.isna().tolist()
    kept = [v for v, m in zip(values, gone) if not m]
    assert exact[~gone].tolist() == kept
    assert series_integers(pd.Series(np.array(values, dtype=float))) is None
