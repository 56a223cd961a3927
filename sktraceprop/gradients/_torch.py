"""Per-sample gradients of the margin (or the loss) of a torch classifier, by ``torch.func``.

Works with a skorch ``NeuralNetClassifier`` / ``NeuralNetBinaryClassifier`` (its
``module_``) or a plain ``torch.nn.Module``. The margin is the one of DESIGN.md:

- one output (binary, the decision value ``z``): ``m = z * (2y - 1)``;
- ``K >= 2`` outputs (logits ``z``): ``m = z_y - logsumexp_{j != y} z_j``.

Both equal ``log p_y - log(1 - p_y)``, so the cross-entropy of a row is
``log(1 + exp(-m))`` and its gradient is ``-(1 - p_y) * grad m``: TRAK's re-weighting
``Q = diag(1 - p)`` comes from :func:`._torch_margins.torch_margins`.
"""

from ._blockwise import write_blockwise
from ._torch_margins import _check_labels, _margin
from ._torch_module import _Eval, _forward, _logits_fn, _prepare, _split_params, _torch
from ._torch_rowwise import rowwise_forward

__all__ = ["torch_per_sample_gradients"]


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
