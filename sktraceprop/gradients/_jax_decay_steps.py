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
move). The difference is read as a decay (along the steps of ``c`` and ``c + h``), and
a step whose reading is off by more than float32 rounding of that step can make
(:data:`NOISE`) is one of another decay: until 2026-12 a fixed 1% of ``c`` was allowed,
so a schedule from 0.05 to 0.0504 went unseen. What no step can show (a change below its
rounding, largest where Adam's first steps hardly depend on the gradient) is said in
the model's notes (:func:`decay_unseen`). A step taken at all-zero parameters (a zero
initialisation) can show no decay, which multiplies nothing: it is counted apart, the
smallest change is that of the other steps ("not defined" where there are none; it was
read as 1e19 and more, or nan), and a fit none of whose steps could show the decay is
refused (:func:`decay_change`). The decay checked against is not read at all-zero
parameters (it read 0 there, and a zero-initialised fit of a constant decay was refused
as "a schedule") but on a stand-in of ones (:func:`readable_tree`), as the probe after
the fit reads it. The model keeps the record (``_decay_steps``), and
:func:`decay_change` names a fit whose steps were not all of ``c``, or an optimizer
whose ``c`` changed after the fit (``set_params``): the decay is then treated as
unmodelled (:mod:`._weight_decay`), refused by the neural removal and left out, with a
warning, by the influence curvature.

A model fitted before the record existed (an earlier pickle) has its decay read from
the optimizer's first steps only: :func:`decay_unseen` says so, as it says the smallest
change the checked steps could show.
"""

import numpy as np

__all__ = [
    "coefficient_before",
    "decay_change",
    "decay_unseen",
    "readable_tree",
    "step_mismatch",
]

#: A step's reading counts as another decay where it is off by more than ``NOISE`` times
#: float32's epsilon times the step's own scale (:func:`step_mismatch`): the
#: coefficient, the norm of the gradient plus decay over that of the parameters, and the
#: reading's own rounding. Readings of a constant coupled decay of 0, 1e-4 and 0.05
#: stayed within 4 times it (full batch and mini-batches of 16); a decay changed by
#: 1e-4 of itself read 92 times it and more.
NOISE = 16.0
#: Two readings of one coefficient (before and after the fit) agree to float32.
RTOL = 8 * float(np.finfo(np.float32).eps)
#: Below any float32 decay: a step whose every scale is zero.
ATOL = 1e-12
BUMP = 1e-2


def coefficient_before(transform, params):
    """``(c, scaled)``: ``c`` the coupled decay the fit's steps are checked against (0.0
    for an update that is zero at a zero gradient), or None where there is none to
    check against (no coupled decay: the fitted model is refused by its probe anyway);
    ``scaled`` whether each leaf's update is that of ``c`` times a positive number (a
    trust ratio: :func:`~._trust_ratio.trust_scaled`; None where the update depends on
    the parameters otherwise). At all-zero ``params`` (a zero initialisation), where a
    decay multiplies nothing and so reads 0, both are read on a tree of ones of the
    same shapes; the fit's steps at non-zero parameters are checked against it."""
    import jax
    import jax.numpy as jnp

    from ._optax_decay import coupled_coefficient
    from ._trust_ratio import trust_scaled

    try:
        params = readable_tree(params)
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        updates, _ = transform.update(zeros, transform.init(params), params)
        if all(np.all(np.asarray(u) == 0) for u in jax.tree_util.tree_leaves(updates)):
            c = 0.0
        else:
            c = coupled_coefficient(transform, params)[0]
        return c, (False if c is None else trust_scaled(transform, params, c))
    except Exception:  # noqa: BLE001 - the probe after the fit names the failure
        return None, False


def readable_tree(params):
    """``params``, or where every parameter is zero in float32 (a zero initialisation;
    a fit whose steps never moved them; parameters too small to square, as
    :func:`step_mismatch` counts them) a tree of ones of the same shapes and types: a
    decay multiplies nothing at zero parameters, so every update at a zero gradient is
    zero there and the decay read 0 (a zero-initialised fit of a constant decay was
    then refused as "a schedule", its later steps being of the decay it used)."""
    import jax
    import jax.numpy as jnp

    leaves = [np.asarray(p, np.float32).ravel() for p in jax.tree_util.tree_leaves(params)]
    with np.errstate(over="ignore", under="ignore"):
        squares = sum(np.float32(np.vdot(x, x)) for x in leaves)
    if squares > 0:
        return params
    return jax.tree_util.tree_map(jnp.ones_like, params)


def _divided_out(ul, al, bl, tiny):
    """A step's leaves ``ul`` with each one's positive scale against the coupled step's
    ``al`` divided out, and the bumped step's difference ``bl - al`` less its part along
    ``al`` (which a scale absorbs); a negative or zero scale: None."""
    import jax.numpy as jnp

    scales = [jnp.vdot(u, a) / jnp.maximum(jnp.vdot(a, a), tiny) for u, a in zip(ul, al)]
    ok = jnp.all(jnp.stack([(k > 0) | (jnp.vdot(a, a) == 0) for k, a in zip(scales, al)]))
    ul = [jnp.where(k > 0, u / jnp.where(k > 0, k, 1.0), u) for u, k in zip(ul, scales)]
    e = []
    for a, b in zip(al, bl):
        diff = b - a
        e.append(diff - a * (jnp.vdot(diff, a) / jnp.maximum(jnp.vdot(a, a), tiny)))
    return ul, e, ok


def step_mismatch(transform, grads, state, params, updates, coef, scaled=False):
    """The decay a step had beyond ``coef`` (traced): ``updates``, ``transform``'s at
    ``params`` fed ``grads``, against the steps at zero parameters, from the same state,
    fed ``grads + a * params`` for ``a = coef`` and ``coef + h``, read along their
    difference (a secant: ``h`` per unit of it); and the smallest reading float32 lets
    the step tell from zero. Both as one float32 array ``[reading, limit]``. With
    ``scaled`` (a trust ratio, :mod:`._trust_ratio`), each leaf's positive scale is
    divided out first and the reading is along what no scale can absorb."""
    import jax
    import jax.numpy as jnp

    tm, leaves = jax.tree_util.tree_map, jax.tree_util.tree_leaves
    zeros = tm(jnp.zeros_like, params)
    h = jnp.where(coef > 0, BUMP * coef, BUMP)

    def coupled(a):
        fed = tm(lambda g, p: g + a.astype(p.dtype) * p, grads, params)
        return [
            x.astype(jnp.float32).ravel() for x in leaves(transform.update(fed, state, zeros)[0])
        ]

    def sq(tree_leaves):
        return sum(jnp.vdot(x, x) for x in (y.astype(jnp.float32).ravel() for y in tree_leaves))

    h32, tiny = h.astype(jnp.float32), jnp.float32(1e-38)
    at, bumped = coupled(coef), coupled(coef + h)
    ul = [u.astype(jnp.float32).ravel() for u in leaves(updates)]
    ok = jnp.bool_(True)
    if scaled:
        ul, e, ok = _divided_out(ul, at, bumped, tiny)
    else:
        e = [b - a for b, a in zip(bumped, at)]
    d = [u - a for u, a in zip(ul, at)]
    de = sum(jnp.vdot(x, y) for x, y in zip(d, e))
    ee, dd = sq(e), sq(d)
    # no direction to read along (every parameter zero): any difference is off
    reading = jnp.where(ee > 0, h32 * de / jnp.maximum(ee, tiny), jnp.where(dd > 0, jnp.inf, 0.0))
    reading = jnp.where(ok, reading, jnp.inf)
    # float32 rounds the coefficient, the step's gradient plus decay and the updates
    fed = leaves(tm(lambda g, p: g + coef.astype(p.dtype) * p, grads, params))
    noise = jnp.abs(coef).astype(jnp.float32) + jnp.sqrt(
        sq(fed) / jnp.maximum(sq(leaves(params)), tiny)
    )
    noise = noise + h32 * jnp.sqrt(sq(at) / jnp.maximum(ee, tiny))
    limit = NOISE * jnp.finfo(jnp.float32).eps * noise + ATOL
    # every parameter zero (in float32): a decay multiplies nothing, so no change of it
    # shows in the step; the scale above divided by zero (1e19 and more, or nan)
    limit = jnp.where((sq(leaves(params)) > 0) & jnp.isfinite(limit), limit, jnp.inf)
    return jnp.stack([reading, limit])


def record(coef, mismatch, scaled=False):
    """What a model keeps of its fit's steps: the coefficient checked against, the
    number of steps, the steps (1-based, first and last) of another decay, the
    smallest change each step could show (``limit``: its largest and median), and
    whether the steps were read up to a trust ratio (``scaled``, as
    :func:`coefficient_before` gives it)."""
    both = np.asarray(mismatch, dtype=np.float64).reshape(-1, 2)
    reading, limit = both[:, 0], both[:, 1]
    off = np.flatnonzero(~(np.abs(reading) <= limit)) + 1
    # a step at all-zero parameters shows no decay (limit inf): counted apart, and the
    # smallest change is that of the steps that could show one (none: not defined)
    unread = ~np.isfinite(limit)
    limit = limit[~unread]
    return {
        "coef": coef,
        "steps": int(reading.shape[0]),
        "off": int(off.shape[0]),
        "first_off": int(off[0]) if off.size else None,
        "last_off": int(off[-1]) if off.size else None,
        "low": float(np.min(reading)) if reading.size else 0.0,
        "high": float(np.max(reading)) if reading.size else 0.0,
        "limit": float(np.max(limit)) if limit.size else None,
        "limit_median": float(np.median(limit)) if limit.size else None,
        "unread": int(unread.sum()),
        "scaled": scaled,
    }


def decay_change(model, coef):
    """How the decay of a fitted JAX model's optimizer changed during or after its fit,
    in words (``coef``: the coupled decay its probe reads now), or None."""
    kept = getattr(model, "_decay_steps", None)
    if kept is None:
        return None
    name = getattr(model.optimizer, "__name__", type(model.optimizer).__name__)
    # both read by bisection to the float32 value the optimizer multiplies by
    if kept["coef"] is not None and not np.isclose(coef, kept["coef"], rtol=RTOL, atol=ATOL):
        return (
            f"{name}, whose coupled weight decay changed after the fit (its steps were "
            f"checked against {kept['coef']:.6g}; it reads {coef:.6g} now)"
        )
    if kept["steps"] and kept.get("unread") == kept["steps"]:
        return (
            f"{name}, whose weight decay none of its {kept['steps']} steps could show "
            "(every parameter was zero at each: a decay multiplies nothing), so the "
            "decay of its steps is not known"
        )
    if kept["off"] and "scaled" in kept and kept["scaled"] is None:
        return (
            f"{name}, whose update depends on the parameters other than through a "
            "coupled weight decay or a positive scale per leaf (a trust ratio followed "
            "by momentum, as optax.lars's default momentum=0.9, does: each update adds "
            "the momentum of earlier steps, each scaled by its own ratio, so no step is "
            "a positive multiple per leaf of the coupled step it is checked against): "
            "the decay of its steps cannot be checked step by step, so a decay that "
            "changed during the fit could not be told from none "
            f"({kept['off']} of its {kept['steps']} steps differ from those of the "
            f"coupled {kept['coef']:.6g} at zero parameters); optax.lars with "
            "momentum=0.0 is checked, and accepted with a coupled decay"
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
    """What was not checked of the decay of a fitted JAX model's optax-style optimizer,
    in words: that its steps were not (fitted by an earlier sktraceprop), or the
    smallest change of the decay its steps could show; None for the built-in optimizers."""
    if not callable(getattr(model, "optimizer", None)) or not hasattr(model, "params_"):
        return None
    kept = getattr(model, "_decay_steps", None)
    if kept is None:
        return (
            "weight decay read from the optimizer's first steps only: the steps of the fit "
            "were not checked (fitted by an earlier sktraceprop), so a decay that changed "
            "during the fit (a schedule) is not seen"
        )
    if kept["coef"] is None or "limit" not in kept:
        return None  # refused by its probe; or checked to 1% by an earlier sktraceprop
    # (a record of an earlier sktraceprop has no "unread": its limits were all finite,
    # or a 1e19 that this one counts unread)
    unread = kept.get("unread", 0)
    if kept["limit"] is None or not np.isfinite(kept["limit"]):
        return (
            f"weight decay checked at none of the fit's {kept['steps']} steps: every "
            "parameter was zero at each, where a decay multiplies nothing, so the "
            "smallest change of the decay the steps could show is not defined"
        )
    apart = (
        f"; {unread} step(s) at all-zero parameters, where a decay multiplies nothing, "
        "could show no change and are not counted"
        if unread
        else ""
    )
    steps = f"{kept['steps'] - unread} of" if unread else "each of"
    return (
        f"weight decay checked at {steps} the fit's {kept['steps']} steps to float32 "
        f"precision: a change of the decay smaller than {kept['limit_median']:.2g} at "
        f"most steps (than {kept['limit']:.2g} at some) is not seen{apart}"
    )
