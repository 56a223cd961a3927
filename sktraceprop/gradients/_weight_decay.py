"""Weight decay that is no term of the objective: found, named, never modelled as L2.

A coupled weight decay (``torch.optim.SGD``, ``Adam``, ``RMSprop``: ``weight_decay *
theta`` added to the gradient) makes the optimizer minimise the mean loss plus
``weight_decay / 2 ||theta||^2``; the influence curvature and the neural removal model
it. A decoupled decay (``torch.optim.AdamW``, ``Adam(decoupled_weight_decay=True)``,
an optax optimizer such as ``optax.adamw`` or ``add_decayed_weights``) shrinks the
weights after the preconditioned step: the net stops where ``m / (sqrt(v) + eps) +
weight_decay * theta`` vanishes, i.e. at ``grad L = -weight_decay * (sqrt(v) + eps) *
theta``, which depends on the optimizer's running second moments and is the
stationary point of no fixed objective. Counted as an L2 term it is wrong: a 20-16-3
skorch MLP trained full-batch by ``AdamW(weight_decay=0.1)`` (200 rows, 300 epochs)
has a mean-loss gradient of norm 0.0074 but an L2-objective gradient of norm 1.11;
removing 20 rows by fine-tuning that L2 objective for 2000 steps drove its
"certificate" to 0.12 while moving the net *away* from an AdamW retrain on the kept
rows (parameter distance 5.6 before, 8.5 after;
``benchmarks/study_decoupled_decay.py``). So the neural removal refuses such a
net, naming the optimizer, and the influence curvature leaves the decay out and says
so (:mod:`sktraceprop.influence._penalty`).

An optax-style optimizer is asked directly: its update for a zero gradient is zero
unless it moves the weights by something other than the gradient (a decay, coupled
or not), which the library cannot see either way.
"""

__all__ = ["decay_refusal", "unmodelled_decay"]


def _decoupled_group(optimizer, group):
    if group.get("decoupled_weight_decay"):
        return True
    return any(klass.__name__ == "AdamW" for klass in type(optimizer).__mro__)


def _torch_decoupled(optimizer):
    """The decoupled decay of a torch optimizer, in words, or None."""
    name = type(optimizer).__name__
    for group in getattr(optimizer, "param_groups", None) or ():
        decay = float(group.get("weight_decay", 0.0) or 0.0)
        if decay and _decoupled_group(optimizer, group):
            flag = ", decoupled_weight_decay=True" if name != "AdamW" else ""
            return f"{name}(weight_decay={decay:g}{flag}), a decoupled weight decay"
    return None


def _unfitted_torch_optimizer(net):
    """The optimizer a skorch net's fit would build, on one dummy parameter (None if
    it cannot be built so: the fitted net is checked again)."""
    import torch

    kwargs = {
        key[len("optimizer__") :]: value
        for key, value in net.get_params(deep=False).items()
        if key.startswith("optimizer__")
    }
    kwargs.pop("param_groups", None)
    kwargs.setdefault("lr", net.lr)
    try:
        return net.optimizer([torch.nn.Parameter(torch.zeros(1))], **kwargs)
    except Exception:  # noqa: BLE001 - a custom factory: left to the fitted check
        return None


def _jax_decay(model):
    """Whether an optax-style optimizer of a JaxClassifier moves weights that have a zero
    gradient, in words, or None (the built-in "adam" and "sgd" never do)."""
    if not callable(model.optimizer):
        return None
    import jax
    import jax.numpy as jnp
    import numpy as np

    params = getattr(model, "params_", None)
    try:
        if params is None:  # before the fit: a stand-in tree
            params = {"w": jnp.ones(3, jnp.float32)}
        transform = model.optimizer(model.learning_rate)
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        updates, _ = transform.update(zeros, transform.init(params), params)
        leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(updates)]
    except Exception:  # noqa: BLE001 - a tree the optimizer's mask does not fit
        return None
    if all(np.all(leaf == 0) for leaf in leaves):
        return None
    name = getattr(model.optimizer, "__name__", type(model.optimizer).__name__)
    return (
        f"{name}, an optax-style optimizer that moves weights whose loss gradient is "
        "zero (a weight decay such as optax.adamw's, default 1e-4, or "
        "add_decayed_weights)"
    )


def unmodelled_decay(model):
    """The weight decay ``model``'s optimizer applies outside its objective, in words,
    or None. Works on fitted and unfitted skorch nets and JaxClassifiers."""
    from .._lineage._skorch import is_skorch_net
    from ..adapters import JaxClassifier

    if isinstance(model, JaxClassifier):
        return _jax_decay(model)
    if is_skorch_net(model):
        optimizer = getattr(model, "optimizer_", None)
        if optimizer is None:
            optimizer = _unfitted_torch_optimizer(model)
        return None if optimizer is None else _torch_decoupled(optimizer)
    return None


def decay_refusal(model, what):
    """A ``NotImplementedError`` for ``what`` on a model trained with a weight decay
    outside its objective, or None."""
    found = unmodelled_decay(model)
    if found is None:
        return None
    return NotImplementedError(
        f"{what} cannot work on a {type(model).__name__} whose optimizer is {found}: it "
        "shrinks "
        "the weights outside the loss, so the trained parameters are no stationary point "
        "of the mean loss plus weight_decay / 2 ||theta||^2, and a certificate of that "
        "objective would be of one the net was never trained on. Train with a coupled "
        "weight decay (torch.optim.SGD or Adam with weight_decay=..., a JaxClassifier's "
        "alpha) or none (weight_decay=0)."
    )
