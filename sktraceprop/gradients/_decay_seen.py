"""What the library could not check of the weight decay of a model's fit, said.

Every step of a fit the library runs is checked for a decay that changed (a torch
net's through :mod:`._decay_record`, a JAX model's through :mod:`._jax_decay_steps`).
A torch net fitted by the user's own loop (or loaded from a pickle: the record of the
steps stays in the process that saw them) is checked at the start and end of its fit
only -- the groups its optimizer factory builds against the fitted ones -- so a decay
changed and changed back within the fit (a warm-up of no decay, then the decay again)
is not seen. A JAX model fitted by an earlier sktraceprop kept no record of its steps.
The library cannot know what happened in between: the influence explanation's notes
and the removal's record say so (:func:`decay_unchecked`).
"""

from ._decay_record import was_recorded
from ._jax_decay_steps import decay_unseen

__all__ = ["decay_unchecked"]


def decay_unchecked(model):
    """What was not checked of the weight decay during ``model``'s fit, in words, or
    None where every step was (or the model has no optimizer to check)."""
    from .._lineage._skorch import is_skorch_net
    from ..adapters import JaxClassifier, JaxRegressor
    from ._torch_wrapper import inner_optimizer

    if isinstance(model, (JaxClassifier, JaxRegressor)):
        return decay_unseen(model)
    if not is_skorch_net(model):
        return None
    optimizer = getattr(model, "optimizer_", None)
    if optimizer is None:
        return None
    inner = inner_optimizer(optimizer)
    if was_recorded(optimizer, model) or (inner is not None and was_recorded(inner, model)):
        return None
    return (
        "weight decay checked at start and end of fit only: the optimizer's steps were "
        "not seen by sktraceprop (the net was fitted outside it, or loaded from a "
        "pickle), so a decay changed and changed back within the fit is not seen"
    )
