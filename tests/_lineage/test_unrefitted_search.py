"""A search fitted with ``refit=False`` as the model of a traced pipeline fits no model
on the rows: its run's feature lineage must not describe one (it followed a
``best_estimator_`` left by an earlier fit, or mapped the search's inputs as a model's),
and a compliance report refuses it. The truth: sklearn's own search, whose
``best_estimator_`` is absent or not of this fit, and ``predict`` that cannot run."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import sktraceprop as stp
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import ComplianceError
from tests.stores._store_helpers import DEPLOYER

GRID = {"logisticregression__C": [0.5, 1.0]}


def _data(seed, target):
    X = pd.DataFrame(np.random.default_rng(seed).normal(size=(40, 3)), columns=["a", "b", "c"])
    return X, (X[target] > 0).astype(int)


def _search(k, refit):
    steps = make_pipeline(SelectKBest(k=k), LogisticRegression())
    return GridSearchCV(steps, GRID, cv=2, refit=refit)


@settings(deadline=None, max_examples=6)
@given(
    k=st.integers(1, 3),
    earlier=st.sampled_from([None, "a", "b", "c"]),
    seed=st.integers(0, 2**16),
)
@example(k=1, earlier="a", seed=0)  # a best_estimator_ of an earlier fit, left in place
@example(k=1, earlier=None, seed=0)
def test_no_model_is_described_for_a_search_that_refitted_none(tmp_path_factory, k, earlier, seed):
    store = stp.stores.MemoryStore()
    pipe = stp.TracedPipeline([("search", _search(k, refit=True))], store=store)
    if earlier is not None:  # fitted before with refit=True: a best_estimator_ is left
        pipe.fit(*_data(seed, earlier))
        assert hasattr(pipe[-1], "best_estimator_")
    X, y = _data(seed + 1, "c")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.set_params(search__refit=False).fit(X, y)
    # sklearn's truth: nothing of this fit predicts
    with pytest.raises(AttributeError):
        pipe.predict(X)
    run = pipe.lineage_
    assert run.feature_lineage == {"a": None, "b": None, "c": None}
    assert any("refit=False" in note and "no model fitted" in note for note in run.notes)
    assert store.load_run(run.run_id).feature_lineage == run.feature_lineage
    store.append_event("review", {"n": 1})  # (a report needs a logged event)
    with pytest.raises(ComplianceError, match=r"refit=False: no model was fitted on all"):
        compliance_report(pipe, output_path=tmp_path_factory.mktemp("r") / "r.json", **DEPLOYER)


def test_a_refitted_search_still_gives_its_best_pipeline_s_features():
    X, y = _data(0, "a")
    pipe = stp.TracedPipeline([("search", _search(1, refit=True))]).fit(X, y)
    kept = pipe[-1].best_estimator_[0].get_feature_names_out()
    assert list(pipe.lineage_.feature_lineage) == list(kept) == ["a"]
    assert not any("refit" in note for note in pipe.lineage_.notes)
