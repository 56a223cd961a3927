import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.svm import LinearSVC

from sktraceprop.gradients import linear_model_objective


def _data(n_classes, n=60, d=5, seed=0):
    X, y = make_classification(
        n_samples=n,
        n_features=d,
        n_informative=d,
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    w = np.random.default_rng(seed).uniform(0.5, 2.0, size=n)
    return X, y, w


CASES = [
    ("logreg_binary", lambda: LogisticRegression(C=0.7), 2),
    ("logreg_multi", lambda: LogisticRegression(C=2.0), 3),
    ("logreg_noint", lambda: LogisticRegression(C=0.5, fit_intercept=False), 3),
    ("logreg_nopen", lambda: LogisticRegression(C=np.inf, max_iter=2000), 2),
    ("sgd_binary", lambda: SGDClassifier(loss="log_loss", alpha=0.01, random_state=0), 2),
    ("sgd_multi", lambda: SGDClassifier(loss="log_loss", alpha=0.01, random_state=0), 3),
    ("ridge", lambda: Ridge(alpha=0.3), None),
    ("ridge_classifier", lambda: RidgeClassifier(alpha=0.3), 3),
    ("ridge_classifier_bin", lambda: RidgeClassifier(alpha=0.3), 2),
    ("linreg", lambda: LinearRegression(), None),
]


def _fitted(make, n_classes, weighted=True):
    if n_classes is None:
        X, y = make_regression(n_samples=60, n_features=5, noise=1.0, random_state=0)
        w = np.random.default_rng(0).uniform(0.5, 2.0, size=60)
    else:
        X, y, w = _data(n_classes)
    est = make().fit(X, y, sample_weight=w if weighted else None)
    return est, X, y, w


def _fd_gradient(f, theta, eps=1e-6):
    g = np.zeros_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = eps
        g[j] = (f(theta + e) - f(theta - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("name,make,n_classes", CASES, ids=[c[0] for c in CASES])
def test_gradient_and_hessian_match_finite_differences(name, make, n_classes):
    est, X, y, w = _fitted(make, n_classes)
    obj = linear_model_objective(est)
    rng = np.random.default_rng(1)
    theta = obj.params() + 0.1 * rng.standard_normal(obj.n_params)

    grad = obj.objective_gradient(X, y, w, theta=theta)
    fd = _fd_gradient(lambda t: obj.objective(X, y, w, theta=t), theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)

    hess = obj.hessian(X, y, w, theta=theta)
    fd_h = np.array(
        [
            _fd_gradient(lambda t, j=j: obj.objective_gradient(X, y, w, theta=t)[j], theta)
            for j in range(obj.n_params)
        ]
    )
    np.testing.assert_allclose(hess, fd_h, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(hess, hess.T, atol=1e-10)

    # Rows' gradients plus the row-independent penalty gradient give the total.
    per_row = obj.per_sample_gradients(X, y, w, theta=theta)
    pen = obj.penalty * obj._penalty_vector(theta)
    np.testing.assert_allclose(per_row.sum(axis=0) + pen, grad, rtol=1e-10, atol=1e-10)
    for i in (0, 7):
        fd_i = _fd_gradient(
            lambda t, i=i: (
                obj.objective(X[i : i + 1], y[i : i + 1], w[i : i + 1], theta=t)
                - 0.5 * obj.penalty * np.sum(obj._split(t)[0] ** 2)
            ),
            theta,
        )
        np.testing.assert_allclose(per_row[i], fd_i, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name,make,n_classes",
    [c for c in CASES if not c[0].startswith("sgd")],
    ids=[c[0] for c in CASES if not c[0].startswith("sgd")],
)
def test_objective_is_stationary_at_sklearn_solution(name, make, n_classes):
    # The objective is the one sklearn minimises: its gradient vanishes at the fit.
    X, y = (
        make_regression(n_samples=60, n_features=5, noise=1.0, random_state=0)
        if n_classes is None
        else _data(n_classes)[:2]
    )
    est = make()
    if isinstance(est, LogisticRegression):
        est.set_params(tol=1e-12, max_iter=10_000)
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=60)
    est.fit(X, y, sample_weight=w)
    obj = linear_model_objective(est)
    grad = obj.objective_gradient(X, y, w)
    scale = np.abs(obj.per_sample_gradients(X, y, w)).sum(axis=0).max()
    assert np.max(np.abs(grad)) < 1e-5 * scale


def test_sgd_objective_matches_sklearn_scaling():
    # SGDClassifier minimises mean(log loss) + alpha/2 ||w||^2: the equivalent
    # LogisticRegression has C = 1 / (alpha * n); both reach the same stationary point.
    X, y, _ = _data(2, n=80)
    alpha = 0.05
    lr = LogisticRegression(C=1.0 / (alpha * 80), tol=1e-12, max_iter=10_000).fit(X, y)
    sgd = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=5, tol=None).fit(X, y)
    obj = linear_model_objective(sgd)
    obj.set_params_vector(linear_model_objective(lr).params())
    grad = obj.objective_gradient(X, y)
    assert np.max(np.abs(grad)) < 1e-6


def test_sparse_input_matches_dense():
    X, y, w = _data(3)
    est = LogisticRegression().fit(X, y)
    obj = linear_model_objective(est)
    Xs = sparse.csr_matrix(X)
    np.testing.assert_allclose(obj.hessian(Xs, y, w), obj.hessian(X, y, w), atol=1e-12)
    np.testing.assert_allclose(
        obj.per_sample_gradients(Xs, y, w), obj.per_sample_gradients(X, y, w), atol=1e-12
    )
    np.testing.assert_allclose(
        obj.objective_gradient(Xs, y, w), obj.objective_gradient(X, y, w), atol=1e-12
    )


def test_set_params_vector_round_trip_changes_predictions():
    X, y, _ = _data(3)
    est = LogisticRegression().fit(X, y)
    obj = linear_model_objective(est)
    theta = obj.params()
    assert theta.shape == (3 * 5 + 3,)
    np.testing.assert_allclose(obj.decision(X), est.decision_function(X), atol=1e-12)
    obj.set_params_vector(2 * theta)
    np.testing.assert_allclose(est.coef_, 2 * theta[:15].reshape(3, 5))
    np.testing.assert_allclose(obj.decision(X), est.decision_function(X), atol=1e-12)

    reg = Ridge().fit(X, y.astype(float))
    robj = linear_model_objective(reg)
    robj.set_params_vector(robj.params() + 1.0)
    assert np.shape(reg.coef_) == (5,) and isinstance(reg.intercept_, float)
    np.testing.assert_allclose(robj.decision(X)[:, 0], reg.predict(X), atol=1e-12)


@pytest.mark.parametrize("make,n_classes", [(LogisticRegression, 2), (LogisticRegression, 3)])
def test_margin_gradient_matches_finite_differences(make, n_classes):
    X, y, _ = _data(n_classes)
    est = make().fit(X, y)
    obj = linear_model_objective(est)
    margins, grads = obj.margins(X[:4], y[:4])
    theta = obj.params()
    for i in range(4):
        fd = _fd_gradient(lambda t, i=i: obj.margins(X[i : i + 1], y[i : i + 1], t)[0][0], theta)
        np.testing.assert_allclose(grads[i], fd, rtol=1e-6, atol=1e-7)


def test_margin_sign_convention():
    # A correctly classified row has a positive margin; a misclassified one, negative.
    X, y, _ = _data(2)
    est = LogisticRegression().fit(X, y)
    obj = linear_model_objective(est)
    m, _ = obj.margins(X, y)
    np.testing.assert_array_equal(m > 0, est.predict(X) == y)
    X3, y3, _ = _data(3)
    est3 = LogisticRegression().fit(X3, y3)
    m3, _ = linear_model_objective(est3).margins(X3, y3)
    logp = est3.predict_log_proba(X3)[np.arange(60), y3]
    # margin = log p(y) - log(1 - p(y)) for softmax logits
    np.testing.assert_allclose(m3, logp - np.log1p(-np.exp(logp)), atol=1e-10)


@settings(deadline=None, max_examples=25)
@given(st.lists(st.sampled_from([-3, 0, 1, 2, 4, 5, 7, 9]), min_size=1, max_size=8))
@example([1])  # between classes 0 and 2: searchsorted named class 2
@example([9])  # past the last class: an index one past the logits
def test_margins_refuse_labels_the_model_does_not_know(labels):
    """Labels outside ``classes_`` got searchsorted's insertion point: another class's
    margin, or an index past the outputs. Truth: the log-probabilities (known labels)."""
    X, y, _ = _data(3)
    classes = np.array([0, 2, 5])
    est = LogisticRegression().fit(X, classes[y])
    obj = linear_model_objective(est)
    labels = np.array(labels)
    Xl = X[: labels.shape[0]]
    unknown = sorted(set(labels.tolist()) - set(classes.tolist()))
    if unknown:
        with pytest.raises(ValueError, match=re.escape(str([str(v) for v in unknown]))):
            obj.margins(Xl, labels)
        return
    m, _ = obj.margins(Xl, labels)
    logp = est.predict_log_proba(Xl)[np.arange(labels.shape[0]), np.searchsorted(classes, labels)]
    np.testing.assert_allclose(m, logp - np.log1p(-np.exp(logp)), atol=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_margins_refuse_unknown_text_labels_and_numbers_for_text(n_classes):
    X, y, _ = _data(n_classes)
    names = np.array(["ant", "bee", "cat"])[:n_classes]
    est = RidgeClassifier().fit(X, names[y])
    obj = linear_model_objective(est)
    with pytest.raises(ValueError, match=r"\['ab', 'zz'\] are not classes of RidgeClassifier"):
        obj.margins(X[:3], ["zz", "ab", names[0]])
    with pytest.raises(ValueError, match="labels"):
        obj.margins(X[:2], [0, 1])
    m, _ = obj.margins(X, names[y])
    assert np.all(np.isfinite(m))


def test_unsupported_estimator_names_supported_ones():
    X, y, _ = _data(2)
    with pytest.raises(TypeError, match="LinearSVC is not supported.*LogisticRegression"):
        linear_model_objective(LinearSVC().fit(X, y))
    with pytest.raises(TypeError, match="liblinear"):
        linear_model_objective(LogisticRegression(solver="liblinear").fit(X, y))
    with pytest.raises(TypeError, match="hinge"):
        linear_model_objective(SGDClassifier().fit(X, y))


@pytest.mark.parametrize("model", [Ridge, LinearRegression, RidgeClassifier])
def test_a_positive_constraint_names_its_bound_coefficients(model):
    """positive=True fits a constrained optimum: where a coefficient sits at 0 the
    objective's gradient is not zero (truth: the gradient at scikit-learn's fit), and the
    objective names exactly those coefficients as held at their bound (the unlearner
    refuses such models; influence works on the free ones)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    target = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=80)
    y = target > 0 if model is RidgeClassifier else target
    fitted = model(positive=True).fit(X, y)
    free = model().fit(X, y)
    objective = linear_model_objective(free)
    assert np.abs(objective.objective_gradient(X, y, theta=objective.params())).max() < 1e-8
    # the constrained fit is no optimum of the objective: its gradient is far from 0
    theta = np.concatenate([np.ravel(fitted.coef_), np.ravel(fitted.intercept_)])
    gradient = objective.objective_gradient(X, y, theta=theta)
    assert np.abs(gradient).max() > 1.0
    bound = linear_model_objective(fitted).bound_parameters()
    assert bound[: fitted.coef_.size].tolist() == (np.ravel(fitted.coef_) <= 0).tolist()
    assert bound.any() and not bound[fitted.coef_.size :].any()


def test_one_vs_rest_logistic_regression_is_refused():
    """Releases with the parameter fit LogisticRegression(multi_class="ovr") as one binary
    problem per class, not the softmax objective; the attribute is set by hand here,
    as newer releases have no such parameter."""
    X, y, _ = _data(3)
    model = LogisticRegression().fit(X, y)
    linear_model_objective(model)
    model.multi_class = "ovr"
    with pytest.raises(TypeError, match="multi_class='ovr'"):
        linear_model_objective(model)
    binary = LogisticRegression().fit(X, y == 0)
    binary.multi_class = "ovr"  # the same problem with two classes
    assert linear_model_objective(binary).loss == "binomial"
