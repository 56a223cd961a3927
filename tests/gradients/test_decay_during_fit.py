"""A weight decay that changes during a torch net's fit (a callback or scheduler, an
optimizer that decays only after step N) is no L2 term of one objective: the neural
removal refuses it and the influence curvature leaves it out, instead of taking the
objective as that of the decay the optimizer holds at the end (or of none)."""

import numpy as np
import pytest

from sktraceprop._lineage._skorch import skorch_fit_indices
from sktraceprop.influence._penalty import l2_penalty
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")


# (the same data and net as the decoupled-decay tests)
from tests.unlearning.test_decoupled_decay import Counted, _data  # noqa: E402


class DecaySchedule(skorch.callbacks.Callback):
    """Sets every group's weight_decay to ``values[epoch]`` at each epoch's start."""

    def __init__(self, values):
        self.values = values

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        for group in net.optimizer_.param_groups:
            group["weight_decay"] = self.values[min(epoch, len(self.values) - 1)]


def _net(optimizer=torch.optim.SGD, max_epochs=4, **kwargs):
    return skorch.NeuralNetClassifier(
        Counted,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=optimizer,
        lr=0.1,
        max_epochs=max_epochs,
        train_split=None,
        batch_size=-1,
        verbose=0,
        **kwargs,
    )


def _recorded_fit(net, X, y):
    """``net`` fitted as the library's explainers and unlearners fit it."""
    with skorch_fit_indices(net):
        return net.fit(X, y)


@pytest.mark.parametrize(
    ("start", "values", "named"),
    [
        (
            0.0,
            [0.0, 0.0, 0.1, 0.1],
            r"from step 1: weight_decay=0.0.*from step 3: weight_decay=0.1",
        ),
        (
            0.1,
            [0.1, 0.1, 0.0, 0.0],
            r"from step 1: weight_decay=0.1.*from step 3: weight_decay=0.0",
        ),
    ],
)
def test_a_decay_changed_by_a_callback_during_the_fit_is_refused(start, values, named):
    X, y = _data()
    net = _net(optimizer__weight_decay=start, callbacks=[DecaySchedule(values)])
    with pytest.raises(NotImplementedError, match=f"SGD whose weight decay changed.*{named}"):
        GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    # the influence curvature of the net leaves it out and says so
    with pytest.warns(UserWarning, match=f"SGD whose weight decay changed.*{named}"):
        coef, notes = l2_penalty(_recorded_fit(net, X, y))
    assert coef == 0.0 and "changed during the fit" in notes


def test_a_fitted_nets_decay_is_compared_with_the_one_it_started_with():
    # a net fitted outside the library: no step was seen, so the groups its optimizer
    # settings build (weight_decay=0.1) are compared with the fitted ones (0 at the end)
    X, y = _data(seed=1)
    net = _net(optimizer__weight_decay=0.1, callbacks=[DecaySchedule([0.1, 0.1, 0.0])]).fit(X, y)
    assert net.optimizer_.param_groups[0]["weight_decay"] == 0.0
    with pytest.warns(UserWarning, match=r"settings build weight_decay=0.1; after the fit"):
        assert l2_penalty(net)[0] == 0.0


def test_a_decay_set_after_the_recorded_fit_is_refused():
    X, y = _data(seed=5)
    net = _recorded_fit(_net(optimizer__weight_decay=0.1), X, y)
    assert l2_penalty(net)[0] == 0.1
    net.optimizer_.param_groups[0]["weight_decay"] = 0.0
    with pytest.warns(UserWarning, match=r"changed after the fit \(its 4 steps used weight_d"):
        assert l2_penalty(net)[0] == 0.0


def test_a_constant_decay_set_by_a_callback_is_kept():
    # a callback that sets the decay the net started with changes nothing
    X, y = _data(seed=2)
    net = _net(optimizer__weight_decay=0.1, callbacks=[DecaySchedule([0.1])])
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    unl.unlearn(mask=np.arange(X.shape[0]) < 5)
    assert unl.unlearning_log_[-1]["weight_decay"] == 0.1


class LateDecaySGD(torch.optim.Optimizer):
    """SGD that adds a coupled decay ``late * theta`` to the gradient only from step
    ``after`` on (no key named weight_decay: a one-step probe sees no decay)."""

    def __init__(self, params, lr=0.1, late=0.0, after=5):
        super().__init__(params, {"lr": lr, "late": late, "after": after})

    def step(self, closure=None):
        loss = None if closure is None else torch.enable_grad()(closure)()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    state["step"] = state.get("step", 0) + 1
                    grad = p.grad
                    if state["step"] > group["after"]:
                        grad = grad + group["late"] * p
                    p.add_(grad, alpha=-group["lr"])
        return loss


def test_a_decay_that_starts_after_step_n_is_refused():
    # trained by LateDecaySGD(late=0.2), the net ends at a stationary point of the mean
    # loss plus 0.2 / 2 ||theta||^2 (the true objective), far from one of the mean loss
    # alone, which a one-step probe took the objective for
    X, y = _data(seed=3)
    module = Counted()
    opt = LateDecaySGD(module.parameters(), lr=0.5, late=0.2)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    params = list(module.parameters())
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(module(Xt), yt).backward()
        opt.step()
    grads = torch.autograd.grad(torch.nn.functional.cross_entropy(module(Xt), yt), params)
    plain = sum(float((g**2).sum()) for g in grads) ** 0.5
    true = sum(float(((g + 0.2 * p) ** 2).sum()) for g, p in zip(grads, params)) ** 0.5
    assert plain > 100 * true
    net = _net(LateDecaySGD, max_epochs=8, optimizer__late=0.2)
    with pytest.raises(NotImplementedError, match=r"LateDecaySGD, .*as many as its fit took"):
        GradientCorrectionUnlearner(net, calibration="none").fit(X, y)
    # fitted outside the library: the steps its state counts
    with pytest.warns(UserWarning, match="LateDecaySGD, a weight decay of unknown kind"):
        assert l2_penalty(net.fit(X, y))[0] == 0.0


def test_a_decay_that_never_starts_within_the_fit_is_none():
    X, y = _data(seed=4)
    net = _net(LateDecaySGD, max_epochs=4, optimizer__late=0.2, optimizer__after=10)
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    unl.unlearn(mask=np.arange(X.shape[0]) < 5)
    assert unl.unlearning_log_[-1]["weight_decay"] == 0.0
