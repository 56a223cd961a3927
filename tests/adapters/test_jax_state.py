"""State kept in a JAX model's params (a running mean behind ``jax.lax.stop_gradient``)
is not a parameter: ``fit`` refuses it when ``alpha`` would shrink it and warns when it
would not, against the same model with its state held outside the params and trained by
plain gradient descent written here."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from sktraceprop.adapters import JaxClassifier  # noqa: E402
from sktraceprop.gradients import jax_per_sample_gradients  # noqa: E402


def _data():
    X, y = make_classification(32, 3, n_informative=3, n_redundant=0, random_state=0)
    return X.astype(np.float32) + 1.0, y


def _init_with_state(key, n_features, n_outputs):
    return {
        "w": jnp.zeros((n_features, n_outputs)),
        "b": jnp.zeros(n_outputs),
        "state": {"mean": jnp.ones(n_features)},
    }


def _apply_with_state(params, X):
    return (X - jax.lax.stop_gradient(params["state"]["mean"])) @ params["w"] + params["b"]


class _Centred:
    """The same model with its state outside the params: a constant of the class."""

    def __init__(self, mean):
        self.mean = mean

    def __call__(self, params, X):
        return (X - self.mean) @ params["w"] + params["b"]


def _init(key, n_features, n_outputs):
    return {"w": jnp.zeros((n_features, n_outputs)), "b": jnp.zeros(n_outputs)}


def _plain_gradient_descent(X, y, alpha, lr, n_epochs):
    """The truth: the logistic loss of the centred model, by jax.grad and a loop."""
    mean = jnp.ones(X.shape[1])

    def objective(p):
        z = ((X - mean) @ p["w"] + p["b"])[:, 0]
        data = jnp.mean(jax.nn.softplus(-(2.0 * y - 1.0) * z))
        return data + 0.5 * alpha * (jnp.sum(p["w"] ** 2) + jnp.sum(p["b"] ** 2))

    grad = jax.jit(jax.grad(objective))
    p = _init(None, X.shape[1], 1)
    for _ in range(n_epochs):
        p = jax.tree_util.tree_map(lambda a, g: a - lr * g, p, grad(p))
    return p


def _fit(apply_fn, init_fn, alpha, X, y):
    clf = JaxClassifier(
        apply_fn, init_fn, n_epochs=60, learning_rate=0.1, alpha=alpha, optimizer="sgd"
    )
    return clf.fit(X, y)


def test_state_behind_stop_gradient_is_refused_when_alpha_would_shrink_it():
    # was: trained silently, the running mean of 1 shrunk to 0.54 by alpha=0.5
    X, y = _data()
    clf = JaxClassifier(_apply_with_state, _init_with_state, n_epochs=60, alpha=0.5)
    with pytest.raises(ValueError, match=r"\['state\.mean'\].*alpha=0\.5.*out of params"):
        clf.fit(X, y)
    assert not hasattr(clf, "params_")
    # the advice works: the state held by apply_fn trains as the plain loop does
    held = _fit(_Centred(np.ones(3, np.float32)), _init, 0.5, X, y)
    truth = _plain_gradient_descent(X, y.astype(np.float32), 0.5, 0.1, 60)
    for name in ("w", "b"):
        np.testing.assert_allclose(held.params_[name], truth[name], rtol=1e-4, atol=1e-6)


def test_state_is_kept_but_named_in_a_warning_without_a_penalty():
    X, y = _data()
    with pytest.warns(UserWarning, match=r"\['state\.mean'\].*zero columns"):
        clf = _fit(_apply_with_state, _init_with_state, 0.0, X, y)
    np.testing.assert_array_equal(clf.params_["state"]["mean"], np.ones(3, np.float32))
    truth = _plain_gradient_descent(X, y.astype(np.float32), 0.0, 0.1, 60)
    for name in ("w", "b"):
        np.testing.assert_allclose(clf.params_[name], truth[name], rtol=1e-4, atol=1e-6)
    G = jax_per_sample_gradients(clf, X, y, parameters=["state.mean"])
    assert not G.any()  # what the warning says: its columns are zero


class _ZeroMLP:
    """A two-layer network started at zero: its hidden layer has a zero gradient at
    the start only, and must not be taken for state."""

    def __call__(self, key, n_features, n_outputs):
        return [
            {"weight": jnp.zeros((n_features, 4)), "bias": jnp.full(4, 0.5)},
            {"weight": jnp.zeros((4, n_outputs)), "bias": jnp.zeros(n_outputs)},
        ]


def _tanh_mlp(params, X):
    h = jnp.tanh(X @ params[0]["weight"] + params[0]["bias"])
    return h @ params[1]["weight"] + params[1]["bias"]


def test_a_layer_with_a_zero_gradient_only_at_the_start_is_a_parameter():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = JaxClassifier(_tanh_mlp, _ZeroMLP(), n_epochs=30, alpha=0.5, random_state=0)
        clf.fit(X, y)
    assert np.abs(clf.params_[0]["weight"]).max() > 0
