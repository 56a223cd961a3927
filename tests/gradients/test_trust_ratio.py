"""Layer-wise trust-ratio optimizers (LAMB, LARS): accepted where their steps stop at a
stationary point of the mean loss plus a coupled L2 term (a positive scale per leaf
moves no fixed point), refused with the reason where they do not. Before, optax.lamb
with no decay and optax.lars with momentum 0 were refused as a decay changed during the
fit (the trust ratio is 1 at the zero parameters the steps were compared at)."""

import numpy as np
import pytest

from sktraceprop.influence._penalty import l2_penalty
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests._optax_like import coupled_lamb, lamb, lars

pytest.importorskip("jax")

from tests.unlearning.test_decoupled_decay_jax import _data  # noqa: E402


def _model(optimizer, learning_rate=0.05, n_epochs=300):
    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=(4,))
    return JaxClassifier(
        apply_fn,
        init_fn,
        optimizer=optimizer,
        n_epochs=n_epochs,
        learning_rate=learning_rate,
        random_state=0,
    )


@pytest.mark.parametrize(
    ("optimizer", "coef", "lr"),
    [(lamb(0.0), 0.0, 0.05), (coupled_lamb(0.05), 0.05, 0.05), (lars(0.05, 0.0), 0.05, 20.0)],
)
def test_a_trust_ratio_with_a_coupled_decay_or_none_is_accepted(optimizer, coef, lr):
    X, y = _data(n=80)
    # the fine-tuning's step size given: a trust ratio's learning rate is none
    # (tests/unlearning/test_neural_trust_ratio_lr.py)
    unl = GradientCorrectionUnlearner(
        _model(optimizer, learning_rate=lr), calibration="none", lr=0.05
    )
    unl.fit(X, y).unlearn(mask=np.arange(X.shape[0]) < 5)
    np.testing.assert_allclose(unl.unlearning_log_[-1]["weight_decay"], coef, rtol=1e-5)
    model = _model(optimizer, learning_rate=lr).fit(X, y)
    kept = model._decay_steps
    assert kept["scaled"] is True and kept["off"] == 0
    np.testing.assert_allclose(kept["coef"], coef, rtol=1e-5, atol=1e-12)
    read, notes = l2_penalty(model)
    np.testing.assert_allclose(read, coef, rtol=1e-5, atol=1e-12)
    # the decay read from the steps is the one the optimizer adds ahead of its ratio
    assert "changed" not in notes


@pytest.mark.parametrize(
    ("optimizer", "lr", "named"),
    [
        (lamb(0.05), 0.05, "as in optax.adamw and optax.lamb"),
        (
            lars(0.05, 0.9),
            20.0,
            r"followed by momentum, as in optax.lars, whose update adds the momentum of "
            r"earlier steps each scaled by its own ratio; optax.lars with momentum=0.0 is read",
        ),
        (
            lars(0.0, 0.9),
            20.0,
            r"a trust ratio followed by momentum.*no step is a positive multiple per leaf.*"
            r"could not be told from none.*momentum=0.0 is checked",
        ),
    ],
)
def test_a_trust_ratio_whose_steps_stop_elsewhere_is_refused(optimizer, lr, named):
    X, y = _data(n=80)
    with pytest.raises(NotImplementedError, match=named):
        GradientCorrectionUnlearner(_model(optimizer, learning_rate=lr), calibration="none").fit(
            X, y
        )
