"""The torch module whose gradients are taken: a skorch net's ``module_`` or the module
itself, what its forward returns (logits or probabilities), which of its parameters are
differentiated, and the forward pass in evaluation mode (for :mod:`._torch`,
:mod:`._torch_margins` and :mod:`._torch_gauss_newton`)."""

import numpy as np

from ._labels import class_indices

__all__ = ["torch_parameter_names"]


def _torch():
    import torch

    return torch


def _get_module(model):
    torch = _torch()
    module = getattr(model, "module_", None)
    if module is None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                "model must be a fitted skorch net (with module_) or a torch.nn.Module; "
                f"got {type(model).__name__}."
            )
        module = model
    return module


def _module_and_outputs(model, outputs):
    """The ``nn.Module`` to differentiate and what its forward returns."""
    torch = _torch()
    module = _get_module(model)
    is_net = module is not model
    if outputs not in ("auto", "logits", "log_proba", "proba"):
        raise ValueError(
            f"outputs must be 'auto', 'logits', 'log_proba' or 'proba'; got {outputs!r}."
        )
    if outputs == "auto":
        criterion = getattr(model, "criterion_", None)
        # skorch's NeuralNetClassifier trains with NLLLoss on log(module output): there
        # the module returns probabilities (skorch's documented convention).
        if is_net and isinstance(criterion, torch.nn.NLLLoss):
            outputs = "proba"
        else:
            outputs = "logits"
    if outputs == "logits" and _ends_in_softmax(module):
        raise ValueError(
            "The module ends in torch.nn.Softmax: its outputs are probabilities, not "
            "logits. Pass outputs='proba', or drop the Softmax (train with "
            "CrossEntropyLoss)."
        )
    return module, outputs


def _ends_in_softmax(module):
    torch = _torch()
    last = module
    while isinstance(last, torch.nn.Sequential) and len(last) > 0:
        last = last[-1]
    return isinstance(last, torch.nn.Softmax)


def _select(module, parameters):
    named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
    if parameters is None:
        chosen = [name for name, _ in named]
    elif callable(parameters):
        chosen = [name for name, _ in named if parameters(name)]
    else:
        if isinstance(parameters, str):
            parameters = [parameters]
        wanted = list(parameters)
        known = {name for name, _ in named}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise ValueError(f"Unknown parameter names {unknown}; the module has {sorted(known)}.")
        chosen = [name for name, _ in named if name in set(wanted)]
    if not chosen:
        raise ValueError("No parameter selected.")
    return chosen


def torch_parameter_names(model, parameters=None):
    """Names of the parameters whose gradients form the columns, in column order.

    Parameters
    ----------
    model : skorch net or torch.nn.Module
        A fitted skorch ``NeuralNetClassifier`` / ``NeuralNetBinaryClassifier``, or a module.
    parameters : None, list of str or callable, default=None
        None selects every parameter with ``requires_grad``; a list of names (as in
        ``module.named_parameters()``, e.g. ``["2.weight", "2.bias"]`` for the last
        layer of a ``Sequential``); or a predicate ``parameters(name) -> bool``.

    Returns
    -------
    names : list of str
        In ``named_parameters()`` order. Each parameter contributes ``numel`` columns,
        flattened row-major.
    """
    return _select(_get_module(model), parameters)


def _logits_fn(outputs):
    torch = _torch()

    def to_logits(raw):
        if outputs == "proba":
            eps = torch.finfo(raw.dtype).eps
            return torch.log(raw + eps)
        return raw

    return to_logits


def _split_params(module, parameters):
    names = _select(module, parameters)
    all_params = {k: v.detach() for k, v in module.named_parameters()}
    chosen = {k: all_params[k] for k in names}
    fixed = {k: v for k, v in all_params.items() if k not in chosen}
    return names, all_params, chosen, fixed


def _prepare(model, X, y, outputs):
    torch = _torch()
    module, outputs = _module_and_outputs(model, outputs)
    try:
        device = next(module.parameters()).device
        dtype = next(module.parameters()).dtype
    except StopIteration:
        raise ValueError("The module has no parameters.") from None
    X = torch.as_tensor(np.asarray(X), dtype=dtype, device=device)
    y = torch.as_tensor(class_indices(y, X.shape[0]), dtype=torch.long, device=device)
    return module, outputs, X, y


def _forward(module, params, X, to_logits):
    from torch.func import functional_call

    z = to_logits(functional_call(module, params, (X,)))
    return z[:, None] if z.ndim == 1 else z


class _Eval:
    """Evaluation mode during the computation (dropout off, batch-norm running stats)."""

    def __init__(self, module):
        self.module = module

    def __enter__(self):
        self.training = self.module.training
        self.module.eval()

    def __exit__(self, *exc):
        self.module.train(self.training)
