"""Gauss-Newton curvature factors of a JAX classifier, one ``jax.grad`` per direction.

The JAX counterpart of :mod:`._torch_gauss_newton`; the model, its rows and labels are
resolved as for the per-sample gradients (:mod:`._jax`).
"""

import numpy as np

from ._blockwise import write_blockwise
from ._curvature import n_directions_for, output_curvature
from ._jax import _check_dtype, _precision, _resolve, _row_logits
from ._jax_tree import _split

__all__ = ["jax_gauss_newton_factors"]


def jax_gauss_newton_factors(
    model,
    X,
    *,
    params=None,
    parameters=None,
    n_directions=None,
    block_size=256,
    out=None,
    projector=None,
    dtype=None,
):
    """Curvature factors ``a_ie`` with ``sum_{i,e} a_ie a_ie^T`` the Gauss-Newton matrix.

    The JAX counterpart of :func:`sktraceprop.gradients.torch_gauss_newton_factors`:
    ``a_ie = sqrt(w_ie) J_i^T v_ie`` for the eigenpairs ``(w_ie, v_ie)`` of the Hessian
    of row ``i``'s cross-entropy with respect to its logits (``diag(p) - p p^T``, or
    ``p (1 - p)`` for one output), one ``jax.grad`` per direction, vectorised.

    Parameters
    ----------
    model : JaxClassifier or callable
        A fitted :class:`~sktraceprop.adapters.JaxClassifier` or
        ``apply_fn(params, X) -> logits``.
    X : array-like of shape (n_samples, n_features)
        Inputs.
    params : pytree, default=None
        Parameters, required with an ``apply_fn``.
    parameters : None, list of str or callable, default=None
        Leaves the matrix is taken over (see :func:`jax_parameter_names`).
    n_directions : int, default=None
        Directions per row, largest eigenvalue first; None keeps all nonzero ones
        (exact).
    block_size : int, default=256
        Rows per vectorised pass (the last block is padded).
    out : None, ndarray, numpy.memmap, str or path-like, default=None
        Where to write (see :func:`sktraceprop.gradients._blockwise.write_blockwise`).
    projector : callable, default=None
        Applied to each block of factors, of ``dtype``, before writing.
    dtype : {None, numpy.float32, numpy.float64}, default=None
        Precision of the result. None: the model's, float64 where every selected leaf
        is float64 (float64 params under ``jax_enable_x64``), else float32. float32
        halves the memory (the influence asks for it).

    Returns
    -------
    factors : ndarray or numpy.memmap of shape (n_samples * c, p) or (n_samples * c, k)
        Of ``dtype``; rows ``i * c`` to ``i * c + c - 1`` belong to sample ``i``.
    """
    import jax
    import jax.numpy as jnp

    dummy = np.zeros(np.shape(X)[0], dtype=np.int64)
    if hasattr(model, "params_") and hasattr(model, "apply_fn_"):
        dummy = np.repeat(model.classes_[:1], np.shape(X)[0])
    apply_fn, params, X, _ = _resolve(model, X, dummy, params)
    selected, fixed, merge = _split(params, parameters)
    n_params = sum(int(np.prod(leaf.shape)) for leaf in selected)
    n_out = int(np.asarray(apply_fn(params, X[:1])).reshape(1, -1).shape[1])
    c = n_directions_for(n_out, n_directions)
    dtype = _precision(selected) if dtype is None else _check_dtype(dtype)

    def contracted(sel, rest, x, v):
        return jnp.sum(_row_logits(apply_fn, merge(sel, rest), x) * v)

    per_direction = jax.vmap(
        jax.vmap(jax.grad(contracted), in_axes=(None, None, None, 0)),
        in_axes=(None, None, 0, 0),
    )

    @jax.jit
    def flat(sel, rest, xb, vb):
        g = per_direction(sel, rest, xb, vb)
        rows = xb.shape[0] * vb.shape[1]
        return jnp.concatenate([leaf.reshape(rows, -1) for leaf in g], axis=1)

    logits = jax.jit(lambda xb: apply_fn(params, xb).reshape(xb.shape[0], -1))
    size = max(1, min(block_size, X.shape[0]))

    def block(start, stop):
        xb = X[start:stop]
        pad = size - (stop - start)
        if pad:
            xb = np.concatenate([xb, np.zeros((pad, *X.shape[1:]), X.dtype)])
        V, w = output_curvature(np.asarray(logits(xb)), c)
        scaled = (V * np.sqrt(w)[:, :, None]).astype(_precision(selected))
        return np.asarray(flat(selected, fixed, xb, scaled))[: (stop - start) * c]

    return write_blockwise(
        block,
        X.shape[0],
        n_params,
        block_size=size,
        out=out,
        projector=projector,
        rows_per_sample=c,
        dtype=dtype,
    )
