"""Crossfit clones of a skorch net whose module is given as an instance (which skorch
trains in place, and a clone deep-copies): each clone starts from weights drawn anew,
not from the trained ones. The truth is each clone's weights as its training began
(recorded by a callback): never the trained weights, and the very weights (and so the
losses) of clones of the same net given the module's class, whose layers the seed
draws alike. A module with a trainable parameter no ``reset_parameters`` sets is
refused at ``fit``, nothing fitted."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone

from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests._torch_nets import TanhNet  # noqa: E402

#: Each fit's module state as its training began, in the order of the fits.
STARTS = []


class _RecordStart(skorch.callbacks.Callback):
    def on_train_begin(self, net, **kwargs):
        STARTS.append({k: v.detach().numpy().copy() for k, v in net.module_.state_dict().items()})


class ScaledNet(TanhNet):
    """:class:`TanhNet` with a trainable gain on the hidden units, a bare parameter that
    no ``reset_parameters`` sets."""

    def __init__(self):
        super().__init__(4, 6, 3)
        self.gain = torch.nn.Parameter(torch.ones(6))

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x) * self.gain))


def _net(module, **params):
    return skorch.NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=5,
        lr=0.1,
        train_split=None,
        callbacks=[("start", _RecordStart())],
        verbose=0,
        **params,
    )


def _instance_net():
    return _net(TanhNet(4, 6, 3))


def _class_net():
    return _net(TanhNet, module__n_in=4, module__n_hidden=6, module__n_out=3)


def _data(n=60):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n + 30, 4)).astype(np.float32)
    y = (np.arange(n + 30) % 3).astype(np.int64)
    return X[:n], y[:n], X[n:], y[n:]


def _crossfit(net):
    """The fitted ``net``, its trained weights, and its 3 crossfit clones' losses and
    starting weights."""
    from sktraceprop.unlearning import _crossfit, _neural_torch

    X, y, X_ho, y_ho = _data()
    torch.manual_seed(0)
    fitted = net.fit(X, y)
    trained = {k: v.detach().numpy().copy() for k, v in fitted.module_.state_dict().items()}
    Z, Y = _neural_torch.prepare(fitted, X, y)
    STARTS.clear()
    unseen, clones_holdout = _crossfit.crossfit_losses(
        _neural_torch,
        fitted,
        clone(fitted),
        Z,
        Y,
        n_models=3,
        n_folds=3,
        seed=7,
        holdout=_neural_torch.prepare(fitted, X_ho, y_ho),
    )
    return trained, list(STARTS), unseen, clones_holdout


def test_each_clone_of_a_module_instance_starts_from_fresh_weights():
    trained, starts, unseen, clones_holdout = _crossfit(_instance_net())
    assert len(starts) == 3
    for start in starts:  # no parameter of any clone starts at its trained value
        assert not any(np.array_equal(start[k], trained[k]) for k in trained)
    # each clone drew its own (its own seed)
    assert not np.array_equal(starts[0]["hidden.weight"], starts[1]["hidden.weight"])
    # the same draws as the clones of the net given the class: the seed builds them alike
    _, class_starts, class_unseen, class_holdout = _crossfit(_class_net())
    for start, built in zip(starts, class_starts, strict=True):
        for key in built:
            np.testing.assert_array_equal(start[key], built[key])
    np.testing.assert_allclose(unseen, class_unseen, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(clones_holdout, class_holdout, rtol=1e-6, atol=1e-7)


def test_a_frozen_parameter_keeps_its_value_in_the_clones():
    net = TanhNet(4, 6, 3)
    net.hidden.weight.requires_grad_(False)  # never trained: not the removed rows'
    frozen = net.hidden.weight.detach().numpy().copy()
    trained, starts, _, _ = _crossfit(_net(net))
    np.testing.assert_array_equal(trained["hidden.weight"], frozen)
    for start in starts:
        np.testing.assert_array_equal(start["hidden.weight"], frozen)
        for key in ("hidden.bias", "out.weight", "out.bias"):
            assert not np.array_equal(start[key], trained[key])


def test_the_unlearner_says_the_clones_were_drawn_anew():
    X, y, X_ho, y_ho = _data()
    torch.manual_seed(0)
    unl = GradientCorrectionUnlearner(
        _instance_net(), n_crossfit=3, crossfit_folds=3, random_state=0, n_steps=1, lr=0.05
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the net's rows are an array's: said)
        unl.fit(X, y, X_holdout=X_ho, y_holdout=y_ho)
        unl.unlearn(mask=np.arange(X.shape[0]) < 3)
    event = unl.unlearning_log_[-1]
    assert event["calibration"] == "crossfit"
    assert "TanhNet module given as an instance" in event["calibration_source"]
    assert "reset_parameters" in event["calibration_source"]


def test_a_parameter_no_reset_sets_is_refused_before_any_clone():
    from sktraceprop.unlearning import _neural_torch

    X, y, X_ho, y_ho = _data()
    torch.manual_seed(0)
    unl = GradientCorrectionUnlearner(
        _net(ScaledNet()), n_crossfit=3, crossfit_folds=3, random_state=0
    )
    STARTS.clear()
    with pytest.raises(ValueError, match=r"given as a ScaledNet instance.*sets gain") as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unl.fit(X, y, X_holdout=X_ho, y_holdout=y_ho)
    assert "module's class" in str(info.value)
    assert len(STARTS) == 1  # the model's own fit, no clone's
    assert not hasattr(unl, "estimator_")
    # the check draws, but leaves torch's random state as it was
    fitted = _net(ScaledNet()).fit(X, y)
    state = torch.get_rng_state()
    with pytest.raises(ValueError, match="sets gain"):
        _neural_torch.fresh_clones(fitted)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(0)
    assert _neural_torch.fresh_clones(_instance_net().fit(X, y)) is True
    assert _neural_torch.fresh_clones(_class_net().fit(X, y)) is False
