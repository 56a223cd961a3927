"""Rows only aggregated into the training data are never said to be untrained on.

A file of salaries, averaged per person with ``stp.aggregate`` and merged onto the
people the model trains on: no training row is a salary row, or merged from one, yet
the model learnt from means each salary helped compute. Asking to remove a salary row
(or the salaries file) was refused with "never trained on by this model", and
``forget=`` warned "the model never trained on them": a statement an erasure request
would be closed on. Both now say what holds them and what to do.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import UnlearningError
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _data(prefix):
    rng = np.random.default_rng(3)
    people = stp.from_pandas(
        pd.DataFrame({"pid": np.arange(40), "age": rng.normal(40, 10, 40)}), f"{prefix}_people"
    )
    salaries = stp.from_pandas(
        pd.DataFrame({"pid": np.repeat(np.arange(30), 2), "salary": rng.normal(5e4, 1e4, 60)}),
        f"{prefix}_salaries",
    )
    mean = stp.aggregate(salaries, by="pid", salary_mean=("salary", "mean"))
    X = stp.merge(people, mean, on="pid")  # the 30 people with salaries
    y = (X["salary_mean"].to_numpy() > np.median(X["salary_mean"])).astype(int)
    return salaries, X[["age", "salary_mean"]], y


def test_a_row_only_aggregated_is_not_said_untrained_on():
    salaries, X, y = _data("aggm_row")
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    assert unl.estimator_ is not None
    row = stp.row_ids(salaries)[:1]
    with pytest.raises(UnlearningError) as info:
        unl.unlearn(sample_id=row)
    message = str(info.value)
    assert "never trained on" not in message
    assert "1 retained training row(s) hold group statistics" in message
    assert "aggm_row_salaries" in message and "nothing was changed" in message


def test_a_source_only_aggregated_is_not_said_untrained_on():
    _, X, y = _data("aggm_src")
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    with pytest.raises(UnlearningError) as info:
        unl.unlearn(source_id="aggm_src_salaries")
    message = str(info.value)
    assert "never trained on" not in message
    assert "30 retained training row(s) hold group statistics" in message


def test_forget_of_a_row_only_aggregated_warns_what_holds_it():
    salaries, X, y = _data("aggm_fit")
    row = int(stp.row_ids(salaries)[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GradientCorrectionUnlearner(LogisticRegression(), forget=[row]).fit(X, y)
    said = " ".join(str(w.message) for w in caught)
    assert "never trained on" not in said
    assert "1 training row(s) hold group statistics" in said
