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

A torch optimizer's decay is read from the table of :mod:`._torch_decay`; one the
table does not know (a third-party class) is a decay of unknown kind, refused and
warned of like a decoupled one, unless it wraps an optimizer whose steps it keeps
(:mod:`._torch_wrapper`; one that lost the optimizer it wraps on pickling is refused
saying so); a decay that changed during the fit is one too
(:mod:`._decay_record`). An optax-style optimizer is asked directly: its update for a
zero gradient is zero unless it moves the weights by something other than the
gradient. Whether such a move is coupled (``optax.chain(optax.add_decayed_weights(wd),
optax.adam(lr))``, an L2 term) or decoupled (``optax.adamw``) depends on where the
decay stands in the chain, which optax does not expose: its steps are asked
(:mod:`._optax_decay`), a coupled decay's coefficient is added to the model's
``alpha``, and anything else is refused; each step of a fit is checked against the
decay so read, and a decay that changed (a schedule) is refused too
(:mod:`._jax_decay_steps`).
"""

from ._decay_record import decay_change as torch_decay_change
from ._decay_record import fit_steps
from ._jax_decay_steps import decay_change, readable_tree
from ._optax_decay import coupled_coefficient
from ._torch_decay import group_decay, table_rule
from ._torch_wrapper import build_optimizer, inner_optimizer, lost_inner, wrapper_refusal

__all__ = [
    "coupled_decays",
    "decay_holder",
    "decay_refusal",
    "jax_coupled_decay",
    "unmodelled_decay",
]


def _torch_unmodelled(optimizer, net):
    """The decay of a torch optimizer that is no L2 term, in words, or None
    (:mod:`._torch_decay` gives each class's rule; a wrapper's is its inner
    optimizer's, :mod:`._torch_wrapper`; a decay that changed during the fit is none,
    :mod:`._decay_record`)."""
    inner = inner_optimizer(optimizer)
    # the wrapper's groups as its factory builds them, and each step of the inner one
    changed = torch_decay_change(net, optimizer) or (inner and torch_decay_change(net, inner))
    if changed:
        return changed
    if inner is None:
        lost = lost_inner(net, optimizer)
        if lost is not None:
            return lost
    else:
        # the wrapper is of unknown kind too: its probe must run as many steps as the
        # fit took (a decay of its own may start after the probe's MIN_STEPS)
        steps = fit_steps(inner, net)
        steps = fit_steps(optimizer, net) if steps is None else steps
        if steps is None and getattr(net, "optimizer_", None) is optimizer:
            return _uncounted(optimizer, f", an optimizer wrapping {type(inner).__name__}")
        found = wrapper_refusal(net, optimizer, inner, steps)
        if found is not None:
            return found
        optimizer = inner
    name = type(optimizer).__name__
    steps = fit_steps(optimizer, net)
    # a fitted net's optimizer whose steps no record nor state counts: how long a
    # zero-gradient probe must run to see a decay that starts late is not known
    uncounted = steps is None and getattr(net, "optimizer_", None) is not None
    for group in getattr(optimizer, "param_groups", None) or ():
        kind, decay = group_decay(optimizer, group, steps or 1)
        if kind == "coupled" and uncounted and table_rule(optimizer) is None:
            return _uncounted(optimizer, "")
        if kind == "decoupled" and decay:
            flag = ", decoupled_weight_decay=True" if group.get("decoupled_weight_decay") else ""
            flag = "" if name == "AdamW" else flag
            return f"{name}(weight_decay={decay:g}{flag}), a decoupled weight decay"
        if kind == "unknown":
            if group.get("maximize"):
                return f"{name}(maximize=True), which climbs the loss"
            seen = (
                f"it has weight_decay={decay:g}"
                if decay
                else f"{steps} step(s) of it with a zero gradient, as many as its fit took, "
                "moved the weights (or could not be run)"
            )
            return (
                f"{name}, a weight decay of unknown kind: "
                f"{type(optimizer).__module__}.{type(optimizer).__qualname__} is no "
                f"optimizer of torch.optim whose decay sktraceprop knows, {seen}, and "
                "whether that decay is an L2 term of the loss or shrinks the weights "
                "outside it (decoupled, as AdamW's) cannot be told"
            )
    return None


def _uncounted(optimizer, wraps):
    """Why ``optimizer``, of unknown kind (``wraps``: what it wraps, in words), whose
    fit's steps are not counted, cannot be read, in words."""
    kind = f"{type(optimizer).__module__}.{type(optimizer).__qualname__}"
    return (
        f"{type(optimizer).__name__}{wraps}, a weight decay of unknown kind: {kind} is no "
        "optimizer of torch.optim whose decay sktraceprop knows, and how many "
        "steps its fit took is not known (the net was fitted outside sktraceprop, or "
        "is a copy or pickle of a net it fitted, whose record stays with the "
        "optimizer that fit stepped, in its process; and the optimizer's state "
        "counts no steps), so a decay that starts after some steps cannot be "
        "ruled out; fit the net through sktraceprop (an unlearner, explainer or "
        "traced pipeline) in this process"
    )


def decay_holder(optimizer):
    """The optimizer whose parameter groups hold ``optimizer``'s decay: the one it
    wraps (:mod:`._torch_wrapper`), or itself."""
    inner = None if optimizer is None else inner_optimizer(optimizer)
    return optimizer if inner is None else inner


def coupled_decays(optimizer):
    """The L2 coefficients of ``optimizer``'s coupled decays, one per distinct value over
    its parameter groups (of the optimizer it wraps, for a wrapper), sorted (``[]`` for
    an optimizer with no parameter groups)."""
    optimizer = decay_holder(optimizer)
    groups = getattr(optimizer, "param_groups", None) or ()
    return sorted({group_decay(optimizer, group)[1] for group in groups})


def _unfitted_torch_optimizer(net):
    """The optimizer a skorch net's fit would build, on one dummy parameter (None if
    it cannot be built so: the fitted net is checked again)."""
    import torch

    return build_optimizer(net, torch.nn.Parameter(torch.zeros(1)))


def _jax_tree(model):
    """The parameter tree the optimizer of a JAX model is asked on: the fitted one, or
    before the fit the tree of the model's own ``init_fn`` (on 2 features and 2
    outputs: a mask such as optax's ``mask=`` reads the tree's names and ranks, which a
    stand-in tree would not have), or None when ``init_fn`` cannot build one."""
    import jax
    import jax.numpy as jnp

    params = getattr(model, "params_", None)
    if params is None:
        try:
            params = model._model()[0](jax.random.PRNGKey(0), 2, 2)
        except Exception:  # noqa: BLE001 - an init_fn made for other shapes
            return None
    # as trained: jax arrays, not the numpy arrays params_ keeps
    return jax.tree_util.tree_map(jnp.asarray, params)


def _jax_probe(model):
    """``(words, coef)``: the decay an optax-style optimizer of a JAX model applies
    outside its objective, in words (None if none), and the coefficient of the coupled
    decay it applies (0.0 if none; the built-in "adam" and "sgd" have neither).

    Asked on the model's parameter tree (:func:`_jax_tree`). Before the fit, an
    ``init_fn`` or optimizer that cannot be asked so leaves the question to the fitted
    model (the neural removal asks again after its fit); on the fitted parameters, an
    optimizer that cannot be asked is a decay of unknown kind, never taken for none. A
    decay is coupled when its coefficient can be read from the optimizer's steps
    (:mod:`._optax_decay`)."""
    if not callable(model.optimizer):
        return None, 0.0
    import jax
    import jax.numpy as jnp
    import numpy as np

    name = getattr(model.optimizer, "__name__", type(model.optimizer).__name__)
    fitted = getattr(model, "params_", None) is not None
    tree = _jax_tree(model)
    if tree is None:
        return None, 0.0
    try:
        # all-zero parameters show no decay (it multiplies nothing): asked on ones
        tree = readable_tree(tree)
        transform = model.optimizer(model.learning_rate)
        zeros = jax.tree_util.tree_map(jnp.zeros_like, tree)
        updates, _ = transform.update(zeros, transform.init(tree), tree)
        leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(updates)]
        if all(np.all(leaf == 0) for leaf in leaves):
            changed = decay_change(model, 0.0) if fitted else None
            return changed, 0.0
        coef, why = coupled_coefficient(transform, tree)
    except Exception as exc:  # noqa: BLE001 - any failure: the decay is not known
        if not fitted:
            return None, 0.0  # asked again on the fitted parameters
        return (
            f"{name}, an optax-style optimizer whose update at a zero gradient failed on "
            f"the model's parameters ({type(exc).__name__}: {exc}), so whether it decays "
            "the weights cannot be told"
        ), 0.0
    if coef is not None:
        # the steps of the fit, each checked against the decay of the first ones
        changed = decay_change(model, coef) if fitted else None
        return (changed, 0.0) if changed else (None, coef)
    return (
        f"{name}, an optax-style optimizer that moves weights whose loss gradient is "
        "zero (a weight decay such as optax.adamw's, default 1e-4, or "
        "add_decayed_weights) and whose decay is no coupled L2 term: "
        f"{why}. add_decayed_weights chained ahead of optax.sgd or optax.adam, on "
        "every leaf, is one (read from the optimizer's steps); a decay after a scaling "
        "(as in optax.adamw) is decoupled"
    ), 0.0


def jax_coupled_decay(model):
    """The coefficient of the coupled decay of a JAX model's optax-style optimizer, an
    L2 term besides its ``alpha`` (0.0 for none)."""
    return _jax_probe(model)[1]


def unmodelled_decay(model):
    """The weight decay ``model``'s optimizer applies outside its objective, in words,
    or None. Works on fitted and unfitted skorch nets, JaxClassifiers and
    JaxRegressors."""
    from .._lineage._skorch import is_skorch_net
    from ..adapters import JaxClassifier, JaxRegressor

    if isinstance(model, (JaxClassifier, JaxRegressor)):
        return _jax_probe(model)[0]
    if is_skorch_net(model):
        optimizer = getattr(model, "optimizer_", None)
        if optimizer is None:
            optimizer = _unfitted_torch_optimizer(model)
        return None if optimizer is None else _torch_unmodelled(optimizer, model)
    return None


def decay_refusal(model, what):
    """A ``NotImplementedError`` for ``what`` on a model trained with a weight decay
    outside its objective, or None."""
    found = unmodelled_decay(model)
    if found is None:
        return None
    return NotImplementedError(
        f"{what} cannot work on a {type(model).__name__} whose optimizer is {found}. "
        "The correction and its certificate are of the mean loss plus an L2 term "
        "weight_decay / 2 ||theta||^2, and the trained parameters are a stationary "
        "point of that objective only if the decay is added to the gradient (coupled); "
        "a certificate of it would otherwise be of an objective the net was never "
        "trained on. Train with one coupled weight decay, the same at every step "
        "(torch.optim.SGD or Adam with weight_decay=..., a JaxClassifier's alpha "
        "instead of a decay in its optimizer) or none (weight_decay=0)."
    )
