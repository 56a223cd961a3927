"""The correction of a convex final step on the retained rows: Newton steps certified to
``tol`` (at the least-norm point where no penalty fixes one), else a refit.

:func:`correct` is what every route of :mod:`._convex` ends in: the dense one with the
downdated or rebuilt Hessian, the matrix-free one without (:func:`~._convex.correct_large`),
and a refitted pipeline's final step (:mod:`._pipeline_refit`); :func:`refit` is the
fallback, a clone fitted on the retained rows as a retrain is.
"""

import numpy as np
from sklearn.base import clone

from ._convex_models import objective_of
from ._convex_notes import _add_note, _flat_note, _note_separated, note_refit_certificate
from ._min_norm import least_norm
from ._newton_steps import newton
from ._rounding import certificate_fields, check_resolved
from ._solver_state import refresh_solver_state

__all__ = ["correct", "refit"]


def correct(final, objective, Z, y, sw, H, H_theta, params, *, keep_hessian=False):
    """Newton steps on ``final`` (modified in place) for the rows ``(Z, y, sw)``.

    ``H`` is the retained Hessian evaluated at ``H_theta``. When the steps do not reach
    ``params["tol"]``, a clone of ``final`` is refitted on the rows instead. Returns
    ``(final, fields, hessian, hessian_theta)``: the corrected model, the event fields,
    and (with ``keep_hessian``) the Hessian to cache for the next removal.
    """
    n = Z.shape[0]
    classes = getattr(final, "classes_", None)
    lost = 0 if classes is None or np.ndim(y) != 1 else np.setdiff1d(classes, y).size
    if lost:
        # A retrain has no such class (and the model must not keep its label): no
        # Newton step on the old parameter layout reaches it.
        result = {"converged": False, "n_iter": 0, "n_hessian_updates": 0}
        result["note"] = (
            f"{lost} class(es) only removed rows had: a retrain lacks them, so the final "
            "step was refitted on the retained rows"
        )
    else:
        result = newton(
            objective,
            Z,
            y,
            sw,
            objective.params(),
            H,
            H_theta,
            tol=params["tol"],
            max_iter=params["max_iter"],
            damping=params["damping"],
        )
    fields = {
        "method": "newton" if result["converged"] else "refit",
        "tol": float(params["tol"]),
        "n_iter": result["n_iter"],
        "n_hessian_updates": result["n_hessian_updates"],
    }
    if result["note"]:
        fields["note"] = result["note"]
    flat, off = 0, None
    if result["converged"] and objective.penalty_strength(n) == 0:
        # the certificate is measured again where the parameters end up
        theta, flat, certificate, off = least_norm(
            objective, final, Z, y, sw, result["theta"], params["tol"]
        )
        result.update(theta=theta, certificate=certificate)
        if certificate > params["tol"]:
            # LinearRegression's lstsq drops a direction at the edge of its tol that
            # this step kept, or the reverse: its own refit is the model
            result["converged"] = False
            fields["method"] = "refit"
            fields["note"] = (
                f"certificate {certificate:.3g} above tol={params['tol']:g} at the "
                "least-norm point; refitted on the retained rows"
            )
    if result["converged"]:
        check_resolved(objective, Z, y, sw, result, fields, off)
    if result["converged"]:
        theta, certificate = result["theta"], result["certificate"]
        if flat:
            _add_note(fields, _flat_note(flat))
        objective.set_params_vector(theta)
        refresh_solver_state(final, Z, sw, y)
        fields["certificate"] = certificate
        _note_separated(final, objective, Z, y, sw, fields)
        return final, fields, result["hessian"], result["hessian_theta"]
    final = _refit_left(final, Z, y, sw, lost)
    objective = objective_of(final)
    theta = objective.params()
    fields.update(certificate_fields(objective, Z, y, sw, theta))
    note_refit_certificate(fields)
    _note_separated(final, objective, Z, y, sw, fields)
    hessian = objective.hessian(Z, y, sw, theta=theta) if keep_hessian else None
    return final, fields, hessian, theta


def _refit_left(final, Z, y, sw, lost):
    """:func:`refit` on the retained rows; where the removal took every row of a class
    (``lost``) and the estimator cannot fit what is left (one class), its error says
    so, naming the removal rather than only the estimator's requirement."""
    try:
        return refit(final, Z, y, sw)
    except ValueError as exc:
        left = np.unique(y) if lost and np.ndim(y) == 1 else None
        if left is None or left.size > 1:
            raise
        raise ValueError(
            f"this removal takes every row of {lost} class(es): the retained rows hold "
            f"only class {left.tolist()}, and {type(final).__name__} cannot be fitted on "
            f"one class ({exc}). A retrain without these rows would fail the same way; "
            "nothing was changed. Remove fewer rows, or retrain on data with both classes"
        ) from exc


def refit(final, Z, y, sw):
    """A clone of ``final`` fitted on ``(Z, y)``, weighted by ``sw``.

    ``Z`` is an array: the clone keeps ``final``'s column names, so that a frame with
    its columns in another order is refused at predict as before, not read by position.
    """
    model = clone(final)
    model = model.fit(Z, y) if sw is None else model.fit(Z, y, sample_weight=sw)
    names = getattr(final, "feature_names_in_", None)
    if names is not None and getattr(model, "feature_names_in_", None) is None:
        model.feature_names_in_ = names
    return model
