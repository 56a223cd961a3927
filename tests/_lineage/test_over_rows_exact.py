"""A loaded value and the value now are compared exactly where a column computed over
rows is looked for; only the operation recomputed is compared within ``1e-9``. Truth:
the file's bytes (every row's loaded value, parsed from its line) and the operation
applied to them."""

import warnings

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning


def _fit_warnings(X, y):
    with warnings.catch_warnings(record=True) as found:
        warnings.simplefilter("always")
        stp.make_traced_pipeline(Ridge()).fit(X, y)
    return [str(w.message) for w in found if issubclass(w.category, LineageWarning)]


@settings(deadline=None, max_examples=8)
@given(step=st.sampled_from([1e-12, 1e-11, 1e-6]), n=st.integers(20, 80))
@example(step=1e-12, n=60)
def test_near_equal_values_overwritten_by_their_cummax_warn(tmp_path_factory, step, n):
    # Values a row apart by less than 1e-9 of their size (decreasing): a cummax puts
    # the first row's value on every row. Compared within 1e-9, no row differed from
    # its loaded value, and nothing said the values came from another line.
    path = tmp_path_factory.mktemp("near") / "near.csv"
    a = 1.0 - np.arange(n) * step
    frame = pd.DataFrame({"a": a, "b": np.linspace(-1, 1, n), "y": np.arange(n) % 2})
    frame.to_csv(path, index=False, float_format="%.17g")
    df = stp.read_csv(path)
    lines = stp.row_lineage(df)["line"].to_numpy()
    raw = path.read_text().splitlines()
    loaded = np.array([float(raw[k - 1].split(",")[0]) for k in lines])
    np.testing.assert_array_equal(df["a"].to_numpy(), loaded)  # the bytes' values
    df["a"] = df["a"].cummax()
    moved = int((df["a"].to_numpy() != loaded).sum())
    assert moved == n - 1  # (truth: every row but the first holds the first's value)
    found = _fit_warnings(df[["a", "b"]], df["y"])
    assert any(
        m.startswith("column a of X holds the a loaded from 'near' computed over rows (a.cummax")
        and f"{moved} rows compared differ" in m
        for m in found
    ), found


def test_a_column_left_as_loaded_does_not_warn(tmp_path):
    # (exact is not stricter where nothing changed: the same near-equal values kept)
    path = tmp_path / "kept.csv"
    n = 60
    frame = pd.DataFrame({"a": 1.0 - np.arange(n) * 1e-12, "b": np.linspace(-1, 1, n)})
    frame.assign(y=np.arange(n) % 2).to_csv(path, index=False, float_format="%.17g")
    df = stp.read_csv(path)
    assert _fit_warnings(df[["a", "b"]], df["y"]) == []
