"""A column attached by position from another file, exported to OpenLineage resolved.

``a["x"] = B["v"].values`` puts file B's column ``v`` beside file A's rows; the run
identifies it by its values (``Lineage.attached_columns``). The event's columnLineage
names B's file and column for the features made from it, B is an input dataset, and a
column that nothing identifies is listed as unresolved with why. The truth is the files
read: B's file holds, line by line, the values of ``x``, and A's file has no column
``x``.
"""

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression

import sktraceprop as stp
from sktraceprop.exporters import to_openlineage
from tests.exporters.test_openlineage import validate


def _read(path, frame):
    frame.to_csv(path, index=False)
    return stp.read_csv(path, source_id=path.stem)


def _file_columns(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {name: [float(r[name]) for r in rows] for name in rows[0]}


def _same(text_values, column):
    # (pandas before 3 parses a float's text to within an ulp of Python's float())
    assert_allclose(column.to_numpy(), text_values, rtol=1e-15, atol=1e-15)


def _fit(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stp.make_traced_pipeline(LinearRegression()).fit(X, y).lineage_


def _files(tmp_path, n, seed, copies=1):
    rng = np.random.default_rng(seed)
    path_a = tmp_path / f"a{seed}.csv"
    A = _read(path_a, pd.DataFrame({"a": rng.normal(size=n), "y": rng.normal(size=n)}))
    v = rng.normal(size=n)
    paths_b = [tmp_path / f"b{seed}_{k}.csv" for k in range(copies)]
    Bs = [
        _read(p, pd.DataFrame({"v": v, "w": rng.normal(size=n) + k}))
        for k, p in enumerate(paths_b)
    ]
    return path_a, A, paths_b, Bs


def _fields(event):
    return event["outputs"][0]["facets"]["columnLineage"]["fields"]


@settings(
    deadline=None, max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(40, 120), seed=st.integers(0, 10**6))
def test_an_attached_column_names_the_file_and_column_it_came_from(tmp_path, n, seed):
    path_a, A, (path_b,), (B,) = _files(tmp_path, n, seed)
    a = A.copy()
    a["x"] = B["v"].values
    run = _fit(a[["a", "x"]], a["y"])
    event = to_openlineage(run)
    validate(event)
    # the truth: B's file holds x line by line; A's file has no column x
    _same(_file_columns(path_b)["v"], a["x"])
    assert "x" not in _file_columns(path_a)
    (x_field,) = _fields(event)["x"]["inputFields"]
    assert (x_field["namespace"], x_field["name"], x_field["field"]) == (
        "file",
        str(Path(path_b).resolve()),
        "v",
    )
    (how,) = x_field["transformations"]
    assert "attached by position" in how["description"]
    assert "same lines" in how["description"] and "one of" not in how["description"]
    (a_field,) = _fields(event)["a"]["inputFields"]
    assert (a_field["name"], a_field["field"]) == (str(Path(path_a).resolve()), "a")
    fit = event["run"]["facets"]["sktraceprop_fit"]
    assert fit["unresolvedColumns"] == {} and fit["unresolvedReasons"] == {}
    assert fit["attachedColumns"] == run.attached_columns
    names = [(d["namespace"], d["name"]) for d in event["inputs"]]
    assert names == [("file", str(Path(path_a).resolve())), ("file", str(Path(path_b).resolve()))]


def test_a_column_two_files_hold_lists_both_and_says_which_is_not_known(tmp_path):
    path_a, A, paths_b, Bs = _files(tmp_path, 60, 7, copies=2)
    a = A.copy()
    a["x"] = Bs[0]["v"].values
    event = to_openlineage(_fit(a[["a", "x"]], a["y"]))
    validate(event)
    for path in paths_b:  # the truth: both files hold x line by line
        _same(_file_columns(path)["v"], a["x"])
    fields = _fields(event)["x"]["inputFields"]
    assert sorted(f["name"] for f in fields) == sorted(str(p.resolve()) for p in paths_b)
    for f in fields:
        assert f["field"] == "v"
        assert "one of 2 loaded columns" in f["transformations"][0]["description"]


def test_a_column_nothing_identifies_is_unresolved_with_why(tmp_path):
    path_a, A, _, _ = _files(tmp_path, 50, 3)
    a = A.assign(r=A["a"] * 2.0 + A["y"])  # computed after loading: in no file
    assert "r" not in _file_columns(path_a)
    event = to_openlineage(_fit(a[["a", "r"]], a["y"]))
    validate(event)
    fit = event["run"]["facets"]["sktraceprop_fit"]
    assert fit["unresolvedColumns"] == {"r": ["r"]}
    assert "in no source of the training rows" in fit["unresolvedReasons"]["r"]
    assert "r" not in _fields(event) and fit["attachedColumns"] == []


@pytest.mark.parametrize("uri", ["", "memory://"])
def test_an_attached_frame_without_a_path_is_named_by_its_source_id(uri):
    from sktraceprop.exporters._column_lineage import _attached_dataset

    entry = {"uri": uri, "source_id": "frame_b"}
    assert _attached_dataset(entry, "ns") == ("ns", "frame_b")
