"""Class weights of the linear objective: as scikit-learn fits them, for any rows."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier

from sktraceprop.gradients import linear_model_objective
from sktraceprop.gradients._class_weight import class_weights

MODELS = [
    LogisticRegression(C=0.7, solver="newton-cholesky", tol=1e-12, max_iter=500),
    RidgeClassifier(alpha=1.5, solver="cholesky"),
    SGDClassifier(loss="log_loss", alpha=0.01, random_state=0, max_iter=50, tol=None),
]


def _data(n_classes, seed=0, n=90):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = rng.choice(
        n_classes, size=n, p=np.linspace(1, 3, n_classes) / np.linspace(1, 3, n_classes).sum()
    )
    return X, y, rng.uniform(0.2, 4.0, size=n)


@pytest.mark.parametrize(
    "model, n_classes",
    # (SGDClassifier on 3 classes is refused: test_sgd_with_class_weight_on_three_...)
    [(m, k) for m in MODELS for k in (2, 3) if k == 2 or not isinstance(m, SGDClassifier)],
    ids=lambda v: type(v).__name__ if not isinstance(v, int) else f"{v}classes",
)
def test_balanced_weights_are_the_ones_scikit_learn_fits_with(model, n_classes):
    """Truth: scikit-learn's own fit with class_weight="balanced" and sample_weight
    equals its fit with no class weight and our per-row weights folded into
    sample_weight (LogisticRegression balances summed weights in scikit-learn 1.9,
    the others row counts: a wrong guess moves the coefficients by 1e-2 or more)."""
    X, y, sw = _data(n_classes)
    balanced = model.set_params(class_weight="balanced")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = type(model)(**balanced.get_params()).fit(X, y, sample_weight=sw)
        folded = type(model)(**{**balanced.get_params(), "class_weight": None})
        folded.fit(X, y, sample_weight=sw * class_weights(fit, y, sw))
    assert_allclose(fit.coef_, folded.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(fit.intercept_, folded.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 2.0, 2: 0.3}])
def test_blocks_of_the_training_rows_get_the_whole_sets_class_weights(class_weight):
    """Per-sample gradients computed block by block (as an explainer does) were weighted
    by classes balanced over each block; truth: the same rows in one call over the
    whole training set."""
    X, y, sw = _data(3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(class_weight=class_weight, max_iter=500).fit(X, y, sw)
    whole = linear_model_objective(model).per_sample_gradients(X, y, sw)
    objective = linear_model_objective(model).fix_class_weights(y, sw)
    blocks = [
        objective.per_sample_gradients(X[s : s + 7], y[s : s + 7], sw[s : s + 7])
        for s in range(0, len(y), 7)
    ]
    assert_allclose(np.vstack(blocks), whole, rtol=1e-12, atol=1e-14)
    unfixed = linear_model_objective(model).per_sample_gradients(X[:7], y[:7], sw[:7])
    if class_weight == "balanced":  # the check above can fail
        assert np.abs(unfixed - whole[:7]).max() > 1e-3


def test_sgd_with_class_weight_on_three_classes_is_refused():
    """SGDClassifier's one-vs-rest problem k weighs rows of class k by its weight and
    every other row by 1: no per-row weight gives that objective (its fit differs from
    one with the weights folded per row by 0.27 on this data), so it is refused."""
    X, y, sw = _data(3)
    model = SGDClassifier(loss="log_loss", class_weight={0: 2.0}, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="class_weight on more than two classes"):
        linear_model_objective(model)
    linear_model_objective(model.set_params(class_weight=None).fit(X, y))
    linear_model_objective(model.set_params(class_weight={0: 2.0}).fit(X, y == 0))
