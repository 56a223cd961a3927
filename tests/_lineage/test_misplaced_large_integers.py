"""Row ids moved off their rows are found among integer columns past float32's precision.

The check of rows holding another row's values keyed each value at float32 precision,
which holds integers exactly only up to 2**24: account numbers near 2**60 one apart all
had one key, no value named a row, and ``df.index = df.index[::-1]`` on a frame of them
fitted without a word, every row's id naming another row's line (shown by test). The
truth: row ``p`` of the reversed frame holds the values loaded at line ``N - p``.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageError

N = 2000
DTYPES = ["int64", "Int64"]
try:
    import pyarrow  # noqa: F401

    DTYPES.append("int64[pyarrow]")
except ImportError:  # pragma: no cover
    pass


def _frame(dtype, step, name):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"a": 2**60 + step * np.arange(N), "b": 2**61 + 3 * step * np.arange(N)}
    ).astype(dtype)
    frame["y"] = rng.normal(size=N)
    return stp.from_pandas(frame, name)


def _fit(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stp.make_traced_pipeline(LinearRegression()).fit(df[["a", "b"]], df["y"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("step", [1, 5])
def test_ids_reversed_on_rows_of_large_integers_are_refused(dtype, step):
    df = _frame(dtype, step, f"accounts-{dtype}-{step}")
    original = df.copy()
    df.index = df.index[::-1]
    # the truth: each row (but the middle one, if any) holds values its id was not loaded with
    loaded = original["a"].reindex(df.index).to_numpy()
    assert (df["a"].to_numpy() != loaded).sum() == N
    with pytest.raises(LineageError, match="holds the values loaded for"):
        _fit(df)


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_integers_in_place_or_raised_by_one_are_not_moved_rows(dtype):
    df = _frame(dtype, 1, f"accounts-kept-{dtype}")
    _fit(df)
    df[["a", "b"]] = df[["a", "b"]] + 1  # (each row's own values changed, not moved)
    _fit(df)
