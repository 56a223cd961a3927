"""A LARS-style torch optimizer (a trust ratio per parameter tensor; no class of
torch.optim): with no weight decay its steps stop where the gradient is zero, and it is
accepted (a zero-gradient probe over the fit's steps moves nothing); with one, whether
the decay is an L2 term cannot be told from a class sktraceprop does not know, and it is
refused saying so (never taken for a coupled decay)."""

import numpy as np
import pytest

from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests.gradients.test_decay_during_fit import _data, _net  # noqa: E402


class LARS(torch.optim.Optimizer):
    """You et al. (2017): ``lr * trust * ||w|| / ||g + wd w|| * (g + wd w)`` per tensor,
    with momentum."""

    def __init__(self, params, lr=0.1, weight_decay=0.0, momentum=0.9, trust=0.01):
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum}
        super().__init__(params, {**defaults, "trust": trust})

    def step(self, closure=None):
        loss = None if closure is None else torch.enable_grad()(closure)()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d = p.grad + group["weight_decay"] * p
                    wn, dn = torch.linalg.norm(p), torch.linalg.norm(d)
                    ratio = group["trust"] * wn / dn if wn > 0 and dn > 0 else 1.0
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    buf = d * ratio if buf is None else buf.mul_(group["momentum"]).add_(d * ratio)
                    state["momentum_buffer"] = buf
                    state["step"] = state.get("step", 0) + 1
                    p.add_(buf, alpha=-group["lr"])
        return loss


def test_lars_without_decay_is_accepted_and_with_one_refused():
    X, y = _data(seed=5)
    net = _net(LARS, max_epochs=6)
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    unl.unlearn(mask=np.arange(X.shape[0]) < 5)
    assert unl.unlearning_log_[-1]["weight_decay"] == 0.0
    decayed = _net(LARS, max_epochs=6, optimizer__weight_decay=0.01)
    with pytest.raises(NotImplementedError, match="LARS, a weight decay of unknown kind"):
        GradientCorrectionUnlearner(decayed, calibration="none", n_steps=2).fit(X, y)
