"""An optax-style AdamW (the update of ``optax.adamw``: Adam's step plus a decoupled
``weight_decay * params``), written out: optax is not a dependency."""


class _AdamW:
    def __init__(self, lr, weight_decay):
        self.lr, self.weight_decay = lr, weight_decay

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
        m = tm(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
        v = tm(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        c1, c2 = 1 - 0.9**t, 1 - 0.999**t
        wd = self.weight_decay

        def step(m, v, p):
            return -self.lr * ((m / c1) / (jnp.sqrt(v / c2) + 1e-8) + wd * p)

        return tm(step, m, v, params), (m, v, t)


def adamw(weight_decay):
    def adamw(learning_rate):
        return _AdamW(learning_rate, weight_decay)

    return adamw
