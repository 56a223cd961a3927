"""What a JAX model's parameters must be to be trained and differentiated: a pytree
whose every leaf is an array of floating point numbers.

The adapters train every leaf of ``params`` by ``jax.grad`` and the gradient functions
differentiate each leaf they select; an integer leaf (a step counter, an index kept with
the weights) fails deep inside JAX with a message that names neither the leaf nor the
model. jax is imported inside the function.
"""

import numpy as np

__all__ = ["check_params"]


def _leaf_name(path):
    from ..gradients._jax import _key_name

    return ".".join(_key_name(k) for k in path) or "<root>"


def check_params(params, who="init_fn"):
    """Raise unless every leaf of ``params`` is a floating-point array.

    Parameters
    ----------
    params : pytree
        The parameters (``init_fn``'s result, or those given with an ``apply_fn``).
    who : str, default="init_fn"
        What produced them, for the message.

    Raises
    ------
    ValueError
        If ``params`` has no leaf, or a leaf is not an array of floats (its name, in
        :func:`~sktraceprop.gradients.jax_parameter_names`'s dotted form, and dtype are
        given).
    """
    import jax

    with_path, _ = jax.tree_util.tree_flatten_with_path(params)
    if not with_path:
        raise ValueError(f"{who} returned parameters with no array in them ({params!r}).")
    bad = []
    for path, leaf in with_path:
        # a Python float is a float leaf to jax.grad; a Python int is not
        dtype = getattr(leaf, "dtype", None)
        dtype = np.asarray(leaf).dtype if dtype is None else np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            bad.append(f"{_leaf_name(path)} ({dtype})")
    if bad:
        raise ValueError(
            f"{who} returned parameters that are not all floating-point arrays: "
            f"{', '.join(bad)}. Every leaf of params is trained by its gradient (and "
            "penalised by alpha), so each must be an array of floats. A model has no "
            "non-trainable state here: keep constants (a running mean, a step count, an "
            "index) out of params, in apply_fn (an attribute of its class) or in a "
            "preprocessing step."
        )
