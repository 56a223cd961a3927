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


class DecoupledSGD(torch.optim.Optimizer):
    """A third-party optimizer (not derived from AdamW) whose weight decay is decoupled:
    momentum SGD, then theta *= 1 - lr * decay, the decay named ``KEY``."""

    KEY = "weight_decay"

    def __init__(self, params, lr=0.01, momentum=0.9, **decay):
        super().__init__(params, {"lr": lr, "momentum": momentum, self.KEY: 0.0, **decay})

    def step(self, closure=None):
        loss = None if closure is None else torch.enable_grad()(closure)()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    buf = self.state[p].setdefault("buf", torch.zeros_like(p))
                    buf.mul_(group["momentum"]).add_(p.grad)
                    p.add_(buf, alpha=-group["lr"])
                    p.mul_(1 - group["lr"] * group[self.KEY])
        return loss


class Shrinking(DecoupledSGD):
    """The same decay under another name than weight_decay."""

    KEY = "shrink"


def test_a_third_party_decay_of_unknown_kind_is_refused_before_the_fit():
    # DecoupledSGD's decay is no L2 term of coefficient weight_decay: run to its fixed
    # point, it stops where the gradient of the mean loss plus c / 2 ||theta||^2
    # vanishes, c = (1 - momentum) * wd / (1 - lr * wd). The library cannot know that
    # from its class, so a third-party weight_decay is refused, never taken for a
    # coupled L2 term as before
    X, y = _data()
    torch.manual_seed(0)
    w = torch.zeros(4, requires_grad=True)
    opt = DecoupledSGD([w], lr=0.1, weight_decay=0.5)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y, dtype=torch.float32)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ w, yt)
        loss.backward()
        opt.step()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ w, yt)
    grad, w = torch.autograd.grad(loss, w)[0], w.detach()
    c = 0.1 * 0.5 / (1 - 0.1 * 0.5)
    assert float((grad + 0.5 * w).norm()) > 1000 * float((grad + c * w).norm())
    cases = [
        (DecoupledSGD, {"optimizer__weight_decay": 0.5}, r"DecoupledSGD, .*weight_decay=0.5"),
        (Shrinking, {"optimizer__shrink": 0.1}, r"Shrinking, .* moved the weights"),
        (
            type("MyAdamW", (torch.optim.AdamW,), {}),
            {},
            r"MyAdamW, a weight decay of unknown kind: .* weight_decay=0.01",
        ),
        (torch.optim.SGD, {"optimizer__maximize": True}, r"SGD\(maximize=True\)"),
    ]
    for optimizer, kwargs, named in cases:
        Counted.calls = 0
        with pytest.raises(NotImplementedError, match=named):
            GradientCorrectionUnlearner(_torch_net(optimizer, **kwargs), calibration="none").fit(
                X, y
            )
        assert Counted.calls == 0


def test_a_third_party_optimizer_without_decay_is_removed_as_before():
    X, y = _data(seed=3)
    net = _torch_net(DecoupledSGD)  # weight_decay=0: a zero gradient moves nothing
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    unl.unlearn(mask=np.arange(X.shape[0]) < 5)
    assert unl.unlearning_log_[-1]["weight_decay"] == 0.0
