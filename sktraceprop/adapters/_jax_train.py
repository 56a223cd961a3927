"""Training and prediction of a JAX model for :mod:`._jax`'s estimators: the loss, the
check that ``apply_fn`` works row by row, the compiled training loop, predictions in
fixed-size blocks, and ``sample_weight`` as the rows and weights trained on.

jax is imported inside the functions that need it.
"""

import functools
from numbers import Real

import numpy as np
from sklearn.utils.validation import check_array

# -- training ---------------------------------------------------------------------------


def _tree_map(fn, *trees):
    import jax

    return jax.tree_util.tree_map(fn, *trees)


def _per_sample_loss(kind, z, Y):
    import jax
    import jax.numpy as jnp

    if kind == "binary":
        return jax.nn.softplus(-(2.0 * Y - 1.0) * z[:, 0])
    if kind == "multiclass":
        true = jnp.take_along_axis(z, Y[:, None], axis=1)[:, 0]
        return jax.nn.logsumexp(z, axis=1) - true
    return 0.5 * jnp.sum((z - Y) ** 2, axis=1)


def _logits(apply_fn, params, X):
    z = apply_fn(params, X)
    if not hasattr(z, "ndim"):
        # a (logits, state) pair, a dict of outputs: not an array of outputs
        raise ValueError(
            f"apply_fn returned a {type(z).__name__}, not an array: apply_fn(params, X) "
            "must return one array of outputs of shape (n_samples, n_outputs). A model "
            "that also returns state (logits, new_state) is not supported: its state "
            "would not be kept between steps."
        )
    return z[:, None] if z.ndim == 1 else z


#: Rows of the data that :func:`check_apply_fn` passes through ``apply_fn``.
_PROBE_ROWS = 4
#: Largest difference, relative to the largest output (or 1), between a row's output
#: alone and in a batch: float32 kernels of different batch shapes differ by about 1e-7
#: of their terms, which may cancel; batch statistics and dropout change outputs by
#: their own size.
_ROW_WISE_RTOL = 1e-3


def check_apply_fn(apply_fn, params, X, n_outputs=None):
    """Raise unless ``apply_fn`` maps each row to ``n_outputs`` values on its own.

    A row's output must not depend on the other rows passed with it: training pads the
    data with zero rows, prediction runs in padded blocks and per-sample gradients
    differentiate one row at a time, so a model with batch statistics (batch
    normalisation on the batch, ``X - X.mean(0)``) or random dropout would be trained,
    predicted and explained as three different functions. Checked on the first rows of
    ``X``: each alone, all together, and in reverse order followed by zero rows.

    Parameters
    ----------
    apply_fn : callable
        ``apply_fn(params, X) -> outputs``.
    params : pytree
        Parameters to evaluate it at.
    X : ndarray of shape (n_samples, n_features)
        Rows to probe (the first few are used).
    n_outputs : int, default=None
        Expected outputs per row (a 1D result counts as one); None accepts any.

    Raises
    ------
    ValueError
        If the outputs have another shape, are probabilities (several outputs, each
        row >= 0 and summing to 1), or a row's outputs change with its batch.
    """
    probe = np.asarray(X[:_PROBE_ROWS])
    m = probe.shape[0]
    batch = np.asarray(_logits(apply_fn, params, probe), dtype=np.float64)
    width = batch.shape[1] if batch.ndim == 2 else None
    if batch.ndim != 2 or batch.shape[0] != m or (n_outputs is not None and width != n_outputs):
        expected = f"({m}, {n_outputs})" if n_outputs is not None else f"({m}, n_outputs)"
        raise ValueError(
            f"apply_fn returned shape {np.shape(apply_fn(params, probe))} for {m} rows; "
            f"expected {expected} (or ({m},) for one output): one row of outputs per "
            "input row, as many as init_fn was asked for (its third argument)."
        )
    if width > 1 and np.all(batch >= 0) and np.allclose(batch.sum(axis=1), 1.0, atol=1e-5):
        # the cross-entropy would take them for logits: softmax twice, probabilities
        # squashed towards 1 / n_outputs, and no error anywhere
        raise ValueError(
            "apply_fn returns probabilities (every row of its outputs is >= 0 and sums to "
            "1), not logits: the loss applies the softmax itself. Return the values "
            "before jax.nn.softmax (log-probabilities, jax.nn.log_softmax, are fine)."
        )
    if m < 2:
        return
    alone = np.concatenate(
        [np.asarray(_logits(apply_fn, params, probe[i : i + 1]), np.float64) for i in range(m)]
    )
    padded = np.concatenate([probe[::-1], np.zeros_like(probe)])
    mixed = np.asarray(_logits(apply_fn, params, padded), np.float64)[:m][::-1]
    if not np.all(np.isfinite(batch)):
        return  # training reports the non-finite loss
    tol = _ROW_WISE_RTOL * max(1.0, float(np.abs(batch).max()))
    for name, other in (("alone", alone), ("among other rows", mixed)):
        if other.shape != batch.shape or not np.all(np.abs(other - batch) <= tol):
            diff = np.abs(other - batch).max() if other.shape == batch.shape else np.nan
            raise ValueError(
                "apply_fn is not row-wise: a row's outputs change with the rows passed "
                f"with it (the first {m} rows of X, each {name}, differ by up to "
                f"{diff:.3g} from their outputs in one batch). Batch statistics (batch "
                "normalisation on the batch, X - X.mean(0)) or random dropout do this. "
                "Training pads the data with zero rows, prediction runs in blocks and "
                "per-sample gradients take one row at a time, so the model would be "
                "trained, predicted and explained as different functions. Compute such "
                "statistics once, outside apply_fn (a StandardScaler step), or pass "
                "them as constants."
            )


@functools.cache
def _trainer():
    """The compiled training loop: ``(params, curve, off)``, the trained parameters, the
    mean objective per epoch and, per step, how far an optax-style optimizer's update
    was from that of the coupled decay ``coef`` read before the fit, with the smallest
    difference the step could show (zeros unless ``check_decay``:
    :mod:`sktraceprop.gradients._jax_decay_steps`)."""
    import jax
    import jax.numpy as jnp

    from ..gradients._jax_decay_steps import step_mismatch

    def train(
        params,
        X,
        Y,
        W,
        key,
        lr,
        alpha,
        coef,
        *,
        apply_fn,
        kind,
        n_epochs,
        batch_size,
        optimizer,
        check_decay,
        scaled,
    ):
        n = X.shape[0]
        bs = n if batch_size is None else min(batch_size, n)
        n_batches = -(-n // bs)

        # The weighted mean loss of the batch: sum_b w l / sum_b w. Padding rows have weight
        # 0, so a full batch gives the weighted mean over the data, and a mini-batch the
        # weighted mean over its own rows (every batch holds a row of positive weight:
        # _row_weights leaves out the rows of weight 0).
        def objective(p, xb, yb, wb):
            losses = _per_sample_loss(kind, _logits(apply_fn, p, xb), yb)
            data = jnp.sum(wb * losses) / jnp.sum(wb)
            l2 = sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(p))
            return data + 0.5 * alpha * l2

        if optimizer == "adam":
            b1, b2, eps = 0.9, 0.999, 1e-8
            opt_state = (_tree_map(jnp.zeros_like, params), _tree_map(jnp.zeros_like, params))

            def update(g, state, t, p):
                m = _tree_map(lambda m, g: b1 * m + (1 - b1) * g, state[0], g)
                v = _tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state[1], g)
                c1, c2 = 1 - b1**t, 1 - b2**t
                step = _tree_map(lambda m, v: -lr * (m / c1) / (jnp.sqrt(v / c2) + eps), m, v)
                return step, (m, v)
        elif optimizer == "sgd":
            opt_state = ()

            def update(g, state, t, p):
                return _tree_map(lambda g: -lr * g, g), state
        else:  # an optax-style GradientTransformation
            opt_state = optimizer.init(params)

            def update(g, state, t, p):
                return optimizer.update(g, state, p)

        def batch_step(carry, idx_w):
            p, state, t = carry
            idx, w = idx_w
            value, g = jax.value_and_grad(objective)(p, X[idx], Y[idx], w)
            step, new_state = update(g, state, t + 1, p)
            # each step's decay against the one read before the fit (a schedule moves it)
            off = (
                step_mismatch(optimizer, g, state, p, step, coef, scaled)
                if check_decay
                else jnp.zeros(2)
            )
            p = _tree_map(lambda a, b: a + b, p, step)
            return (p, new_state, t + 1), (value, off.astype(jnp.float32))

        def epoch(carry, key_e):
            order = jnp.arange(n) if n_batches == 1 else jax.random.permutation(key_e, n)
            pad = n_batches * bs - n
            idx = jnp.concatenate([order, jnp.zeros(pad, order.dtype)]).reshape(n_batches, bs)
            w = jnp.concatenate([W[order], jnp.zeros(pad, X.dtype)])
            carry, (values, off) = jax.lax.scan(batch_step, carry, (idx, w.reshape(n_batches, bs)))
            return carry, (jnp.mean(values), off)

        keys = jax.random.split(key, n_epochs)
        (params, _, _), (curve, off) = jax.lax.scan(epoch, (params, opt_state, 0), keys)
        return params, curve, off

    return jax.jit(
        train,
        static_argnames=(
            "apply_fn",
            "kind",
            "n_epochs",
            "batch_size",
            "optimizer",
            "check_decay",
            "scaled",
        ),
    )


@functools.cache
def _predictor():
    import jax

    return jax.jit(_logits, static_argnums=0)


_PREDICT_BLOCK = 256


def _predict_blocks(apply_fn, params, X):
    """Logits in float64, computed in padded blocks of a fixed size.

    One block shape means one compiled function, and every row goes through the same
    kernel whatever the number of rows: predictions do not move in the last float32
    bit when rows are added, removed or reordered.
    """
    predict = _predictor()
    out = []
    for start in range(0, X.shape[0], _PREDICT_BLOCK):
        block = X[start : start + _PREDICT_BLOCK]
        n = block.shape[0]
        if n < _PREDICT_BLOCK:
            block = np.concatenate([block, np.zeros((_PREDICT_BLOCK - n, X.shape[1]), X.dtype)])
        out.append(np.asarray(predict(apply_fn, params, block), dtype=np.float64)[:n])
    return np.concatenate(out)


def _validate_sample_weight(sample_weight, n_samples):
    """``sample_weight`` validated as a float64 array of shape (n_samples,), or None.

    A scalar is broadcast to every sample. Raises ``ValueError`` for a wrong shape or
    length, NaN, infinite or negative weights, and for weights that are all zero.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, Real):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    w = check_array(
        sample_weight,
        ensure_2d=False,
        dtype=np.float64,
        ensure_all_finite=False,
        input_name="sample_weight",
    )
    if w.ndim != 1:
        raise ValueError(
            f"sample_weight must be a 1D array or a scalar; got an array of shape {w.shape}."
        )
    if w.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {w.shape[0]} entries but X has {n_samples} samples; "
            "pass one weight per sample."
        )
    if np.isnan(w).any():
        raise ValueError("sample_weight contains NaN.")
    if np.isinf(w).any():
        raise ValueError("sample_weight contains infinite values.")
    if (w < 0).any():
        raise ValueError(
            f"sample_weight contains negative values (minimum {w.min():g}); weights must be >= 0."
        )
    if not (w > 0).any():
        raise ValueError(
            "sample_weight is zero for every sample; at least one weight must be positive."
        )
    return w


def _row_weights(sample_weight, n_samples):
    """The rows to train on and their float32 weights, or ``(None, None)`` if unweighted.

    The weights are divided by their maximum (the weighted mean loss does not change,
    float32 cannot overflow, and equal weights become exactly 1, which trains bitwise as
    unweighted data). Rows whose weight is then zero in float32 are left out, so a zero
    weight is exactly the same as removing the row, in full-batch and mini-batch training.
    """
    w = _validate_sample_weight(sample_weight, n_samples)
    if w is None:
        return None, None
    w = (w / w.max()).astype(np.float32)
    keep = np.flatnonzero(w > 0)
    return keep, w[keep]


def _is_weighted(keep, W, n_samples):
    """Whether :func:`_row_weights`'s rows and weights make another objective than the
    plain mean loss over all ``n_samples`` rows (a row left out, or unequal weights)."""
    return keep is not None and (keep.shape[0] < n_samples or bool(np.any(W != 1)))
