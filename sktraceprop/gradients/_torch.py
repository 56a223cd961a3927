"""Per-sample gradients of the margin (or the loss) of a torch classifier, by ``torch.func``.

Works with a skorch ``NeuralNetClassifier`` / ``NeuralNetBinaryClassifier`` (its
``module_``) or a plain ``torch.nn.Module``. The margin is the one of DESIGN.md:

- one output (binary, the decision value ``z``): ``m = z * (2y - 1)``;
- ``K >= 2`` outputs (logits ``z``): ``m = z_y - logsumexp_{j != y} z_j``.

Both equal ``log p_y - log(1 - p_y)``, so the cross-entropy of a row is
``log(1 + exp(-m))`` and its gradient is ``-(1 - p_y) * grad m``: TRAK's re-weighting
``Q = diag(1 - p)`` comes from :func:`torch_margins`.
"""

import numpy as np

from ._blockwise import write_blockwise
from ._curvature import n_directions_for, output_curvature
from ._labels import class_indices
from ._torch_rowwise import rowwise_forward

__all__ = [
    "torch_gauss_newton_factors",
    "torch_margins",
    "torch_parameter_names",
    "torch_per_sample_gradients",
]


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


def _margin(z, y):
    """Signed margin of one row: ``z`` is the output vector, ``y`` an integer class."""
    torch = _torch()
    if z.shape[-1] == 1:
        return z[..., 0] * (2 * y - 1).to(z.dtype)
    # a comparison, not one_hot: one_hot reads y's value, which vmap forbids
    mask = torch.arange(z.shape[-1], device=z.device) == y[..., None]
    true = (z * mask).sum(-1)
    others = torch.logsumexp(z.masked_fill(mask, -torch.inf), dim=-1)
    return true - others


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


def _check_probabilities(raw):
    """Refuse module outputs read as probabilities (``NLLLoss``: skorch trains on their
    log) that are not: negative, NaN, or rows that do not sum to 1. Their log is then no
    log-softmax, so the net trained on another loss than the cross-entropy (or on NaN,
    from the log of a negative output) and its margins would be another model's."""
    raw = raw[:, None] if raw.ndim == 1 else raw
    sums = raw.sum(-1)
    bad = ~((raw >= 0).all(-1) & ((sums - 1).abs() <= 1e-3))
    if bool(bad.any()):
        k = int(bad.nonzero()[0, 0])
        raise ValueError(
            "The net trains with NLLLoss, on the log of its module's outputs, which must "
            "then be probabilities (the module ends in a softmax); the outputs of "
            f"{int(bad.sum())} row(s) are not (row {k}: sum {float(sums[k]):.4g}, "
            f"smallest {float(raw[k].min()):.4g}). Its loss was not the cross-entropy "
            "(NaN where an output is negative). End the module in torch.nn.Softmax, or "
            "train with criterion=torch.nn.CrossEntropyLoss on logits."
        )


def _check_labels(z, y):
    n_out = z.shape[-1]
    high = 2 if n_out == 1 else n_out
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= high):
        raise ValueError(
            f"y must hold class indices in [0, {high - 1}] for a model with {n_out} "
            f"output(s); got values in [{int(y.min())}, {int(y.max())}]."
        )


class _Eval:
    """Evaluation mode during the computation (dropout off, batch-norm running stats)."""

    def __init__(self, module):
        self.module = module

    def __enter__(self):
        self.training = self.module.training
        self.module.eval()

    def __exit__(self, *exc):
        self.module.train(self.training)


def torch_margins(model, X, y, *, outputs="auto", block_size=1024):
    """Signed margins and true-class probabilities of each row.

    Parameters
    ----------
    model : skorch net or torch.nn.Module
        A fitted skorch ``NeuralNetClassifier`` / ``NeuralNetBinaryClassifier``, or a
        module returning one logit (binary) or ``K`` class scores per row.
    X : array-like of shape (n_samples, ...)
        Module inputs.
    y : array-like of shape (n_samples,)
        Class indices: 0/1 for one output, ``0..K-1`` for ``K`` outputs (skorch's
        convention: ``net.predict`` returns such indices).
    outputs : {"auto", "logits", "log_proba", "proba"}, default="auto"
        What the module returns. "auto" means "proba" for a skorch net trained with
        ``NLLLoss`` (``NeuralNetClassifier``'s default, where the module ends in a
        softmax) and "logits" otherwise. Margins are invariant to the per-row shift
        of log-softmax, so "log_proba" is handled as "logits".
    block_size : int, default=1024
        Rows per forward pass.

    Returns
    -------
    margins : ndarray of shape (n_samples,), dtype float32
    p_true : ndarray of shape (n_samples,), dtype float32
        Probability of the true class, ``sigmoid(margin)``; TRAK's train-side weight
        is ``1 - p_true``, best taken as ``scipy.special.expit(-margins)``: float32
        keeps no digit of it near ``p_true = 1``.
    """
    torch = _torch()
    module, outputs, X, y = _prepare(model, X, y, outputs)
    to_logits = _logits_fn(outputs)
    params = dict(module.named_parameters())
    margins = np.empty(X.shape[0], dtype=np.float32)
    with _Eval(module), torch.no_grad():
        for start in range(0, X.shape[0], block_size):
            if outputs == "proba":
                raw = _forward(module, params, X[start : start + block_size], lambda o: o)
                _check_probabilities(raw)
                z = to_logits(raw)
            else:
                z = _forward(module, params, X[start : start + block_size], to_logits)
            _check_labels(z, y[start : start + block_size])
            m = _margin(z, y[start : start + block_size])
            margins[start : start + block_size] = m.float().cpu().numpy()
    p_true = (1.0 / (1.0 + np.exp(-margins.astype(np.float64)))).astype(np.float32)
    return margins, p_true


def torch_per_sample_gradients(
    model,
    X,
    y,
    *,
    output="margin",
    parameters=None,
    outputs="auto",
    block_size=256,
    out=None,
    projector=None,
):
    """Per-sample gradients of the signed margin (or the loss) by ``vmap(grad(...))``.

    Parameters
    ----------
    model : skorch net or torch.nn.Module
        A fitted skorch ``NeuralNetClassifier`` / ``NeuralNetBinaryClassifier`` (its
        ``module_`` is differentiated), or a module returning one logit (binary) or
        ``K`` class scores per row. The module is put in eval mode for the
        computation and restored; there, each row's output must not depend on the
        other rows passed with it, nor on random numbers (else ``ValueError``: the
        rows are differentiated one by one).
    X : array-like of shape (n_samples, ...)
        Module inputs.
    y : array-like of shape (n_samples,)
        Class indices: 0/1 for one output, ``0..K-1`` for ``K`` outputs.
    output : {"margin", "loss"}, default="margin"
        "margin": gradient of the signed margin ``m`` (see the module docstring).
        "loss": gradient of the per-sample cross-entropy ``log(1 + exp(-m))``, which
        is ``-(1 - p_true) * grad m``; no regularisation term is included.
    parameters : None, list of str or callable, default=None
        The parameters to differentiate (see :func:`torch_parameter_names`); the
        others are held fixed. E.g. the last layer only.
    outputs : {"auto", "logits", "log_proba", "proba"}, default="auto"
        What the module returns (see :func:`torch_margins`).
    block_size : int, default=256
        Rows per vectorised backward pass.
    out : None, ndarray, numpy.memmap, str or path-like, default=None
        Where to write the gradients (see
        :func:`sktraceprop.gradients._blockwise.write_blockwise`); a path gives a
        ``.npy`` memmap on disk.
    projector : callable, default=None
        Applied to each float32 block ``(n_block, p) -> (n_block, k)`` before writing,
        e.g. ``JLProjector(...).fit(...).transform``.

    Returns
    -------
    gradients : ndarray or numpy.memmap of shape (n_samples, p) or (n_samples, k)
        float32; columns follow :func:`torch_parameter_names`.
    """
    torch = _torch()
    from torch.func import grad, vmap

    if output not in ("margin", "loss"):
        raise ValueError(f"output must be 'margin' or 'loss'; got {output!r}.")
    module, outputs, X, y = _prepare(model, X, y, outputs)
    names, all_params, chosen, fixed = _split_params(module, parameters)
    to_logits = _logits_fn(outputs)
    buffers = dict(module.named_buffers())
    n_params = sum(v.numel() for v in chosen.values())

    def scalar(theta, x, target):
        z = _forward(module, (theta, fixed, buffers), x[None], to_logits)[0]
        m = _margin(z, target)
        if output == "loss":
            return torch.nn.functional.softplus(-m)
        return m

    per_sample = vmap(grad(scalar), in_dims=(None, 0, 0))

    def block(start, stop):
        z = _block_outputs(module, all_params, X, start, stop, to_logits)
        _check_labels(z, y[start:stop])
        g = per_sample(chosen, X[start:stop], y[start:stop])
        flat = torch.cat([g[k].reshape(stop - start, -1) for k in names], dim=1)
        return flat.detach().float().cpu().numpy()

    with _Eval(module):
        return write_blockwise(
            block, X.shape[0], n_params, block_size=block_size, out=out, projector=projector
        )


def _block_outputs(module, params, X, start, stop, to_logits):
    """Outputs of rows ``start:stop``; those of the first block checked row-wise (a
    module that depends on its batch does so in every block: one suffices)."""
    if start == 0:
        return rowwise_forward(module, params, X[start:stop], to_logits)
    with _torch().no_grad():
        return _forward(module, params, X[start:stop], to_logits)


def _split_params(module, parameters):
    names = _select(module, parameters)
    all_params = {k: v.detach() for k, v in module.named_parameters()}
    chosen = {k: all_params[k] for k in names}
    fixed = {k: v for k, v in all_params.items() if k not in chosen}
    return names, all_params, chosen, fixed


def torch_gauss_newton_factors(
    model,
    X,
    *,
    parameters=None,
    outputs="auto",
    n_directions=None,
    block_size=256,
    out=None,
    projector=None,
):
    """Curvature factors ``a_ie`` with ``sum_{i,e} a_ie a_ie^T`` the Gauss-Newton matrix.

    The generalised Gauss-Newton matrix of the cross-entropy of a classifier with
    logits ``z`` is ``G = sum_i J_i^T Lambda_i J_i``, with ``J_i`` the Jacobian of row
    ``i``'s logits and ``Lambda_i`` the Hessian of its loss with respect to them
    (``diag(p) - p p^T`` for ``K`` logits, ``p (1 - p)`` for one). Each row contributes
    ``c`` factors ``a_ie = sqrt(w_ie) J_i^T v_ie`` from the eigenpairs ``(w_ie, v_ie)``
    of ``Lambda_i`` (:mod:`sktraceprop.gradients._curvature`), each one per-sample
    gradient of ``sqrt(w_ie) v_ie . z``. The labels are not needed: the Gauss-Newton
    matrix of the cross-entropy does not depend on them.

    Parameters
    ----------
    model : skorch net or torch.nn.Module
        As for :func:`torch_per_sample_gradients`.
    X : array-like of shape (n_samples, ...)
        Module inputs.
    parameters : None, list of str or callable, default=None
        The parameters the matrix is taken over (see :func:`torch_parameter_names`).
    outputs : {"auto", "logits", "log_proba", "proba"}, default="auto"
        What the module returns (see :func:`torch_margins`); probabilities are turned
        into log-probabilities, whose softmax is the same distribution.
    n_directions : int, default=None
        Directions per row, largest eigenvalue first. None keeps all ``K - 1``
        nonzero ones (one for a single output), which makes ``G`` exact.
    block_size : int, default=256
        Rows per vectorised pass.
    out : None, ndarray, numpy.memmap, str or path-like, default=None
        Where to write (see :func:`sktraceprop.gradients._blockwise.write_blockwise`).
    projector : callable, default=None
        Applied to each float32 block of factors before writing.

    Returns
    -------
    factors : ndarray or numpy.memmap of shape (n_samples * c, p) or (n_samples * c, k)
        float32; rows ``i * c`` to ``i * c + c - 1`` belong to sample ``i``.
    """
    torch = _torch()
    from torch.func import grad, vmap

    module, outputs = _module_and_outputs(model, outputs)
    try:
        first = next(module.parameters())
    except StopIteration:
        raise ValueError("The module has no parameters.") from None
    X = torch.as_tensor(np.asarray(X), dtype=first.dtype, device=first.device)
    names, all_params, chosen, fixed = _split_params(module, parameters)
    buffers = dict(module.named_buffers())
    to_logits = _logits_fn(outputs)
    n_params = sum(v.numel() for v in chosen.values())
    with _Eval(module), torch.no_grad():
        n_out = _forward(module, all_params, X[:1], to_logits).shape[-1]
    c = n_directions_for(n_out, n_directions)

    def contracted(theta, x, v):
        z = _forward(module, (theta, fixed, buffers), x[None], to_logits)[0]
        return (z * v).sum()

    per_direction = vmap(vmap(grad(contracted), in_dims=(None, None, 0)), in_dims=(None, 0, 0))

    def block(start, stop):
        z = _block_outputs(module, all_params, X, start, stop, to_logits)
        V, w = output_curvature(z.double().cpu().numpy(), c)
        scaled = torch.as_tensor(V * np.sqrt(w)[:, :, None], dtype=z.dtype, device=z.device)
        g = per_direction(chosen, X[start:stop], scaled)
        flat = torch.cat([g[k].reshape((stop - start) * c, -1) for k in names], dim=1)
        return flat.detach().float().cpu().numpy()

    with _Eval(module):
        return write_blockwise(
            block,
            X.shape[0],
            n_params,
            block_size=block_size,
            out=out,
            projector=projector,
            rows_per_sample=c,
        )
