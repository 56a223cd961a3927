"""Retrains of a skorch net from scratch (TRAK's ensemble members, the damping and LDS
retrains) whose module is given as an instance, which skorch trains in place and a
clone deep-copies: each retrain started from the explained model's trained weights,
unsaid. The truth: the retrain of the same net given the module's class, under the
same seed (the same initial draws, the same batch order), weight for weight."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests._torch_nets import TanhNet  # noqa: E402


def _net(module, max_epochs=3, **params):
    return skorch.NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=max_epochs,
        lr=0.1,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
        **params,
    )


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(60, 4)).astype(np.float32), (np.arange(60) % 3).astype(np.int64)


def _weights(net):
    return {k: v.detach().numpy().copy() for k, v in net.module_.state_dict().items()}


@pytest.mark.parametrize("max_epochs", [0, 3])
def test_a_retrain_of_a_module_instance_is_the_retrain_of_its_class(max_epochs):
    from sktraceprop.influence._neural_refit import _refit, refit_on

    X, y = _data()
    torch.manual_seed(0)
    instance = _net(TanhNet(4, 6, 3), max_epochs=3).fit(X, y)
    trained = _weights(instance)
    torch.manual_seed(1)
    built = _net(TanhNet, max_epochs=3, module__n_in=4, module__n_hidden=6, module__n_out=3)
    built.fit(X, y)
    for net in (instance, built):
        net.set_params(max_epochs=max_epochs)
    again = _weights(_refit(instance, X[:40], y[:40], 5))
    truth = _weights(_refit(built, X[:40], y[:40], 5))
    assert again.keys() == truth.keys()
    for key in truth:
        np.testing.assert_array_equal(again[key], truth[key])
        assert not np.array_equal(again[key], trained[key])
    # the explained model itself is left as it was
    for key, value in _weights(instance).items():
        np.testing.assert_array_equal(value, trained[key])
    mask = np.arange(60) < 40
    est, seen = refit_on(instance, X, y, mask, 5)
    np.testing.assert_array_equal(seen, mask)
    for key, value in _weights(est).items():
        np.testing.assert_array_equal(value, truth[key])


class ScaledNet(TanhNet):
    """A trainable gain that no ``reset_parameters`` sets."""

    def __init__(self):
        super().__init__(4, 6, 3)
        self.gain = torch.nn.Parameter(torch.ones(6))

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x) * self.gain))


def test_a_parameter_no_reset_sets_is_refused():
    from sktraceprop.influence._neural_refit import _refit

    X, y = _data()
    torch.manual_seed(0)
    instance = _net(ScaledNet()).fit(X, y)
    state = torch.get_rng_state()
    with pytest.raises(ValueError, match=r"retrain of NeuralNetClassifier.*sets gain"):
        _refit(instance, X, y, 5)
    assert torch.equal(torch.get_rng_state(), state)
