"""A torch optimizer that wraps another (a Lookahead): accepted when its steps are,
exactly, those of the optimizer it wraps with that one's coupled decay.

A wrapper such as Lookahead (Zhang et al. 2019: ``k`` steps of an inner optimizer on
fast weights, then the slow weights moved ``alpha`` of the way to them) is no class of
``torch.optim``, so :mod:`._torch_decay` cannot read its decay and used to refuse it as
one of unknown kind. Its fixed points are those of the optimizer it wraps, whose rule
the table does know. Taking that rule on the wrapper's name alone would be a guess (a
wrapper may shrink the weights itself), so two fresh copies of the wrapper, built by
the net's own optimizer factory on a small weight, are stepped side by side on known
gradients: one as configured, one whose inner optimizer has no decay and is fed the
gradient plus ``coef * theta``. The wrapper is accepted, with the inner optimizer's
coupled L2 coefficient ``coef``, only if every step of the two agrees and the copy
without decay moves no weight at a zero gradient; otherwise it is refused, naming the
wrapper, the optimizer it wraps and what to do.

The side-by-side steps run as many steps as the fit took (at least :data:`MIN_STEPS`):
the wrapper is of unknown kind, and a decay of its own may start after step N. Where
neither the record of the fit nor the inner optimizer's state counts them,
:mod:`._weight_decay` refuses the wrapper as it refuses an unknown optimizer.
"""

import numpy as np

from ._torch_decay import group_decay, table_rule

__all__ = ["build_optimizer", "inner_optimizer", "lost_inner", "wrapper_refusal"]

# steps compared at least (a Lookahead syncs its slow weights every k = 5 or 6 steps)
MIN_STEPS = 24


def build_optimizer(net, weight):
    """The optimizer a skorch net's fit would build, on ``weight`` alone (None if it
    cannot be built so)."""
    kwargs = {
        key[len("optimizer__") :]: value
        for key, value in net.get_params(deep=False).items()
        if key.startswith("optimizer__")
    }
    kwargs.pop("param_groups", None)
    kwargs.setdefault("lr", net.lr)
    try:
        return net.optimizer([weight], **kwargs)
    except Exception:  # noqa: BLE001 - a custom factory: left to the fitted check
        return None


def inner_optimizer(optimizer):
    """The one torch optimizer that ``optimizer``, no class of ``torch.optim``, holds
    as an attribute (a wrapper's inner optimizer), or None."""
    import torch

    if table_rule(optimizer) is not None:
        return None
    held = {
        id(value): value
        for value in vars(optimizer).values()
        if isinstance(value, torch.optim.Optimizer) and value is not optimizer
    }
    return next(iter(held.values())) if len(held) == 1 else None


def lost_inner(net, optimizer):
    """Why ``optimizer``, a wrapper that holds no optimizer it wraps while the one the
    net's factory builds does, cannot be read, in words, or None.

    A wrapper that keeps torch's ``Optimizer.__getstate__`` (defaults, state and
    groups only) loses the optimizer it wraps when it is pickled (skorch pickles its
    ``optimizer_``): loaded, it is a class sktraceprop does not know, and it can no
    longer step."""
    import torch

    if table_rule(optimizer) is not None or inner_optimizer(optimizer) is not None:
        return None
    fresh = build_optimizer(net, torch.nn.Parameter(torch.zeros(1)))
    inner = None if fresh is None else inner_optimizer(fresh)
    if inner is None:
        return None
    name = type(optimizer).__name__
    return (
        f"{name}, an optimizer wrapping {type(inner).__name__} that no longer holds it "
        f"(the {name} the net's optimizer settings build holds one; the fitted one lost "
        "it, as a wrapper whose __getstate__ keeps only torch's defaults, state and "
        "parameter groups does when the net is pickled), so its steps cannot be read "
        f"and it cannot step again; give {name} a __getstate__ that keeps the optimizer "
        "it wraps, or fit the net again in this process"
    )


def _probe(net, decay, steps, zero=False):
    """The weights after each of ``steps`` steps of a fresh wrapper on known gradients
    (zero ones if ``zero``), its inner optimizer's decay taken out and fed as
    ``decay * theta`` when ``decay`` is not None; None if it cannot be built."""
    import torch

    weight = torch.nn.Parameter(torch.linspace(0.5, 2.0, 6, dtype=torch.float64).reshape(2, 3))
    wrapper = build_optimizer(net, weight)
    inner = None if wrapper is None else inner_optimizer(wrapper)
    if inner is None:
        return None
    if decay is not None:
        for group in inner.param_groups:
            group["weight_decay"] = 0.0
            if "lambd" in group:  # ASGD's own decay term, part of its coefficient
                group["lambd"] = 0.0
    rng = np.random.default_rng(0)
    seen = []
    for _ in range(steps):
        g = torch.zeros_like(weight) if zero else torch.as_tensor(rng.normal(size=(2, 3)))
        weight.grad = g if decay is None else g + decay * weight.detach()
        wrapper.step()
        seen.append(weight.detach().clone().numpy())
    return seen


def wrapper_refusal(net, wrapper, inner, steps=None):
    """Why the steps of ``wrapper`` (``net``'s optimizer, holding ``inner``) cannot be
    read as those of ``inner``, in words, or None when they are."""
    name, inner_name = type(wrapper).__name__, type(inner).__name__
    what = (
        f"{name}, an optimizer wrapping {inner_name} whose steps sktraceprop cannot read "
        "exactly as those of the optimizer it wraps"
    )
    todo = (
        f"train with {inner_name} itself (optimizer=torch.optim.{inner_name}), or with "
        "no weight decay in either"
    )
    kinds = {group_decay(inner, group)[0] for group in inner.param_groups}
    if kinds != {"coupled"}:
        return (
            f"{what} ({inner_name}'s own decay is {'/'.join(sorted(kinds))}, no L2 term "
            f"sktraceprop can model); {todo}"
        )
    steps = max(int(steps or 0), MIN_STEPS)
    try:
        coef = group_decay(inner, inner.param_groups[0])[1]
        stepped = _probe(net, None, steps)
        fed = _probe(net, coef, steps)
        still = _probe(net, 0.0, steps, zero=True)
    except Exception as exc:  # noqa: BLE001 - any failure: the steps are not known
        return f"{what} (a probe of its steps failed: {type(exc).__name__}: {exc}); {todo}"
    if stepped is None or fed is None or still is None:
        return f"{what} (the net's optimizer factory cannot build it on a probe weight); {todo}"
    start = np.linspace(0.5, 2.0, 6).reshape(2, 3)
    if any(not np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(stepped, fed)):
        return (
            f"{what} (its steps differ from {inner_name}'s fed the gradient plus its decay "
            f"{coef:g} * theta: it changes the weights by more than the inner steps); {todo}"
        )
    if any(not np.array_equal(a, start) for a in still):
        return f"{what} (it moves weights whose gradient is zero: a decay of its own); {todo}"
    return None
