"""scikit-learn's estimator checks for JaxClassifier and JaxRegressor (no expected failures).

They live here rather than in ``tests/test_common.py`` because they need jax.
"""

import pytest

pytest.importorskip("jax")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from sktraceprop.adapters import JaxClassifier, JaxRegressor, mlp  # noqa: E402

_INIT, _APPLY = mlp(hidden=(8,))


@parametrize_with_checks(
    [
        JaxClassifier(_APPLY, _INIT, n_epochs=60, learning_rate=0.05, random_state=0),
        JaxRegressor(_APPLY, _INIT, n_epochs=100, learning_rate=0.05, random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
