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
script here repeats.) A
decoupled decay (``AdamW``, ``Adam(decoupled_weight_decay=True)``) shrinks the weights
outside the loss: it is no term of the objective, and is left out, as are parameter
groups with different decays (said in the explanation's notes).
"""

__all__ = ["l2_penalty"]


def _decoupled(optimizer, group):
    if group.get("decoupled_weight_decay"):
        return True
    return any(klass.__name__ == "AdamW" for klass in type(optimizer).__mro__)


def l2_penalty(model):
    """The model's L2 coefficient per row of the mean loss, and what the notes say of it.

    Returns
    -------
    coef : float
        ``alpha`` of ``alpha / 2 ||theta||^2`` added to the mean loss (0 when none, or
        none that can be taken into the curvature).
    text : str
        What the curvature includes of the model's own penalty, in words.
    """
    from ..adapters import JaxClassifier

    if isinstance(model, JaxClassifier):
        coef = float(model.alpha)
        return coef, (
            f"the model's own L2 penalty (alpha={coef:g}: damping at least n * alpha)"
            if coef
            else "no L2"
        )
    optimizer = getattr(model, "optimizer_", None)
    groups = getattr(optimizer, "param_groups", None)
    if not groups:
        return 0.0, "no L2 penalty (none found)"
    decays = {float(g.get("weight_decay", 0.0) or 0.0) for g in groups}
    if decays == {0.0}:
        return 0.0, "no L2 (the optimizer has no weight_decay)"
    name = type(optimizer).__name__
    if any(_decoupled(optimizer, g) for g in groups):
        return 0.0, (
            f"not the weight decay of {name}, which is decoupled (it shrinks the weights "
            "outside the loss, no term of the objective the curvature is of)"
        )
    if len(decays) > 1:
        return 0.0, (
            f"not the weight decays of {name}, which differ between its parameter groups "
            f"({sorted(decays)}): the scores are those of an unpenalised objective"
        )
    coef = decays.pop()
    return coef, (
        f"the model's own L2 penalty ({name} weight_decay={coef:g}: damping at least "
        "n * weight_decay)"
    )
