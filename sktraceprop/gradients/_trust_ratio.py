"""Layer-wise trust ratios (LAMB, LARS): an update scaled per leaf by the parameters'
norm, told apart from a weight decay.

``optax.lars`` (``add_decayed_weights(wd)``, then ``scale_by_trust_ratio``, the learning
rate and momentum) and ``optax.lamb`` (Adam's scaling, ``add_decayed_weights(wd)``, then
the trust ratio) multiply each leaf's update by ``||params|| / ||update||``, a positive
number. The update then depends on the parameters beyond ``grads + c * params``, and the
checks of :mod:`._optax_decay` and :mod:`._jax_decay_steps`, which compare an update at
the parameters with one at zero parameters (where optax's ratio is 1), took it for a
changed or decoupled decay and refused it for that reason. Yet a positive scale per leaf
moves no fixed point: the steps stop where the scaled update is zero, where a coupled
decay's ``grads + c * params`` is (LARS with ``weight_decay=c``, LAMB with none, a LAMB
chained after ``add_decayed_weights(c)``): a stationary point of the mean loss plus
``c / 2 ||params||^2``, the objective the removal certifies. So such an optimizer is
accepted where every leaf of its update is a positive multiple of the update of the
coupled decay at zero parameters (:func:`leaf_scaled`), and its steps are checked up to
that scale. LAMB's own ``weight_decay`` is added after Adam's scaling, inside the ratio:
decoupled (the steps stop where Adam's update equals ``-wd * params``), and refused.
"""

import numpy as np

__all__ = ["leaf_scaled", "trust_scaled"]

#: Cosine between a leaf's update and the coupled update, below 1 by at most this:
#: float32 updates of one direction agree to about 1e-7.
COS_TOL = 1e-5


def leaf_scaled(first, second):
    """Whether every leaf of ``second`` is a positive multiple of the same leaf of
    ``first`` (lists of arrays; a zero leaf only of a zero leaf)."""
    for a, b in zip(first, second):
        a, b = np.ravel(np.asarray(a, np.float64)), np.ravel(np.asarray(b, np.float64))
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        if na == 0 or nb == 0:
            if na != nb:
                return False
            continue
        if float(a @ b) / (na * nb) < 1.0 - COS_TOL:
            return False
    return True


def trust_scaled(transform, tree, c, steps=5):
    """Whether ``transform`` scales, per leaf, the update of a coupled decay of ``c``:
    ``steps`` steps at ``tree`` fed random gradients against those at zero parameters
    fed the gradients plus ``c * tree``. False where they agree (no scale: checked
    exactly), True where each leaf is a positive multiple, None otherwise."""
    import jax
    import jax.numpy as jnp

    tm, leaves = jax.tree_util.tree_map, jax.tree_util.tree_leaves
    rng = np.random.default_rng(1)
    zeros = tm(jnp.zeros_like, tree)
    state_at, state_zero = transform.init(tree), transform.init(tree)
    same = scaled = True
    for _ in range(steps):
        g = tm(lambda p: jnp.asarray(rng.normal(size=p.shape), p.dtype), tree)
        at, state_at = transform.update(g, state_at, tree)
        fed = tm(lambda g, p: g + c * p, g, tree)
        ref, state_zero = transform.update(fed, state_zero, zeros)
        at, ref = leaves(at), leaves(ref)
        same = same and all(
            np.allclose(
                np.asarray(a),
                np.asarray(b),
                rtol=1e-4,
                atol=1e-7 * max(1.0, float(np.abs(np.asarray(b)).max(initial=0.0))),
            )
            for a, b in zip(at, ref)
        )
        scaled = scaled and leaf_scaled(ref, at)
    if same:
        return False
    return True if scaled else None
