"""A corrected model's inputs, where a removal changed them, in its event and report.

Found by reporting a model a removal left: the refitted TfidfVectorizer let in a term a
``max_df`` limit left out at fit, and the report's feature lineage (the run as fitted)
listed two inputs of a model that takes three, naming none of the new one. The truth
each case is checked against is a retrain of the whole pipeline without the rows.
"""

import json
import warnings

import hypothesis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

import sktraceprop as stp
from sktraceprop.compliance import compliance_report
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ReportVerificationError
from tests._text_data import text_pipeline
from tests.stores._store_helpers import DEPLOYER
from tests.unlearning.test_text_vocabulary import _max_df_case


def _names(pipe):
    return [str(n) for n in pipe[:-1].get_feature_names_out()]


def _removed_and_retrained(store, vectorizer, X, y, removed):
    pipe = text_pipeline(vectorizer, store=store, log_predictions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fillna note and convergence: tested elsewhere
        unl = stp.GradientCorrectionUnlearner(clone(pipe)).fit(X, y)
        fitted = _names(unl.estimator_)
        unl.unlearn(sample_id=stp.row_ids(X)[removed])
        unl.predict(X.iloc[:2])
        retrained = clone(pipe).set_params(store=None, log_predictions=False)
        retrained.fit(X[~removed], y[~removed])
    return unl, fitted, _names(retrained)


def test_a_term_a_limit_let_in_is_named_in_the_event_and_the_report(tmp_path):
    X, y, removed = _max_df_case()
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    unl, fitted, truth = _removed_and_retrained(store, TfidfVectorizer(max_df=0.34), X, y, removed)
    added = [name for name in truth if name not in fitted]
    assert added == ["tfidfvectorizer__alpha"]  # the case: a retrain lets alpha in
    (event,) = [e for e in store.events() if e["kind"] == "unlearning"]
    assert event["payload"]["features_after"] == {
        "n_features": len(truth),
        "n_features_at_fit": len(fitted),
        "added_since_fit": added,
        "n_dropped_since_fit": 0,
    }
    assert unl.estimator_[-1].n_features_in_ == len(truth)
    report = compliance_report(unl, **DEPLOYER)
    data = report.to_dict()
    lineage = data["feature_lineage"]
    # the run as fitted, and beside it what the removal left
    assert [f["feature"] for f in lineage["features"]] == fitted
    after = lineage["after_removal"]
    assert after["seq"] == event["seq"] == data["model"]["fitted_object_after_removal"]["seq"]
    assert (after["n_features"], after["added"], after["n_dropped"]) == (len(truth), added, 0)
    assert f"takes {len(truth)} input(s), not the {len(fitted)}" in after["note"]
    (art10,) = [a for a in data["articles"] if a["article"] == "10"]
    assert "tfidfvectorizer__alpha" in art10["why"]
    assert "tfidfvectorizer__alpha" in report.to_html()
    assert report.verify(store=store)


def test_a_later_removal_that_keeps_the_inputs_carries_them_on(tmp_path):
    X, y, removed = _max_df_case()
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    unl, fitted, _ = _removed_and_retrained(store, TfidfVectorizer(max_df=0.34), X, y, removed)
    later = np.zeros(len(X), dtype=bool)
    later[-2:] = True  # rows without alpha: 11 of 35 rows have it, below max_df still
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(sample_id=stp.row_ids(X)[later])
        unl.predict(X.iloc[:2])
        truth = _names(
            text_pipeline(TfidfVectorizer(max_df=0.34)).fit(
                X[~(removed | later)], y[~(removed | later)]
            )
        )
    assert "tfidfvectorizer__alpha" in truth
    first, second = [e for e in store.events() if e["kind"] == "unlearning"]
    assert second["payload"]["features_after"] == first["payload"]["features_after"]
    after = compliance_report(unl, **DEPLOYER).to_dict()["feature_lineage"]["after_removal"]
    assert after["seq"] == second["seq"]
    assert after["added"] == [name for name in truth if name not in fitted]
    assert after["n_features"] == len(truth)


def test_an_edited_after_removal_fails_verification_against_the_store(tmp_path):
    X, y, removed = _max_df_case()
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    unl, _, _ = _removed_and_retrained(store, TfidfVectorizer(max_df=0.34), X, y, removed)
    edited = compliance_report(unl, **DEPLOYER).to_dict()
    # edited whole: the articles made again from it, the hash recomputed
    edited["feature_lineage"]["after_removal"]["added"] = []
    body = {k: v for k, v in edited.items() if k not in ("articles", "integrity")}
    edited["articles"] = articles(body)
    edited["integrity"] = seal(body_of(edited))
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    with pytest.warns(UserWarning, match="only the report's own content"):
        assert stp.compliance.verify(path)  # consistent in itself
    with pytest.raises(ReportVerificationError) as info:
        stp.compliance.verify(path, store=store)
    assert "/feature_lineage/after_removal/added differs from the store's run record" in (
        info.value.problems
    )


def test_a_removal_that_keeps_the_inputs_adds_nothing(tmp_path):
    X, y, _ = _max_df_case()
    removed = np.zeros(len(X), dtype=bool)
    removed[-2:] = True  # rows without alpha: the vocabulary stays
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    unl, fitted, truth = _removed_and_retrained(store, TfidfVectorizer(max_df=0.34), X, y, removed)
    assert truth == fitted
    (event,) = [e for e in store.events() if e["kind"] == "unlearning"]
    assert "features_after" not in event["payload"]
    assert "after_removal" not in compliance_report(unl, **DEPLOYER).to_dict()["feature_lineage"]


def _notes(words, rows):
    texts = [" ".join(words[i] for i in row) for row in rows]
    rng = np.random.default_rng(len(texts))
    frame = pd.DataFrame(
        {"text": texts, "x": rng.normal(size=len(texts)), "label": np.arange(len(texts)) % 2}
    )
    frame = stp.from_pandas(frame, source_id="notes")
    return frame[["text", "x"]], frame["label"]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=4), min_size=8, max_size=14),
    removed_bits=st.lists(st.booleans(), min_size=14, max_size=14),
    limits=st.sampled_from(
        [{"min_df": 2}, {"max_df": 0.4}, {"max_features": 3}, {"min_df": 2, "max_df": 0.6}]
    ),
)
def test_the_inputs_after_a_removal_are_those_of_a_retrain(
    tmp_path_factory, rows, removed_bits, limits
):
    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta"]
    X, y = _notes(words, rows)
    removed = np.asarray(removed_bits[: len(X)])
    if removed.all() or not removed.any() or len(set(y[~removed])) < 2:
        return
    vectorizer = CountVectorizer(**limits)
    try:
        clone(vectorizer).fit(X["text"][~removed])
        _names(text_pipeline(clone(vectorizer)).fit(X, y))
    except ValueError:  # no term passes the limits: nothing to fit
        return
    store = stp.stores.SQLiteStore(tmp_path_factory.mktemp("h") / "s.db")
    unl, fitted, truth = _removed_and_retrained(store, vectorizer, X, y, removed)
    (event,) = [e for e in store.events() if e["kind"] == "unlearning"]
    changed = event["payload"].get("features_after")
    hypothesis.event("inputs changed" if truth != fitted else "inputs kept")
    if truth == fitted:
        assert changed is None
        return
    assert changed == {
        "n_features": len(truth),
        "n_features_at_fit": len(fitted),
        "added_since_fit": [name for name in truth if name not in fitted],
        "n_dropped_since_fit": sum(name not in truth for name in fitted),
    }
    lineage = compliance_report(unl, **DEPLOYER).to_dict()["feature_lineage"]
    assert lineage["after_removal"]["added"] == changed["added_since_fit"]
    json.dumps(lineage)  # JSON data
