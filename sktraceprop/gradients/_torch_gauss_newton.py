"""Gauss-Newton curvature factors of a torch classifier's cross-entropy, per row, by
``torch.func`` (the labels are not needed)."""

import numpy as np

from ._blockwise import write_blockwise
from ._curvature import n_directions_for, output_curvature
from ._torch import _block_outputs
from ._torch_module import _Eval, _forward, _logits_fn, _module_and_outputs, _split_params, _torch

__all__ = ["torch_gauss_newton_factors"]


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
