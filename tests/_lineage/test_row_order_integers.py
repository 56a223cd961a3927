"""The row-order check compares integers exactly, not through float64.

Past 2**53 a float64 cast rounds integers, and the check's relative tolerance (1e-9, for
floats a row run alone may round otherwise) is 1.7 seconds of a nanosecond timestamp
(1.7e18): a step that reversed rows of timestamps 1 ms apart passed the check, and the
model paired each row with another row's target.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import FunctionTransformer

import sktraceprop as stp
from sktraceprop._lineage._same_values import as_rows, equal_cells
from sktraceprop.exceptions import LineageError

T0 = 1_700_000_000_000_000_000  # nanoseconds since the epoch (2023)


def _reversed(X):
    return X.iloc[::-1].reset_index(drop=True) if isinstance(X, pd.DataFrame) else X[::-1]


@pytest.mark.parametrize("as_frame", [False, True])
@pytest.mark.parametrize("other", [None, "flag"])
def test_rows_of_close_large_integers_moved_by_a_step_are_refused(as_frame, other):
    n = 300
    frame = pd.DataFrame({"t_ns": T0 + 10**6 * np.arange(n, dtype=np.int64)})
    if other:  # (a float column equal on every row: the mixed frame's values as float64)
        frame[other] = 1.0
    frame["y"] = np.arange(n, dtype=float)
    df = stp.from_pandas(frame, f"events-{as_frame}-{other}")
    step = FunctionTransformer(
        (lambda X: _reversed(X)) if as_frame else (lambda X: _reversed(np.asarray(X)))
    )
    model = stp.make_traced_pipeline(step, LinearRegression())
    with pytest.raises(LineageError, match="moved the rows of X"):
        model.fit(df.drop(columns="y"), df["y"])


def test_mixed_frames_keep_their_integers_exact():
    frame = pd.DataFrame({"t": np.array([2**62 + 1, 2**62], np.int64), "x": [0.5, 0.5]})
    rows = as_rows(frame)
    assert rows[0, 0] == 2**62 + 1 and rows[1, 0] == 2**62  # (float64: both 2**62)
    assert not equal_cells(rows[:1], rows[1:])[0, 0]


@settings(deadline=None, max_examples=80)
@given(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from(["int", "object", "mixed"]),
)
@example(T0, T0 + 10**6, "int")
@example(2**62 + 1, 2**62, "mixed")
def test_integers_are_equal_exactly_when_they_are(p, q, layout):
    """Checked against Python's integer equality, in each layout a table can come in."""
    if layout == "int":
        a, b = np.array([[p]], np.int64), np.array([[q]], np.int64)
    elif layout == "object":
        a, b = np.array([[p]], object), np.array([[q]], object)
    else:
        a = as_rows(pd.DataFrame({"i": np.array([p], np.int64), "f": [0.25]}))
        b = as_rows(pd.DataFrame({"i": np.array([q], np.int64), "f": [0.25]}))
    assert bool(equal_cells(a, b)[0, 0]) == (p == q)


def test_floats_keep_their_tolerance_and_nan():
    a = np.array([[1.0, np.nan, 3.0]])
    b = np.array([[1.0 + 1e-12, np.nan, 3.1]])
    assert equal_cells(a, b).tolist() == [[True, True, False]]


def test_declared_dependencies_see_an_integer_output_move_by_one():
    from sktraceprop._lineage._declared import _as_table, _moved

    before = pd.DataFrame({"t": np.array([T0, T0], np.int64), "x": [0.5, 0.5]})
    after = before.assign(t=before["t"] + np.array([0, 1]))
    assert _moved(_as_table(before), _as_table(after)).tolist() == [True, False]
