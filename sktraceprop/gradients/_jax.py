"""Per-sample gradients of the margin (or the loss) of a JAX classifier, by ``vmap(grad)``.

Its Gauss-Newton curvature factors are in :mod:`._jax_gauss_newton`.

Works with a fitted :class:`sktraceprop.adapters.JaxClassifier` or with any
``apply_fn(params, X) -> logits`` and its ``params`` pytree. The margin is the one of
DESIGN.md (one output: ``z * (2y - 1)``; ``K >= 2`` outputs:
``z_y - logsumexp_{j != y} z_j``), so the cross-entropy of a row is
``log(1 + exp(-m))`` and its gradient ``-(1 - p_y) * grad m``.
"""

import functools

import numpy as np

from ._blockwise import write_blockwise
from ._jax_tree import _key_name, _leaves, _select, _split  # noqa: F401 (imported from here)
from ._labels import class_indices

__all__ = [
    "jax_margins",
    "jax_parameter_names",
    "jax_per_sample_gradients",
]


def _resolve(model, X, y, params):
    """apply_fn, params, float32 X and integer class indices y."""
    if hasattr(model, "params_") and hasattr(model, "apply_fn_"):
        if params is not None:
            raise ValueError("params is taken from the fitted model; do not pass it.")
        from sklearn.utils.validation import check_array, validate_data

        if hasattr(X, "columns"):
            X = validate_data(model, X, reset=False, dtype=np.float32)
        else:
            # an array (the explainer's inputs of a model fitted on a DataFrame): no
            # names to check, and no warning that it has none
            X = check_array(X, dtype=np.float32)
            if X.shape[1] != model.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(model).__name__} is "
                    f"expecting {model.n_features_in_} features as input."
                )
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y must be 1d with {X.shape[0]} entries (class labels, not one-hot); got "
                f"shape {y.shape}."
            )
        classes = model.classes_
        index = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        if not np.all(classes[index] == y):
            raise ValueError(f"y has labels not in the model's classes_ {classes.tolist()}.")
        return model.apply_fn_, model.params_, X, index
    if not callable(model):
        raise TypeError(
            "model must be a fitted JaxClassifier or an apply_fn(params, X) callable; "
            f"got {type(model).__name__}."
        )
    if params is None:
        raise ValueError("Pass params with an apply_fn.")
    from ..adapters._jax import check_apply_fn

    X = np.asarray(X, dtype=np.float32)
    y = class_indices(y, X.shape[0]).astype(np.int32)
    # per-sample gradients take one row at a time: its outputs must not need the others
    check_apply_fn(model, params, X)
    return model, params, X, y


def _margin(z, t):
    import jax
    import jax.numpy as jnp

    if z.shape[-1] == 1:
        return z[0] * (2 * t - 1).astype(z.dtype)
    mask = jnp.arange(z.shape[-1]) == t
    true = jnp.sum(jnp.where(mask, z, 0.0))
    return true - jax.nn.logsumexp(jnp.where(mask, -jnp.inf, z))


def _check_labels(apply_fn, params, X, y):
    z = np.asarray(apply_fn(params, X[:1]))
    n_out = 1 if z.ndim == 1 else z.shape[-1]
    high = 2 if n_out == 1 else n_out
    if y.size and (y.min() < 0 or y.max() >= high):
        raise ValueError(
            f"y must hold class indices in [0, {high - 1}] for a model with {n_out} "
            f"output(s); got values in [{y.min()}, {y.max()}]."
        )


def _row_logits(apply_fn, params, x):
    return apply_fn(params, x[None]).reshape(-1)


def _padded_blocks(fn, X, y, block_size):
    """Run ``fn`` on blocks of exactly ``block_size`` rows (one compilation)."""
    n = X.shape[0]
    size = max(1, min(block_size, n))

    def block(start, stop):
        xb, yb = X[start:stop], y[start:stop]
        pad = size - (stop - start)
        if pad:
            xb = np.concatenate([xb, np.zeros((pad, *X.shape[1:]), X.dtype)])
            yb = np.concatenate([yb, np.zeros(pad, yb.dtype)])
        return np.asarray(fn(xb, yb))[: stop - start]

    return block


def jax_parameter_names(params, parameters=None):
    """Names of the pytree leaves whose gradients form the columns, in column order.

    Parameters
    ----------
    params : pytree or fitted JaxClassifier
        Parameters (``model.params_`` is used for a fitted model).
    parameters : None, list of str or callable, default=None
        None selects every leaf; a list of names; or a predicate ``parameters(name) ->
        bool``. A leaf's name joins its path keys with dots: ``"1.weight"`` for
        ``params[1]["weight"]`` (the output layer of ``mlp(hidden=(h,))``).

    Returns
    -------
    names : list of str
        In ``jax.tree_util`` flattening order (dict keys sorted). Each leaf contributes
        ``size`` columns, flattened row-major.
    """
    params = getattr(params, "params_", params)
    names, _, _ = _leaves(params)
    return [names[i] for i in _select(names, parameters)]


def jax_margins(model, X, y, *, params=None, block_size=1024):
    """Signed margins and true-class probabilities of each row.

    Parameters
    ----------
    model : JaxClassifier or callable
        A fitted :class:`~sktraceprop.adapters.JaxClassifier` (then ``y`` holds class
        labels) or ``apply_fn(params, X) -> logits`` (then ``y`` holds class indices:
        0/1 for one output, ``0..K-1`` for ``K`` outputs).
    X : array-like of shape (n_samples, n_features)
        Inputs.
    y : array-like of shape (n_samples,)
        Labels (see ``model``).
    params : pytree, default=None
        Parameters, required with an ``apply_fn``.
    block_size : int, default=1024
        Rows per forward pass.

    Returns
    -------
    margins : ndarray of shape (n_samples,)
        float32, or float64 where the model's logits are float64 (float64 params under
        ``jax_enable_x64``).
    p_true : ndarray of shape (n_samples,)
        ``sigmoid(margin)``, the probability of the true class, in the margins' dtype;
        TRAK's train-side weight is ``1 - p_true``, best taken as
        ``scipy.special.expit(-margins)``: float32 keeps no digit of it near
        ``p_true = 1``.
    """
    import jax

    apply_fn, params, X, y = _resolve(model, X, y, params)
    _check_labels(apply_fn, params, X, y)
    try:
        hash(apply_fn)
        rows = functools.partial(_margin_rows(), apply_fn)
    except TypeError:  # not hashable, so not a static argument: compiled for this call
        rows = jax.jit(functools.partial(_margin_rows_of, apply_fn))
    block = _padded_blocks(lambda xb, yb: rows(params, xb, yb), X, y, block_size)
    parts = [
        block(start, min(start + block_size, X.shape[0]))
        for start in range(0, X.shape[0], block_size)
    ]
    dtype = np.float64 if parts and parts[0].dtype == np.float64 else np.float32
    margins = np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)
    p_true = (1.0 / (1.0 + np.exp(-margins.astype(np.float64)))).astype(dtype)
    return margins, p_true


def _margin_rows_of(apply_fn, params, xb, yb):
    import jax

    def one(x, t):
        return _margin(_row_logits(apply_fn, params, x), t)

    return jax.vmap(one)(xb, yb)


@functools.cache
def _margin_rows():
    """``_margin_rows_of`` compiled once per ``apply_fn`` (a static argument, as in
    training): the influence and the retrains call it once per model."""
    import jax

    return jax.jit(_margin_rows_of, static_argnums=0)


def _precision(leaves):
    """float64 where every differentiated leaf is float64 (``jax_enable_x64`` on, as
    jax would otherwise have made them float32), else float32."""
    wide = leaves and all(leaf.dtype == np.float64 for leaf in leaves)
    return np.float64 if wide else np.float32


def _check_dtype(dtype):
    if dtype not in (np.float32, np.float64, np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be None, numpy.float32 or numpy.float64; got {dtype!r}.")
    return np.dtype(dtype).type


def jax_per_sample_gradients(
    model,
    X,
    y,
    *,
    params=None,
    output="margin",
    parameters=None,
    block_size=256,
    out=None,
    projector=None,
    dtype=None,
):
    """Per-sample gradients of the signed margin (or the loss) by ``jax.vmap(jax.grad)``.

    Parameters
    ----------
    model : JaxClassifier or callable
        A fitted :class:`~sktraceprop.adapters.JaxClassifier` (then ``y`` holds class
        labels) or ``apply_fn(params, X) -> logits`` (then ``y`` holds class indices).
    X : array-like of shape (n_samples, n_features)
        Inputs.
    y : array-like of shape (n_samples,)
        Labels (see ``model``).
    params : pytree, default=None
        Parameters, required with an ``apply_fn``.
    output : {"margin", "loss"}, default="margin"
        "margin": gradient of the signed margin ``m``. "loss": gradient of the
        per-sample cross-entropy ``log(1 + exp(-m))`` (no L2 term).
    parameters : None, list of str or callable, default=None
        Leaves to differentiate (see :func:`jax_parameter_names`); the others are
        held fixed.
    block_size : int, default=256
        Rows per vectorised pass; the last block is padded so one compiled function
        serves every block.
    out : None, ndarray, numpy.memmap, str or path-like, default=None
        Where to write (see :func:`sktraceprop.gradients._blockwise.write_blockwise`);
        a path gives a ``.npy`` memmap on disk.
    projector : callable, default=None
        Applied to each block ``(n_block, p) -> (n_block, k)``, of ``dtype``, before
        writing.
    dtype : {None, numpy.float32, numpy.float64}, default=None
        Precision of the result. None: the model's, float64 where every selected leaf
        is float64 (float64 params under ``jax_enable_x64``), else float32. float32
        halves the memory (the influence asks for it).

    Returns
    -------
    gradients : ndarray or numpy.memmap of shape (n_samples, p) or (n_samples, k)
        Of ``dtype``; columns follow :func:`jax_parameter_names`.
    """
    import jax
    import jax.numpy as jnp

    if output not in ("margin", "loss"):
        raise ValueError(f"output must be 'margin' or 'loss'; got {output!r}.")
    apply_fn, params, X, y = _resolve(model, X, y, params)
    _check_labels(apply_fn, params, X, y)
    selected, fixed, merge = _split(params, parameters)
    n_params = sum(int(np.prod(leaf.shape)) for leaf in selected)

    def scalar(sel, rest, x, t):
        m = _margin(_row_logits(apply_fn, merge(sel, rest), x), t)
        return jax.nn.softplus(-m) if output == "loss" else m

    per_sample = jax.vmap(jax.grad(scalar), in_axes=(None, None, 0, 0))

    @jax.jit
    def flat(sel, rest, xb, yb):
        g = per_sample(sel, rest, xb, yb)
        return jnp.concatenate([leaf.reshape(xb.shape[0], -1) for leaf in g], axis=1)

    block = _padded_blocks(lambda xb, yb: flat(selected, fixed, xb, yb), X, y, block_size)
    return write_blockwise(
        block,
        X.shape[0],
        n_params,
        block_size=block_size,
        out=out,
        projector=projector,
        dtype=_precision(selected) if dtype is None else _check_dtype(dtype),
    )
