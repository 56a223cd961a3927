"""Witness rows compare integer columns exactly, not through float64.

Past 2**53 float64 rounds integers: account numbers near 2**60 each raised by one after
loading compared equal to what was loaded on all but one of 500 witness rows (or on all,
for numbers on the rounding grid), so the run said the column changed on 1 row of 500,
or said nothing.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import sktraceprop as stp

N = 2000


def _changed(df, name):
    model = stp.make_traced_pipeline(LinearRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(df[["acct", "x"]], df["y"])
    return {c["column"]: c for c in model.lineage_.changed_columns}.get(name)


def _frame(acct, dtype):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"acct": acct, "x": rng.normal(size=N), "y": rng.normal(size=N)})
    frame["acct"] = frame["acct"].astype(dtype)
    return frame


DTYPES = ["int64", "Int64", "uint64"]
try:
    import pyarrow  # noqa: F401

    DTYPES.append("int64[pyarrow]")
except ImportError:  # pragma: no cover
    pass


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("step", [1, 256])  # (256: every number on float64's grid)
def test_large_integers_changed_by_one_are_seen_changed_on_every_row(dtype, step):
    acct = 2**60 + step * np.arange(N, dtype=np.int64)
    df = stp.from_pandas(_frame(acct, dtype), f"accounts-{dtype}-{step}")
    df["acct"] = df["acct"] + 1
    found = _changed(df, "acct")
    assert found is not None, "the change of every account number went unnoticed"
    assert found["rows_changed"] == found["rows_checked"] > 100


def test_an_integer_column_unchanged_or_cast_to_float_is_not_a_change():
    acct = 2**60 + np.arange(N, dtype=np.int64)
    df = stp.from_pandas(_frame(acct, "int64"), "accounts-same")
    assert _changed(df, "acct") is None
    df["acct"] = df["acct"].astype(float)  # (a cast rounds; it changes no value)
    assert _changed(df, "acct") is None
