"""Frames with pandas sparse columns (``pd.arrays.SparseArray``): registered, and their
columns changed after loading noticed like any other numeric column.

``SparseDtype`` names its value type ``subtype``, not ``numpy_dtype`` as the masked and
Arrow dtypes do: the witness rows' float width was read from ``numpy_dtype`` alone, so
``from_pandas`` raised ``TypeError`` on any frame with a sparse column.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp

# (sklearn densifies a sparse frame for the model, and says so)
pytestmark = pytest.mark.filterwarnings("ignore:pandas.DataFrame with sparse columns")


def _frame(values, dtype, fill_value):
    n = len(values)
    return pd.DataFrame(
        {
            "sp": pd.arrays.SparseArray(np.asarray(values, dtype=dtype), fill_value=fill_value),
            "x": np.arange(n, dtype=np.float64),
            "y": np.arange(n) % 2,
        }
    )


def _changed(X):
    model = stp.make_traced_pipeline(LogisticRegression()).fit(X[["sp", "x"]], X["y"])
    return sorted({entry["column"] for entry in model.lineage_.changed_columns or []})


@pytest.mark.parametrize(
    ("dtype", "fill_value"),
    [("float64", np.nan), ("float64", 0.0), ("float32", np.nan), ("int64", 0)],
)
def test_sparse_column_is_registered_and_its_values_kept(dtype, fill_value):
    values = np.where(np.arange(40) % 3 == 0, 2, 0)
    df = _frame(values, dtype, fill_value)
    X = stp.from_pandas(df, "sparse_frame")
    assert X["sp"].dtype == df["sp"].dtype
    assert np.array_equal(X["sp"].to_numpy(), df["sp"].to_numpy())
    assert _changed(X) == []


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    values=st.lists(st.integers(-5, 5), min_size=4, max_size=40),
    dtype=st.sampled_from(["float64", "float32", "int64"]),
)
def test_sparse_column_changed_after_loading_is_named(values, dtype):
    X = stp.from_pandas(_frame(values, dtype, 0), "sparse_changed")
    # every row is a witness of a load this small: a change to any value is seen
    changed = X.assign(sp=X["sp"] + 1)
    assert _changed(X) == []
    assert _changed(changed) == ["sp"]
