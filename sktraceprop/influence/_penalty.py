"""The L2 penalty a neural model trained with, as curvature of its objective.

A ``JaxClassifier`` minimises the mean cross-entropy plus ``alpha / 2 ||theta||^2``; a
skorch net whose torch optimizer has ``weight_decay`` (coupled, as in ``SGD``, ``Adam``
or ``RMSprop``: the decay is added to the gradient) minimises the mean cross-entropy
plus ``weight_decay / 2 ||theta||^2``. The Gauss-Newton matrix ``G`` of
:mod:`._trak` sums over the ``n`` training rows, so the curvature of the objective is
``G + n * alpha * I``: the damping is never below ``n * alpha``. (Added to any damping
instead, it changed the LDS of ``damping="auto"`` only within noise, and lowered it on
four of four skorch nets; as a floor it leaves the choice of ``"auto"`` as it was, and
lifts a given damping below it; commit fe7367c gives the LDS it measured once, which no
script here repeats.)

A decoupled decay (``AdamW``, ``Adam(decoupled_weight_decay=True)``, an optax-style
optimizer such as ``optax.adamw`` given to a ``JaxClassifier``) shrinks the weights
outside the loss: it is no term of any objective
(:mod:`sktraceprop.gradients._weight_decay` gives the stationary point it leads to, and
a net on which it was measured), so the curvature leaves it out, ``fit`` warns naming
the optimizer, and the explanation's notes say so; the neural removal refuses such a
net, since it certifies an objective. Parameter groups with different decays are left
out too (said in the notes). A decay checked at the start and end of the fit only (a
net fitted outside the library) is said in the notes too
(:mod:`sktraceprop.gradients._decay_seen`).
"""

import warnings

from ..gradients._decay_seen import decay_unchecked
from ..gradients._weight_decay import (
    coupled_decays,
    decay_holder,
    jax_coupled_decay,
    unmodelled_decay,
)
from ..utils._stack import user_stacklevel

__all__ = ["l2_penalty"]


def _decoupled(model):
    """The note on a decay outside the objective, with a warning; None if there is none."""
    found = unmodelled_decay(model)
    if found is None:
        return None
    text = (
        f"not the weight decay of {found} (no L2 term of the objective the curvature "
        "is of: left out)"
    )
    warnings.warn(
        f"InfluenceExplainer: the curvature leaves out the weight decay of {found}; the "
        "scores are those of the objective without it (see the explanation's notes).",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return text


def l2_penalty(model):
    """The model's L2 coefficient per row of the mean loss, and what the notes say of it
    (and of what could not be checked of its decay during the fit: :mod:`._decay_seen`).

    Returns
    -------
    coef : float
        ``alpha`` of ``alpha / 2 ||theta||^2`` added to the mean loss (0 when none, or
        none that can be taken into the curvature).
    text : str
        What the curvature includes of the model's own penalty, in words.
    """
    coef, text = _l2_penalty(model)
    unchecked = decay_unchecked(model)
    return coef, text if unchecked is None else f"{text}; {unchecked}"


def _l2_penalty(model):
    from ..adapters import JaxClassifier, JaxRegressor

    decoupled = _decoupled(model)
    if isinstance(model, (JaxClassifier, JaxRegressor)):
        coef = float(model.alpha)
        text = (
            f"the model's own L2 penalty (alpha={coef:g}: damping at least n * alpha)"
            if coef
            else "no L2"
        )
        coupled = 0.0 if decoupled is not None else jax_coupled_decay(model)
        if coupled:
            # add_decayed_weights ahead of the optimizer: the same L2 term as alpha
            coef += coupled
            text = (
                f"the model's L2 penalty, alpha={float(model.alpha):g} plus its "
                f"optimizer's coupled decay {coupled:.6g} (read from its steps): damping "
                "at least n * their sum"
            )
        return coef, text if decoupled is None else f"{text}; {decoupled}"
    # a wrapper's (Lookahead's) decay is that of the optimizer it wraps
    optimizer = decay_holder(getattr(model, "optimizer_", None))
    groups = getattr(optimizer, "param_groups", None)
    if not groups:
        return 0.0, "no L2 penalty (none found)"
    if decoupled is not None:
        return 0.0, decoupled
    decays = coupled_decays(optimizer)
    if decays == [0.0]:
        return 0.0, "no L2 (the optimizer has no weight_decay)"
    name = type(optimizer).__name__
    if len(decays) > 1:
        return 0.0, (
            f"not the weight decays of {name}, which differ between its parameter groups "
            f"({decays}): the scores are those of an unpenalised objective"
        )
    coef = decays[0]
    return coef, (
        f"the model's own L2 penalty ({name} {_decay_words(optimizer, coef)}: damping at "
        "least n * weight_decay)"
    )


def _decay_words(optimizer, coef):
    """``weight_decay=...``, or ASGD's sum with its ``lambd``."""
    if type(optimizer).__name__ == "ASGD":
        group = optimizer.param_groups[0]
        return (
            f"weight_decay={float(group['weight_decay']):g} + lambd="
            f"{float(group['lambd']):g} = {coef:g}"
        )
    return f"weight_decay={coef:g}"
