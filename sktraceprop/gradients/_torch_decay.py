"""How each torch optimizer applies its weight decay: one table, checked step by step.

A coupled decay adds ``weight_decay * theta`` to the gradient before the optimizer's
own step (its fixed point is a stationary point of the mean loss plus
``weight_decay / 2 ||theta||^2``); a decoupled one shrinks the weights after it
(:mod:`._weight_decay` says why that is no objective). The table names every optimizer
class of ``torch.optim``; ``tests/gradients/test_torch_decay_table.py`` runs each
one's steps and compares them with both rules, and fails on a class the table lacks,
so a torch release that adds or changes one cannot leave it silently stale.

``ASGD`` shrinks the weights by ``lambd * eta`` at every step besides its
``weight_decay``: with its step size ``eta`` that is a coupled L2 term of coefficient
``weight_decay + lambd`` (``lambd`` is 1e-4 by default, so an ``ASGD`` net with no
``weight_decay`` still has an L2 term).

Any other class (a third-party optimizer, or a subclass that may have changed the
step) is unknown: the library cannot know what its ``weight_decay`` means, nor whether
a decay of another name moves the weights, so a non-zero ``weight_decay``, or weights
that steps with a zero gradient move (as many as the fit took, :mod:`._decay_record`),
is reported as a decay of unknown kind.
"""

__all__ = ["group_decay"]

# "coupled": added to the gradient; "decoupled": theta *= 1 - lr * weight_decay after
# the step; "flag": decoupled where the group's decoupled_weight_decay is true;
# "none": the class has no weight decay.
TORCH_DECAY = {
    "ASGD": "coupled",
    "Adadelta": "coupled",
    "Adafactor": "decoupled",
    "Adagrad": "coupled",
    "Adam": "flag",
    "AdamW": "decoupled",
    "Adamax": "coupled",
    "LBFGS": "none",
    "Muon": "decoupled",
    "NAdam": "flag",
    "RAdam": "flag",
    "RMSprop": "coupled",
    "Rprop": "none",
    "SGD": "coupled",
    "SparseAdam": "none",
}


def table_rule(optimizer):
    """The table's rule for ``optimizer``'s class, or None when it is no class of
    ``torch.optim`` itself (a subclass is not: it may have changed the step)."""
    import torch.optim

    name = type(optimizer).__name__
    if name in TORCH_DECAY and getattr(torch.optim, name, None) is type(optimizer):
        return TORCH_DECAY[name]
    return None


def _moves_at_zero_gradient(optimizer, group, steps=1):
    """Whether ``steps`` steps of a fresh copy of ``optimizer`` (its class, ``group``'s
    settings) with a zero gradient move a weight; None when no copy can be stepped.

    As many steps as the fit took (``steps``): a decay that starts after a warm-up of N
    steps moves no weight in fewer."""
    import torch

    # the constructor's own settings: a scheduler adds others (initial_lr) to a group
    defaults = getattr(optimizer, "defaults", None) or {}
    settings = {key: group[key] for key in defaults if key in group}
    weight = torch.nn.Parameter(torch.linspace(0.5, 2.0, 4).reshape(2, 2))
    try:
        probe = type(optimizer)([weight], **settings)
        for _ in range(max(int(steps), 1)):
            weight.grad = torch.zeros_like(weight)
            probe.step()
    except Exception:  # noqa: BLE001 - a constructor or step the probe cannot call
        return None
    return not torch.equal(weight.detach(), torch.linspace(0.5, 2.0, 4).reshape(2, 2))


def group_decay(optimizer, group, steps=1):
    """How ``optimizer`` decays the weights of parameter group ``group`` (an optimizer
    of unknown kind probed over ``steps`` zero-gradient steps, those of its fit).

    Returns
    -------
    kind : {"coupled", "decoupled", "unknown"}
        ``"coupled"`` also when there is no decay (a coefficient of 0).
    coef : float
        The L2 coefficient of the coupled decay, the ``weight_decay`` of the others.
    """
    decay = float(group.get("weight_decay", 0.0) or 0.0)
    if group.get("maximize"):
        # the loss is climbed: a fixed point is no stationary point of loss + L2
        return "unknown", decay
    rule = table_rule(optimizer)
    if rule is None:
        if decay or _moves_at_zero_gradient(optimizer, group, steps) is not False:
            return "unknown", decay
        return "coupled", 0.0
    if rule == "decoupled" or (rule == "flag" and group.get("decoupled_weight_decay")):
        return "decoupled", decay
    if type(optimizer).__name__ == "ASGD":
        return "coupled", decay + float(group["lambd"])
    return "coupled", decay
