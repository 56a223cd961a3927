"""Per-sample JAX gradients against ``jax.grad`` on one sample at a time."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

from sktraceprop.adapters import JaxClassifier, mlp  # noqa: E402
from sktraceprop.gradients._jax import (  # noqa: E402
    jax_margins,
    jax_parameter_names,
    jax_per_sample_gradients,
)

INIT, APPLY = mlp(hidden=(6,), activation="tanh")


def _data(n=21, d=4, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, n_classes, size=n)


def _loop_truth(params, X, y, names, output="margin"):
    """``jax.grad`` of a hand-written margin, one sample at a time, no vmap."""
    rows = []
    for x, t in zip(X, y):
        t = int(t)

        def value(p, x=x, t=t):
            z = APPLY(p, jnp.asarray(x[None]))[0]
            if z.shape[0] == 1:
                m = z[0] if t == 1 else -z[0]
            else:
                m = z[t] - jax.nn.logsumexp(jnp.delete(z, t))
            return jnp.log1p(jnp.exp(-m)) if output == "loss" else m

        g = jax.grad(value)(params)
        flat = {f"{i}.{k}": np.asarray(layer[k]).ravel() for i, layer in enumerate(g)
                for k in layer}  # fmt: skip
        rows.append(np.concatenate([flat[name] for name in names]))
    return np.array(rows)


@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("subset", [None, ["1.weight", "1.bias"]])
@pytest.mark.parametrize("output", ["margin", "loss"])
def test_matches_per_sample_grad(n_out, subset, output):
    X, y = _data(n_classes=2 if n_out == 1 else n_out)
    params = INIT(jax.random.PRNGKey(0), X.shape[1], n_out)
    names = jax_parameter_names(params, subset)
    G = jax_per_sample_gradients(
        APPLY, X, y, params=params, parameters=subset, output=output, block_size=8
    )
    truth = _loop_truth(params, X, y, names, output)
    assert G.dtype == np.float32
    assert G.shape == truth.shape
    np.testing.assert_allclose(G, truth, rtol=1e-4, atol=1e-5)
    assert np.abs(truth).max() > 1e-2


def test_names_and_predicate():
    params = INIT(jax.random.PRNGKey(0), 4, 3)
    assert jax_parameter_names(params) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    X, y = _data()
    full = jax_per_sample_gradients(APPLY, X, y, params=params)
    last = jax_per_sample_gradients(
        APPLY, X, y, params=params, parameters=lambda n: n.startswith("1.")
    )
    # columns: 0.bias (6), 0.weight (24), then the last layer
    np.testing.assert_allclose(last, full[:, 30:], rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="Unknown"):
        jax_per_sample_gradients(APPLY, X, y, params=params, parameters=["2.weight"])


def test_margin_sign_on_known_linear_case():
    def apply(p, X):
        return X @ p["w"] + p["b"]

    params = {"w": jnp.array([[2.0], [-1.0]]), "b": jnp.array([0.5])}
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 3.0]], dtype=np.float32)
    y = np.array([1, 0, 0])
    margins, p_true = jax_margins(apply, X, y, params=params)
    np.testing.assert_allclose(margins, [2.5, -2.5, 2.5])
    np.testing.assert_allclose(p_true, 1 / (1 + np.exp(-margins)), rtol=1e-6)
    G = jax_per_sample_gradients(apply, X, y, params=params)
    # columns ("b", "w"): d m / d(b, w) = (2y - 1) * (1, x)
    np.testing.assert_allclose(G, [[1, 1, 0], [-1, -1, 0], [-1, 0, -3]])
    params3 = {"w": jnp.array([[3.0, 1.0, 1.0]]), "b": jnp.zeros(3)}
    m3, p3 = jax_margins(apply, np.ones((1, 1), np.float32), [0], params=params3)
    np.testing.assert_allclose(m3, [2 - np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(p3, [np.exp(3) / (np.exp(3) + 2 * np.e)], rtol=1e-6)


def test_loss_gradient_is_reweighted_margin_gradient():
    X, y = _data()
    params = INIT(jax.random.PRNGKey(1), X.shape[1], 3)
    gm = jax_per_sample_gradients(APPLY, X, y, params=params)
    gl = jax_per_sample_gradients(APPLY, X, y, params=params, output="loss")
    _, p_true = jax_margins(APPLY, X, y, params=params)
    np.testing.assert_allclose(gl, -(1 - p_true)[:, None] * gm, rtol=1e-4, atol=1e-6)


def test_memmap_and_projector(tmp_path):
    X, y = _data(n=29)
    params = INIT(jax.random.PRNGKey(0), X.shape[1], 3)
    G = jax_per_sample_gradients(APPLY, X, y, params=params, block_size=8)
    M = jax_per_sample_gradients(APPLY, X, y, params=params, block_size=8, out=tmp_path / "g.npy")
    assert isinstance(M, np.memmap)
    np.testing.assert_array_equal(np.load(tmp_path / "g.npy"), G)
    buf = np.empty((29, G.shape[1]), np.float64)
    jax_per_sample_gradients(APPLY, X, y, params=params, block_size=5, out=buf)
    np.testing.assert_allclose(buf, G, rtol=1e-6, atol=1e-7)
    R = np.random.default_rng(0).normal(size=(G.shape[1], 5)).astype(np.float32)
    P = jax_per_sample_gradients(
        APPLY, X, y, params=params, block_size=8, projector=lambda b: b @ R
    )
    np.testing.assert_allclose(P, G @ R, rtol=1e-4, atol=1e-5)


def test_fitted_jax_classifier_uses_labels():
    X, y = _data(n=40, n_classes=2)
    labels = np.where(y == 1, "yes", "no")
    clf = JaxClassifier(APPLY, INIT, n_epochs=20, random_state=0).fit(X, labels)
    G = jax_per_sample_gradients(clf, X, labels)
    truth = _loop_truth(clf.params_, X, y, jax_parameter_names(clf))
    np.testing.assert_allclose(G, truth, rtol=1e-4, atol=1e-5)
    margins, p_true = jax_margins(clf, X, labels)
    np.testing.assert_allclose(margins, clf.decision_function(X) * (2 * y - 1), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(p_true, clf.predict_proba(X)[np.arange(40), y], rtol=1e-5)
    with pytest.raises(ValueError, match="classes_"):
        jax_margins(clf, X, np.where(y == 1, "yes", "maybe"))
    with pytest.raises(ValueError, match="class indices"):
        jax_margins(APPLY, X, y + 1, params=clf.params_)


@pytest.mark.parametrize("n_out", [1, 2, 4])
def test_gauss_newton_factors_equal_the_dense_matrix(n_out):
    import jax.flatten_util

    from sktraceprop.adapters import mlp
    from sktraceprop.gradients import jax_gauss_newton_factors

    init, apply = mlp(hidden=(6,), activation="tanh")
    params = init(jax.random.PRNGKey(0), 5, n_out)
    X = np.random.RandomState(0).randn(11, 5).astype(np.float32)
    A = jax_gauss_newton_factors(apply, X, params=params, block_size=4)
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    jac = np.asarray(jax.jacrev(lambda w: apply(unravel(w), X))(flat), dtype=np.float64)
    Z = np.asarray(apply(params, X), dtype=np.float64)
    G = 0.0
    for J, z in zip(jac, Z):
        if n_out == 1:
            p = 1 / (1 + np.exp(-z))
            lam = np.diag(p * (1 - p))
        else:
            p = np.exp(z - z.max())
            p /= p.sum()
            lam = np.diag(p) - np.outer(p, p)
        G = G + J.T @ lam @ J
    assert A.shape == (11 * max(1, n_out - 1), flat.size)
    np.testing.assert_allclose(A.astype(np.float64).T @ A, G, rtol=1e-4, atol=1e-6)


def test_one_hot_or_fractional_labels_are_refused():
    # A one-hot y passed the range check (its values are 0 and 1) and vmap read each row
    # as K labels; 0.4 was cast to class 0: margins of other classes, silently.
    X, y = _data(n=6)
    params = INIT(jax.random.PRNGKey(0), X.shape[1], 3)
    right = jax_margins(APPLY, X, y, params=params)[0]
    assert not np.allclose(jax_margins(APPLY, X, y[::-1], params=params)[0], right)
    for bad, match in ((np.eye(3)[y], "not one-hot"), (y + 0.4, "whole numbers")):
        for fn in (jax_margins, jax_per_sample_gradients):
            with pytest.raises(ValueError, match=match):
                fn(APPLY, X, bad, params=params)
    np.testing.assert_array_equal(jax_margins(APPLY, X, y.astype(float), params=params)[0], right)
    yb = (y > 0).astype(int)
    clf = JaxClassifier(APPLY, INIT, n_epochs=5, random_state=0).fit(X, yb)
    with pytest.raises(ValueError, match="not one-hot"):
        jax_margins(clf, X, np.eye(2)[yb].astype(int))


def test_model_fitted_on_a_frame_takes_arrays_without_warnings():
    # The explainer hands arrays to a model fitted on a DataFrame: each call warned
    # "X does not have valid feature names" (four times per explainer fit).
    import warnings

    import pandas as pd

    from sktraceprop import InfluenceExplainer

    X, y = _data(n=30, n_classes=2)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = JaxClassifier(APPLY, INIT, n_epochs=5, random_state=0).fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        margins = jax_margins(clf, X, y)[0]
        InfluenceExplainer(clf, damping=1.0).fit(frame, y).explain(frame[:2], y[:2])
    np.testing.assert_array_equal(jax_margins(clf, frame, y)[0], margins)
    with pytest.raises(ValueError, match="expecting 4 features"):
        jax_margins(clf, X[:, :3], y)
    with pytest.raises(ValueError, match="feature names"):
        jax_margins(clf, frame[["b", "a", "c", "d"]], y)
