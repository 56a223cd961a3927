"""How a convex model forgets: Newton steps on the objective of the retained rows.

This is how a ``LogisticRegression`` (or ``SGDClassifier(loss="log_loss")``,
``Ridge``, ``RidgeClassifier``, ``LinearRegression``) forgets rows. Its parameters
minimise the sum-form objective of :mod:`sktraceprop.gradients` over the training rows
``T``. Removing rows ``K`` changes the objective to ``J_R`` over ``R = T \\ K`` (for
``SGDClassifier`` the penalty changes too, since it grows with the number of rows).
The correction runs Newton-type steps on ``J_R`` itself, so it converges to the exact
minimiser of the retained objective, the model a retrain would reach with an exact
solver:

* the Hessian of ``J_R`` at the cached point is the cached Hessian of ``J_T`` minus the
  removed rows' Hessians (a *downdate*, O(|K| p^2), no pass over the retained rows);
* steps ``theta <- theta - (H + damping I)^-1 grad J_R(theta)`` are repeated with that
  factorised matrix (each costs one gradient over ``R``, O(|R| p)); when the gradient
  falls by less than a factor 4 per step, the Hessian is recomputed at the current point
  (an exact Newton step);
* the loop stops when the certificate ``||grad J_R(theta)|| / |R|`` is below ``tol``;
  failing that within ``max_iter`` steps, the model is refitted on ``R`` and the event
  says so;
* without a penalty, when ``J_R`` has a line of minimisers (features collinear on the
  retained rows), the least-norm one is taken, as a retrain's solver does
  (:mod:`._min_norm`), not the one whose component along it only the removed rows set.

:class:`NewtonCorrection` keeps the final step's features, targets and weights of the
retained rows (to evaluate ``grad J_R``) and, on the dense route, the ``p x p`` Hessian.
Which route a model takes (:func:`newton_route`, decided at the unlearner's fit, and
for a pipeline whose features are refitted at each removal) is set by estimated cost:

* **matrix-free** (:mod:`._newton_cg`: each Newton step solved by conjugate gradients on
  Hessian-vector products through the retained rows, no ``p x p`` matrix) where the
  coefficients have an L2 penalty and the row weights are non-negative (the Hessian
  is then positive definite) and either the model has more than
  :data:`MAX_NEWTON_PARAMS` parameters (the dense Hessian's memory) or the dense
  route's flops, ``n p^2`` to build the Hessian (as dense blocks, however sparse ``X``)
  plus ``p^3 / 3`` to factorise it, each paid at fit and again at every removal,
  exceed :data:`DENSE_PER_MATRIX_FREE` times those of :data:`CG_PRODUCTS`
  Hessian-vector products (``2 k (nnz(X) + n)`` flops each, ``k`` outputs): a wide
  sparse model (2,000 TF-IDF rows x 3,000 terms) goes matrix-free, a dense one with
  few features (6,000 x 100) stays dense;
* **dense** otherwise at or below :data:`MAX_NEWTON_PARAMS` parameters;
* **refit** above it without an L2 penalty (the Hessian of more parameters than rows
  is singular: no matrix-free step; the event says so).

Either route certifies the same way: ``||grad J_R(theta)|| / |R|`` measured at the
final parameters, at most ``tol``.
After a removal it keeps the retained rows only, and the Hessian of the retained
objective at the corrected parameters, computed on the retained rows (one pass,
``O(|R| p^2)``). Neither the downdated Hessian nor the point it was evaluated at is kept: that
point is the model before the removal, and with the retained rows it gives the removed
rows' gradients, hence their features.

The parts this module uses live beside it: the models it supports and their objective in
:mod:`._convex_models`, the correction on the retained rows (Newton steps certified to
``tol``, else a refit) in :mod:`._convex_correct`, the Newton iteration in
:mod:`._newton_steps` (its matrix-free solves in :mod:`._newton_cg`), and the notes an
event carries about the model reached in :mod:`._convex_notes`.
"""

import copy

import numpy as np
from scipy import sparse
from sklearn.utils.validation import check_array

from ..exceptions import UnlearningError
from ._convex_correct import _refit_left, correct
from ._convex_models import final_step, objective_of
from ._convex_notes import _note_separated, note_refit_certificate
from ._method import Removal, RemovalMethod
from ._newton_cg import matrix_free_why_not
from ._rounding import certificate_fields

__all__ = [
    "CG_PRODUCTS",
    "DENSE_PER_MATRIX_FREE",
    "MAX_NEWTON_PARAMS",
    "above_newton_limit",
    "newton_route",
    "NewtonCorrection",
    "correct_large",
    "refit_large",
]

#: Above this many parameters (a text vectorizer's vocabulary) no dense Hessian is built
#: (8 p^2 bytes: 620 MiB at 9,000 parameters; its O(n p^2) build and O(p^3)
#: factorisation cost far more than the estimator's own fit on sparse features): a
#: removal takes its Newton steps through the retained rows (Woodbury), or refits.
MAX_NEWTON_PARAMS = 4096


#: How many times the matrix-free route's estimated flops the dense route's must be
#: for the matrix-free one to be taken. Measured (one removal of 1% of the rows, binary
#: ``LogisticRegression(C=10)``, shared 2-core machine): the two removals took about as
#: long where the dense flops were 0.75 to 1.5 times the matrix-free ones (6,000 x 300
#: dense: 0.200 s against 0.202 s, the Newton correction alone, least of 5; 2,000 x 500
#: dense: 1.8 s against 2.1 s, whole removals); at 6.5 times (2,000 TF-IDF rows x 300
#: terms) the matrix-free removal was 5x faster, at 0.3 times (6,000 x 100 dense) the
#: dense one 1.4x (0.032 s against 0.045 s; at 30,000 x 100, 0.13 s against 0.21 s).
#: The margin keeps near-ties on the dense route.
DENSE_PER_MATRIX_FREE = 3

#: Hessian-vector products a removal's matrix-free steps are budgeted (a few Newton
#: steps of tens of conjugate-gradient iterations each; the wide TF-IDF benchmark's
#: removals take 5 steps), in :func:`newton_route`'s estimate.
CG_PRODUCTS = 200


def newton_route(objective, Z, y, sw):
    """``"dense"``, ``"matrix_free"`` or ``"refit"``: how a removal from the model of
    ``objective`` fitted on the rows ``(Z, y, sw)`` takes its Newton steps (see the
    module docstring). Reads :data:`MAX_NEWTON_PARAMS`, :data:`DENSE_PER_MATRIX_FREE`
    and :data:`CG_PRODUCTS` here, at call time."""
    p = objective.n_params
    why = matrix_free_why_not(objective, y, sw)
    if above_newton_limit(p):
        return "refit" if why is not None else "matrix_free"
    if why is not None:
        return "dense"
    n = Z.shape[0]
    nnz = Z.nnz if sparse.issparse(Z) else n * Z.shape[1]
    dense = float(n) * p * p + p**3 / 3.0
    matrix_free = CG_PRODUCTS * 2.0 * objective.n_outputs * (nnz + n)
    return "matrix_free" if dense > DENSE_PER_MATRIX_FREE * matrix_free else "dense"


def above_newton_limit(n_params):
    """Whether a model of ``n_params`` parameters is above :data:`MAX_NEWTON_PARAMS`.

    Every route reads the limit here, at call time: a value set on this module (by a
    user, or a test's ``monkeypatch``) is the one all of them see.
    """
    return n_params > MAX_NEWTON_PARAMS


def _take(a, idx):
    return a[idx] if a is not None else None


class NewtonCorrection(RemovalMethod):
    """Newton correction of a convex model on the features it was fitted on.

    Parameters
    ----------
    Z : ndarray or sparse matrix of shape (n_held, n_features)
        Features of the rows the model holds, as the final step sees them.
    y : ndarray of shape (n_held,) or (n_held, n_targets)
    sample_weight : ndarray of shape (n_held,) or None
    hessian : ndarray of shape (p, p) or None
        Hessian of the objective over the held rows, evaluated at ``hessian_theta``;
        None off the dense route (:func:`newton_route`).
    hessian_theta : ndarray of shape (p,) or None
    """

    def __init__(self, Z, y, sample_weight, hessian, hessian_theta):
        self.Z = Z
        self.y = y
        self.sample_weight = sample_weight
        self.hessian = hessian
        self.hessian_theta = hessian_theta

    @classmethod
    def fit(cls, final, Z, y, sample_weight):
        """Cache the features and the Hessian of the fitted model ``final`` (no Hessian
        off the dense route, :func:`newton_route`: removals step through the rows or
        refit)."""
        objective = objective_of(final)
        Z = check_array(Z, accept_sparse="csr", dtype=np.float64)
        if newton_route(objective, Z, y, sample_weight) != "dense":
            return cls(Z, y, sample_weight, None, None)
        theta = objective.params()
        return cls(Z, y, sample_weight, objective.hessian(Z, y, sample_weight, theta=theta), theta)

    def held_data(self):
        # the features are transformed in a pipeline; the targets are as given
        return None, self.y

    def trained_features(self):
        return self.Z, True

    def remove(self, estimator, forget, keep, params, **options):
        final = copy.deepcopy(final_step(estimator))
        objective = objective_of(final)
        Z, y, sw = self.Z, self.y, self.sample_weight
        Z_r, y_r, sw_r = Z[keep], y[keep], _take(sw, keep)
        if sw_r is not None and not np.any(np.asarray(sw_r) > 0):
            # no objective to minimise: a retrain fails too
            raise UnlearningError(
                "every row the removal would retain has sample_weight 0: the model "
                "would be fitted on nothing (a retrain fails too). Nothing was changed."
            )
        if self.hessian is None:
            if newton_route(objective, Z_r, y_r, sw_r) == "dense":
                # matrix-free at fit, but not on the retained rows (their weights: a
                # balanced class weight of a class left empty): dense steps from a
                # Hessian built on them, as a refitted pipeline's
                return Removal(*_correct_dense(final, objective, Z_r, y_r, sw_r, params))
            final, fields = correct_large(final, objective, Z_r, y_r, sw_r, params)
            return Removal(final, NewtonCorrection(Z_r, y_r, sw_r, None, None), fields)
        # Downdate: J_T's Hessian minus the removed rows' data terms, penalty for |R|.
        # The terms subtracted are those J_T holds: the removed rows weighed by the class
        # weights of all the held rows, not balanced over the removed rows alone (which
        # may leave a class of them weightless and subtract another class many times
        # over); a separate objective, so the steps keep the retained rows' own weights.
        held = objective_of(final).fix_class_weights(y, sw)
        H = self.hessian - held.hessian(
            Z[forget], y[forget], _take(sw, forget), theta=self.hessian_theta
        )
        lam = objective.penalty_strength
        coef = np.arange(objective.n_outputs * objective.n_features)
        H[coef, coef] += lam(forget.size) + lam(keep.size) - lam(y.shape[0])
        final, fields, hessian, theta = correct(
            final, objective, Z_r, y_r, sw_r, H, self.hessian_theta, params, keep_hessian=True
        )
        if fields["method"] == "newton":
            # The steps' Hessian was evaluated at the model before this removal (the
            # downdate's point, or a step on the way): kept, that point is the old model,
            # from which and the retained rows the removed rows' gradients, so their
            # features, follow (exactly, for one row of a squared loss). The cache is
            # the Hessian of the corrected model instead.
            theta = objective_of(final).params()
            hessian = objective.hessian(Z_r, y_r, sw_r, theta=theta)
        return Removal(final, NewtonCorrection(Z_r, y_r, sw_r, hessian, theta), fields)


def _correct_dense(final, objective, Z, y, sw, params):
    """Dense Newton steps from the Hessian built on the retained rows ``(Z, y, sw)``:
    ``(final, fields, method)``, ``method`` the :class:`NewtonCorrection` to keep."""
    theta = objective.params()
    H = objective.hessian(Z, y, sw, theta=theta)
    final, fields, hessian, theta = correct(
        final, objective, Z, y, sw, H, theta, params, keep_hessian=True
    )
    if fields["method"] == "newton":
        theta = objective_of(final).params()
        hessian = objective.hessian(Z, y, sw, theta=theta)
    return final, NewtonCorrection(Z, y, sw, hessian, theta), fields


def correct_large(final, objective, Z, y, sw, params):
    """The correction of a model off the dense route (:func:`newton_route`) on the
    retained rows ``(Z, y, sw)``: matrix-free Newton steps (:mod:`._newton_cg`) where
    they apply (an L2 penalty, non-negative weights; certified to ``tol`` as the dense
    route), else (above :data:`MAX_NEWTON_PARAMS` parameters) :func:`refit_large`.
    Returns ``(final, fields)``."""
    why = matrix_free_why_not(objective, y, sw)
    if why is not None:
        return refit_large(final, objective, Z, y, sw, params, why)
    final, fields, _, _ = correct(final, objective, Z, y, sw, None, objective.params(), params)
    return final, fields


def refit_large(final, objective, Z, y, sw, params, why=None):
    """A refit of ``final``, whose ``objective`` has more than
    :data:`MAX_NEWTON_PARAMS` parameters, on the retained rows ``(Z, y, sw)``, and its
    event fields: ``(final, fields)``."""
    n_params = objective.n_params
    classes = getattr(final, "classes_", None)
    lost = 0 if classes is None or np.ndim(y) != 1 else np.setdiff1d(classes, y).size
    final = _refit_left(final, Z, y, sw, lost)
    objective = objective_of(final)
    fields = {
        "method": "refit",
        "tol": float(params["tol"]),
        "n_iter": 0,
        "n_hessian_updates": 0,
        "note": (
            f"the model has {n_params} parameters, more than {MAX_NEWTON_PARAMS}: Newton "
            f"steps would need their dense {n_params} x {n_params} Hessian "
            f"({8 * n_params**2 / 2**20:,.0f} MiB) and its factorisation, which cost far "
            "more than the estimator's own fit"
            + ("" if why is None else f", and the matrix-free steps do not apply ({why})")
            + ", so it was refitted on the retained rows, as a retrain is"
        ),
        **certificate_fields(objective, Z, y, sw, objective.params()),
    }
    note_refit_certificate(fields)
    _note_separated(final, objective, Z, y, sw, fields)
    return final, fields
