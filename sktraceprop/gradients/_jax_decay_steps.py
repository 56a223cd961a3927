"""The weight decay of every step of a JAX model's fit, checked against the one read first.

The decay of an optax-style optimizer is read from its first steps (a zero-gradient
update; a coupled decay's coefficient ``c`` by :mod:`._optax_decay`). A decay that
changes with the step count (a schedule: no decay over a warm-up, then some; a decay
dropped for the last epochs) changes during the fit, and a reading of the first steps
takes the trained parameters for a stationary point of the first steps' objective. So,
while a :class:`~sktraceprop.adapters.JaxClassifier` or
:class:`~sktraceprop.adapters.JaxRegressor` trains, its loop checks each step
(:func:`step_mismatch`): the update the optimizer made at ``params`` fed ``g`` must be
the one it makes, from the same state, at zero parameters fed ``g + c * params`` --
the step of a coupled decay of ``c`` (for ``c = 0``: an update the parameters do not
move). A step whose update differs from it by more than :data:`TOL` of its largest
entry is one of another decay. The model keeps the record (``_decay_steps``), and
:func:`decay_change` names a fit whose steps were not all of ``c``, or an optimizer
whose ``c`` changed after the fit (``set_params``): the decay is then treated as
unmodelled (:mod:`._weight_decay`), refused by the neural removal and left out, with a
warning, by the influence curvature.

A model fitted before the record existed (an earlier pickle) has its decay read from
the optimizer's first steps only: :func:`decay_unseen` says so.
"""

import numpy as np

__all__ = ["TOL", "coefficient_before", "decay_change", "decay_unseen", "step_mismatch"]

#: Largest difference, relative to the step's largest update entry, between a step and
#: the step of the coupled decay read before the fit. Float32 rounding of ``g + c *
#: params`` with ``c`` read to float64 by bisection moved steps by at most 2e-6 in the
#: tests; a decay of 0.01 against none moved them by more than 0.1.
TOL = 1e-2
ATOL = 1e-6
BUMP = 1e-2


def coefficient_before(transform, params):
    """``c``, the coupled decay the fit's steps are checked against (0.0 for an update
    that is zero at a zero gradient), or None where there is none to check against (no
    coupled decay: the fitted model is refused by its probe anyway)."""
    import jax
    import jax.numpy as jnp

    from ._optax_decay import coupled_coefficient

    try:
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        updates, _ = transform.update(zeros, transform.init(params), params)
        if all(np.all(np.asarray(u) == 0) for u in jax.tree_util.tree_leaves(updates)):
            return 0.0
        return coupled_coefficient(transform, params)[0]
    except Exception:  # noqa: BLE001 - the probe after the fit names the failure
        return None


def step_mismatch(transform, grads, state, params, updates, coef):
    """The decay a step had beyond ``coef`` (traced): ``updates``, ``transform``'s at
    ``params`` fed ``grads``, against the steps at zero parameters, from the same state,
    fed ``grads + a * params`` for ``a = coef`` and ``coef + h``, read along their
    difference (a secant: ``h`` per unit of it)."""
    import jax
    import jax.numpy as jnp

    tm, leaves = jax.tree_util.tree_map, jax.tree_util.tree_leaves
    zeros = tm(jnp.zeros_like, params)
    h = jnp.where(coef > 0, BUMP * coef, BUMP)

    def coupled(a):
        fed = tm(lambda g, p: g + a.astype(p.dtype) * p, grads, params)
        return leaves(transform.update(fed, state, zeros)[0])

    at, bumped = coupled(coef), coupled(coef + h)
    d = [(u - a).astype(jnp.float32).ravel() for u, a in zip(leaves(updates), at)]
    e = [(b - a).astype(jnp.float32).ravel() for b, a in zip(bumped, at)]
    de = sum(jnp.vdot(x, y) for x, y in zip(d, e))
    ee = sum(jnp.vdot(y, y) for y in e)
    dd = sum(jnp.vdot(x, x) for x in d)
    # no direction to read along (every parameter zero): any difference is off
    return jnp.where(
        ee > 0,
        h.astype(jnp.float32) * de / jnp.maximum(ee, 1e-38),
        jnp.where(dd > 0, jnp.inf, 0.0),
    )


def record(coef, mismatch):
    """What a model keeps of its fit's steps: the coefficient checked against, the
    number of steps, and the steps (1-based, first and last) of another decay."""
    mismatch = np.asarray(mismatch, dtype=np.float64).reshape(-1)
    off = np.flatnonzero(~(np.abs(mismatch) <= TOL * (coef or 0.0) + ATOL)) + 1
    return {
        "coef": coef,
        "steps": int(mismatch.shape[0]),
        "off": int(off.shape[0]),
        "first_off": int(off[0]) if off.size else None,
        "last_off": int(off[-1]) if off.size else None,
        "low": float(np.min(mismatch)) if mismatch.size else 0.0,
        "high": float(np.max(mismatch)) if mismatch.size else 0.0,
    }


def decay_change(model, coef):
    """How the decay of a fitted JAX model's optimizer changed during or after its fit,
    in words (``coef``: the coupled decay its probe reads now), or None."""
    kept = getattr(model, "_decay_steps", None)
    if kept is None:
        return None
    name = getattr(model.optimizer, "__name__", type(model.optimizer).__name__)
    if kept["coef"] is not None and not np.isclose(coef, kept["coef"], rtol=1e-3, atol=1e-12):
        return (
            f"{name}, whose coupled weight decay changed after the fit (its steps were "
            f"checked against {kept['coef']:.6g}; it reads {coef:.6g} now)"
        )
    if kept["off"]:
        low, high = kept["coef"] + kept["low"], kept["coef"] + kept["high"]
        return (
            f"{name}, whose weight decay changed during the fit (a schedule): "
            f"{kept['off']} of its {kept['steps']} steps (from step {kept['first_off']} "
            f"to step {kept['last_off']}) had a decay other than the coupled "
            f"{kept['coef']:.6g} of its first steps (read from the steps: {low:.3g} to "
            f"{high:.3g})"
        )
    return None


def decay_unseen(model):
    """A note for a fitted JAX model with an optax-style optimizer whose steps in the fit
    were not checked (fitted by an earlier sktraceprop), else None."""
    if not callable(getattr(model, "optimizer", None)) or not hasattr(model, "params_"):
        return None
    if getattr(model, "_decay_steps", None) is not None:
        return None
    return (
        "weight decay read from the optimizer's first steps only: the steps of the fit "
        "were not checked (fitted by an earlier sktraceprop), so a decay that changed "
        "during the fit (a schedule) is not seen"
    )
