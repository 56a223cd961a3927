"""A torch module's outputs for a block of rows, checked to be those of each row alone.

The per-sample gradients of :mod:`sktraceprop.gradients._torch` take every row alone
(``vmap`` over ``x[None]``); a module whose outputs depend on their batch would be
differentiated as another function than the one that predicts. torch is imported only
when called.
"""

__all__ = ["rowwise_forward"]


def rowwise_forward(module, params, X, to_logits):
    """The outputs of the rows ``X`` passed together, refused unless each row's equal its
    output alone: the per-sample gradients take every row alone (``vmap`` over
    ``x[None]``), so a module whose output for a row depends on the other rows of its
    batch (a statistic over the batch dimension) would be differentiated as another
    function than the one that predicts, and one drawing random numbers in eval mode
    has no gradient to take."""
    import torch
    from torch.func import vmap

    from ._torch_module import _forward

    with torch.no_grad():
        z = _forward(module, params, X, to_logits)
        try:
            alone = vmap(lambda x: _forward(module, params, x[None], to_logits)[0])(X)
        except RuntimeError as err:
            if "random" not in str(err):
                raise
            raise ValueError(
                "The module draws random numbers in eval mode (dropout called with "
                "training=True, noise added in forward): its outputs are not a function of "
                "its parameters and inputs, so they have no per-sample gradient. Draw them "
                "only when self.training is True (torch.nn.Dropout does)."
            ) from err
    scale = max(1.0, float(z.abs().max())) if z.numel() else 1.0
    gap = (alone - z).abs()
    if z.numel() and not bool((gap <= 1e-3 * scale).all()):
        k = int(gap.reshape(gap.shape[0], -1).max(-1).values.argmax())
        raise ValueError(
            f"The module's output for a row depends on the other rows passed with it (row "
            f"{k} of a batch of {X.shape[0]}: {z[k].tolist()} in the batch, "
            f"{alone[k].tolist()} alone), in eval mode: a statistic over the batch "
            "dimension (x - x.mean(0), a batch-norm computed by hand). Per-sample "
            "gradients take each row alone, so they would be of another function than the "
            "net's predictions. Make forward row-wise in eval mode (torch.nn.BatchNorm1d "
            "uses its running statistics there)."
        )
    return z
