"""Optax-style optimizers written out (optax is not a dependency): AdamW (the update of
``optax.adamw``: Adam's step plus a decoupled ``weight_decay * params``, on the leaves
``mask`` keeps, as ``optax.adamw(mask=...)``), and Adam after a coupled decay (the
update of ``optax.chain(optax.add_decayed_weights(wd, mask), optax.adam(lr))``), whose
decay may follow a schedule of the step count (``optax.inject_hyperparams``)."""


class _AdamW:
    def __init__(self, lr, weight_decay, mask=None, coupled=False, schedule=None):
        self.lr, self.weight_decay = lr, weight_decay
        self.mask, self.coupled, self.schedule = mask, coupled, schedule

    def init(self, params):
        import jax
        import jax.numpy as jnp

        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return zeros, zeros, jnp.zeros((), jnp.int32)

    def update(self, grads, state, params):
        import jax
        import jax.numpy as jnp

        tm = jax.tree_util.tree_map
        m, v, t = state
        t = t + 1
        wd = self.weight_decay if self.schedule is None else self.schedule(t)
        keep = tm(lambda p: True, params) if self.mask is None else self.mask(params)
        if self.coupled:  # add_decayed_weights ahead of adam: part of the gradient
            grads = tm(lambda g, p, k: g + wd * k * p, grads, params, keep)
            wd = 0.0
        m = tm(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
        v = tm(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        c1, c2 = 1 - 0.9**t, 1 - 0.999**t

        def step(m, v, p, k):
            return -self.lr * ((m / c1) / (jnp.sqrt(v / c2) + 1e-8) + wd * k * p)

        return tm(step, m, v, params, keep), (m, v, t)


def adamw(weight_decay, mask=None):
    def adamw(learning_rate):
        return _AdamW(learning_rate, weight_decay, mask=mask)

    return adamw


def decayed_adam(weight_decay, mask=None):
    """``optax.chain(optax.add_decayed_weights(weight_decay, mask), optax.adam(lr))``."""

    def decayed_adam(learning_rate):
        return _AdamW(learning_rate, weight_decay, mask=mask, coupled=True)

    return decayed_adam


def scheduled_decayed_adam(before, after, switch):
    """A coupled decay of ``before`` for the first ``switch`` steps, then ``after``."""

    def scheduled_decayed_adam(learning_rate):
        import jax.numpy as jnp

        def schedule(t):
            return jnp.where(t > switch, after, before)

        return _AdamW(learning_rate, before, coupled=True, schedule=schedule)

    return scheduled_decayed_adam


class _TrustRatio:
    """``optax.lamb`` (Adam's scaling, ``add_decayed_weights(wd)``, the trust ratio, the
    learning rate) or ``optax.lars`` (``add_decayed_weights(wd)``, the trust ratio of
    coefficient 0.001, the learning rate, ``trace(momentum)``), as optax writes them:
    each leaf's update times ``coefficient * ||param|| / ||update||``, 1 where a norm
    is zero."""

    def __init__(self, lr, kind, weight_decay, momentum, lr_decay=1.0):
        self.lr, self.kind, self.weight_decay, self.momentum = lr, kind, weight_decay, momentum
        self.lr_decay = lr_decay  # the learning rate of step t: lr * lr_decay ** (t - 1)

    def init(self, params):
        import jax
        import jax.numpy as jnp

        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return zeros, zeros, jnp.zeros((), jnp.int32), zeros

    def update(self, grads, state, params):
        import jax
        import jax.numpy as jnp

        tm = jax.tree_util.tree_map
        m, v, t, trace = state
        t = t + 1
        wd = self.weight_decay
        if self.kind == "lamb":
            m = tm(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
            v = tm(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
            c1, c2 = 1 - 0.9**t, 1 - 0.999**t
            u = tm(lambda m, v, p: (m / c1) / (jnp.sqrt(v / c2) + 1e-6) + wd * p, m, v, params)
            coefficient = 1.0
        else:
            u = tm(lambda g, p: g + wd * p, grads, params)
            coefficient = 0.001

        def trust(u, p):
            pn, un = jnp.linalg.norm(p.ravel()), jnp.linalg.norm(u.ravel())
            ratio = coefficient * pn / un
            return u * jnp.where((pn == 0) | (un == 0), 1.0, ratio)

        lr = self.lr * self.lr_decay ** (t - 1).astype(jnp.float32)
        u = tm(lambda u, p: -lr * trust(u, p), u, params)
        if self.kind == "lars":
            trace = tm(lambda u, tr: u + self.momentum * tr, u, trace)
            u = trace
        return u, (m, v, t, trace)


def lamb(weight_decay=0.0, lr_decay=1.0):
    def lamb(learning_rate):
        return _TrustRatio(learning_rate, "lamb", weight_decay, 0.0, lr_decay)

    return lamb


def lars(weight_decay=0.0, momentum=0.9, lr_decay=1.0):
    def lars(learning_rate):
        return _TrustRatio(learning_rate, "lars", weight_decay, momentum, lr_decay)

    return lars


def coupled_lamb(weight_decay, lr_decay=1.0):
    """``optax.chain(optax.add_decayed_weights(weight_decay), optax.lamb(lr))``."""

    class _Coupled(_TrustRatio):
        def update(self, grads, state, params):
            import jax

            fed = jax.tree_util.tree_map(lambda g, p: g + weight_decay * p, grads, params)
            return super().update(fed, state, params)

    def coupled_lamb(learning_rate):
        return _Coupled(learning_rate, "lamb", 0.0, 0.0, lr_decay)

    return coupled_lamb
