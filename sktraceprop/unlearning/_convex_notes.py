"""What a correction's event says of the model it reached, beside the certificate: a
refit's solver stopping above ``tol``, rows separated with no penalty (also warned),
directions the retained rows leave undetermined."""

import warnings

import numpy as np

from ..utils._stack import user_stacklevel
from ._rounding import unresolved_note


def note_refit_certificate(fields):
    """Say in ``fields`` (a refit's event fields) when the refit's certificate is above
    ``tol``: the model is where the estimator's own solver stopped (its ``tol`` and
    ``max_iter``), as a retrain with it would be, and is not certified to ``tol``; or
    when it is below but within its float64 rounding of ``tol`` (:mod:`._rounding`)."""
    rounding = fields.get("certificate_rounding", 0.0)
    if fields["certificate"] <= fields["tol"] < fields["certificate"] + rounding:
        _add_note(
            fields,
            unresolved_note(fields["certificate"], rounding, fields["tol"])
            + "; the refit is what a retrain gives, not certified to tol",
        )
    elif fields["certificate"] > fields["tol"]:
        _add_note(
            fields,
            f"the refit's solver stopped at certificate {fields['certificate']:.3g}, above "
            f"tol={fields['tol']:g} (its own tol and max_iter): the model is what a retrain "
            "with that solver gives, not certified to tol",
        )


def _add_note(fields, text):
    """Append ``text`` to the event fields' ``note`` (``"; "``-separated)."""
    fields["note"] = f"{fields['note']}; {text}" if "note" in fields else text


def _note_separated(final, objective, Z, y, sw, fields):
    """Add :data:`SEPARATED_NOTE` to ``fields`` (and warn) where it applies."""
    if objective.penalty_strength(Z.shape[0]) != 0 or not _separated(final, objective, Z, y, sw):
        return
    _add_note(fields, SEPARATED_NOTE)
    warnings.warn(f"Removal: {SEPARATED_NOTE}.", UserWarning, stacklevel=user_stacklevel())


def _separated(final, objective, Z, y, sw):
    """Whether ``final`` puts every retained row (of positive weight) strictly on its
    own class's side: with no penalty, the logistic objective then has no minimum."""
    if objective.loss not in ("binomial", "multinomial", "log_ovr") or np.ndim(y) != 1:
        return False
    keep = np.ones(Z.shape[0], dtype=bool) if sw is None else np.asarray(sw) > 0
    if not keep.any():
        return False
    scores = objective.decision(Z[keep])  # (n, 1) for two classes, (n, K) for K
    y = np.asarray(y)[keep]
    classes = final.classes_
    if scores.shape[1] == 1:
        scores = scores[:, 0]
        positive = y == classes[1]
        return bool(np.all(np.where(positive, scores > 0, scores < 0)))
    own = np.searchsorted(classes, y)
    rows = np.arange(y.shape[0])
    mine = scores[rows, own]
    scores = scores.copy()
    scores[rows, own] = -np.inf
    return bool(np.all(mine > scores.max(axis=1)))


#: Said (event note and warning) when a removal leaves separable rows and no penalty.
SEPARATED_NOTE = (
    "the model separates every retained row by class and has no penalty: the objective "
    "it minimises has no minimum there (its loss keeps falling as the coefficients "
    "grow), so this model and a retrain each stop where their solver stops and can "
    "differ widely (the certificate, a small gradient, holds for both); a penalty "
    "(C < inf) gives a unique minimum that a removal reaches"
)


def _flat_note(n):
    return (
        f"the retained rows leave {n} direction(s) of the parameters undetermined "
        "(features collinear on them, or constant there; for LinearRegression, singular "
        "values below its tol, which its lstsq drops, the certificate then measured off "
        "them) and there is no penalty: the least-norm minimiser was taken, as a "
        "retrain's solver does, not the one whose component along them only the removed "
        "rows set"
    )
