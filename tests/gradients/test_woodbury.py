"""The Woodbury inverse Hessian against the dense one it replaces.

The truth is the dense route: the ``p x p`` Hessian of :meth:`LinearObjective.hessian`
(itself checked against finite differences in ``test_linear.py``), eigendecomposed and
inverted by :func:`~sktraceprop.influence._inverse_hessian.inverse_hessian`, null space
dropped. Shapes with more parameters than rows, fewer, and about as many; dense and
sparse features; one output, softmax, one-vs-rest and multi-output squared losses; with
and without the unpenalised intercept, sample weights and balanced class weights.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier, SGDClassifier

from sktraceprop.gradients import linear_model_objective
from sktraceprop.gradients._woodbury import WoodburyInverse, woodbury_applies
from sktraceprop.influence._inverse_hessian import inverse_hessian

_MODELS = {
    "logistic": lambda: LogisticRegression(C=2.0, tol=1e-10, max_iter=5000),
    "logistic_balanced": lambda: LogisticRegression(
        C=0.5, class_weight="balanced", tol=1e-10, max_iter=5000
    ),
    "sgd": lambda: SGDClassifier(loss="log_loss", alpha=0.01, random_state=0),
    "ridge": lambda: Ridge(alpha=0.3),
    "ridge_classifier": lambda: RidgeClassifier(alpha=0.7),
}


def _problem(name, n, d, n_classes, is_sparse, fit_intercept, weighted, seed):
    rng = np.random.RandomState(seed)
    if is_sparse:
        X = sparse.random(n, d, density=0.15, random_state=rng, format="csr")
        X.data = rng.exponential(size=X.nnz)
    else:
        X = rng.randn(n, d)
    y = np.arange(n) % n_classes  # every class present
    rng.shuffle(y)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    if weighted and name == "sgd":
        sw[rng.rand(n) < 0.2] = 0.0  # rows of weight zero are in the objective too
    model = _MODELS[name]().set_params(fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y, sample_weight=sw)
    objective = linear_model_objective(model).fix_class_weights(y, sw)
    return objective, X, y, sw


def _dense_inverse(objective, X, y, sw, damping):
    H = objective.hessian(X, y, sw)
    inverse, _, n_null, absolute = inverse_hessian(H, np.ones(len(H), bool), damping)
    return inverse, n_null, absolute


def _jacobians(objective, x):
    """``J`` of one row's outputs with respect to ``theta`` (k, n_params)."""
    k, d = objective.n_outputs, objective.n_features
    J = np.zeros((k, objective.n_params))
    for a in range(k):
        J[a, a * d : (a + 1) * d] = x
        if objective.fit_intercept:
            J[a, k * d + a] = 1.0
    return J


def _check(objective, X, y, sw, damping, seed=0):
    weights = objective.row_weights(y, sw)
    assert woodbury_applies(objective, weights) is None
    dense, n_null, absolute = _dense_inverse(objective, X, y, sw, damping)
    op = WoodburyInverse(objective, X, y, weights, damping)
    assert op.n_null == n_null
    assert op.damping_ == pytest.approx(absolute, rel=1e-10, abs=0)
    V = np.random.RandomState(seed).randn(4, objective.n_params)
    scale = np.abs(V @ dense).max()
    assert_allclose(V @ op, V @ dense, rtol=0, atol=1e-9 * scale)
    assert_allclose(op @ V[0], dense @ V[0], rtol=0, atol=1e-9 * scale)
    # the rows' J H^-1 J^T blocks (leverages), without a p-dimensional vector
    Xd = X.toarray() if sparse.issparse(X) else X
    blocks = op.output_blocks(slice(0, X.shape[0]))
    truth = np.stack([_jacobians(objective, x) @ dense @ _jacobians(objective, x).T for x in Xd])
    assert_allclose(blocks, truth, rtol=0, atol=1e-9 * np.abs(truth).max())
    # the bounds hold on the damped Hessian's eigenvalues, null vector dropped
    H = objective.hessian(X, y, sw)
    eig = np.linalg.eigvalsh(H)
    kept = np.sort(eig)[n_null:] + absolute
    assert kept.min() >= op.min_eigenvalue_bound * (1 - 1e-9)
    assert kept.max() <= op.max_eigenvalue_bound * (1 + 1e-9)


@pytest.mark.parametrize("name", sorted(_MODELS))
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_woodbury_inverse_is_the_dense_inverse(name, n_classes, fit_intercept):
    if name == "ridge" and n_classes == 3:
        pytest.skip("Ridge here regresses one target")
    objective, X, y, sw = _problem(name, 25, 60, n_classes, True, fit_intercept, True, seed=1)
    _check(objective, X, y, sw, "auto")


def test_softmax_intercepts_null_vector_is_dropped_as_the_dense_route_drops_it():
    # found building the route: shifting every intercept of a multinomial model alike
    # changes nothing, so H has an exact null vector; inverting it (np.linalg.inv) gave
    # errors of order 1, the dense route's pseudo-inverse drops it
    objective, X, y, sw = _problem("logistic", 20, 50, 3, False, True, False, seed=2)
    dense, n_null, _ = _dense_inverse(objective, X, y, sw, "auto")
    assert n_null == 1
    op = WoodburyInverse(objective, X, y, objective.row_weights(y, sw))
    nu = np.zeros(objective.n_params)
    nu[-3:] = 1.0
    assert_allclose(nu @ op, 0.0, atol=1e-12 * np.abs(dense).max())
    _check(objective, X, y, sw, "auto")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    name=st.sampled_from(sorted(_MODELS)),
    shape=st.sampled_from([(12, 40), (30, 8), (16, 16), (9, 60)]),
    n_classes=st.sampled_from([2, 3, 4]),
    is_sparse=st.booleans(),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    damping=st.sampled_from(["auto", 0.05]),
    seed=st.integers(0, 10_000),
)
def test_woodbury_inverse_property(
    name, shape, n_classes, is_sparse, fit_intercept, weighted, damping, seed
):
    if name == "ridge":
        n_classes = 2
    n, d = shape
    objective, X, y, sw = _problem(name, n, d, n_classes, is_sparse, fit_intercept, weighted, seed)
    _check(objective, X, y, sw, damping, seed)


def test_woodbury_refuses_what_it_cannot_invert_exactly():
    objective, X, y, sw = _problem("logistic", 10, 30, 2, False, True, False, seed=3)
    weights = objective.row_weights(y, sw)
    assert "positive=True" in woodbury_applies(objective, weights, n_bound=2)
    assert "negative" in woodbury_applies(objective, np.where(weights > 0, -1.0, 1.0))
    unpenalised = LogisticRegression(C=np.inf, max_iter=5000).fit(X, y)
    objective = linear_model_objective(unpenalised)
    assert "no L2 penalty" in woodbury_applies(objective, weights)
