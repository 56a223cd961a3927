"""A removal says when input columns were changed after loading, outside the pipeline."""

import warnings

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _frames(hospitals):
    a = stp.read_csv(hospitals["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(hospitals["hospital_b"], source_id="hospital_b", comment="#")
    return pd.concat([a, b]).dropna(subset=["bp"])


def _unlearner():
    return GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    )


def test_a_lagged_column_is_named_by_the_removal(hospitals):
    df = _frames(hospitals)
    # the previous row's blood pressure: values moved between rows of both hospitals
    X = df[["age", "bp"]].assign(bp=df["bp"].shift(1).fillna(df["bp"].mean()))
    unl = _unlearner().fit(X, df["label"])
    with pytest.warns(UserWarning, match=r"input column\(s\) bp \(\d+ of \d+ rows checked\)"):
        unl.unlearn(source_id="hospital_b")
    (event,) = unl.unlearning_log_
    k, n, filled = event["columns_changed_after_loading"]["bp"]
    assert 0 < k <= n and filled == 0
    assert "age" not in event["columns_changed_after_loading"]
    assert "may still carry the removed rows' values" in event["caveat"]


def test_unchanged_columns_say_nothing(hospitals):
    df = _frames(hospitals)
    unl = _unlearner().fit(df[["age", "bp"]], df["label"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unl.unlearn(source_id="hospital_b")
    (event,) = unl.unlearning_log_
    assert "columns_changed_after_loading" not in event
