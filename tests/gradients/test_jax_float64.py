"""A float64 JAX model (``jax_enable_x64`` on, float64 params) gets float64 margins,
gradients and curvature factors, against central differences in float64 numpy at a
tolerance float32 results cannot meet."""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from sktraceprop.adapters import JaxClassifier  # noqa: E402
from sktraceprop.gradients import (  # noqa: E402
    jax_gauss_newton_factors,
    jax_margins,
    jax_per_sample_gradients,
)


@pytest.fixture
def x64():
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _apply(p, X):
    return jnp.tanh(X @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]


def _np_logits(p, X):
    return np.tanh(X @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]


def _np_margin(z, t):
    if z.shape[0] == 1:
        return z[0] * (2 * t - 1)
    return z[t] - np.log(np.exp(np.delete(z, t)).sum())


def _params(rng, n_out, dtype=np.float64):
    return {
        "b1": rng.normal(size=4).astype(dtype),
        "b2": rng.normal(size=n_out).astype(dtype),
        "w1": rng.normal(size=(3, 4)).astype(dtype),
        "w2": rng.normal(size=(4, n_out)).astype(dtype),
    }


def _fd_jacobian(fn, params, step=1e-6):
    """d fn / d (every leaf, in sorted key order, row-major) by central differences."""
    columns = []
    for name in sorted(params):
        leaf = params[name]
        for j in range(leaf.size):
            leaf.flat[j] += step
            up = fn(params)
            leaf.flat[j] -= 2 * step
            down = fn(params)
            leaf.flat[j] += step
            columns.append((up - down) / (2 * step))
    return np.stack(columns, axis=-1)


# the fixture only sets jax_enable_x64, the same for every example
@settings(
    deadline=None, max_examples=4, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**16), n_out=st.sampled_from([1, 3]))
@example(seed=0, n_out=3)
def test_float64_model_margins_and_gradients_are_float64_to_finite_differences(x64, seed, n_out):
    rng = np.random.default_rng(seed)
    params = _params(rng, n_out)
    # X is cast to float32 by the gradient functions: the truth takes the same inputs
    X = rng.normal(size=(5, 3)).astype(np.float32).astype(np.float64)
    y = rng.integers(0, 2 if n_out == 1 else n_out, size=5)
    margins, p_true = jax_margins(_apply, X, y, params=params)
    truth = np.array([_np_margin(z, t) for z, t in zip(_np_logits(params, X), y)])
    assert margins.dtype == p_true.dtype == np.float64
    np.testing.assert_allclose(margins, truth, rtol=1e-13, atol=1e-13)

    G = jax_per_sample_gradients(_apply, X, y, params=params)
    fd = _fd_jacobian(
        lambda p: np.array([_np_margin(z, t) for z, t in zip(_np_logits(p, X), y)]), params
    )
    assert G.dtype == np.float64
    # float32 gradients are off by about 1e-7 of their size; the differences by 1e-9
    np.testing.assert_allclose(G, fd, rtol=1e-8, atol=1e-8)
    G32 = jax_per_sample_gradients(_apply, X, y, params=params, dtype=np.float32)
    assert G32.dtype == np.float32 and np.abs(G32 - fd).max() > 1e-8 * np.abs(fd).max()

    # Gauss-Newton: sum of a a^T is J^T H J, J the logits' Jacobian, H the loss's
    # Hessian in the logits (p (1 - p), or diag(p) - p p^T)
    A = jax_gauss_newton_factors(_apply, X, params=params)
    assert A.dtype == np.float64
    J = _fd_jacobian(lambda p: _np_logits(p, X), params)  # (n, n_out, n_params)
    Z = _np_logits(params, X)
    GGN = np.zeros((J.shape[2], J.shape[2]))
    for i in range(X.shape[0]):
        if n_out == 1:
            s = 1 / (1 + np.exp(-Z[i, 0]))
            H = np.array([[s * (1 - s)]])
        else:
            p = np.exp(Z[i] - Z[i].max())
            p /= p.sum()
            H = np.diag(p) - np.outer(p, p)
        GGN += J[i].T @ H @ J[i]
    np.testing.assert_allclose(A.T @ A, GGN, rtol=1e-7, atol=1e-8)


def test_float32_params_or_x64_off_give_float32(x64):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 0])
    params = _params(rng, 3, np.float32)
    assert jax_margins(_apply, X, y, params=params)[0].dtype == np.float32
    assert jax_per_sample_gradients(_apply, X, y, params=params).dtype == np.float32
    mixed = dict(params, w2=params["w2"].astype(np.float64))
    # a float32 leaf keeps float32 precision: the columns are not float64-accurate
    assert jax_per_sample_gradients(_apply, X, y, params=mixed).dtype == np.float32
    assert (
        jax_per_sample_gradients(_apply, X, y, params=mixed, parameters=["w2"]).dtype == np.float64
    )
    with pytest.raises(ValueError, match="dtype must be"):
        jax_per_sample_gradients(_apply, X, y, params=params, dtype=np.int32)
    jax.config.update("jax_enable_x64", False)  # restored by the fixture
    wide = _params(rng, 3)
    assert jax_margins(_apply, X, y, params=wide)[0].dtype == np.float32
    assert jax_per_sample_gradients(_apply, X, y, params=wide).dtype == np.float32


class _Init64:
    def __call__(self, key, n_features, n_outputs):
        return {
            "w": jnp.zeros((n_features, n_outputs), jnp.float64),
            "b": jnp.zeros(n_outputs, jnp.float64),
        }


class _Linear:
    def __call__(self, p, X):
        return X @ p["w"] + p["b"]


def test_a_fitted_float64_classifier_reports_float64_margins(x64):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=30) > 0, "b", "a")
    clf = JaxClassifier(_Linear(), _Init64(), n_epochs=50, random_state=0).fit(X, y)
    assert clf.params_["w"].dtype == np.float64
    margins, _ = jax_margins(clf, X, y)
    z = clf.decision_function(X)
    assert margins.dtype == np.float64
    np.testing.assert_allclose(margins, np.where(y == "b", z, -z), rtol=1e-14, atol=1e-14)
