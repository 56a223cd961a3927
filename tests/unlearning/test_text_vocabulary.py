"""Unlearning rows of a free-text column: the vocabulary and IDF are refitted.

A ``TfidfVectorizer``/``CountVectorizer`` learns its vocabulary and IDF from every
training row, so removing rows changes the features themselves: a term only removed
rows had vanishes, a ``min_df`` or ``max_features`` limit leaves out another, and a
``max_df`` limit lets in a term it excluded before. Each case is checked against a
retrain of the whole pipeline without the rows (predictions, coefficients, feature
names), and the unlearner's copy of the run must name the features the model now has.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.unlearning._convex import MAX_NEWTON_PARAMS
from tests._text_data import notes_file, random_notes, text_pipeline


def _names(pipe):
    try:
        return [str(n) for n in pipe[:-1].get_feature_names_out()]
    except AttributeError:  # HashingVectorizer names no features
        return None


def _unlearn_and_retrain(pipe, X, y, removed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fillna note: tested elsewhere
        unl = stp.GradientCorrectionUnlearner(clone(pipe)).fit(X, y)
        unl.unlearn(sample_id=stp.row_ids(X)[removed])
        retrained = clone(pipe).fit(X[~removed], y[~removed])
    return unl, retrained


def _assert_equals_retrain(unl, retrained, X, atol):
    est = unl.estimator_
    assert _names(est) == _names(retrained)
    assert_allclose(est[-1].coef_, retrained[-1].coef_, atol=atol)
    assert_allclose(est.decision_function(X), retrained.decision_function(X), atol=atol)
    names = _names(retrained)
    if names is not None:
        # the unlearner's copy of the run names the features the model now has
        run = est.lineage_
        assert list(run.feature_lineage) == names
        assert run.ops[-2].features_out == names


@pytest.mark.parametrize(
    "vectorizer, word, dropped",
    [
        (TfidfVectorizer(), "java", ["tfidfvectorizer__java"]),
        (CountVectorizer(min_df=3), "java", None),
        (TfidfVectorizer(max_features=6), "java", None),
        (TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), "naïve", None),
        (HashingVectorizer(n_features=64), "java", None),
    ],
)
def test_unlearning_text_rows_equals_a_retrain(tmp_path, vectorizer, word, dropped):
    X, y, _ = notes_file(tmp_path, seed=0, n=80)
    removed = X["text"].str.contains(word).to_numpy()
    assert 0 < removed.sum() < 20
    pipe = text_pipeline(vectorizer)
    unl, retrained = _unlearn_and_retrain(pipe, X, y, removed)
    _assert_equals_retrain(unl, retrained, X, atol=1e-5)
    event = unl.unlearning_log_[-1]
    assert event["n_removed"] == removed.sum()
    before, after = _names(clone(pipe).fit(X, y)), _names(retrained)
    if dropped is not None:
        assert sorted(set(before) - set(after)) == dropped
    if before is not None and before != after:
        # the event counts the features that went, and names none of them
        gone = len(set(before) - set(after))
        assert f"{gone} feature(s)" in event["note"]
        assert not any(name.split("__")[1] in event["note"] for name in before)


def _max_df_case():
    """Notes in which ``alpha`` is in 14 of 40 rows: above ``max_df=0.34``, so left
    out; without three of those rows it is in 11 of 37, below, and a retrain keeps it."""
    rng = np.random.default_rng(1)
    texts = [
        " ".join(
            (["alpha"] if i < 14 else []) + list(rng.choice(["beta", "gamma", "delta", "eps"], 2))
        )
        for i in range(40)
    ]
    frame = pd.DataFrame(
        {"text": texts, "x": rng.normal(size=40), "label": rng.integers(0, 2, 40)}
    )
    frame = stp.from_pandas(frame, source_id="notes")
    removed = np.zeros(40, dtype=bool)
    removed[:3] = True
    return frame[["text", "x"]], frame["label"], removed


def test_a_term_a_limit_let_in_after_the_removal_is_in_the_run_copy():
    # found by unlearning rows of a TfidfVectorizer(max_df=...) pipeline: the model had
    # the new feature, the unlearner's copy of the run still listed the fit's features
    X, y, removed = _max_df_case()
    pipe = text_pipeline(TfidfVectorizer(max_df=0.34))
    assert "tfidfvectorizer__alpha" not in _names(clone(pipe).fit(X, y))
    unl, retrained = _unlearn_and_retrain(pipe, X, y, removed)
    assert "tfidfvectorizer__alpha" in _names(retrained)
    _assert_equals_retrain(unl, retrained, X, atol=1e-6)
    run = unl.estimator_.lineage_
    assert run.feature_sources()["tfidfvectorizer__alpha"] == ["notes"]
    assert any("added 1 feature name(s)" in note for note in run.notes)
    event = unl.unlearning_log_[-1]
    assert event["method"] == "refit"
    assert "3 features instead of 2, 1 of them new" in event["note"]
    assert "cannot be matched" not in event["note"]
    assert "alpha" not in event["note"]


def _large_vocabulary(n_rows, n_terms, seed):
    """Notes of 40 words each over ``n_terms`` distinct words, every word used."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(n_terms)])
    order = np.concatenate([rng.permutation(n_terms), rng.integers(0, n_terms, 40 * n_rows)])
    texts = [" ".join(words[order[i::n_rows]][:40]) for i in range(n_rows)]
    x = rng.normal(size=n_rows)
    label = (np.char.find(np.array(texts), "w1 ") >= 0) | (rng.random(n_rows) < 0.4)
    frame = pd.DataFrame({"text": texts, "x": x, "label": label.astype(int)})
    frame = stp.from_pandas(frame, source_id="cvs")
    return frame[["text", "x"]], frame["label"]


def test_a_large_vocabulary_is_newton_corrected_through_the_rows():
    # found timing a 9,000-term TF-IDF pipeline: a removal took 94 s building and
    # factorising the dense 9,029 x 9,029 Hessian of refitted features, so it refitted;
    # the Newton steps now go through the 300 retained rows (matrix-free CG), no p x p matrix
    X, y = _large_vocabulary(300, MAX_NEWTON_PARAMS + 500, seed=0)
    pipe = text_pipeline(CountVectorizer(), LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000))
    removed = np.zeros(300, dtype=bool)
    removed[::7] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fillna note: tested elsewhere
        unl = stp.GradientCorrectionUnlearner(clone(pipe), tol=1e-12).fit(X, y)
        unl.unlearn(sample_id=stp.row_ids(X)[removed])
        # the truth: a retrain, its solver converged far below the unlearner's tol
        retrained = clone(pipe).set_params(logisticregression__solver="newton-cg")
        retrained.fit(X[~removed], y[~removed])
    event = unl.unlearning_log_[-1]
    n_params = unl.estimator_[-1].coef_.size + 1
    assert n_params > MAX_NEWTON_PARAMS
    assert event["method"] == "newton"
    # the certificate is the retained objective's gradient at the corrected model,
    # measured here again, independently of the event
    assert event["certificate"] <= event["tol"]
    final = unl.estimator_[-1]
    Z = unl.estimator_[:-1].transform(X[~removed])
    objective = stp.gradients.linear_model_objective(final)
    gradient = objective.objective_gradient(Z, y[~removed])
    assert np.linalg.norm(gradient) / Z.shape[0] == pytest.approx(event["certificate"], rel=1e-6)
    _assert_equals_retrain(unl, retrained, X, atol=1e-7)


def test_a_model_on_a_large_vocabulary_is_newton_corrected_and_holds_no_hessian():
    # a model fitted on the vectorized notes themselves: its unlearner's fit built the
    # dense Hessian (9 s at 4,738 terms) and each removal downdated and factorised it
    # (16 s), where the model's own fit takes 0.2 s; now neither fit nor removal holds
    # a p x p matrix, and two removals in a row reach the retrain
    X, y = _large_vocabulary(300, MAX_NEWTON_PARAMS + 500, seed=1)
    Z = CountVectorizer().fit_transform(X["text"])
    ids = stp.row_ids(X)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, 300)
    model = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000)
    unl = stp.GradientCorrectionUnlearner(clone(model), tol=1e-12)
    unl.fit(Z, y, sample_id=ids, sample_weight=sw)
    assert unl._method.hessian is None
    removed = np.zeros(300, dtype=bool)
    for start in (0, 4):
        step = np.zeros(300, dtype=bool)
        step[start::9] = True
        removed |= step
        unl.unlearn(sample_id=ids[step])
        event = unl.unlearning_log_[-1]
        assert event["method"] == "newton" and event["certificate"] <= event["tol"]
        assert unl._method.hessian is None
    retrained = clone(model).set_params(solver="newton-cg")
    retrained.fit(Z[~removed], y[~removed], sample_weight=sw[~removed])
    assert_allclose(unl.estimator_.coef_, retrained.coef_, atol=1e-7)
    assert_allclose(unl.estimator_.decision_function(Z), retrained.decision_function(Z), atol=1e-7)


def test_a_large_vocabulary_without_a_penalty_is_refitted_and_says_why():
    # no L2 penalty: the Hessian of more parameters than rows is singular, no
    # matrix-free step applies, and the removal refits as a retrain does
    X, y = _large_vocabulary(300, MAX_NEWTON_PARAMS + 500, seed=3)
    Z = CountVectorizer().fit_transform(X["text"])
    ids = stp.row_ids(X)
    model = LogisticRegression(C=np.inf, max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(clone(model)).fit(Z, y, sample_id=ids)
        unl.unlearn(sample_id=ids[:5])
    event = unl.unlearning_log_[-1]
    assert event["method"] == "refit"
    assert f"the model has {Z.shape[1] + 1} parameters" in event["note"]
    assert (
        "the matrix-free steps do not apply (the coefficients have no L2 penalty"
        in (event["note"])
    )


def test_the_stored_run_caveat_does_not_say_retained_terms_were_removed_rows_only(tmp_path):
    # CountVectorizer(min_df=9): removing the notes with "java" drops "java" (only
    # they had it) and terms retained rows have, now in fewer than 9; the caveat said
    # every dropped name was one "only removed rows produced"
    X, y, _ = notes_file(tmp_path, seed=0, n=80)
    removed = X["text"].str.contains("java").to_numpy()
    pipe = text_pipeline(CountVectorizer(min_df=9), store=stp.stores.MemoryStore())
    unl, retrained = _unlearn_and_retrain(pipe, X, y, removed)
    before = set(_names(clone(pipe).fit(X, y)))
    gone = sorted(before - set(_names(retrained)))
    kept_by_retained = [
        g for g in gone if X["text"][~removed].str.contains(g.split("__")[1]).any()
    ]
    assert kept_by_retained  # a dropped term that retained rows do have
    caveat = unl.unlearning_log_[-1]["caveat"]
    assert f"lists {len(gone)} feature name(s) the refitted preprocessing no longer" in caveat
    assert "only removed rows produced" not in caveat


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    limit=st.sampled_from(
        [{}, {"min_df": 3}, {"max_df": 0.3}, {"max_features": 5}, {"ngram_range": (1, 2)}]
    ),
    share=st.floats(0.05, 0.4),
)
def test_any_removal_of_notes_equals_a_retrain(seed, limit, share):
    rng = np.random.default_rng(seed)
    texts = [t or "" for t in random_notes(rng, 50)]
    frame = pd.DataFrame({"text": texts, "x": rng.normal(size=50)})
    frame["label"] = (frame["text"].str.contains("fever|java") | (rng.random(50) < 0.3)).astype(
        int
    )
    frame = stp.from_pandas(frame, source_id="notes")
    X, y = frame[["text", "x"]], frame["label"]
    removed = rng.random(50) < share
    assume(0 < removed.sum() < 45 and y[~removed].nunique() == 2)
    pipe = text_pipeline(TfidfVectorizer(**limit))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clone(pipe).fit(X, y)
            clone(pipe).fit(X[~removed], y[~removed])
        except ValueError:  # no term left under the limit: a retrain fails too
            assume(False)
    unl, retrained = _unlearn_and_retrain(pipe, X, y, removed)
    _assert_equals_retrain(unl, retrained, X, atol=1e-5)
