"""Removing the only row of a class (or the last rows of one) against a retrain.

A retrain without them has no such class. A convex model is refitted, which is the
retrain (a binary RidgeClassifier fits the one class left; its next removal was
certified at the wrong coding of that class: intercept +1, a retrain's -1, and predict
raised). A neural model's correction keeps the network trained with the class, its
output and ``classes_``: it is refused, and nothing changes.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier

import sktraceprop as stp
from sktraceprop.exceptions import UnlearningError
from sktraceprop.unlearning import GradientCorrectionUnlearner

TAKES = r"takes every row of 1 class\(es\)"


def _X(name, n=60, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(dtype)
    return stp.from_numpy(X, f"lone_class_{name}"), X


def _three_classes(n=60):
    """Classes 0 and 1, and class 2 in rows 57-59 only."""
    return np.r_[np.zeros(30), np.ones(n - 33), np.full(3, 2)].astype(int)


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(solver="newton-cholesky", tol=1e-12),
        RidgeClassifier(),
        SGDClassifier(loss="log_loss", random_state=0),
    ],
)
def test_removing_the_last_rows_of_a_class_is_the_retrain(estimator):
    X, raw = _X(type(estimator).__name__, dtype=np.float64)
    y, ids = _three_classes(), stp.row_ids(X)
    unl = GradientCorrectionUnlearner(estimator).fit(X, y)
    unl.unlearn(sample_id=ids[[57, 58]])  # class 2 keeps one row
    assert unl.classes_.tolist() == [0, 1, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (SGD's refit may not converge)
        unl.unlearn(sample_id=ids[[59]])  # its last row
        retrain = clone(estimator).fit(raw[:57], y[:57])
    event = unl.unlearning_log_[-1]
    assert event["method"] == "refit" and "only removed rows had" in event["note"]
    assert unl.classes_.tolist() == retrain.classes_.tolist() == [0, 1]
    np.testing.assert_allclose(unl.estimator_.coef_, retrain.coef_, atol=1e-6)
    np.testing.assert_allclose(unl.decision_function(X), retrain.decision_function(raw))
    assert set(unl.predict(X).tolist()) <= {0, 1}


def test_binary_ridge_classifier_left_with_one_class_is_the_retrain_after():
    X, raw = _X("ridge_binary", dtype=np.float64)
    y, ids = np.r_[np.zeros(59), [1]].astype(int), stp.row_ids(X)
    unl = GradientCorrectionUnlearner(RidgeClassifier()).fit(X, y)
    unl.unlearn(sample_id=ids[[59]])
    retrain = RidgeClassifier().fit(raw[:59], y[:59])  # scikit-learn fits the one class
    event = unl.unlearning_log_[-1]
    assert event["method"] == "refit" and event["certificate"] < 1e-8
    assert "not certified" not in event["note"]  # (it said its solver stopped at 4.13)
    np.testing.assert_allclose(unl.estimator_.intercept_, retrain.intercept_)
    # the next removal is certified at the retrain, not at the class coded +1
    unl.unlearn(sample_id=ids[[0]])
    retrain = RidgeClassifier().fit(raw[1:59], y[1:59])
    assert unl.unlearning_log_[-1]["certificate"] < 1e-8
    np.testing.assert_allclose(unl.estimator_.intercept_, retrain.intercept_, atol=1e-10)
    np.testing.assert_allclose(unl.estimator_.coef_, retrain.coef_, atol=1e-10)
    np.testing.assert_array_equal(unl.predict(X), retrain.predict(raw))


def _skorch(binary):
    torch = pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from sklearn.preprocessing import FunctionTransformer

    from tests._torch_nets import tanh_classifier

    torch.manual_seed(0)
    net = tanh_classifier(binary)
    # skorch reads a DataFrame as a dict of columns: hand it an array
    return stp.TracedPipeline([("f32", FunctionTransformer(_float32)), ("net", net)])


def _float32(X):
    return np.asarray(X, dtype=np.float32)


def _jax(binary):
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=(6,))
    return JaxClassifier(apply_fn, init_fn, n_epochs=10, random_state=0)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("make", [_skorch, _jax])
def test_neural_removal_of_a_class_is_refused_and_changes_nothing(make, binary):
    model = make(binary)
    X, raw = _X(f"{make.__name__}_{binary}")
    y = np.r_[np.zeros(57), np.ones(3)] if binary else _three_classes()
    y = y.astype(np.float32 if binary and make is _skorch else int)
    ids = stp.row_ids(X)
    unl = GradientCorrectionUnlearner(model, calibration="none", n_steps=2).fit(X, y)
    unl.unlearn(sample_id=ids[[57, 58]])  # the class keeps one row: corrected
    assert len(unl.unlearning_log_) == 1
    before = unl.predict_proba(X), unl.classes_.copy(), unl.retained_mask_.copy()
    last = 1 if binary else 2
    with pytest.raises(UnlearningError, match=rf"{TAKES} \(\[{last}\]: 1 of the 2 rows"):
        unl.unlearn(sample_id=ids[[0, 59]])
    np.testing.assert_array_equal(unl.predict_proba(X), before[0])
    np.testing.assert_array_equal(unl.classes_, before[1])
    np.testing.assert_array_equal(unl.retained_mask_, before[2])
    assert len(unl.unlearning_log_) == 1
    # the truth: a retrain on the retained rows has no row of the class (a JaxClassifier
    # has no such class, or refuses the one left)
    keep = np.setdiff1d(np.arange(57), [0])
    assert last not in y[keep]
    if make is _jax:
        if binary:
            with pytest.raises(ValueError, match="at least 2 classes"):
                clone(model).fit(raw[keep], y[keep])
        else:
            assert clone(model).fit(raw[keep], y[keep]).classes_.tolist() == [0, 1]
    unl.unlearn(sample_id=ids[[0]])  # a removal that leaves every class works
    assert len(unl.unlearning_log_) == 2


@pytest.mark.parametrize("make", [_skorch, _jax])
def test_neural_forget_at_fit_of_a_lone_class_row_is_refused(make):
    X, _ = _X(f"{make.__name__}_forget")
    y, ids = _three_classes(), stp.row_ids(X)
    unl = GradientCorrectionUnlearner(
        make(False), forget=ids[[57, 58, 59]].tolist(), calibration="none", n_steps=2
    )
    with pytest.raises(UnlearningError, match=rf"{TAKES} \(\[2\]: 3 of the 3 rows"):
        unl.fit(X, y)


def test_the_refusal_says_how_to_retrain_and_that_retrain_works():
    X, _ = _X("skorch_retrain")
    y, ids = _three_classes(), stp.row_ids(X)
    unl = GradientCorrectionUnlearner(_skorch(False), calibration="none", n_steps=2).fit(X, y)
    with pytest.raises(UnlearningError) as refused:
        unl.unlearn(sample_id=ids[57:])
    said = str(refused.value)
    assert "fit the unlearner again on the data without these rows" in said
    assert "(unlearner.fit(X_kept, y_kept))" in said and "new unlearning_log_" in said
    # what it says, done: a retrain without them has no such class, and an empty log
    kept = ~np.isin(ids, ids[57:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the first fit's copies hold the rows: said)
        unl.fit(X[kept], y[kept])
    assert unl.classes_.tolist() == [0, 1] and unl.unlearning_log_ == []
    np.testing.assert_array_equal(unl.train_row_ids_, ids[kept])
