"""A target taken from one side of a merge that put the rows in another order.

``X = stp.merge(left, right, on="pid", how="right")`` orders the rows as ``right``;
``y = left["label"]`` carries ``left``'s row ids, of another source than ``X``'s merged
rows, so the order check compared nothing and every row was fitted with another row's
label, without a word (a traced fit, an explainer, a valuer alike). The check now
follows the merged rows to their parents. The truth: each merged row's left parent,
found by its key in plain pandas.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError


def _sides(n, order, seed):
    rng = np.random.default_rng(seed)
    left = pd.DataFrame({"pid": np.arange(n), "a": rng.normal(size=n), "label": np.arange(n) % 2})
    right = pd.DataFrame({"pid": np.asarray(order), "b": rng.normal(size=n)})
    return (
        stp.from_pandas(left, f"merged_left_{seed}"),
        stp.from_pandas(right, f"merged_right_{seed}"),
    )


def test_right_merge_with_left_target_is_refused():
    left, right = _sides(12, np.arange(12)[::-1], 0)
    merged = stp.merge(left, right, on="pid", how="right")
    X, y = merged[["a", "b"]], left["label"]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    with pytest.raises(LineageError, match="row 0 of X was merged from merged_left_0 row 12"):
        pipe.fit(X, y)
    with pytest.raises(LineageError, match="y is not in the order of X"):
        stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    # the merged frame's own column, or the left target in the merged order, is taken
    pipe.fit(X, merged["label"])
    stp.KNNShapleyValuer(n_neighbors=3).fit(X, merged["label"].to_numpy())


def test_left_merge_in_the_left_order_is_taken():
    left, right = _sides(10, np.random.default_rng(1).permutation(10), 1)
    merged = stp.merge(left, right, on="pid", how="left")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(merged[["a", "b"]], left["label"])  # a left merge keeps the left order
    np.testing.assert_array_equal(merged["pid"].to_numpy(), np.arange(10))


@settings(deadline=None, max_examples=30)
@given(
    n=st.integers(3, 25),
    seed=st.integers(0, 2**16),
    how=st.sampled_from(["left", "right", "inner"]),
    sort=st.booleans(),
)
@example(n=5, seed=0, how="right", sort=False)
def test_refused_exactly_when_a_row_meets_another_rows_target(n, seed, how, sort):
    order = np.random.default_rng(seed).permutation(n)
    left, right = _sides(n, order, seed % 50)
    merged = stp.merge(left, right, on="pid", how=how, sort=sort)
    # truth in plain pandas: the left row each merged row was built from, by its key
    misplaced = not np.array_equal(merged["pid"].to_numpy(), left["pid"].to_numpy())
    valuer = stp.KNNShapleyValuer(n_neighbors=2)
    if misplaced:
        with pytest.raises(LineageError, match="y is not in the order of X"):
            valuer.fit(merged[["a", "b"]], left["label"])
    else:
        valuer.fit(merged[["a", "b"]], left["label"])
