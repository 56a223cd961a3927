"""Fresh initial weights for a clone of a skorch net whose module is given as an instance.

skorch keeps a module given as an instance (without ``module__`` parameters) as the
fitted ``module_`` and trains it in place, and :func:`sklearn.base.clone` deep-copies
it: an unfitted clone meant to be fitted anew (a crossfit clone, an influence ensemble
member or retrain) would start from the fitted network's trained weights, its fit
biased by the very rows it should not have seen. :func:`fresh_module` draws them anew
in the clone, from torch's random state, with each submodule's ``reset_parameters``
(what torch's layers call when they are built, so a module of torch's layers gets the
initialisation its class would give it, draw for draw; an initialisation of the
module's own, in its constructor, is not repeated). A trainable parameter that no
``reset_parameters`` overwrites is refused; frozen ones (``requires_grad=False``: never
trained) keep their values, and buffers that no ``reset_parameters`` reaches are kept
as the instance holds them.
"""

import torch

__all__ = ["fresh_module", "module_instance"]


def module_instance(net):
    """Whether the skorch net ``net`` trains its module given as an instance (skorch
    builds one given as a class, or an instance with ``module__`` parameters, anew)."""
    module = getattr(net, "module", None)  # (None: not a skorch net)
    return isinstance(module, torch.nn.Module) and not net.get_params_for("module")


def fresh_module(template, what):
    """Draw the trainable parameters of the module instance of ``template`` (an unfitted
    clone of a skorch net) anew, in place, from torch's random state.

    Returns False where ``template``'s module is built anew by its fit (nothing to do),
    True where it was drawn. Raises ValueError, naming ``what`` (what the clone is for),
    where a trainable parameter is overwritten by no ``reset_parameters``: the clone would
    start from the trained weights.
    """
    if not module_instance(template):
        return False
    module = template.module
    params = dict(module.named_parameters())
    frozen = {name: p.detach().clone() for name, p in params.items() if not p.requires_grad}
    with torch.no_grad():
        # a value no reset overwrites stays NaN: reached is measured, not assumed
        for name, p in params.items():
            if name not in frozen:
                p.fill_(float("nan"))
        for sub in module.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()
        for name, value in frozen.items():
            params[name].copy_(value)
    missed = [name for name, p in params.items() if name not in frozen and p.isnan().any()]
    if missed:
        shown = ", ".join(missed[:5]) + (f" and {len(missed) - 5} more" if len(missed) > 5 else "")
        raise ValueError(
            f"{what}: the module of {type(template).__name__} is given as a "
            f"{type(module).__name__} instance, which skorch trains in place and a clone "
            "copies, so each clone would start from the trained weights; they are drawn "
            "anew with each layer's reset_parameters, but no reset_parameters sets "
            f"{shown}. Give the net the module's class and its parameters (module__...), "
            "so that each clone builds it anew, or give the module a reset_parameters "
            "method that sets them. No clone was fitted."
        )
    return True
