"""A loaded column of a large load overwritten with its group's mean warns at fit.

Loads of more than 512 rows keep a sample of witness rows: a group's mean of the loaded
values cannot be recomputed, and ``groupby(g).transform("mean")`` there was left to a
run note ("values differ from what was loaded") while a cumsum, diff, rolling mean or
pct_change warned. The truth is the raw bytes of the file (``_check_against_bytes``: the
column is the group mean of the file's values at the lines ``row_lineage`` names). A
value looked up per group (not within the group's values) and a group sum stay a note.
"""

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning
from tests._lineage import test_over_rows
from tests._lineage.test_over_rows import _check_against_bytes, _fit, _records, _write

MEAN = "groupby(g).transform('mean')"
_CHANGES = {
    "mean": lambda d: d.groupby("g")["a"].transform("mean"),
    "median": lambda d: d.groupby("g")["a"].transform("median"),
    "sum": lambda d: d.groupby("g")["a"].transform("sum"),
    "lookup": lambda d: d["g"].map({0: 1e3, 1: -1e3, 2: 2e3, 3: -2e3}).astype(float),
    "scaled": lambda d: d["a"] * 0.3048,
    "loaded": lambda d: d["a"],
}


def _read(path, name):
    return stp.read_csv(path, skiprows=1, comment="#", source_id=name)


def _changed(tmp_path, n, change, seed=0, name="big"):
    path = _write(tmp_path / f"{name}.csv", n, seed=seed)
    df = _read(path, name)
    df["a"] = _CHANGES[change](df)
    return path, df


def test_a_group_mean_of_a_large_load_warns_and_says_it_was_checked_on_a_sample(tmp_path):
    path, df = _changed(tmp_path, 3000, "mean")
    pipe, found = _fit(df[["a", "b"]], df["y"])
    assert len(found) == 1, [n[:80] for n in pipe.lineage_.notes]
    message = str(found[0].message)
    assert f"(a.{MEAN}:" in message and "a sample" in message
    assert found[0].filename == test_over_rows.__file__  # (where fit is called)
    assert message in pipe.lineage_.notes
    _check_against_bytes(df, path, MEAN)


def test_a_group_mean_computed_on_part_of_a_large_load_warns(tmp_path):
    path = _write(tmp_path / "part.csv", 3000, seed=3)
    df = _read(path, "part").iloc[500:2600].copy()
    df["a"] = df.groupby("g")["a"].transform("mean")
    _, found = _fit(df[["a", "b"]], df["y"])
    assert len(found) == 1 and f"(a.{MEAN}:" in str(found[0].message)
    # (the truth: the group mean over these rows of the file's values)
    records = _records(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)  # (row_lineage warns alike)
        lines = stp.row_lineage(df)["line"].to_numpy()
    a = np.array([float(records[k]["a"]) for k in lines])
    g = np.array([records[k]["g"] for k in lines])
    want = np.array([a[g == k].mean() for k in g])
    assert np.allclose(df["a"].to_numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("change", ["sum", "lookup", "scaled", "loaded"])
def test_other_group_values_of_a_large_load_do_not_warn(tmp_path, change):
    _, df = _changed(tmp_path, 3000, change)
    pipe, found = _fit(df[["a", "b"]], df["y"])
    assert not found
    if change in ("sum", "lookup"):  # (still the run's note of a changed column)
        assert any(n.startswith("input column(s) a ") for n in pipe.lineage_.notes)


@settings(deadline=None, max_examples=12)
@given(
    n=st.integers(600, 2000),
    change=st.sampled_from(sorted(_CHANGES)),
    seed=st.integers(0, 2**16),
)
@example(n=600, change="mean", seed=0)
@example(n=600, change="lookup", seed=1)
def test_a_large_load_warns_iff_a_statistic_within_each_group(tmp_path_factory, n, change, seed):
    name = f"g{seed}_{n}"
    path, df = _changed(tmp_path_factory.mktemp("groups"), n, change, seed, name)
    _, found = _fit(df[["a", "b"]], df["y"])
    if change in ("mean", "median"):
        assert len(found) == 1 and f"(a.{MEAN}:" in str(found[0].message)
        if change == "mean":
            _check_against_bytes(df, path, MEAN)
    else:
        assert not found
