"""What the step watch of a traced fit does once, not twice.

A part of a ``ColumnTransformer`` or ``FeatureUnion`` step, watched as a step of its own,
was also walked whole inside its step's attributes (``transformers_``,
``transformer_list``) at each digest: now it is digested there by identity alone (its
own digest names it where it changed). And once the run was checked, the traced fit's
own calls of the steps (the run's feature lineage calls each part's
``get_feature_names_out`` and ``transform``) still noted what each call could write, for
a check already made: now the watches stand aside.
"""

from collections import Counter

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import _fingerprint_walk, _watch_calls
from sktraceprop._lineage._fitted_elsewhere import StepFits, watch_step_fits
from sktraceprop.exceptions import LineageError
from tests._gate import fit_while_other_code_fits, plain, shifted_data
from tests.test_step_parts_refit_watch import _Counts as _PassCounts


class _Counts(_PassCounts):
    """Passes rows through, counting its calls of ``transform``; names its features."""

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


def _ct():
    num = Pipeline([("scale", StandardScaler()), ("mm", MinMaxScaler())])
    return ColumnTransformer([("c", _Counts(), [0]), ("num", num, [1])])


def _fu():
    num = Pipeline([("scale", StandardScaler()), ("mm", MinMaxScaler())])
    return FeatureUnion([("c", _Counts()), ("num", num)])


def _parts(step):
    held = (
        dict(step.transformer_list) if isinstance(step, FeatureUnion) else step.named_transformers_
    )
    return [held["c"], *held["num"].named_steps.values()]


@pytest.mark.parametrize("make", [_ct, _fu], ids=["column-transformer", "feature-union"])
def test_a_part_is_not_walked_inside_its_step(monkeypatch, make):
    X, _ = plain(*shifted_data(0, "once"))
    step = make()
    walked = Counter()
    real = _fingerprint_walk.watched_state

    def counted(obj):
        walked[id(obj)] += 1
        return real(obj)

    with watch_step_fits(Pipeline([("prep", step), ("lr", LogisticRegression())])) as fits:
        monkeypatch.setattr(_fingerprint_walk, "watched_state", counted)
        step.fit(X)  # (its end: the step and each part digested)
        fits.check("Pipeline")
        parts = _parts(step)
        assert {id(p): walked[id(p)] for p in parts} == {id(p): 0 for p in parts}
        # (the pipeline among the parts is no part: walked inside the step)
        pipe = step.named_transformers_["num"] if make is _ct else step.transformer_list[1][1]
        assert walked[id(pipe)] >= 2
        parts[1].mean_ += 1.0  # (a part changed in place: still refused, named as the part)
        with pytest.raises(LineageError, match=r"step 'prep__num__scale' had its fitted") as e:
            fits.check("Pipeline")
    assert "'prep' had" not in str(e.value), str(e.value)


def test_once_the_run_is_checked_the_watch_notes_nothing(monkeypatch):
    X, y = shifted_data(0, "once")
    pipe = stp.TracedPipeline([("prep", _ct()), ("lr", LogisticRegression())])
    checked, noted_after = [], []
    real_check, real_held = StepFits.check, _watch_calls.held

    def check(self, what):
        real_check(self, what)
        checked.append(what)

    def held(step):
        if checked:
            noted_after.append(type(step).__name__)
        return real_held(step)

    monkeypatch.setattr(StepFits, "check", check)
    monkeypatch.setattr(_watch_calls, "held", held)
    pipe.fit(X, y)
    assert checked == ["TracedPipeline"]
    assert noted_after == []
    np.testing.assert_array_equal(pipe.lineage_.row_ids, X.index.to_numpy())


class _NamesCached(_Counts):
    """Its ``get_feature_names_out`` writes what it holds (a count of its calls)."""

    def get_feature_names_out(self, input_features=None):
        self.named_ = getattr(self, "named_", 0) + 1
        return np.asarray([f"c{j}" for j in range(self.n_features_in_)], dtype=object)


def test_only_scikit_learns_own_get_feature_names_out_is_left_unwatched(monkeypatch):
    # scikit-learn's own classes read what they hold there; a user's class (a subclass
    # too) and a FunctionTransformer given a function are watched: what the run's own
    # calls write is taken as theirs
    X, y = shifted_data(0, "once")
    user = _NamesCached()
    sub = type("Scaler", (StandardScaler,), {"__module__": __name__})()
    func = FunctionTransformer(feature_names_out=lambda self, names: names)
    parts = [("u", user, [0]), ("sub", sub, [1]), ("f", func, [0]), ("s", StandardScaler(), [1])]
    pipe = stp.TracedPipeline([("prep", ColumnTransformer(parts)), ("lr", LogisticRegression())])
    watched = {}

    def other():  # (the steps fitted, the run not checked yet: every watch in place)
        step = pipe.named_steps["prep"]
        for obj in (step, *[t[1] for t in step.transformers_ if not isinstance(t[1], str)]):
            watched[type(obj).__name__] = "get_feature_names_out" in vars(obj)

    assert fit_while_other_code_fits(monkeypatch, pipe, X, y, other) is None
    assert watched == {
        "ColumnTransformer": False,
        "_NamesCached": True,
        "Scaler": True,
        "FunctionTransformer": True,
        "StandardScaler": False,
    }
    assert pipe.named_steps["prep"].named_transformers_["u"].named_ >= 1  # (it wrote)
    np.testing.assert_array_equal(pipe.lineage_.row_ids, X.index.to_numpy())
