"""An optax-style decoupled weight decay (the update of ``optax.adamw``) given to a
JaxClassifier is no L2 term of its objective: the neural removal refuses it."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests._optax_like import adamw

pytest.importorskip("jax")


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X @ np.array([1.0, -1.0, 0.5, 0.0]) + 0.5 + rng.normal(size=n) > 0).astype(int)
    return X, y


WD = 0.05


def _l2_objective(theta, X, y):
    """Mean logistic loss of ``X @ w + b`` plus ``WD / 2 ||theta||^2``, float64."""
    w, b = theta[:-1], theta[-1]
    s = 2.0 * y - 1.0
    z = X.astype(np.float64) @ w + b
    r = -s * expit(-s * z)
    value = np.logaddexp(0.0, -s * z).mean() + 0.5 * WD * (w @ w + b * b)
    return value, np.append(X.T @ r / y.shape[0] + WD * w, r.mean() + WD * b)


def test_an_adamw_trained_model_is_not_the_l2_objectives_minimum():
    # Why the refusal: the JaxClassifier trained full-batch by AdamW(weight_decay=WD)
    # is far from the minimum of mean loss + WD / 2 ||theta||^2 (an L-BFGS solution in
    # float64), while one trained with alpha=WD by plain Adam lies on it.
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data(n=120)
    init_fn, apply_fn = mlp(hidden=())
    exact = minimize(_l2_objective, np.zeros(5), args=(X, y), jac=True, method="L-BFGS-B",
                     options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000}).x  # fmt: skip

    def theta(model):
        (layer,) = model.params_
        return np.append(layer["weight"][:, 0], layer["bias"][0]).astype(np.float64)

    common = dict(n_epochs=1000, learning_rate=0.02, random_state=0)
    decoupled = JaxClassifier(apply_fn, init_fn, optimizer=adamw(WD), **common).fit(X, y)
    coupled = JaxClassifier(apply_fn, init_fn, alpha=WD, **common).fit(X, y)
    far = np.linalg.norm(theta(decoupled) - exact)
    near = np.linalg.norm(theta(coupled) - exact)
    # measured: 8e-7 and 1.24 (the minimum's norm is 1.54)
    assert near < 1e-3 < 0.5 < far
    with pytest.raises(NotImplementedError, match="adamw, an optax-style optimizer"):
        GradientCorrectionUnlearner(
            JaxClassifier(apply_fn, init_fn, optimizer=adamw(WD), **common),
            calibration="none",
        ).fit(X, y)


def test_an_optax_style_optimizer_without_decay_is_removed_as_before():
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data()
    init_fn, apply_fn = mlp(hidden=(4,))
    model = JaxClassifier(apply_fn, init_fn, optimizer=adamw(0.0), n_epochs=5, random_state=0)
    unl = GradientCorrectionUnlearner(model, calibration="none", n_steps=2).fit(X, y)
    unl.unlearn(mask=np.arange(X.shape[0]) < 5)
    assert np.isfinite(unl.certificate_)
