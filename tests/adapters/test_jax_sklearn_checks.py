"""scikit-learn's estimator checks for JaxClassifier and JaxRegressor.

They live here rather than in ``tests/test_common.py`` because they need jax. One
expected failure, the same for both: ``check_sample_weight_equivalence_on_dense_data``
(see ``_EXPECTED``).
"""

import pytest

pytest.importorskip("jax")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from sktraceprop.adapters import JaxClassifier, JaxRegressor, mlp  # noqa: E402

_INIT, _APPLY = mlp(hidden=(8,))


# The objective is the weighted mean loss, so integer weights and repeated rows define the
# same objective and zero weights are removed rows (exactly: those rows are left out), but
# this check also compares integer weights with np.repeat'd rows at assert_allclose's
# rtol=1e-7, below float32 resolution. The two fits sum the same float32 terms in another
# order (the check shuffles the weighted rows, w_i * loss_i is not loss_i + loss_i + ...,
# and the data sets pad to different lengths), and 60-100 Adam steps carry last-bit
# differences into predictions that then differ by ~1e-6 relative. test_jax.py checks the
# equivalence at float32 tolerance (test_integer_weight_equals_duplicated_rows_full_batch).
_EXPECTED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "float32 training: weighted and repeated rows give the same objective, but its "
        "terms are summed in another order, so predictions agree to ~1e-6 relative, not "
        "to the check's rtol=1e-7"
    ),
}


@parametrize_with_checks(
    [
        JaxClassifier(_APPLY, _INIT, n_epochs=60, learning_rate=0.05, random_state=0),
        JaxRegressor(_APPLY, _INIT, n_epochs=100, learning_rate=0.05, random_state=0),
    ],
    expected_failed_checks=lambda est: _EXPECTED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
