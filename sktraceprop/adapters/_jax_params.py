"""What a JAX model's parameters must be to be trained and differentiated: a pytree
whose every leaf is an array of floating point numbers.

The adapters train every leaf of ``params`` by ``jax.grad`` and the gradient functions
differentiate each leaf they select; an integer leaf (a step counter, an index kept with
the weights) fails deep inside JAX with a message that names neither the leaf nor the
model. jax is imported inside the function.
"""

import functools
import warnings

import numpy as np

__all__ = ["check_frozen", "check_params", "frozen_leaves"]


def _leaf_name(path):
    from ..gradients._jax_tree import _key_name

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


def frozen_leaves(apply_fn, kind, params, X, Y, W):
    """Dotted names of the leaves whose gradient of the data loss is exactly zero.

    The gradient is of the weighted mean loss over the rows ``X`` (weights ``W``), at
    ``params``. A leaf behind ``jax.lax.stop_gradient`` (a running mean kept with the
    weights) has a zero gradient at any parameters: no data moves it, yet ``alpha``
    shrinks it and the influence counts it as a parameter.
    """
    import jax

    grads = _data_gradient()(params, X, Y, W, apply_fn, kind)
    with_path, _ = jax.tree_util.tree_flatten_with_path(grads)
    return [_leaf_name(path) for path, g in with_path if not np.any(np.asarray(g))]


@functools.cache
def _data_gradient():
    import jax
    import jax.numpy as jnp

    from ._jax_train import _logits, _per_sample_loss

    def data(p, X, Y, W, apply_fn, kind):
        losses = _per_sample_loss(kind, _logits(apply_fn, p, X), Y)
        return jnp.sum(W * losses) / jnp.sum(W)

    # one compilation per model and data shape, as the training loop
    return jax.jit(jax.grad(data), static_argnums=(4, 5))


def check_frozen(before, after, alpha):
    """Refuse (``alpha > 0``) or warn (``alpha == 0``) about leaves in both lists.

    ``before`` and ``after``: :func:`frozen_leaves` at the initial and the trained
    parameters (a layer initialised to zero can have a zero gradient at the start only).
    """
    frozen = [name for name in after if name in set(before)]
    if not frozen:
        return
    what = (
        f"The gradient of the loss with respect to the parameter leaves {frozen} is "
        "exactly zero on the training data, at the initial and at the trained parameters "
        "(a leaf behind jax.lax.stop_gradient, such as a running mean, or one apply_fn "
        "does not use): it is state, not a parameter. "
    )
    fix = (
        "Keep such state out of params: an attribute of apply_fn's class (a constant), "
        "or a preprocessing step."
    )
    if alpha > 0:
        raise ValueError(
            what + f"alpha={alpha!r} would shrink it towards zero while no data holds "
            "it, and the influence would count it as a parameter. " + fix
        )
    warnings.warn(
        what + "No data moves it (alpha=0 leaves it as initialised), but the influence "
        "and the per-sample gradients count it as a parameter (zero columns). " + fix,
        UserWarning,
        stacklevel=4,
    )
