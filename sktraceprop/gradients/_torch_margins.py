"""Signed margins and true-class probabilities of a torch classifier's rows.

The margin is the one of DESIGN.md (:mod:`._torch` gives it): ``m = z * (2y - 1)`` for
one output, ``m = z_y - logsumexp_{j != y} z_j`` for ``K >= 2``; the true class has
probability ``sigmoid(m)``, from which TRAK's re-weighting ``Q = diag(1 - p)`` comes.
Also the checks of the module's outputs (probabilities that are not) and of the labels.
"""

import numpy as np

from ._torch_module import _Eval, _forward, _logits_fn, _prepare, _torch

__all__ = ["torch_margins"]


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
