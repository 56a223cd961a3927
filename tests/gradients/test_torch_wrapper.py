"""A torch optimizer wrapping another (a Lookahead) is read through the optimizer it
wraps when its steps are exactly that one's with its coupled decay, and refused, naming
the wrapper and what to do, when they are not."""

import numpy as np
import pytest

from sktraceprop.gradients._decay_record import record_decays
from sktraceprop.influence._penalty import l2_penalty
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")


class Lookahead(torch.optim.Optimizer):
    """Lookahead (Zhang et al. 2019), as third-party packages write it: ``k`` steps of
    ``base`` on the fast weights, then the slow weights move ``alpha`` of the way to them
    and the fast weights restart there. ``shrink`` is a decay of its own (0: none)."""

    def __init__(self, base, alpha=0.5, k=5, shrink=0.0):
        super().__init__(base.param_groups, base.defaults)
        self.base, self.alpha, self.k, self.shrink = base, alpha, k, shrink
        self.param_groups, self.count = base.param_groups, 0  # shared, as timm's
        self.slow = [p.detach().clone() for g in base.param_groups for p in g["params"]]

    def __getstate__(self):
        # all of it (torch's keeps only defaults, state and groups): the library copies
        # the net it corrects
        return dict(self.__dict__)

    def zero_grad(self, set_to_none=True):
        self.base.zero_grad(set_to_none)

    def step(self, closure=None):
        loss = self.base.step(closure)
        self.count += 1
        params = [p for g in self.base.param_groups for p in g["params"]]
        with torch.no_grad():
            for p in params:
                p.mul_(1 - self.shrink)
            if self.count % self.k == 0:
                for p, slow in zip(params, self.slow):
                    slow.add_(p - slow, alpha=self.alpha)
                    p.copy_(slow)
        return loss


def lookahead(base, **wrapper):
    def factory(params, **kwargs):
        return Lookahead(base(params, **kwargs), **wrapper)

    factory.__name__ = f"lookahead_{base.__name__}"
    return factory


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X @ np.array([1.0, -1.0, 0.5, 0.0]) + 0.5 + rng.normal(size=n) > 0).astype(int)
    return X, y


def _module():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))


def _net(optimizer, **kwargs):
    return skorch.NeuralNetClassifier(
        _module(),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=optimizer,
        lr=0.1,
        max_epochs=4,
        train_split=None,
        batch_size=-1,
        verbose=0,
        **kwargs,
    )


def test_lookahead_trains_to_a_stationary_point_of_its_inner_l2_objective():
    # brute force: trained long, Lookahead(SGD(momentum, weight_decay=0.1)) stops where
    # the mean loss plus 0.1 / 2 ||theta||^2 is stationary, the objective it is read as
    X, y = _data()
    module = _module()
    opt = Lookahead(torch.optim.SGD(module.parameters(), lr=0.2, momentum=0.5, weight_decay=0.1))
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(600):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(module(Xt), yt).backward()
        opt.step()
    params = list(module.parameters())
    grads = torch.autograd.grad(torch.nn.functional.cross_entropy(module(Xt), yt), params)
    plain = sum(float((g**2).sum()) for g in grads) ** 0.5
    l2 = sum(float(((g + 0.1 * p) ** 2).sum()) for g, p in zip(grads, params)) ** 0.5
    assert plain > 20 * l2, (plain, l2)
    net = _net(lookahead(torch.optim.SGD), optimizer__momentum=0.5, optimizer__weight_decay=0.1)
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    unl.unlearn(mask=np.arange(X.shape[0]) < 5)
    assert unl.unlearning_log_[-1]["weight_decay"] == 0.1
    coef, notes = l2_penalty(unl.estimator_)
    assert coef == 0.1 and "SGD weight_decay=0.1" in notes


@pytest.mark.parametrize(
    ("factory", "kwargs", "named"),
    [
        (
            lookahead(torch.optim.SGD, shrink=1e-3),
            {"optimizer__weight_decay": 0.1},
            r"Lookahead, an optimizer wrapping SGD .*moves weights whose gradient is zero",
        ),
        (
            lookahead(torch.optim.AdamW),
            {},
            r"Lookahead, an optimizer wrapping AdamW .*decoupled.*optimizer=torch.optim.AdamW",
        ),
    ],
)
def test_a_wrapper_not_read_exactly_is_refused_naming_it(factory, kwargs, named):
    X, y = _data(seed=1)
    with pytest.raises(NotImplementedError, match=named):
        GradientCorrectionUnlearner(_net(factory, **kwargs), calibration="none").fit(X, y)
    net = _net(factory, **kwargs)
    with record_decays(net):  # fitted as sktraceprop fits: its steps counted
        net.fit(X, y)
    with pytest.warns(UserWarning, match=named):
        assert l2_penalty(net)[0] == 0.0


def test_a_wrapper_that_changes_the_gradient_is_refused():
    # a wrapper that scales the gradient by theta (no decay at a zero gradient, but no
    # step of its inner optimizer either)
    class Scaled(Lookahead):
        def step(self, closure=None):
            for g in self.base.param_groups:
                for p in g["params"]:
                    if p.grad is not None:
                        p.grad.mul_(1 + p.detach().abs())
            return super().step(closure)

    def factory(params, **kwargs):
        return Scaled(torch.optim.SGD(params, **kwargs))

    X, y = _data(seed=2)
    net = _net(factory, optimizer__weight_decay=0.1)
    with pytest.raises(NotImplementedError, match=r"Scaled, .*its steps differ from SGD's"):
        GradientCorrectionUnlearner(net, calibration="none").fit(X, y)


def test_a_wrapped_decay_changed_during_the_fit_is_refused():
    class Raise(skorch.callbacks.Callback):
        def on_epoch_begin(self, net, **kwargs):
            if len(net.history) == 3:
                net.optimizer_.base.param_groups[0]["weight_decay"] = 0.1

    X, y = _data(seed=3)
    net = _net(lookahead(torch.optim.SGD), callbacks=[Raise()])
    said = r"Lookahead whose weight decay changed during the fit \(from step 1: weight_decay=0;"
    with pytest.raises(NotImplementedError, match=said + r" from step 3: weight_decay=0.1\)"):
        GradientCorrectionUnlearner(net, calibration="none").fit(X, y)
    # fitted outside the library: the groups its factory builds, weight_decay=0
    with pytest.warns(UserWarning, match=r"Lookahead whose weight decay changed during"):
        assert (
            l2_penalty(_net(lookahead(torch.optim.SGD), callbacks=[Raise()]).fit(X, y))[0] == 0.0
        )
