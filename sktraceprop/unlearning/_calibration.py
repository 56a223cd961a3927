"""The calibration of a neural removal's influence step: which target a removal aims
the removed rows' loss at (:func:`resolve_calibration`), and the scale of the step that
reaches it (:func:`calibrate`, a root search in which each evaluation is a fine-tuning
run). See :mod:`._neural` for where it fits in.
"""

import warnings

from ..utils._stack import user_stacklevel

__all__ = ["calibrate", "calibration_tol", "resolve_calibration"]

#: The calibrated step is at most this multiple of the influence step.
CALIBRATION_MAX_SCALE = 4096.0
#: The calibration stops when the removed rows' loss is this close to its target, as a
#: fraction of the distance it had to travel (from the loss with no step).
CALIBRATION_RTOL = 1e-3
CALIBRATION_MAX_EVALS = 32


def calibrate(
    loss_at,
    target,
    *,
    rtol=CALIBRATION_RTOL,
    max_evals=CALIBRATION_MAX_EVALS,
    guess=None,
    tol=None,
):
    """The scale ``t >= 0`` at which ``loss_at(t)`` reaches ``target``.

    The loss rises along the step. The bracket grows by doubling from ``[0, 1]`` until
    the loss at its top reaches ``target`` (at most ``CALIBRATION_MAX_SCALE``); then
    regula falsi with the Illinois modification (superlinear on a smooth monotone
    function: each evaluation is a fine-tuning run), bisecting instead whenever a step
    did not halve the bracket, until ``|loss - target|`` is at most ``rtol`` times
    ``target - loss_at(0)``, or ``max_evals`` evaluations.

    ``guess`` (with ``tol``, an absolute tolerance) starts the search from a scale found
    before for a nearby ``loss_at`` (a removal whose fine-tuning step was halved): it
    is evaluated first, and kept where within ``tol`` of ``target`` (one evaluation);
    otherwise the bracket grows from it (or is ``[0, guess]``) and is searched alike.

    Returns
    -------
    t : float
    reached : bool
        Whether the loss came within the tolerance of ``target``.
    n_evals : int
        Evaluations of ``loss_at``.
    """
    if guess is not None and guess > 0 and tol is not None:
        f_guess = loss_at(guess) - target
        if abs(f_guess) <= tol:
            return guess, True, 1
        if f_guess < 0 and guess >= CALIBRATION_MAX_SCALE:
            return guess, False, 1
        if f_guess < 0:
            return _grow_and_search(loss_at, target, guess, f_guess, tol, 1, max_evals)
        f_lo = loss_at(0.0) - target
        if f_lo >= 0:
            return 0.0, True, 2
        return _search(loss_at, target, (0.0, f_lo, guess, f_guess), tol, 2, max_evals)
    f_lo = loss_at(0.0) - target
    if f_lo >= 0:
        return 0.0, True, 1
    return _grow_and_search(loss_at, target, 0.0, f_lo, rtol * -f_lo, 1, max_evals)


def calibration_tol(loss_at_zero, target, rtol=CALIBRATION_RTOL):
    """The absolute tolerance :func:`calibrate` stops at, given the loss at scale 0."""
    return rtol * (target - loss_at_zero)


def _grow_and_search(loss_at, target, lo, f_lo, tol, n_evals, max_evals):
    """Double the bracket's top from ``max(lo, 1)`` (``f_lo < 0`` at ``lo``) until the
    loss reaches ``target``, then search it (:func:`_search`)."""
    hi = min(2.0 * lo, CALIBRATION_MAX_SCALE) if lo > 0 else 1.0
    f_hi, n_evals = loss_at(hi) - target, n_evals + 1
    while f_hi < -tol:
        if hi >= CALIBRATION_MAX_SCALE:
            return hi, False, n_evals
        lo, f_lo, hi = hi, f_hi, 2.0 * hi
        f_hi, n_evals = loss_at(hi) - target, n_evals + 1
    return _search(loss_at, target, (lo, f_lo, hi, f_hi), tol, n_evals, max_evals)


def _search(loss_at, target, bracket, tol, n_evals, max_evals):
    """Regula falsi (Illinois) in ``bracket = (lo, f_lo, hi, f_hi)``, ``f_lo < 0``."""
    lo, f_lo, hi, f_hi = bracket
    best_t, best_f = hi, f_hi
    side, width = 0, hi - lo
    while abs(best_f) > tol and n_evals < max_evals and hi - lo > 1e-12 * hi:
        if hi - lo > 0.5 * width:  # the last step did not halve the bracket
            t, side = 0.5 * (lo + hi), 0
        else:
            t = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        width = hi - lo
        f, n_evals = loss_at(t) - target, n_evals + 1
        if abs(f) < abs(best_f):
            best_t, best_f = t, f
        if f < 0:
            lo, f_lo = t, f
            if side < 0:
                f_hi /= 2.0
            side = -1
        else:
            hi, f_hi = t, f
            if side > 0:
                f_lo /= 2.0
            side = 1
    return best_t, bool(abs(best_f) <= tol), n_evals


def resolve_calibration(calibration, has_holdout):
    """The calibration a neural removal uses for the parameter ``calibration``.

    ``"auto"`` is ``"crossfit"`` when ``fit`` has rows the model does not train on
    (``has_holdout``: ``X_holdout``/``y_holdout`` or a skorch validation split), the
    calibration measured closest to a retrain; without them it is ``"holdout"``, with a
    warning, as the crossfit clones cannot be corrected to the model's level without
    such rows. Any other value is returned as given.
    """
    if calibration != "auto":
        return calibration
    if has_holdout:
        return "crossfit"
    warnings.warn(
        "calibration='auto' uses the crossfit calibration only when fit has rows the "
        "model does not train on (X_holdout/y_holdout, or a skorch validation split); "
        "without them it falls back to calibration='holdout', whose removals land far "
        "from a retrain's forget loss (benchmarks/results/unlearning_neural.md). Pass "
        "X_holdout and y_holdout to fit, or set calibration explicitly.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return "holdout"
