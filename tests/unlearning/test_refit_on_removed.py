"""A fit on rows an unlearner removed in this process is said, naming the rows.

Before, a GridSearchCV refit, a cloned unlearner or a plain traced fit on the frame that
still held removed rows learnt them again silently. Truth: the ``key`` column of the
CSV files, written from each row's physical line (tests/conftest.py).
"""

import re
import warnings

import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning
from tests._removed_rows import removed_by_unlearner


def _removed(tmp_path):
    frame, X, y, mask, unl = removed_by_unlearner(tmp_path)
    keys = frame["key"].to_numpy()[mask]
    return unl, X, y, mask, [f"hospital_b line {k}" for k in keys]


def _said(record, lines):
    (said,) = [str(w.message) for w in record if "removed from a model" in str(w.message)]
    assert f"trains on {len(lines)} row(s) removed" in said
    assert "GradientCorrectionUnlearner.unlearn of run" in said
    for line in lines:
        assert re.search(rf"{line}\b", said), (line, said)
    return said


def test_refits_on_removed_rows_are_said_with_the_rows(tmp_path):
    unl, X, y, mask, lines = _removed(tmp_path)
    # a plain traced fit on the frame that still holds them
    with pytest.warns(LineageWarning) as record:
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert "this fit of TracedPipeline" in _said(record, lines)
    # a cloned unlearner (clone carries no removal)
    with pytest.warns(LineageWarning) as record:
        clone(unl).fit(X, y)
    _said(record, lines)
    # a search's refit (and its splits) on the whole frame
    search = GridSearchCV(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": [0.1, 1.0]},
        cv=2,
    )
    with pytest.warns(LineageWarning) as record:
        search.fit(X, y)
    said = [str(w.message) for w in record if "removed from a model" in str(w.message)]
    assert said and all("hospital_b line" in s for s in said)
    # an untraced unlearner on the traced frame: its own fit says it
    with pytest.warns(LineageWarning) as record:
        stp.GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    assert "this fit of GradientCorrectionUnlearner" in _said(record, lines)


def test_a_fit_without_the_removed_rows_is_not_warned(tmp_path):
    _, X, y, mask, _ = _removed(tmp_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X[~mask], y[~mask])
    assert not [w for w in record if "removed from a model" in str(w.message)]
    # a deliberate refit on all the rows: the documented filter silences it alone
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", "this fit of .* removed from a model")
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert not [w for w in record if "removed from a model" in str(w.message)]


def test_an_unlearner_forgetting_the_removed_rows_is_not_warned(tmp_path):
    """Its fit trains on every row, then removes those of forget=: the model it leaves
    holds none of them. Before, it was warned of them all (a false alarm)."""
    _, X, y, mask, lines = _removed(tmp_path)
    removed = X.index[mask].tolist()
    make = lambda forget: stp.GradientCorrectionUnlearner(  # noqa: E731
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()), forget=forget
    )
    # (each fit's forget= is a removal too: the last forgets one more row)
    for forget in (removed, [*removed, X.index[0]]):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            make(forget).fit(X, y)
        assert not [w for w in record if "removed from a model" in str(w.message)], forget
    # forgetting some of them: the others are said, and only they
    with pytest.warns(LineageWarning) as record:
        make([X.index[0], *removed[:1]]).fit(X, y)
    _said(record, lines[1:])
    # an untraced estimator: the unlearner's own check
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        stp.GradientCorrectionUnlearner(LogisticRegression(), forget=[X.index[0], *removed]).fit(
            X, y
        )
    assert not [w for w in record if "removed from a model" in str(w.message)]


def test_the_warning_has_its_own_category_and_lineage_filters_still_apply(tmp_path):
    _, X, y, _, lines = _removed(tmp_path)
    fit = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit
    with pytest.warns(stp.exceptions.RefitOnRemovedWarning) as record:
        fit(X, y)
    (said,) = [w for w in record if w.category is stp.exceptions.RefitOnRemovedWarning]
    assert str(said.message).startswith("this fit of TracedPipeline trains on 3 row(s)")
    assert issubclass(stp.exceptions.RefitOnRemovedWarning, LineageWarning)
    # the category alone silences it; other lineage warnings are left alone
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", stp.exceptions.RefitOnRemovedWarning)
        fit(X, y)
    assert not [w for w in record if "removed from a model" in str(w.message)]
    # a filter on LineageWarning (written before the subclass) still applies
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        with pytest.raises(LineageWarning, match="^this fit of .* removed from a model"):
            fit(X, y)
