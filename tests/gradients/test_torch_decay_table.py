"""The table of how torch's optimizers apply weight_decay, checked against their steps.

Each class of ``torch.optim`` is stepped three times with weight decay; its parameters
are compared with two references built from the same class without decay: fed the
gradient plus ``coef * theta`` (coupled, an L2 term of coefficient ``coef``), or
stepped on the gradient and then shrunk by ``lr * weight_decay * theta`` (decoupled).
A class the table lacks fails here, so a new torch cannot leave it silently stale.
"""

import inspect

import numpy as np
import pytest

from sktraceprop.gradients._torch_decay import TORCH_DECAY, group_decay

torch = pytest.importorskip("torch")

WD, LR = 0.3, 0.01
# settings under which the two rules give different steps (SGD without momentum
# cannot tell them apart); ASGD with alpha=0 keeps its step size at lr
SETTINGS = {"SGD": {"momentum": 0.9}, "ASGD": {"lambd": 0.05, "alpha": 0.0}}


def _classes():
    return sorted(
        name
        for name, value in vars(torch.optim).items()
        if isinstance(value, type)
        and issubclass(value, torch.optim.Optimizer)
        and value is not torch.optim.Optimizer
    )


def _run(klass, grads, transform=None, **kwargs):
    """The parameter after stepping ``klass(**kwargs)`` on ``grads``; ``transform(g, p)``
    gives the gradient fed at ``p`` (default ``g``)."""
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(3, 4, dtype=torch.float64))
    opt = klass([weight], lr=LR, **kwargs)
    for g in grads:
        weight.grad = g.clone() if transform is None else transform(g, weight.detach().clone())
        opt.step()
    return weight.detach().clone()


def _decoupled_reference(klass, grads, decay, **kwargs):
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(3, 4, dtype=torch.float64))
    opt = klass([weight], lr=LR, **kwargs)
    for g in grads:
        before = weight.detach().clone()
        weight.grad = g.clone()
        opt.step()
        with torch.no_grad():
            weight -= LR * decay * before
    return weight.detach().clone()


def test_every_torch_optimizer_is_in_the_table():
    assert set(_classes()) == set(TORCH_DECAY)


CASES = [
    (name, flag)
    for name, rule in sorted(TORCH_DECAY.items())
    for flag in ((False, True) if rule == "flag" else (False,))
]


@pytest.mark.parametrize(("name", "flag"), CASES)
def test_the_table_rule_is_the_optimizers_step(name, flag):
    klass = getattr(torch.optim, name)
    params = inspect.signature(klass).parameters
    rule = TORCH_DECAY[name]
    if rule == "none":
        assert "weight_decay" not in params
        return
    kwargs = dict(SETTINGS.get(name, {}))
    if rule == "flag":
        kwargs["decoupled_weight_decay"] = flag
    rng = np.random.default_rng(1)
    grads = [torch.as_tensor(rng.normal(size=(3, 4))) for _ in range(3)]
    stepped = _run(klass, grads, weight_decay=WD, **kwargs)
    optimizer = klass([torch.nn.Parameter(torch.zeros(2, 2))], weight_decay=WD, **kwargs)
    kind, coef = group_decay(optimizer, optimizer.param_groups[0])
    plain = dict(kwargs, weight_decay=0.0)
    if name == "ASGD":
        plain["lambd"] = 0.0  # its decay term, part of the coupled coefficient
    coupled = _run(klass, grads, lambda g, p: g + coef * p, **plain)
    decoupled = _decoupled_reference(klass, grads, coef, **plain)
    assert kind == ("decoupled" if rule == "decoupled" or flag else "coupled")
    right, wrong = (coupled, decoupled) if kind == "coupled" else (decoupled, coupled)
    np.testing.assert_allclose(stepped.numpy(), right.numpy(), rtol=1e-6, atol=1e-9)
    if name != "ASGD":  # an SGD step: either rule is the same L2 term
        assert not np.allclose(stepped.numpy(), wrong.numpy(), rtol=1e-4, atol=1e-7)


def test_asgds_decay_term_is_part_of_its_l2_coefficient():
    # ASGD(weight_decay=0) still shrinks the weights by lambd at each step: the step of
    # plain ASGD fed g + lambd * theta, not the one fed g (an L2 term of 0)
    rng = np.random.default_rng(2)
    grads = [torch.as_tensor(rng.normal(size=(3, 4))) for _ in range(3)]
    stepped = _run(torch.optim.ASGD, grads, lambd=0.05, alpha=0.0)
    optimizer = torch.optim.ASGD([torch.nn.Parameter(torch.zeros(2))], lambd=0.05, alpha=0.0)
    kind, coef = group_decay(optimizer, optimizer.param_groups[0])
    plain = dict(lambd=0.0, alpha=0.0)
    coupled = _run(torch.optim.ASGD, grads, lambda g, p: g + coef * p, **plain)
    assert kind == "coupled"
    np.testing.assert_allclose(stepped.numpy(), coupled.numpy(), rtol=1e-10)
    assert not np.allclose(stepped.numpy(), _run(torch.optim.ASGD, grads, **plain).numpy())
