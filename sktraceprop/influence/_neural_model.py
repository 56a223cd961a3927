"""The neural model as the influence sees it: margins, gradients and curvature factors.

One entry point per quantity, dispatched to :mod:`sktraceprop.gradients` for a skorch net
(torch) or a JAX classifier; torch and jax are imported only there, when used. Also the
inputs' dtype and the rows of gradients held at once.
"""

import numpy as np
from scipy.special import expit

from .._lineage._skorch import is_skorch_net
from ..utils._module_input import check_module_input

#: Bytes of per-sample gradients held at once while computing features.
_BLOCK_BYTES = 128 << 20


def is_jax_model(model):
    """Whether ``model`` is a JaxClassifier (fitted or not), or a fitted classifier with
    its ``apply_fn_``, ``params_`` and ``classes_``.

    Not a :class:`~sktraceprop.adapters.JaxRegressor`: the neural influence scores the
    margin of a class under the cross-entropy, which a regressor does not have.
    """
    from ..adapters import JaxClassifier

    if isinstance(model, JaxClassifier):
        return True
    return all(hasattr(model, a) for a in ("apply_fn_", "params_", "classes_"))


def is_neural_model(model):
    """Whether ``model`` is a skorch net or a JAX classifier (explained by TRAK)."""
    return is_skorch_net(model) or is_jax_model(model)


def _margins(model, X, y):
    if is_jax_model(model):
        from ..gradients import jax_margins

        return jax_margins(model, X, y)
    from ..gradients import torch_margins

    return torch_margins(model, X, y)


def _probabilities(model, X, y):
    """``p`` and ``q = 1 - p``, the true-class probability and its complement, float64.

    Both from the margin (``expit(m)``, ``expit(-m)``), not ``1 - p`` of a float32
    ``p``: near ``p = 1`` float32 keeps no digit of ``q`` (``q = 3e-7`` at margin 15
    came out 20% off, and ``q = 0`` beyond margin 17), and ``q`` weighs each training
    row's score and ``p q`` its curvature.
    """
    m = _margins(model, X, y)[0].astype(np.float64)
    bad = ~np.isfinite(m)
    if bad.any():
        raise ValueError(
            f"The margins of {int(bad.sum())} of {m.size} training rows are NaN or "
            f"infinite (row {int(np.flatnonzero(bad)[0])} first): the model's outputs are "
            "not finite there (its training diverged, or its parameters are NaN), so no "
            "influence can be computed. Train it again (a smaller learning rate, scaled "
            "inputs)."
        )
    return expit(m), expit(-m)


def _gradients(model, X, y, parameters, block_size, out=None, projector=None):
    kwargs = dict(parameters=parameters, block_size=block_size, out=out, projector=projector)
    if is_jax_model(model):
        from ..gradients import jax_per_sample_gradients

        # float32 as torch's, a float64 model's too: the memory budget of a block and
        # the stored (n, k) features are counted in float32
        return jax_per_sample_gradients(model, X, y, dtype=np.float32, **kwargs)
    from ..gradients import torch_per_sample_gradients

    return torch_per_sample_gradients(model, X, y, **kwargs)


def _factors(model, X, parameters, block_size, projector=None, n_directions=None):
    kwargs = dict(
        parameters=parameters,
        block_size=block_size,
        projector=projector,
        n_directions=n_directions,
    )
    if is_jax_model(model):
        from ..gradients import jax_gauss_newton_factors

        return jax_gauss_newton_factors(model, X, dtype=np.float32, **kwargs)
    from ..gradients import torch_gauss_newton_factors

    return torch_gauss_newton_factors(model, X, **kwargs)


def _n_params(model, parameters):
    if is_jax_model(model):
        from ..gradients import jax_parameter_names
        from ..gradients._jax import _leaves

        names, leaves, _ = _leaves(model.params_)
        chosen = set(jax_parameter_names(model, parameters))
        return sum(int(np.size(leaf)) for name, leaf in zip(names, leaves) if name in chosen)
    from ..gradients import torch_parameter_names

    chosen = set(torch_parameter_names(model, parameters))
    return sum(p.numel() for name, p in model.module_.named_parameters() if name in chosen)


def _n_directions(model, X):
    """Curvature factors per row: 1 for one logit, ``K - 1`` for ``K``."""
    if is_jax_model(model):
        n_out = int(np.asarray(model.apply_fn_(model.params_, X[:1])).reshape(1, -1).shape[1])
    else:
        from ..gradients._torch_module import (
            _Eval,
            _forward,
            _logits_fn,
            _module_and_outputs,
            _torch,
        )

        torch = _torch()
        module, outputs = _module_and_outputs(model, "auto")
        first = next(module.parameters())
        x = torch.as_tensor(X[:1], dtype=first.dtype, device=first.device)
        # in eval mode, as the gradients are taken: a batch-norm in training mode
        # refuses a batch of one row
        with _Eval(module), torch.no_grad():
            n_out = _forward(module, dict(module.named_parameters()), x, _logits_fn(outputs))
        n_out = n_out.shape[-1]
    return 1 if n_out == 1 else n_out - 1


def as_inputs(Xt):
    """Inputs of the model as a float32 array (torch modules may take n-d inputs)."""
    check_module_input(Xt, "the neural influence")
    return np.ascontiguousarray(np.asarray(Xt, dtype=np.float32))


def _rows_per_block(width, block_size):
    """Rows whose ``width`` float32 columns fit the gradient memory budget."""
    return int(max(1, min(block_size, _BLOCK_BYTES // max(1, 4 * width))))
