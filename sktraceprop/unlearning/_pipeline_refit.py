"""How a pipeline forgets: refit the preprocessing, then correct the final step.

With ``preprocessing="refit"`` (the default for a pipeline), each removal refits the
steps before the final one on the retained rows (transformers are cheap to fit: an
imputer's statistics, a scaler's moments and an encoder's categories are learnt again
without the removed rows), transforms the retained rows again, and corrects the convex
final step on those features by the Newton steps of :mod:`._convex`, starting from its
current parameters with the Hessian evaluated afresh (the features changed, so no
downdate applies). The whole pipeline then equals a retrain of the whole pipeline (a
``TargetEncoder`` that shuffles its cross-fitting folds without a seed draws other folds
at each fit, a retrain's included, and so does a step whose output depends on an
unseeded random draw, :mod:`._random_draws`: the event's note says so).

If the refitted preprocessing outputs fewer features (a category only the removed rows
had; :mod:`._dropped_features` says which kind), the features are matched by name
and the coefficients of the missing ones dropped, as a retrain lacks them; when they
cannot be matched the final step is refitted and the event says so.

:class:`PipelineRefit` keeps the raw input of the retained rows (as given to ``fit``),
their targets and weights; unused categories of pandas categorical columns are
dropped with the rows, so no category value only removed rows had stays behind. Where
the preprocessing's ``transform`` gives the retained rows other features than its
``fit_transform`` (a ``TargetEncoder`` cross fits), it keeps those the final step was
corrected on too (:meth:`PipelineRefit.trained_features`, which an explainer of the
unlearner takes).
"""

import copy
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import TargetEncoder
from sklearn.utils.validation import check_array

from .._lineage._record import fitted_steps
from ..influence._fit_features import differs, fit_transform_may_differ
from ..utils._prefit import is_fitted
from ..utils._sklearn_compat import safe_indexing
from ._convex import correct_large, newton_route
from ._convex_correct import correct, refit
from ._convex_models import objective_of
from ._convex_notes import note_refit_certificate
from ._dropped_features import dropped_features_note
from ._method import Removal, RemovalMethod
from ._random_draws import redrawn_steps
from ._rounding import certificate_fields
from ._weights import sample_weight_params

__all__ = ["PipelineRefit", "retained_rows"]


def retained_rows(X, keep):
    """Rows ``keep`` of ``X`` as a copy sharing no memory with ``X``.

    Categorical columns of a DataFrame lose the categories no kept row has.
    """
    rows = safe_indexing(X, np.asarray(keep, dtype=np.intp))
    if isinstance(rows, pd.DataFrame):
        rows = rows.copy(deep=True)
        for col in rows.columns[[isinstance(t, pd.CategoricalDtype) for t in rows.dtypes]]:
            rows[col] = rows[col].cat.remove_unused_categories()
    return rows


def _surviving_columns(old, new, n_new):
    """Positions, among the features of the fitted preprocessing ``old``, of the features
    ``new`` outputs, matched by name; None when they cannot be matched (no names, or a
    name that ``old`` did not output)."""
    try:
        old_names = np.asarray(old.get_feature_names_out(), dtype=object)
        new_names = np.asarray(new.get_feature_names_out(), dtype=object)
    except (AttributeError, ValueError, TypeError, NotImplementedError):
        return None
    if new_names.shape[0] != n_new or len(set(old_names)) != old_names.shape[0]:
        return None
    where = {name: i for i, name in enumerate(old_names)}
    if any(name not in where for name in new_names):
        return None
    return np.array([where[name] for name in new_names], dtype=np.intp)


def _keep_columns(final, cols):
    """Restrict a fitted linear model to the input columns ``cols`` (in place)."""
    final.coef_ = np.ascontiguousarray(np.asarray(final.coef_)[..., cols])
    final.n_features_in_ = int(cols.size)
    if hasattr(final, "feature_names_in_"):
        final.feature_names_in_ = np.asarray(final.feature_names_in_, dtype=object)[cols]


def _feature_names(step):
    try:
        return [str(n) for n in step.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError, NotImplementedError):
        return []


def _unseeded_cross_fitting(pre):
    """Names of the fitted ``TargetEncoder`` steps of ``pre`` whose cross-fitting draws
    its folds without a seed: each fit encodes the training rows with other folds."""
    found = []
    for name, step in fitted_steps(pre):
        if not isinstance(step, TargetEncoder):
            continue
        if isinstance(step.cv, Integral):
            shuffled = getattr(step, "shuffle", True) is not False  # True, or "deprecated"
            seed = getattr(step, "random_state", None)
        else:
            shuffled = bool(getattr(step.cv, "shuffle", False))
            seed = getattr(step.cv, "random_state", None)
        if shuffled and (seed in (None, "deprecated") or isinstance(seed, np.random.RandomState)):
            found.append(name)
    return found


def _not_refitted(old, new):
    """Parameter paths (``step`` or ``step__sub``) of the fitted estimators that the
    refitted preprocessing ``new`` shares with ``old`` by identity: steps ``clone``
    keeps as they are (a ``FrozenEstimator``, a fitted parameter some meta-estimators
    keep), used as fitted before the unlearner's fit, not refitted on the retained rows.
    """
    shared = {id(v) for v in new.get_params(deep=True).values() if hasattr(v, "fit")}
    out = []
    for path, value in old.get_params(deep=True).items():
        if id(value) not in shared or not hasattr(value, "fit") or not is_fitted(value):
            continue
        if any(path.startswith(f"{p}__") for p in out):
            continue  # inside one already named
        out.append(path)
    return out


def _renamed(old, new):
    """Whether the fitted preprocessing ``new`` names its features otherwise than ``old``
    (False when either does not name them)."""
    old_names, new_names = _feature_names(old), _feature_names(new)
    return bool(old_names and new_names) and old_names != new_names


def _count_changed_note(n_new, n_old, added, final):
    """The event's note where the refitted preprocessing outputs another number of
    features and the final step was refitted (the features' names are not given: an
    added one is a value of retained rows, a dropped one may be a removed row's)."""
    if n_old is None:
        n_old = objective_of(final).n_features
    if added:
        return (
            f"the preprocessing refitted on the retained rows outputs {n_new} features "
            f"instead of {n_old}, {len(added)} of them new (left out by the fitted "
            "preprocessing, e.g. a term a document-frequency or max_features limit "
            "excluded, that the retained rows now pass); the final step was refitted"
        )
    return (
        f"the preprocessing refitted on the retained rows outputs {n_new} features instead "
        f"of {n_old} and they cannot be matched by name; the final step was refitted"
    )


class PipelineRefit(RemovalMethod):
    """Refit of a pipeline's preprocessing plus the Newton correction of its final step.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame of shape (n_held, n_features)
        Raw input of the rows the pipeline holds.
    y : ndarray of shape (n_held,) or (n_held, n_targets)
    sample_weight : ndarray of shape (n_held,) or None
    weighted : tuple of (bool, bool), default=(True, True)
        Whether the fit gave ``sample_weight`` to the preprocessing and to the final step
        (with metadata routing, each step takes them only as it requested).
    Z : ndarray, sparse matrix or None, default=None
        The held rows' features as the final step was fitted on them, where they differ
        from the preprocessing's ``transform`` (a ``TargetEncoder`` cross fits); None
        where they do not (``Z_known``) or are not known.
    Z_known : bool, default=True
        Whether the final step's training features are known (``Z``, or ``transform``'s).
    redrawn : list of str or None, default=None
        The preprocessing steps whose features depend on an unseeded random draw (see
        :mod:`._random_draws`), measured at the first removal and kept for the next;
        None where not yet measured.
    """

    Z, Z_known = None, False  # (a method pickled before they were kept: not known)
    redrawn = None

    def __init__(
        self, X, y, sample_weight, weighted=(True, True), Z=None, Z_known=True, redrawn=None
    ):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.weighted = weighted
        self.Z = Z
        self.Z_known = Z_known
        self.redrawn = redrawn

    def held_data(self):
        return self.X, self.y

    def trained_features(self):
        return self.Z, self.Z_known

    def remove(self, estimator, forget, keep, params, **options):
        final = copy.deepcopy(estimator[-1])
        X_r = retained_rows(self.X, keep)
        y_r = self.y[keep]
        sw_r = None if self.sample_weight is None else self.sample_weight[keep]
        # the weights each part was fitted with: a retrain gives them the same way
        sw_pre, sw_fin = (sw_r if part else None for part in self.weighted)
        pre = Pipeline(
            [
                (name, step if step in (None, "passthrough") else clone(step))
                for name, step in estimator.steps[:-1]
            ]
        )
        Z_r = pre.fit_transform(X_r, y_r, **sample_weight_params(pre, sw_pre))
        Z_r = check_array(Z_r, accept_sparse="csr", dtype=np.float64)
        # kept where transform gives the retained rows other features (cross fitting):
        # the final step is corrected to the minimum on these, which an explainer needs.
        # (Transformed afresh: a copy=False step wrote into X_r, and may return it as Z_r.
        # Compared only where a step's fit_transform may differ from its transform.)
        trained = None
        if fit_transform_may_differ(pre):
            fresh = pre.transform(retained_rows(self.X, keep))
            trained = Z_r if differs(Z_r, fresh) else None
        objective = objective_of(final)
        notes, dropped, added = [], [], []
        if Z_r.shape[1] != objective.n_features:
            # A category (or column) only the removed rows had is gone. When the
            # features can be matched by name, a retrain simply lacks those columns:
            # drop their coefficients and correct on.
            cols = _surviving_columns(estimator[:-1], pre, Z_r.shape[1])
            if cols is not None:
                old = _feature_names(estimator[:-1])
                gone = np.setdiff1d(np.arange(len(old)), cols)
                dropped = [old[j] for j in gone]
                _keep_columns(final, cols)
                objective = objective_of(final)
                notes.append(
                    dropped_features_note(estimator[:-1], retained_rows(self.X, keep), gone)
                )
        elif _renamed(estimator[:-1], pre):
            # As many features, other names: a category only the removed rows had was
            # one of the most frequent (OneHotEncoder max_categories/min_frequency) and
            # another takes its place. The names must leave the run's copy too.
            old, new = _feature_names(estimator[:-1]), _feature_names(pre)
            dropped = [name for name in old if name not in set(new)]
            added = [name for name in new if name not in set(old)]
            if list(getattr(final, "feature_names_in_", ())) == old:
                final.feature_names_in_ = np.asarray(new, dtype=object)
            notes.append(
                f"the preprocessing refitted on the retained rows outputs {len(dropped)} "
                "feature(s) under other names (e.g. a category only the removed rows had "
                "was replaced by another); the final step was corrected on them"
            )
        if Z_r.shape[1] != objective.n_features:
            final = refit(final, Z_r, y_r, sw_fin)
            objective = objective_of(final)
            fields = {
                "method": "refit",
                **certificate_fields(objective, Z_r, y_r, sw_fin, objective.params()),
                "tol": float(params["tol"]),
                "n_iter": 0,
                "n_hessian_updates": 0,
            }
            old, new = _feature_names(estimator[:-1]), _feature_names(pre)
            dropped = sorted(set(old) - set(new))
            added = [name for name in new if name not in set(old)] if old else []
            notes.append(_count_changed_note(Z_r.shape[1], len(old) or None, added, final))
            note_refit_certificate(fields)
        elif newton_route(objective, Z_r, y_r, sw_fin) != "dense":
            # The features were refitted, so no downdate applies: a dense Newton step
            # would build and factorise a p x p Hessian afresh (O(n p^2 + p^3)); where
            # that costs more than a few hundred products through the rows (or cannot
            # be held) the steps are solved matrix-free (CG on H v) where they can, else
            # the final step is refitted on the retained rows' features, as a retrain is
            final, fields = correct_large(final, objective, Z_r, y_r, sw_fin, params)
        else:
            theta = objective.params()
            H = objective.hessian(Z_r, y_r, sw_fin, theta=theta)
            final, fields, _, _ = correct(final, objective, Z_r, y_r, sw_fin, H, theta, params)
        notes += [fields.pop("note")] if "note" in fields else []
        unseeded = _unseeded_cross_fitting(pre)
        if unseeded:
            notes.append(
                f"step(s) {', '.join(unseeded)} (TargetEncoder) draw their cross-fitting "
                "folds without a seed: the final step was corrected on the encodings of one "
                "such draw, as a retrain would be, and matches a retrain only in "
                "distribution; give cv= a seeded or unshuffled splitter to compare exactly"
            )
        redrawn = self.redrawn
        if redrawn is None:
            redrawn = redrawn_steps(pre, lambda: retained_rows(self.X, keep), y_r, sw_pre, differs)
        if redrawn:
            notes.append(
                f"step(s) {', '.join(redrawn)} draw randomly at fit without an int seed "
                "(random_state None or a RandomState instance), and their features "
                "depend on the draw: refitted on the retained rows they drew anew, as a "
                "retrain would, so the pipeline matches a retrain only in distribution "
                "(the certificate is of the final step on these features); give them an "
                "int random_state to compare exactly"
            )
        if notes:
            fields["note"] = "; ".join(notes)
        fields["preprocessing"] = "refitted on the retained rows"
        kept = _not_refitted(Pipeline(list(estimator.steps[:-1])), pre)
        if kept:
            fields["steps_not_refitted"] = kept
        return Removal(
            final,
            PipelineRefit(X_r, y_r, sw_r, self.weighted, Z=trained, redrawn=redrawn),
            fields,
            preprocessing=pre.steps,
            dropped_features=dropped,
            added_features=added,
        )
