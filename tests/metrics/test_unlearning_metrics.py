"""Unlearning metrics against values computed by hand."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeClassifier
from sklearn.metrics import log_loss, mean_squared_error

import sktraceprop as stp
from sktraceprop.metrics import (
    forget_loss_gap_closed,
    function_space_distance_ratio,
    membership_inference_auc,
    per_sample_loss,
    score_delta,
    unlearning_report,
)


def _line(slope, intercept=0.0):
    """A fitted LinearRegression computing ``slope * x + intercept`` on one feature."""
    est = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    est.coef_ = np.array([float(slope)])
    est.intercept_ = float(intercept)
    return est


def _logit(slope, intercept=0.0, classes=(0, 1)):
    est = LogisticRegression().fit([[0.0], [1.0]], list(classes))
    est.coef_ = np.array([[float(slope)]])
    est.intercept_ = np.array([float(intercept)])
    return est


X = np.array([[1.0], [2.0], [-2.0]])


def test_distance_ratio_by_hand():
    # f_ret = 0, f_orig = x, f_unl = 0.1 x  ->  ||0.1 x|| / ||x|| = 0.1
    assert function_space_distance_ratio(_line(0.1), _line(0), _line(1), X) == pytest.approx(0.1)
    # Logits of classifiers: retrain 1 + x, original 1 + 3x, unlearned 1 + 1.5x -> 0.25
    ratio = function_space_distance_ratio(_logit(1.5, 1), _logit(1, 1), _logit(3, 1), X)
    assert ratio == pytest.approx(0.25)
    # Probabilities instead of logits
    p = [1 / (1 + np.exp(-(s * X[:, 0]))) for s in (1.5, 1.0, 3.0)]
    expected = np.linalg.norm(p[0] - p[1]) / np.linalg.norm(p[2] - p[1])
    got = function_space_distance_ratio(
        _logit(1.5), _logit(1), _logit(3), X, response_method="predict_proba"
    )
    # predict_proba has two columns, each differing by the same amounts: the ratio holds.
    assert got == pytest.approx(expected)


def test_distance_ratio_degenerate_cases():
    assert function_space_distance_ratio(_line(1), _line(1), _line(1), X) == 0.0
    assert function_space_distance_ratio(_line(2), _line(1), _line(1), X) == np.inf
    assert function_space_distance_ratio(_line(3), _line(1), _line(2), X) == pytest.approx(2.0)


def test_per_sample_loss_by_hand():
    # Regressor: squared error
    assert np.allclose(per_sample_loss(_line(2), X, [1.0, 1.0, 0.0]), [1.0, 9.0, 16.0])
    # Probabilistic classifier: -log p(true class); logit 0 -> log 2
    assert np.allclose(per_sample_loss(_logit(0), X, [0, 1, 1]), np.log(2))
    z = 2.0 * X[:, 0]
    expected = np.log1p(np.exp(-z * np.array([1, -1, 1])))
    assert np.allclose(per_sample_loss(_logit(2), X, [1, 0, 1]), expected)
    # String labels use the class order of classes_
    assert np.allclose(
        per_sample_loss(_logit(2, classes=("no", "yes")), X, ["yes", "no", "yes"]), expected
    )
    # Classifier without probabilities: squared error against +-1 codes
    ridge = RidgeClassifier().fit([[0.0], [1.0]], [0, 1])
    ridge.coef_, ridge.intercept_ = np.array([[0.5]]), np.array([0.0])
    assert np.allclose(per_sample_loss(ridge, X, [1, 0, 0]), [0.25, 4.0, 0.0])


class _Float32Proba(LogisticRegression):
    def predict_proba(self, X):
        return super().predict_proba(X).astype(np.float32)


def test_per_sample_loss_of_float32_probabilities_is_not_capped_at_their_epsilon():
    # logit 20 against the true class: p = 2.06e-9, representable in float32, whose
    # epsilon (1.19e-7) would cap the loss at 15.9
    est = _Float32Proba().fit([[0.0], [1.0]], [0, 1])
    est.coef_, est.intercept_ = np.array([[20.0]]), np.array([0.0])
    loss = per_sample_loss(est, [[1.0], [-40.0]], [0, 1])
    assert loss[0] == pytest.approx(np.log1p(np.exp(20.0)), rel=1e-6)
    # an underflowed probability is clipped at float64's epsilon
    assert loss[1] == pytest.approx(-np.log(np.finfo(np.float64).eps))


def test_forget_gap_closed_by_hand():
    Xf, yf = np.array([[1.0], [1.0]]), np.array([0.0, 0.0])
    original, retrained = _line(0), _line(2)  # forget losses 0 and 4
    assert forget_loss_gap_closed(_line(1), retrained, original, Xf, yf) == pytest.approx(25.0)
    assert forget_loss_gap_closed(retrained, retrained, original, Xf, yf) == pytest.approx(100.0)
    # loss 9 > retrain's 4: over-unlearning, reported above 100%
    assert forget_loss_gap_closed(_line(3), retrained, original, Xf, yf) == pytest.approx(225.0)
    with pytest.warns(RuntimeWarning, match="no gap to close"):
        assert np.isnan(forget_loss_gap_closed(_line(3), original, original, Xf, yf))


def test_forget_gap_at_solver_noise_is_nan_as_in_the_report():
    """A gap of 1e-16 (solver noise) gave 1e18 %; the report called the same case nan.
    Truth by hand: forget losses are intercept**2 on targets 0."""
    Xf, yf = np.array([[1.0], [1.0]]), np.array([0.0, 0.0])
    Xt, yt = np.array([[0.0], [2.0]]), np.array([0.0, 1.0])
    for original, retrained in (
        (_line(0), _line(0, 1e-8)),  # losses 0 and 1e-16
        (_line(0, 1e6), _line(0, 1e6 + 2.5e-7)),  # 1e12 and 1e12 + 0.5: relative 5e-13
    ):
        with pytest.warns(RuntimeWarning, match="within a relative 1e-12"):
            gap = forget_loss_gap_closed(_line(0, 1), retrained, original, Xf, yf)
        assert np.isnan(gap)
        report = unlearning_report(_line(0, 1), retrained, original, Xf, yf, Xt, yt)
        assert np.isnan(report["forget_gap_closed_percent"])
    # a gap of 1e-10, above the tolerance, is measured: loss 0.25e-10 closes 25%
    gap = forget_loss_gap_closed(_line(0, 0.5e-5), _line(0, 1e-5), _line(0), Xf, yf)
    assert gap == pytest.approx(25.0)


@settings(deadline=None, max_examples=40)
@given(
    st.floats(-1e3, 1e3),
    st.floats(-1e-5, 1e-5),
    st.floats(-1e3, 1e3),
)
@example(0.0, 1e-8, 1.0)
def test_forget_gap_and_report_agree_on_no_gap(c_orig, delta, c_unl):
    """The function and the report call the same gaps nan; otherwise the gap is the
    hand formula on losses intercept**2."""
    Xf, yf = np.array([[1.0], [1.0]]), np.array([0.0, 0.0])
    Xt, yt = np.array([[0.0], [2.0]]), np.array([0.0, 1.0])
    models = _line(0, c_unl), _line(0, c_orig + delta), _line(0, c_orig)
    l_unl, l_ret, l_orig = ((c**2) for c in (c_unl, c_orig + delta, c_orig))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gap = forget_loss_gap_closed(*models, Xf, yf)
    report = unlearning_report(*models, Xf, yf, Xt, yt)
    assert np.isnan(gap) == np.isnan(report["forget_gap_closed_percent"])
    assert np.isnan(gap) == any("no gap to close" in str(w.message) for w in caught)
    if abs(l_ret - l_orig) > 1e-11 * max(1.0, l_orig):  # clearly a gap
        assert gap == pytest.approx(100 * (l_unl - l_orig) / (l_ret - l_orig), rel=1e-3)
    elif abs(l_ret - l_orig) < 1e-13 * max(1.0, l_orig):  # clearly none
        assert np.isnan(gap)


def test_score_delta_by_hand():
    y = np.array([1, 1, 0])
    # _logit(1) predicts [1, 1, 0] (accuracy 1); _logit(-1) predicts [0, 0, 1] (accuracy 0)
    assert score_delta(_logit(1), _logit(-1), X, y) == pytest.approx(1.0)
    assert score_delta(_line(1), _line(1), X, X[:, 0], scoring="r2") == 0.0


def test_membership_inference_auc_by_hand():
    # Constant-zero predictor: loss = y^2. Forget losses [0, 1], unseen [2, 0.5]:
    # forget beats unseen in 3 of 4 pairs -> AUC 0.75.
    zero = _line(0)
    Xf, yf = np.zeros((2, 1)), np.array([0.0, 1.0])
    Xu, yu = np.zeros((2, 1)), np.sqrt([2.0, 0.5])
    assert membership_inference_auc(zero, Xf, yf, Xu, yu) == pytest.approx(0.75)
    assert membership_inference_auc(zero, Xu, yu, Xf, yf) == pytest.approx(0.25)


def test_report_on_a_real_removal():
    rng = np.random.default_rng(0)
    Xa = rng.normal(size=(300, 4))
    y = (Xa @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=300) > 0).astype(int)
    X = stp.from_numpy(Xa, source_id="rows")
    forget = np.zeros(300, bool)
    forget[rng.choice(200, 20, replace=False)] = True
    train = np.arange(300) < 200
    model = LogisticRegression(C=0.05)
    unl = stp.GradientCorrectionUnlearner(model, tol=1e-10)
    unl.fit(Xa[train], y[train], sample_id=stp.row_ids(X)[train])
    original = LogisticRegression(C=0.05).fit(Xa[train], y[train])
    unl.unlearn(mask=forget[train])
    keep = train & ~forget
    retrained = LogisticRegression(C=0.05, tol=1e-12, max_iter=1000).fit(Xa[keep], y[keep])
    report = unlearning_report(
        unl.estimator_, retrained, original, Xa[forget], y[forget], Xa[~train], y[~train]
    )
    assert report["distance_ratio_test"] < 1e-4
    assert report["distance_ratio_forget"] < 1e-4
    assert report["forget_gap_closed_percent"] == pytest.approx(100.0, abs=0.01)
    assert report["verdict"] == "matches retrain"
    assert report["score_delta"] == 0.0
    assert report["mia_auc_unlearned"] == pytest.approx(report["mia_auc_retrained"], abs=1e-6)
    over = unlearning_report(
        _shift(retrained, 3.0),
        retrained,
        original,
        Xa[forget],
        y[forget],
        Xa[~train],
        y[~train],
    )
    assert over["verdict"] == "over-unlearning"


def _shift(model, factor):
    """A model pushed past the retrain, away from the original (over-unlearning)."""
    import copy

    out = copy.deepcopy(model)
    out.coef_ = model.coef_ * factor
    return out


def test_several_retrains_are_averaged_by_hand():
    Xf, yf = np.array([[1.0], [1.0]]), np.array([0.0, 0.0])
    original = _line(0)  # forget loss 0
    retrains = [_line(1), _line(3)]  # forget losses 1 and 9: mean 5
    # unlearned loss 4 closes 80% of the gap to the mean retrain loss
    assert forget_loss_gap_closed(_line(2), retrains, original, Xf, yf) == pytest.approx(80.0)
    assert forget_loss_gap_closed(_line(2), [_line(2)], original, Xf, yf) == pytest.approx(100.0)
    # mean output of the retrains is 2x: ||1.5x - 2x|| / ||0 - 2x|| = 0.25
    assert function_space_distance_ratio(_line(1.5), retrains, original, X) == pytest.approx(0.25)
    y = np.array([1, 1, 0])
    # accuracies 1 and 0: the mean retrain scores 0.5
    assert score_delta(_logit(1), [_logit(1), _logit(-1)], X, y) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="empty"):
        forget_loss_gap_closed(_line(2), [], original, Xf, yf)


def test_report_with_several_retrains_gives_the_noise_floor():
    Xf, yf = np.array([[1.0], [1.0]]), np.array([0.0, 0.0])
    Xt, yt = np.array([[0.5], [-1.0]]), np.array([0.2, -0.1])
    original, retrains = _line(0), [_line(1), _line(3)]
    report = unlearning_report(_line(2), retrains, original, Xf, yf, Xt, yt)
    assert report["n_retrained"] == 2
    # each retrain against the mean of both: losses 1 and 9 vs mean 5
    assert report["retrain_gap_closed_percent"] == pytest.approx([20.0, 180.0])
    # outputs x and 3x vs mean 2x: ||x - 2x|| / ||0 - 2x|| = 0.5 for both
    assert report["retrain_distance_ratio_test"] == pytest.approx([0.5, 0.5])
    single = unlearning_report(_line(2), retrains[0], original, Xf, yf, Xt, yt)
    assert "n_retrained" not in single
    assert single == unlearning_report(_line(2), [retrains[0]], original, Xf, yf, Xt, yt)


def test_no_gap_to_close_is_not_a_match_when_the_unlearned_model_differs():
    """When the removed rows did not move the model (rows of weight 0, say), the
    original and the retrain fit them alike, the gap is nan, and the verdict was
    "matches retrain" whatever the unlearned model was. Truth: the forget-set losses."""
    import copy

    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    retrained = LogisticRegression().fit(X[10:150], y[10:150])
    original = copy.deepcopy(retrained)
    args = (X[:10], y[:10], X[150:], y[150:])
    report = unlearning_report(copy.deepcopy(retrained), retrained, original, *args)
    assert np.isnan(report["forget_gap_closed_percent"])
    assert report["verdict"] == "matches retrain"
    off = _shift(retrained, 3.0)
    losses = [per_sample_loss(m, *args[:2]).mean() for m in (off, retrained)]
    assert abs(losses[0] - losses[1]) > 0.01
    report = unlearning_report(off, retrained, original, *args)
    assert np.isnan(report["forget_gap_closed_percent"])
    assert report["verdict"] == "differs from retrain"


def _wine_without_class(label):
    """Wine (standardised), a model on every row and a retrain without class ``label``."""
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    forget = y == label
    original = LogisticRegression().fit(X, y)
    retrained = LogisticRegression().fit(X[~forget], y[~forget])
    return X, y, forget, original, retrained


@pytest.mark.parametrize("label", [1, 2])
def test_loss_of_a_class_the_retrain_never_saw_is_the_cap(label):
    # a retrain without every row of class 1 has classes_ [0, 2]: the loss of a class-1
    # row was that of class 2 (searchsorted's position), 0.05-0.32 where the model
    # gives the class probability 0; without class 2 it was an IndexError
    X, y, forget, original, retrained = _wine_without_class(label)
    cap = -np.log(np.finfo(np.float64).eps)
    np.testing.assert_allclose(per_sample_loss(retrained, X[forget], y[forget]), cap)
    proba = retrained.predict_proba(X[~forget])
    column = [retrained.classes_.tolist().index(c) for c in y[~forget]]
    expected = -np.log(proba[np.arange(len(column)), column])
    np.testing.assert_allclose(per_sample_loss(retrained, X[~forget], y[~forget]), expected)
    # the gap closed by the retrain itself is 100%, by the original 0%
    assert forget_loss_gap_closed(retrained, retrained, original, X[forget], y[forget]) == 100.0
    assert forget_loss_gap_closed(original, retrained, original, X[forget], y[forget]) == 0.0


def test_loss_needs_labels_of_the_classes_type_and_probabilities_for_unknown_ones():
    X, y, forget, original, retrained = _wine_without_class(1)
    with pytest.raises(ValueError, match="string labels but the classes of .* are integer"):
        per_sample_loss(original, X[:3], y[:3].astype(str))
    ridge = RidgeClassifier().fit(X[~forget], y[~forget])
    with pytest.raises(ValueError, match=r"labels \[1\] are not classes of RidgeClassifier"):
        per_sample_loss(ridge, X[forget], y[forget])


def test_models_knowing_other_classes_compare_probabilities_over_all_classes():
    # the original's decision function has 3 columns, the retrain's (classes 0 and 2)
    # 2: they were compared by broadcasting, or column 1 against class 2's
    X, y, forget, original, retrained = _wine_without_class(1)
    unlearned = retrained
    with pytest.raises(ValueError, match="know different classes"):
        function_space_distance_ratio(unlearned, retrained, original, X)
    got = function_space_distance_ratio(
        unlearned, retrained, original, X, response_method="predict_proba"
    )
    assert got == 0.0
    noisy = LogisticRegression(C=0.01).fit(X[~forget], y[~forget])
    ret = np.zeros((len(y), 3))
    ret[:, [0, 2]] = retrained.predict_proba(X)
    unl = np.zeros((len(y), 3))
    unl[:, [0, 2]] = noisy.predict_proba(X)
    expected = np.linalg.norm(unl - ret) / np.linalg.norm(original.predict_proba(X) - ret)
    got = function_space_distance_ratio(
        noisy, retrained, original, X, response_method="predict_proba"
    )
    assert got == pytest.approx(expected, rel=1e-12)
    report = unlearning_report(
        noisy,
        retrained,
        original,
        X[forget],
        y[forget],
        X[~forget],
        y[~forget],
        response_method="predict_proba",
    )
    assert report["distance_ratio_test"] == pytest.approx(
        function_space_distance_ratio(
            noisy, retrained, original, X[~forget], response_method="predict_proba"
        )
    )


def _fitted(kind, n_classes, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3))
    if kind == "regressor":
        return X, X @ [1.0, -2.0, 0.5] + rng.normal(size=30), LinearRegression()
    y = np.digitize(X[:, 0] + 0.3 * rng.normal(size=30), np.linspace(-0.6, 0.6, n_classes - 1))
    return X, y, LogisticRegression() if kind == "proba" else RidgeClassifier()


@pytest.mark.parametrize("kind", ["proba", "ridge", "regressor"])
def test_per_sample_loss_pairs_each_row_with_its_own_target(kind):
    # y as a column (n, 1) broadcast against the n rows of probabilities to an (n, n)
    # loss, and a y shorter than X was paired with X's first rows: silently other losses
    X, y, est = _fitted(kind, 3, 0)
    est.fit(X, y)
    flat = per_sample_loss(est, X, y)
    assert flat.shape == (30,)
    np.testing.assert_array_equal(per_sample_loss(est, X, y.reshape(-1, 1)), flat)
    for X_, y_ in ((X, y[:20]), (X[:20], y)):
        with pytest.raises(ValueError, match=f"y has {len(y_)} rows, X {len(X_)}"):
            per_sample_loss(est, X_, y_)
    # the forget gap of a column of labels is that of the labels
    retrained, unlearned = clone(est).fit(X[5:], y[5:]), clone(est).fit(X[3:], y[3:])
    gap = forget_loss_gap_closed(unlearned, retrained, est, X[:5], y[:5])
    assert np.isfinite(gap)
    assert gap == forget_loss_gap_closed(unlearned, retrained, est, X[:5], y[:5].reshape(-1, 1))


def test_per_sample_loss_refuses_targets_of_another_width():
    X, y, est = _fitted("regressor", 0, 1)
    est.fit(X, y)
    with pytest.raises(ValueError, match="2 outputs per row, the predictions 1"):
        per_sample_loss(est, X, np.c_[y, y])


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(["proba", "regressor"]),
    st.integers(2, 4),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["array", "list", "column", "series"]),
)
@example("proba", 3, 0, "column")
def test_per_sample_loss_is_sklearns_loss_row_by_row(kind, n_classes, seed, form):
    X, y, est = _fitted(kind, n_classes, seed)
    est.fit(X, y)
    given_y = {
        "array": y,
        "list": y.tolist(),
        "column": y.reshape(-1, 1),
        "series": pd.Series(y, index=np.arange(30)[::-1]),
    }[form]
    got = per_sample_loss(est, X, given_y)
    if kind == "proba":
        proba = est.predict_proba(X)
        truth = [log_loss([t], [p], labels=est.classes_) for t, p in zip(y, proba)]
    else:
        truth = [mean_squared_error([t], [p]) for t, p in zip(y, est.predict(X))]
    np.testing.assert_allclose(got, truth, rtol=1e-10, atol=1e-12)


def test_predict_is_compared_only_for_two_numeric_classes():
    # predict's labels as numbers: class 2 is twice as far from 0 as class 1, and text
    # labels raised "could not convert string to float"
    X, y, est = _fitted("proba", 3, 2)
    models = [clone(est).set_params(C=c).fit(X, y) for c in (1.0, 0.3, 0.01)]
    with pytest.raises(ValueError, match="two numeric classes only"):
        function_space_distance_ratio(*models, X, response_method="predict")
    text = [clone(m).fit(X, np.array(["a", "b", "c"])[y]) for m in models]
    with pytest.raises(ValueError, match="two numeric classes only"):
        function_space_distance_ratio(*text, X, response_method="predict")
    binary = [clone(m).fit(X, (y > 0).astype(int)) for m in models]
    p_unl, p_ret, p_orig = (m.predict(X) for m in binary)
    want = np.sqrt(np.sum((p_unl - p_ret) ** 2) / np.sum((p_orig - p_ret) ** 2))
    got = function_space_distance_ratio(*binary, X, response_method="predict")
    assert got == pytest.approx(want)


def test_traced_targets_sorted_apart_from_their_rows_are_refused():
    # explain refuses a y in another order than X's traced rows; the loss, the attack
    # built on it and the score delta paired them by position, each row with another's label
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 3)), columns=list("abc"))
    frame["t"] = (frame.a > 0).astype(int)
    frame = stp.from_pandas(frame, "trial")
    X, y = frame[list("abc")], frame["t"]
    model = LogisticRegression().fit(X, y)
    apart = y.sort_values()
    assert (apart.to_numpy() != y.to_numpy()).any()
    for call in (
        lambda: per_sample_loss(model, X, apart),
        lambda: membership_inference_auc(model, X[:15], apart[:15], X[15:], y[15:]),
        lambda: score_delta(model, model, X, apart),
    ):
        with pytest.raises(ValueError, match="y is not in the order of X"):
            call()
    # in order, or as plain values paired deliberately, they are taken as given
    np.testing.assert_array_equal(
        per_sample_loss(model, X, y), per_sample_loss(model, X, y.values)
    )
    assert per_sample_loss(model, X, apart.to_numpy()).shape == (30,)


@pytest.mark.parametrize(
    "missing",
    [
        np.array([0, 1, np.nan]),
        np.array([0, 1, None], dtype=object),
        pd.array([0, 1, None], dtype="Int64"),
        pd.Series([0.0, 1.0, np.nan]),
    ],
)
@pytest.mark.parametrize("kind", ["proba", "ridge", "regressor"])
def test_a_missing_label_has_no_loss(missing, kind):
    # a NaN label was "a class the model never saw": the capped loss 36.04, silently
    X, y, est = _fitted(kind, 2, 3)
    est.fit(X, y)
    with pytest.raises(ValueError, match="1 missing labels or targets"):
        per_sample_loss(est, X[:3], missing)


class _NamedInputs(LogisticRegression):
    """A classifier whose rows come as a dict of arrays (as a two-input torch net's)."""

    def predict_proba(self, X):
        return super().predict_proba(np.c_[X["a"], X["b"]])


def test_rows_given_as_a_dict_of_arrays_are_counted_as_rows_not_keys():
    X, y, _ = _fitted("proba", 2, 4)
    model = _NamedInputs().fit(X, y)
    inputs = {"a": X[:, :2], "b": X[:, 2:]}
    np.testing.assert_allclose(
        per_sample_loss(model, inputs, y), per_sample_loss(LogisticRegression().fit(X, y), X, y)
    )
    with pytest.raises(ValueError, match="y has 29 rows, X 30"):
        per_sample_loss(model, inputs, y[:29])
