"""A decoupled weight decay (torch's AdamW, optax.adamw) is no L2 term of the objective:
the neural removal refuses such a net before fitting it, naming the optimizer, instead
of certifying ``mean loss + wd / 2 ||theta||^2``, which the net was never trained on."""

import inspect

import numpy as np
import pytest

from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")


def _data(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X @ np.array([1.0, -1.0, 0.5, 0.0])[:d] + 0.5 + rng.normal(size=n) > 0).astype(int)
    return X, y


class Counted(torch.nn.Module):
    """A 4-6-2 tanh net that counts its forward calls."""

    calls = 0

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)
        )

    def forward(self, X):
        type(self).calls += 1
        return self.net(X)


def _torch_net(optimizer, **kwargs):
    net = skorch.NeuralNetClassifier(
        Counted,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=optimizer,
        lr=0.01,
        max_epochs=3,
        train_split=None,
        verbose=0,
        **kwargs,
    )
    return net


def test_adamw_is_refused_before_the_net_is_fitted():
    X, y = _data()
    cases = [(torch.optim.AdamW, {}, r"AdamW\(weight_decay=0.01\)")]  # AdamW's default
    cases.append((torch.optim.AdamW, {"optimizer__weight_decay": 0.3}, "weight_decay=0.3"))
    if "decoupled_weight_decay" in inspect.signature(torch.optim.Adam).parameters:
        cases.append(
            (
                torch.optim.Adam,
                {"optimizer__weight_decay": 0.1, "optimizer__decoupled_weight_decay": True},
                r"Adam\(weight_decay=0.1, decoupled_weight_decay=True\)",
            )
        )
    for optimizer, kwargs, named in cases:
        Counted.calls = 0
        with pytest.raises(NotImplementedError, match=named):
            GradientCorrectionUnlearner(_torch_net(optimizer, **kwargs), calibration="none").fit(
                X, y
            )
        assert Counted.calls == 0  # refused before anything was fitted


def test_adamw_without_decay_and_coupled_decay_are_removed_as_before():
    for seed, (optimizer, kwargs, decay) in enumerate(
        (
            (torch.optim.AdamW, {"optimizer__weight_decay": 0.0}, 0.0),
            (torch.optim.Adam, {"optimizer__weight_decay": 0.1}, 0.1),
        )
    ):
        X, y = _data(seed=seed)  # other rows: refitting removed rows is warned of
        net = _torch_net(optimizer, **kwargs)
        unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
        unl.unlearn(mask=np.arange(X.shape[0]) < 5)
        assert unl.unlearning_log_[-1]["weight_decay"] == decay
