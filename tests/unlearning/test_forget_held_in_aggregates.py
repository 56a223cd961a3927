"""forget= items held only in group statistics are reported apart from items never used.

A salary row averaged per person (``stp.aggregate``) and merged onto the people the
model trains on is in no training row, yet the model learnt from the mean it helped
compute. ``forget=`` listed it under ``request["not_in_training_data"]`` with rows the
model never saw, and one warning said of all of them that training rows hold statistics
over them. They are now apart: ``request["held_in_aggregates"]`` (the items and the
training rows holding statistics over them) and ``not_in_training_data`` (the rest),
each with its own warning. Truth: the person ids, joined with pandas.
"""

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner

# 0-29 have salaries and are trained on, 30-39 are trained on without one; 50-52 are
# salaries of nobody in the training data: averaged into groups no training row joined
_PIDS = np.r_[np.repeat(np.arange(30), 2), [50, 51, 52]]


def _data(prefix):
    rng = np.random.default_rng(7)
    people = stp.from_pandas(
        pd.DataFrame({"pid": np.arange(40), "age": rng.normal(40, 10, 40)}), f"{prefix}_people"
    )
    salaries = stp.from_pandas(
        pd.DataFrame({"pid": _PIDS, "salary": rng.normal(5e4, 1e4, _PIDS.size)}),
        f"{prefix}_salaries",
    )
    mean = stp.aggregate(salaries, by="pid", salary_mean=("salary", "mean"))
    X = stp.merge(people, mean, on="pid")  # the 30 people with salaries
    y = (X["salary_mean"].to_numpy() > np.median(X["salary_mean"])).astype(int)
    other = stp.from_numpy(np.zeros((3, 2)), source_id=f"{prefix}_other")
    return people, salaries, other, X, y


def _fit(forget, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unl = GradientCorrectionUnlearner(LogisticRegression(), forget=forget).fit(
            X[["age", "salary_mean"]], y
        )
    return unl, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@settings(max_examples=12, deadline=None)
@given(
    rows=st.lists(st.integers(0, _PIDS.size - 1), min_size=1, max_size=6, unique=True),
    absent=st.lists(st.integers(0, 2), max_size=2, unique=True),
    with_source=st.booleans(),
)
def test_items_held_in_aggregates_are_listed_apart(rows, absent, with_source):
    _, salaries, other, X, y = _data("held")
    salary_ids, trained_pids = stp.row_ids(salaries), set(X["pid"].tolist())
    trained = int(stp.row_ids(X)[0])  # something to remove, so that an event is logged
    forget = [trained, *(int(salary_ids[r]) for r in rows)]
    forget += [int(stp.row_ids(other)[k]) for k in absent]
    if with_source:
        forget.append("held_other")
    unl, said = _fit(forget, X, y)
    request = unl.unlearning_log_[0]["request"]
    held = [int(salary_ids[r]) for r in rows if _PIDS[r] in trained_pids]
    never = [int(salary_ids[r]) for r in rows if _PIDS[r] not in trained_pids]
    never += [int(stp.row_ids(other)[k]) for k in absent]
    # (listed as the request resolves them: source ids first, then row ids)
    never = ["held_other"] * with_source + [a for a in forget if a in never]
    pids = {int(_PIDS[r]) for r in rows if _PIDS[r] in trained_pids}
    if held:
        # (the trained row removed is one of the people: its statistics go with it)
        assert request["held_in_aggregates"] == {
            "items": held,
            "training_rows": int(X["pid"].isin(pids).sum()),
        }
        (warned,) = [m for m in said if "held_in_aggregates" in m]
        assert "hold group statistics computed over them" in warned
        assert f"{len(held)} row id(s)" in warned
    else:
        assert "held_in_aggregates" not in request
    if never:
        assert request["not_in_training_data"] == never
        (warned,) = [m for m in said if "'not_in_training_data'" in m]
        assert "never trained on them" in warned and "group statistic one holds" in warned
        assert "hold group statistics computed" not in warned
    else:
        assert "not_in_training_data" not in request


def test_a_source_held_in_aggregates_is_not_said_absent():
    _, _, _, X, y = _data("held")
    trained = int(stp.row_ids(X)[0])
    unl, said = _fit([trained, "held_salaries", "held_other"], X, y)
    request = unl.unlearning_log_[0]["request"]
    assert request["not_in_training_data"] == ["held_other"]
    assert request["held_in_aggregates"] == {"items": ["held_salaries"], "training_rows": 30}
    assert any("source(s) 'held_salaries': in no training row" in m for m in said)
    assert not any("'held_salaries' that no training row" in m for m in said)


def test_nothing_else_asked_still_warns_apart_and_logs_nothing():
    _, salaries, other, X, y = _data("held")
    salary_ids = stp.row_ids(salaries)
    unl, said = _fit([int(salary_ids[0]), int(stp.row_ids(other)[0])], X, y)
    assert unl.unlearning_log_ == []
    assert len([m for m in said if "no removal event was logged" in m]) == 2
    assert any("1 training row(s) hold group statistics" in m for m in said)


def test_unlearn_says_rows_in_statistics_apart_from_rows_never_used():
    # unlearn(sample_id=) of a salary row (averaged into a trained person's mean) and a
    # row of a source never used said all of them "hold group statistics"; the error now
    # counts them apart, and nothing is changed
    import pytest

    from sktraceprop.exceptions import UnlearningError

    _, salaries, other, X, y = _data("mixed")
    unl, _ = _fit([], X, y)
    coef = unl.estimator_.coef_.copy()
    salary_ids, other_ids = stp.row_ids(salaries), stp.row_ids(other)
    # salary rows 0 and 1: person 0's two salaries, whose mean one training row holds
    asked = [int(salary_ids[0]), int(salary_ids[1]), int(other_ids[0])]
    with pytest.raises(UnlearningError) as info:
        unl.unlearn(sample_id=asked)
    message = str(info.value)
    assert "2 of the 3 row ids" in message and "but 1 retained training row(s)" in message
    assert "1 other(s) were never trained on" in message and str(asked[2]) in message
    assert np.array_equal(unl.estimator_.coef_, coef)
    with pytest.raises(UnlearningError, match="3 row ids.*hold group statistics") as info:
        unl.unlearn(sample_id=asked[:2] + [int(salary_ids[2])])  # person 1's too: 2 rows
    assert "3 of the 3 row ids" in str(info.value) and "but 2 retained" in str(info.value)
    assert "never trained on" not in str(info.value)
