"""Neural influence of JAX models: what the explainer refuses, and exactness on tiny nets."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

jax = pytest.importorskip("jax")

from sktraceprop import InfluenceExplainer  # noqa: E402
from sktraceprop.adapters import JaxClassifier, JaxRegressor, mlp  # noqa: E402


def _data(n=60, d=4, n_classes=2, seed=0):
    X, y = make_classification(
        n, d, n_informative=d, n_redundant=0, n_classes=n_classes, random_state=seed
    )
    return X.astype(np.float32), y


def _clf(**kwargs):
    init_fn, apply_fn = mlp(hidden=(6,))
    return JaxClassifier(apply_fn, init_fn, n_epochs=40, random_state=0, **kwargs)


def test_model_fitted_with_zero_weights_is_refused():
    # The explainer scored the 20 rows of weight zero (left out of the training) as
    # training rows, and weighed the others alike: scores of another objective.
    X, y = _data()
    w = np.ones(60)
    w[:20] = 0.0
    weighted = _clf().fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match="fitted with sample_weight"):
        InfluenceExplainer(weighted, damping=1.0).fit(X, y)
    with pytest.raises(ValueError, match="fitted with sample_weight"):
        InfluenceExplainer(_clf().fit(X, y, sample_weight=np.r_[2.0, np.ones(59)])).fit(X, y)
    # equal weights train bitwise as None: the same scores
    exp = [
        InfluenceExplainer(_clf().fit(X, y, sample_weight=sw), damping=1.0).fit(X, y)
        for sw in (None, np.full(60, 3.0))
    ]
    s0, s1 = (e.explain(X[:3], y[:3], keep_scores=True).scores for e in exp)
    np.testing.assert_array_equal(s0, s1)


def test_unfitted_jax_classifier_with_sample_weight_is_refused_before_its_fit():
    X, y = _data()
    exp = InfluenceExplainer(_clf())
    with pytest.raises(ValueError, match="not supported for neural models"):
        exp.fit(X, y, sample_weight=np.ones(60))
    assert not hasattr(exp, "estimator_")  # refused after training it, before


@pytest.mark.parametrize("fitted", [False, True])
def test_jax_regressor_is_refused_with_a_clear_error(fitted):
    # was AttributeError: 'JaxRegressor' object has no attribute 'classes_'
    X, y = make_regression(40, 3, random_state=0)
    init_fn, apply_fn = mlp(hidden=(4,))
    reg = JaxRegressor(apply_fn, init_fn, n_epochs=5, random_state=0)
    if fitted:
        reg.fit(X, y)
    with pytest.raises(TypeError, match="neural regressors"):
        InfluenceExplainer(reg).fit(X, y)
