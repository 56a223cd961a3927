import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier

from sktraceprop import InfluenceExplainer
from sktraceprop.gradients import linear_model_objective


def _loo_correlation(explainer, est, X, y, Xte, yte, sw=None):
    scores = explainer.explain(Xte, yte, keep_scores=True).scores
    base = linear_model_objective(explainer.model_).margins(Xte, yte)[0]
    actual = np.empty_like(scores)
    for i in range(y.size):
        keep = np.arange(y.size) != i
        kw = {} if sw is None else {"sample_weight": sw[keep]}
        refit = clone(est).fit(X[keep], y[keep], **kw)
        actual[:, i] = linear_model_objective(refit).margins(Xte, yte)[0] - base
    return np.corrcoef(-scores.ravel(), actual.ravel())[0, 1]


def _classification():
    X, y = make_classification(
        90, 5, n_informative=4, n_redundant=0, weights=[0.8], random_state=0
    )
    return X[:60], y[:60], X[60:], y[60:]


def test_converged_model_is_stationary_and_silent():
    X, y, _, _ = _classification()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        explainer = InfluenceExplainer(LogisticRegression(tol=1e-12)).fit(X, y)
    assert explainer.stationarity_ < 1e-4


def test_unconverged_sgd_warns_and_its_scores_do_not_predict_refits():
    # SGDClassifier at its defaults stops far from the minimum: at the minimum the rows'
    # effects differ by 232%; its scores correlated -0.01 with leave-one-out refits and
    # were printed silently.
    X, y, Xte, yte = _classification()
    est = SGDClassifier(loss="log_loss", random_state=0)
    with pytest.warns(ConvergenceWarning, match="not at the minimum"):
        explainer = InfluenceExplainer(est).fit(X, y)
    assert explainer.stationarity_ > 1
    assert _loo_correlation(explainer, est, X, y, Xte, yte) < 0.5


@pytest.mark.parametrize("which", ["logreg", "ridge"])
def test_model_fitted_with_weights_not_passed_to_fit_warns(which):
    # fitted with sample_weight, explained without: the scores are those of another
    # objective (stationarity 0.19 and 0.17; LOO correlation 0.85 for logreg)
    if which == "logreg":
        X, y, Xte, yte = _classification()
        est = LogisticRegression(tol=1e-12)
    else:
        X, y = make_regression(90, 5, noise=5, random_state=0)
        X, y, Xte, yte = X[:60], y[:60], X[60:], y[60:]
        est = Ridge()
    sw = np.random.default_rng(0).uniform(0.2, 3, y.size)
    model = clone(est).fit(X, y, sample_weight=sw)
    with pytest.warns(ConvergenceWarning, match="sample_weight"):
        InfluenceExplainer(model).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        explainer = InfluenceExplainer(model).fit(X, y, sample_weight=sw)
    assert explainer.stationarity_ < 1e-3
    assert _loo_correlation(explainer, est, X, y, Xte, yte, sw) > 0.98


def test_a_loose_tolerance_on_many_rows_is_not_flagged():
    # lbfgs at its default tol=1e-4 on 20,000 rows is far from the minimum compared with
    # one row's effect, yet the rows' gradients there are the same to 1e-4: the scores
    # are right and no warning is due
    X, y = make_classification(20_000, 20, n_informative=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        explainer = InfluenceExplainer(LogisticRegression()).fit(X, y)
    assert explainer.stationarity_ < 1e-3


def test_separable_classes_without_penalty_warn():
    # no minimum exists: lbfgs stops on a ray with growing coefficients, and the scores
    # of that point were printed as if it were one
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(ConvergenceWarning, match="no minimum"):
        explainer = InfluenceExplainer(LogisticRegression(C=np.inf, max_iter=1000)).fit(X, y)
    assert explainer.stationarity_ > 0.1
