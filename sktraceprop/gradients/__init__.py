"""Per-sample gradients and Hessians of fitted models.

Closed forms for linear models (``_linear.py``, with ``_linear_losses.py`` and
``_linear_hessian.py``; the models taken: ``_linear_models.py``);
``torch.func`` and ``jax.vmap(jax.grad)`` for neural models (``_torch*.py``, ``_jax*.py``,
imported only when used, so this package does not import torch or jax).
"""

import importlib

from ._blockwise import write_blockwise
from ._linear import LinearObjective
from ._linear_models import SUPPORTED_ESTIMATORS, linear_model_objective

_LAZY = {
    "torch_per_sample_gradients": "._torch",
    "torch_gauss_newton_factors": "._torch_gauss_newton",
    "torch_margins": "._torch_margins",
    "torch_parameter_names": "._torch_module",
    "jax_per_sample_gradients": "._jax",
    "jax_gauss_newton_factors": "._jax_gauss_newton",
    "jax_margins": "._jax",
    "jax_parameter_names": "._jax",
}

__all__ = [
    "SUPPORTED_ESTIMATORS",
    "LinearObjective",
    "jax_gauss_newton_factors",
    "jax_margins",
    "jax_parameter_names",
    "jax_per_sample_gradients",
    "linear_model_objective",
    "torch_gauss_newton_factors",
    "torch_margins",
    "torch_parameter_names",
    "torch_per_sample_gradients",
    "write_blockwise",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
