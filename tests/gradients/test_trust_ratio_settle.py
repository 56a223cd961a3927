"""A trust-ratio optimizer (LAMB, LARS) steps by the learning rate times ``||params||``
per leaf whatever the gradient, so at a constant learning rate its fit circles the
stationary point of the L2 objective the neural removal certifies and never settles
there; a decaying rate brings it closer. Measured here on a coupled LAMB (the figures
doc/unlearning.rst quotes: the gradient norm of the L2 objective at the fitted
parameters)."""

import pytest

from tests._optax_like import coupled_lamb

pytest.importorskip("jax")

from tests.gradients.test_trust_ratio import _model  # noqa: E402
from tests.unlearning.test_decoupled_decay_jax import _data  # noqa: E402

DECAY = 0.05


def _stationarity(lr_decay, n_epochs):
    from sktraceprop.unlearning._neural_jax import gradient_norm, prepare

    X, y = _data(n=80)
    model = _model(coupled_lamb(DECAY, lr_decay), learning_rate=0.05, n_epochs=n_epochs)
    model.fit(X, y)
    return gradient_norm(model, *prepare(model, X, y), DECAY)


def test_a_trust_ratio_at_a_constant_learning_rate_does_not_settle():
    constant, longer = _stationarity(1.0, 300), _stationarity(1.0, 600)
    decaying = _stationarity(0.99, 300)  # the rate of step t: 0.05 * 0.99 ** (t - 1)
    # measured: 0.029 and 0.024 at a constant rate (300 and 600 epochs), 0.0083 decaying
    assert constant > 2 * decaying, (constant, decaying)
    assert longer > 0.5 * constant, (constant, longer)  # more epochs hardly help
    assert longer > 2 * decaying, (longer, decaying)
