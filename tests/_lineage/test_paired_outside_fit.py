"""Targets, weights and masks whose row ids put them in another order than their rows.

scikit-learn pairs ``X`` with ``y`` (and ``sample_weight``) by position. A traced fit
refuses a ``y`` whose row ids (a traced Series' index) are in another order than
``X``'s; the explainer's, the valuer's and the unlearner's own methods did not: a
shuffled ``y`` gave every training row another row's label in ``InfluenceExplainer.fit``
and ``KNNShapleyValuer.fit``/``value``/``score`` without a word, a shuffled
``sample_weight`` gave the unlearner's rows other rows' weights (it copies them to an
array before the traced fit sees them), and ``unlearn(mask=<shuffled Series>)`` removed
the rows at the mask's positions, not the ones it marked. The truth each case is
compared with is the same call on the data in order (or on the row ids marked).
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, UnlearningError

# the unlearners and pipelines a test keeps are named as holding removed rows: not the point
pytestmark = pytest.mark.filterwarnings("ignore:other fitted objects:UserWarning")


def _data(n=60, seed=0, name="paired"):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
    frame["label"] = (frame["a"] + 0.5 * rng.normal(size=n) > 0).astype(int)
    frame = stp.from_pandas(frame, f"{name}_{seed}")
    return frame[["a", "b"]], frame["label"]


def _pipe():
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(C=1.0, tol=1e-10))


def _shuffled(s, seed=1):
    return s.sample(frac=1, random_state=seed)


def test_explainer_fit_refuses_shuffled_target():
    X, y = _data()
    pipe = _pipe().fit(X, y)
    with pytest.raises(LineageError, match="y is not in the order of X"):
        stp.InfluenceExplainer(pipe).fit(X, _shuffled(y))
    weights = pd.Series(np.linspace(0.5, 2, len(X)), index=X.index)
    with pytest.raises(LineageError, match="sample_weight is not in the order of X"):
        stp.InfluenceExplainer(_pipe()).fit(X, y, sample_weight=_shuffled(weights))
    # in order: the same scores as with plain arrays
    ex = stp.InfluenceExplainer(pipe).fit(X, y)
    plain = stp.InfluenceExplainer(pipe).fit(X, y.to_numpy())
    got = ex.explain(X.iloc[:4], y.iloc[:4], keep_scores=True).scores
    want = plain.explain(X.iloc[:4], y.iloc[:4].to_numpy(), keep_scores=True).scores
    np.testing.assert_array_equal(got, want)


def test_explain_and_score_refuse_shuffled_target():
    X, y = _data()
    ex = stp.InfluenceExplainer(_pipe().fit(X, y)).fit(X, y)
    with pytest.raises(LineageError, match="before explain or score"):
        ex.explain(X.iloc[:10], _shuffled(y.iloc[:10]))
    with pytest.raises(LineageError, match="y is not in the order of X"):
        ex.score(X.iloc[:10], _shuffled(y.iloc[:10]))


def test_valuer_refuses_shuffled_target():
    X, y = _data()
    Xs = X.sort_values("a")
    with pytest.raises(LineageError, match="y is not in the order of X"):
        stp.KNNShapleyValuer(n_neighbors=3).fit(Xs, y)
    val = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    with pytest.raises(LineageError, match="before valuing"):
        val.value(X.iloc[:20], _shuffled(y.iloc[:20]))
    with pytest.raises(LineageError, match="y is not in the order of X"):
        val.score(X.iloc[:20], _shuffled(y.iloc[:20]))
    # sorted together, the values are the in-order ones, moved with their rows
    sorted_val = stp.KNNShapleyValuer(n_neighbors=3).fit(Xs, y.loc[Xs.index])
    got = sorted_val.value(X.iloc[:20], y.iloc[:20])
    want = val.value(X.iloc[:20], y.iloc[:20])
    order = pd.Series(np.arange(len(X)), index=X.index).loc[Xs.index].to_numpy()
    np.testing.assert_allclose(got, want[order], atol=1e-12)


def test_unlearner_fit_refuses_shuffled_weights():
    X, y = _data()
    weights = pd.Series(np.linspace(0.5, 2, len(X)), index=X.index)
    unl = stp.GradientCorrectionUnlearner(_pipe())
    with pytest.raises(LineageError, match="sample_weight is not in the order of X"):
        unl.fit(X, y, sample_weight=_shuffled(weights))
    assert not hasattr(unl, "estimator_")  # refused before anything was fitted
    # in order: the weights as an array give the same model
    a = stp.GradientCorrectionUnlearner(_pipe()).fit(X, y, sample_weight=weights)
    b = stp.GradientCorrectionUnlearner(_pipe()).fit(X, y, sample_weight=weights.to_numpy())
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_unlearn_refuses_mask_in_another_order():
    X, y = _data()
    unl = stp.GradientCorrectionUnlearner(_pipe()).fit(X, y)
    before = unl.predict_proba(X)
    marked = _shuffled(X["a"] > 1.0)
    with pytest.raises(UnlearningError, match="not the training rows in their order"):
        unl.unlearn(mask=marked)
    assert unl.unlearning_log_ == []  # nothing was changed
    np.testing.assert_array_equal(unl.predict_proba(X), before)
    # the remedy the message names removes exactly the marked rows
    unl.unlearn(sample_id=marked.index[marked])
    removed = np.sort(np.asarray(unl.unlearning_log_[-1]["row_ids"]))
    np.testing.assert_array_equal(removed, np.sort(X.index[X["a"] > 1.0].to_numpy()))


def test_unlearn_takes_mask_in_order_and_plain_masks():
    X, y = _data()
    a = stp.GradientCorrectionUnlearner(_pipe()).fit(X, y)
    b = stp.GradientCorrectionUnlearner(_pipe()).fit(X, y)
    a.unlearn(mask=X["a"] > 1.0)  # a traced Series in the training order
    b.unlearn(mask=(X["a"] > 1.0).to_numpy())
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # a Series without row ids (reset_index) is taken by position, as documented
    c = stp.GradientCorrectionUnlearner(_pipe()).fit(X, y)
    c.unlearn(mask=(X["a"] > 1.0).reset_index(drop=True))
    np.testing.assert_array_equal(c.predict_proba(X), b.predict_proba(X))


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**16),
    permute=st.booleans(),
    share=st.floats(0.05, 0.5),
)
@example(seed=0, permute=True, share=0.3)
def test_mask_series_removes_the_rows_it_marks(seed, permute, share):
    """A mask Series is either refused, or removes exactly the rows it marks (by id),
    equal to a removal by those rows' ids."""
    X, y = _data(n=40, seed=seed % 7, name="paired_prop")
    rng = np.random.default_rng(seed)
    marks = pd.Series(rng.random(len(X)) < share, index=X.index)
    if not marks.any() or marks.all() or y[~marks.to_numpy()].nunique() < 2:
        return
    order = rng.permutation(len(X)) if permute else np.arange(len(X))
    mask = marks.iloc[order]
    unl = stp.GradientCorrectionUnlearner(_pipe()).fit(X, y)
    in_order = np.array_equal(mask.index.to_numpy(), X.index.to_numpy())
    if not in_order:
        with pytest.raises(UnlearningError, match="not the training rows in their order"):
            unl.unlearn(mask=mask)
        assert unl.unlearning_log_ == []
        return
    unl.unlearn(mask=mask)
    by_ids = stp.GradientCorrectionUnlearner(_pipe()).fit(X, y)
    by_ids.unlearn(sample_id=marks.index[marks.to_numpy()])
    np.testing.assert_array_equal(
        np.sort(np.asarray(unl.unlearning_log_[-1]["row_ids"])),
        np.sort(marks.index[marks.to_numpy()].to_numpy()),
    )
    np.testing.assert_allclose(unl.predict_proba(X), by_ids.predict_proba(X), atol=1e-12)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**16))
def test_valuer_takes_a_target_only_in_its_rows_order(seed):
    """KNN-Shapley values with a traced target: a permutation other than the identity
    is refused; the identity gives the values of the plain array."""
    X, y = _data(n=30, seed=seed % 5, name="paired_knn")
    order = np.random.default_rng(seed).permutation(len(X))
    val = stp.KNNShapleyValuer(n_neighbors=3)
    if np.array_equal(order, np.arange(len(X))):
        got = val.fit(X, y.iloc[order]).value(X, y)
        want = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y.to_numpy()).value(X, y.to_numpy())
        np.testing.assert_allclose(got, want, atol=1e-12)
    else:
        with pytest.raises(LineageError, match="y is not in the order of X"):
            val.fit(X, y.iloc[order])
