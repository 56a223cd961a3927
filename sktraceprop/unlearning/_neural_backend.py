"""What the neural removal needs from a framework, and the framework-neutral pieces.

A backend is a module (``_neural_torch.py`` for skorch nets, ``_neural_jax.py`` for
:class:`~sktraceprop.adapters.JaxClassifier`) with the functions ``prepare``,
``fit_clone``, ``fresh_clones``, ``fit_retrain``, ``last_layer_inputs``,
``get_last_layer``, ``set_last_layer``, ``weight_decay``, ``default_lr``, ``finetune``,
``gradient_norm``, ``params_vector``, ``set_params_vector``, ``loss_gradient``,
``gauss_newton_operator``, ``reset_optimizer`` and ``record_held_rows``. Neither
framework is imported here.
"""

import importlib

import numpy as np

__all__ = ["NEURAL_MODELS", "mean_loss", "minibatches", "neural_backend", "row_losses"]

NEURAL_MODELS = (
    "skorch NeuralNetClassifier (NLLLoss on a softmax, or CrossEntropyLoss) and "
    "NeuralNetBinaryClassifier, whose module ends in a torch.nn.Linear",
    "sktraceprop.adapters.JaxClassifier with an mlp() network",
)


def neural_backend(estimator):
    """The removal backend (a module) for a neural classifier, or None for other models."""
    from .._lineage._skorch import is_skorch_net
    from ..adapters import JaxClassifier

    if is_skorch_net(estimator):
        return importlib.import_module(f"{__package__}._neural_torch")
    if isinstance(estimator, JaxClassifier):
        return importlib.import_module(f"{__package__}._neural_jax")
    return None


def minibatches(n, batch_size, n_steps, seed=0):
    """Positions of ``n_steps`` mini-batches, from reshuffled passes over ``n`` rows."""
    rng = np.random.default_rng(seed)
    size = n if batch_size is None or batch_size <= 0 or batch_size >= n else batch_size
    order = np.empty(0, dtype=np.int64)
    for _ in range(n_steps):
        if order.shape[0] < size:
            order = np.concatenate([order, rng.permutation(n)])
        yield order[:size]
        order = order[size:]


def row_losses(logits, Y):
    """Per-row cross-entropy (or logistic loss when ``k = 1``) from the logits."""
    z = np.asarray(logits, dtype=np.float64)
    if z.shape[1] == 1:
        s = (2.0 * Y - 1.0) * z[:, 0]
        return np.logaddexp(0.0, -s)
    top = z.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return lse - z[np.arange(Y.shape[0]), Y]


def mean_loss(backend, model, Z, Y):
    """Mean loss of ``model`` on the rows ``(Z, Y)``."""
    return float(row_losses(backend.last_layer_inputs(model, Z)[1], Y).mean())
