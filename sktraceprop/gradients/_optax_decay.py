"""The coefficient of a coupled weight decay in an optax-style optimizer, probed.

``optax.chain(optax.add_decayed_weights(c), optax.adam(lr))`` adds ``c * params`` to
the gradient before Adam: its fixed points are stationary points of the mean loss plus
``c / 2 ||params||^2``, the objective a ``JaxClassifier`` with ``alpha=c`` trains on.
optax does not expose where in a chain the decay stands, so its steps are asked:

1. ``c`` is the root of ``phi(c) = sum(update(-c * params) * params)``, found by
   bisection: the gradient ``-c * params`` cancels a coupled decay of ``c`` exactly,
   so below it the update still shrinks the weights, above it it grows them.
2. The chain is coupled with that ``c`` only if its update is a function of ``grads +
   c * params`` alone: two runs of ``STEPS`` steps, one at ``params`` fed ``g``, one at
   ``params + delta`` fed ``g - c * delta``, must give the same updates. A decoupled
   decay (``optax.adamw``: ``wd * params`` added after Adam's scaling) gives updates
   that differ by ``lr * wd * delta``, a decay on some leaves only (a ``mask=``)
   fails for one ``c``. ``delta`` is ``10 / c`` (at most ``1e6``) so that ``c * delta``
   is 10: large beside a decoupled decay's difference, small enough for float32 to
   cancel.

A trust ratio (``optax.lars``: the decayed gradient scaled per leaf by the parameters'
norm) makes the two runs differ by a positive scale per leaf, which moves no fixed
point: such updates are compared up to that scale (:mod:`._trust_ratio`).

Anything else (no root, updates that differ) leaves the decay unknown: refused.
"""

import numpy as np

from ._trust_ratio import leaf_scaled, trust_scaled

__all__ = ["coupled_coefficient"]

STEPS = 5
RTOL = 1e-3


def _tree_ops():
    import jax
    import jax.numpy as jnp

    return jax.tree_util.tree_map, jax.tree_util.tree_leaves, jnp


def _phi(transform, tree, c):
    tm, leaves, jnp = _tree_ops()
    grads = tm(lambda p: -c * p, tree)
    updates, _ = transform.update(grads, transform.init(tree), tree)
    return float(sum(jnp.sum(u * p) for u, p in zip(leaves(updates), leaves(tree))))


def _root(transform, tree):
    """The ``c`` at which ``phi`` changes sign from negative, or None."""
    if not _phi(transform, tree, 0.0) < 0:
        return None  # a zero gradient does not shrink the weights: no coupled decay
    lo, hi = 0.0, 1e-8
    while _phi(transform, tree, hi) < 0:
        lo, hi = hi, hi * 4
        if hi > 1e8:
            return None
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _phi(transform, tree, mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


def _run(transform, params, grads_of):
    """The updates of ``STEPS`` steps at fixed ``params``, step ``k`` fed ``grads_of(k)``."""
    _, leaves, _ = _tree_ops()
    state = transform.init(params)
    out = []
    for k in range(STEPS):
        updates, state = transform.update(grads_of(k), state, params)
        out.append([np.asarray(u, np.float64) for u in leaves(updates)])
    return out


def coupled_coefficient(transform, tree):
    """``(c, None)`` when ``transform``'s update is that of a chain with a coupled decay
    of ``c`` ahead of a decay-free part (to float32 precision, on ``tree``), else
    ``(None, why)``."""
    tm, _, jnp = _tree_ops()
    c = _root(transform, tree)
    if c is None:
        return None, "its update at a zero gradient is no shrinking of the weights"
    delta = min(10.0 / c, 1e6)
    rng = np.random.default_rng(0)
    grads = [
        tm(lambda p: jnp.asarray(rng.normal(size=p.shape), p.dtype), tree) for _ in range(STEPS)
    ]
    shifted = tm(lambda p: p + delta, tree)
    at = _run(transform, tree, lambda k: grads[k])
    moved = _run(transform, shifted, lambda k: tm(lambda g: g - c * delta, grads[k]))
    scaled = None
    for step_at, step_moved in zip(at, moved):
        for a, b in zip(step_at, step_moved):
            scale = max(float(np.abs(a).max()), np.finfo(np.float32).tiny)
            if np.allclose(a, b, rtol=RTOL, atol=RTOL * scale):
                continue
            if scaled is None:  # asked once: a trust ratio scales each leaf
                scaled = trust_scaled(transform, tree, c) is True
            if not (scaled and leaf_scaled([a], [b])):
                return None, (
                    f"its update is no function of the gradient plus {c:.3g} * params alone "
                    "(the decay is applied after a scaling, as in optax.adamw and "
                    "optax.lamb, or to some leaves only, or ahead of a trust ratio "
                    "followed by momentum, as in optax.lars, whose update adds the "
                    "momentum of earlier steps each scaled by its own ratio; optax.lars "
                    "with momentum=0.0 is read)"
                )
    return c, None
