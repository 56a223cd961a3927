import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.preprocessing import GroupStatistics


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.floats(-5, 5)), min_size=1, max_size=30),
    st.sampled_from(["mean", "median", "min", "max", "sum", "count"]),
)
def test_statistics_equal_a_loop_over_the_training_rows(rows, statistic):
    train = pd.DataFrame(rows, columns=["g", "v"])
    test = pd.DataFrame({"g": [0, 1, 2, 3, 9], "v": [0.0] * 5})
    gs = GroupStatistics(by=["g"], columns=["v"], statistic=statistic).fit(train)
    out = gs.transform(test)
    funcs = {
        "mean": np.mean,
        "median": np.median,
        "min": np.min,
        "max": np.max,
        "sum": np.sum,
        "count": len,
    }
    overall = funcs[statistic](train["v"].to_numpy())
    for g, got in zip(test["g"], out[f"v_{statistic}_by_g"]):
        members = train.loc[train["g"] == g, "v"].to_numpy()
        want = funcs[statistic](members) if members.size else overall
        assert got == pytest.approx(want, abs=1e-12)
    pd.testing.assert_frame_equal(out[["g", "v"]], test)


def test_arrays_and_feature_lineage_in_a_traced_pipeline(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("ward,bp,label\n1,120,0\n1,140,1\n2,100,0\n2,90,1\n")
    df = stp.read_csv(path)
    pipe = stp.make_traced_pipeline(
        GroupStatistics(by=["ward"], columns=["bp"]), LogisticRegression()
    )
    pipe.fit(df[["ward", "bp"]], df["label"])
    assert pipe.lineage_.feature_lineage["bp_mean_by_ward"] == ["ward", "bp"]  # (input order)
    assert pipe.lineage_.feature_lineage["bp"] == ["bp"]
    arr = GroupStatistics(by=[0], columns=[1]).fit_transform(df[["ward", "bp"]].to_numpy())
    np.testing.assert_allclose(arr[:, 2], [130, 130, 95, 95])


def test_bad_columns_are_named():
    X = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(ValueError, match="grouping column 'zz' is not in X"):
        GroupStatistics(by=["zz"], columns=["a"]).fit(X)
