"""The matrix-free inverse's iteration log stays bounded, and the ``@`` glue it shares.

An explainer on the matrix-free route solves once per block of explained rows; asked
many times, it kept every solve's iteration count. It now keeps the last
``KEEP_SOLVES`` and a summary of all (count, sum, most). The truth is the same solves
made by an inverse that keeps everything (deterministic CG: the same iterations), and
the scores, unchanged by the bound. The ``@`` glue (``SymmetricOperator``) is checked
against a dense symmetric matrix.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.gradients._symmetric_operator import SymmetricOperator
from sktraceprop.influence import _matrix_free


def _explainer(seed=0, n=30, d=60):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, d, density=0.2, random_state=seed, format="csr")
    X.data = rng.normal(size=X.nnz)
    y = np.arange(n) % 2
    model = LogisticRegression(C=2.0, tol=1e-12, max_iter=5000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return stp.InfluenceExplainer(model, solver="matrix_free").fit(X, y), X


def _explain_many(explainer, X, times):
    return [explainer.explain(X[i % X.shape[0] : i % X.shape[0] + 1]).scores for i in range(times)]


def test_the_log_keeps_the_last_solves_and_a_summary_of_all(monkeypatch):
    monkeypatch.setattr(_matrix_free, "KEEP_SOLVES", 10**9)
    whole, X = _explainer()
    monkeypatch.setattr(_matrix_free, "KEEP_SOLVES", 5)
    bounded, _ = _explainer()
    a, b = _explain_many(whole, X, 23), _explain_many(bounded, X, 23)
    for x, y in zip(a, b):
        assert_allclose(y, x, rtol=0, atol=0)
    every = list(whole._inv_hessian.n_iter)
    log = bounded._inv_hessian
    assert len(every) >= 23 and all(it > 0 for it in every[-23:])
    assert list(log.n_iter) == every[-5:]
    assert (log.n_blocks, log.total_iter, log.most_iter) == (len(every), sum(every), max(every))


def test_the_default_bound_holds_over_many_calls():
    explainer, X = _explainer(seed=1, n=12, d=30)
    _explain_many(explainer, X, _matrix_free.KEEP_SOLVES + 9)
    log = explainer._inv_hessian
    assert len(log.n_iter) == _matrix_free.KEEP_SOLVES
    assert log.n_blocks >= _matrix_free.KEEP_SOLVES + 9


class _Dense(SymmetricOperator):
    def __init__(self, M):
        self.M, self.n_params = M, M.shape[0]

    def apply(self, A):
        return np.atleast_2d(A) @ self.M


@settings(deadline=None, max_examples=30)
@given(
    p=st.integers(1, 6),
    q=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_the_shared_glue_is_a_symmetric_matrix(p, q, seed):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(p, p))
    M = B + B.T
    op = _Dense(M)
    v, V, W = rng.normal(size=p), rng.normal(size=(q, p)), rng.normal(size=(p, q))
    assert op.shape == (p, p)
    assert_allclose(v @ op, v @ M)
    assert_allclose(op @ v, M @ v)
    assert_allclose(V @ op, V @ M)
    assert_allclose(op @ W, M @ W)


@pytest.mark.parametrize("route", ["woodbury", "matrix_free"])
def test_both_inverses_apply_as_the_dense_inverse_from_either_side(route):
    rng = np.random.default_rng(3)
    X = sparse.random(20, 40, density=0.3, random_state=3, format="csr")
    y = np.arange(20) % 2
    model = LogisticRegression(C=1.0, tol=1e-12, max_iter=5000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        inverse = stp.InfluenceExplainer(model, solver=route, damping=1e-3).fit(X, y)
        dense = stp.InfluenceExplainer(model, solver="dense", damping=1e-3).fit(X, y)
    M = np.asarray(dense._inv_hessian)
    V = rng.normal(size=(3, M.shape[0]))
    op = inverse._inv_hessian
    assert op.shape == M.shape
    scale = np.abs(V @ M).max()
    assert_allclose(V @ op, V @ M, rtol=0, atol=1e-8 * scale)
    assert_allclose(op @ V.T, M @ V.T, rtol=0, atol=1e-8 * scale)
    assert_allclose(V[0] @ op, V[0] @ M, rtol=0, atol=1e-8 * scale)
    assert_allclose(op @ V[0], M @ V[0], rtol=0, atol=1e-8 * scale)
