"""How close an unlearned model is to a model retrained without the forgotten rows.

Each function compares fitted estimators on given rows; none refits anything. The
*retrained* model is the reference (a fit from scratch on the retained rows), the
*original* model the one fitted on every row.

A retrain of a neural net is itself random (initialisation, batch order): pass a list
of retrains with different seeds as ``retrained`` and the reference becomes their mean
(mean loss, mean output, mean score); :func:`unlearning_report` then also reports how
far each single retrain falls from that mean, the noise floor of every figure.
"""

import warnings

import numpy as np
from sklearn.metrics import check_scoring, roc_auc_score

from .._lineage._paired import check_paired
from ._distance import distance_ratio, frobenius
from ._per_sample_loss import per_sample_loss
from ._responses import as_list, responses

__all__ = [
    "forget_loss_gap_closed",
    "function_space_distance_ratio",
    "membership_inference_auc",
    "score_delta",
    "unlearning_report",
]

# Two mean forget losses this close (relative, at least absolute for losses below 1) are
# the same: a difference at solver-noise level is no gap, and dividing by it would give
# huge percentages that mean nothing.
_SAME_LOSS_RTOL = 1e-12


def _same_loss(a, b):
    """Whether mean losses ``a`` and ``b`` agree within ``_SAME_LOSS_RTOL``."""
    return abs(a - b) <= _SAME_LOSS_RTOL * max(1.0, abs(a), abs(b))


def function_space_distance_ratio(unlearned, retrained, original, X, *, response_method="auto"):
    """Distance of the unlearned model to the retrain, relative to the original's.

    ``||f_unl(X) - f_retrain(X)|| / ||f_orig(X) - f_retrain(X)||`` (Frobenius norms over
    the rows of ``X`` and the outputs). 0 means the unlearned model behaves exactly like
    the retrain on ``X``; 1 means it is as far from the retrain as if nothing had been
    removed.

    Parameters
    ----------
    unlearned : fitted estimator
        The model after the removal.
    retrained : fitted estimator or list of them
        Several retrains (other seeds): the reference output is their mean.
    original : fitted estimator
        The model before the removal.
    X : array-like of shape (n_samples, n_features)
        Rows on which the functions are compared (e.g. a test set or the forget set).
    response_method : {"auto", "decision_function", "predict_proba", "predict"}, \
            default="auto"
        Output compared; ``"auto"`` takes the first that every model has, in that order
        (logits for linear classifiers). Classifiers that know different classes (a
        retrain without a whole class) are compared on ``"predict_proba"`` over all the
        classes, a class a model does not know having probability 0; their
        ``decision_function`` outputs raise a ``ValueError``, and so does ``"predict"``
        for classifiers of more than two or of text classes (labels are not distances).

    Returns
    -------
    ratio : float
        ``0.0`` if all three functions coincide on ``X``, ``inf`` if only the original
        and the retrain coincide (the unlearned model moved away from a retrain the
        original already matched). :class:`~sktraceprop.plotting.UnlearningDisplay`
        shows the same ratio, by the same rule.
    """
    retrains = as_list(retrained)
    _, (f_unl, f_orig, *f_rets) = responses([unlearned, original, *retrains], X, response_method)
    f_ret = np.mean(f_rets, axis=0)
    return distance_ratio(frobenius(f_unl - f_ret), frobenius(f_orig - f_ret))


def forget_loss_gap_closed(unlearned, retrained, original, X_forget, y_forget):
    """Share of the forget-set loss gap between original and retrain that was closed, in %.

    ``100 * (L_unl - L_orig) / (L_retrain - L_orig)`` with ``L`` the mean
    :func:`per_sample_loss` on the forget rows. The retrain closes 100%. Below 100% is
    under-unlearning (the model still fits the forgotten rows better than a retrain
    would); **above 100% is over-unlearning**: the model fits them worse than a model
    that never saw them, which is itself a signal that they were removed.

    Parameters
    ----------
    unlearned : fitted estimator
        The model after the removal.
    retrained : fitted estimator or list of them
        Several retrains (other seeds): ``L_retrain`` is the mean of their losses.
    original : fitted estimator
        The model before the removal.
    X_forget : array-like of shape (n_forget, n_features)
    y_forget : array-like of shape (n_forget,)

    Returns
    -------
    percent : float
        ``nan``, with a warning, if the original and the retrain have the same forget
        loss: within a relative ``1e-12`` (absolute below a loss of 1), the tolerance
        :func:`unlearning_report` judges the same case by, there is no gap to close.
    """
    gap, _ = _gap_closed(unlearned, retrained, original, X_forget, y_forget)
    if np.isnan(gap):
        warnings.warn(
            "forget_loss_gap_closed is nan: the original and the retrain have the same "
            f"forget loss (within a relative {_SAME_LOSS_RTOL:g}), so there is no gap to close",
            RuntimeWarning,
            stacklevel=2,
        )
    return gap


def _gap_closed(unlearned, retrained, original, X_forget, y_forget):
    """:func:`forget_loss_gap_closed` without its warning, and the unlearned model's and
    the (mean) retrain's forget losses."""
    l_unl, l_orig = (per_sample_loss(m, X_forget, y_forget).mean() for m in (unlearned, original))
    l_ret = np.mean([per_sample_loss(m, X_forget, y_forget).mean() for m in as_list(retrained)])
    if _same_loss(l_ret, l_orig):
        return float("nan"), (l_unl, l_ret)
    return float(100.0 * (l_unl - l_orig) / (l_ret - l_orig)), (l_unl, l_ret)


def score_delta(unlearned, retrained, X, y, *, scoring=None):
    """Test score of the unlearned model minus that of the retrain.

    Parameters
    ----------
    unlearned : fitted estimator
    retrained : fitted estimator or list of them
        Several retrains (other seeds): their mean score is the reference.
    X : array-like of shape (n_samples, n_features)
        Held-out rows.
    y : array-like of shape (n_samples,)
    scoring : str or callable, default=None
        As for :func:`sklearn.metrics.check_scoring`; None uses the estimator's ``score``
        (accuracy for classifiers, R^2 for regressors).

    Returns
    -------
    delta : float
        Positive when the unlearned model scores higher.
    """
    check_paired(X, y, call="score_delta")
    score_unl = check_scoring(unlearned, scoring=scoring)(unlearned, X, y)
    score_ret = np.mean([check_scoring(m, scoring=scoring)(m, X, y) for m in as_list(retrained)])
    return float(score_unl - score_ret)


def membership_inference_auc(estimator, X_forget, y_forget, X_unseen, y_unseen):
    """AUC of a loss-threshold membership attack separating forget rows from unseen rows.

    The attack scores each row by its negative :func:`per_sample_loss` (members tend to
    have lower loss) and the AUC measures how well that separates the forget rows
    (label 1) from rows the model never trained on (label 0). About 0.5 means the
    forgotten rows look unseen; the original model usually scores above 0.5.

    Parameters
    ----------
    estimator : fitted estimator
    X_forget, y_forget : forget rows and targets
    X_unseen, y_unseen : rows never trained on (e.g. a test set) and targets

    Returns
    -------
    auc : float
    """
    loss_f = per_sample_loss(estimator, X_forget, y_forget)
    loss_u = per_sample_loss(estimator, X_unseen, y_unseen)
    labels = np.r_[np.ones(loss_f.shape[0]), np.zeros(loss_u.shape[0])]
    return float(roc_auc_score(labels, -np.r_[loss_f, loss_u]))


def unlearning_report(
    unlearned,
    retrained,
    original,
    X_forget,
    y_forget,
    X_test,
    y_test,
    *,
    gap_tolerance=1.0,
    response_method="auto",
):
    """All unlearning metrics at once, with a verdict on the forget-loss gap.

    Parameters
    ----------
    unlearned : fitted estimator
        The model after the removal.
    retrained : fitted estimator or list of them
        Retrains without the removed rows; with several (other seeds), the reference is
        their mean and the report adds the noise floor (see below).
    original : fitted estimator
        The model before the removal.
    X_forget, y_forget : the removed rows and their targets
    X_test, y_test : held-out rows (never trained on by any of the models)
    gap_tolerance : float, default=1.0
        Percentage points around 100% counted as matching the retrain.
    response_method : {"auto", "decision_function", "predict_proba", "predict"}, \
            default="auto"
        Output the distance ratios compare (see
        :func:`function_space_distance_ratio`); ``"predict_proba"`` when a retrain
        without every row of a class knows fewer classes than the original.

    Returns
    -------
    report : dict
        ``distance_ratio_test``, ``distance_ratio_forget``
        (:func:`function_space_distance_ratio`), ``forget_gap_closed_percent``,
        ``verdict`` (``"matches retrain"``, ``"under-unlearning"`` or
        ``"over-unlearning"``; when the original and the retrain have the same forget
        loss (within a relative ``1e-12``, as for :func:`forget_loss_gap_closed`), so
        that the gap is ``nan``, ``"matches retrain"`` only if the unlearned model's is
        that loss too, by the same tolerance, else ``"differs from retrain"``),
        ``score_delta``
        (unlearned minus retrain),
        ``mia_auc_original``, ``mia_auc_unlearned`` and ``mia_auc_retrained`` (the
        mean over the retrains). With several retrains also ``n_retrained``,
        ``retrain_gap_closed_percent`` and ``retrain_distance_ratio_test``: each
        retrain's own gap closed and distance ratio against the mean of all of them,
        how far one honest retrain falls from the reference.
    """
    gap, (l_unl, l_ret) = _gap_closed(unlearned, retrained, original, X_forget, y_forget)
    if np.isnan(gap):
        # no gap to close: the original fits the forget rows as the retrain does; only
        # an unlearned model that fits them so too matches
        verdict = "matches retrain" if _same_loss(l_unl, l_ret) else "differs from retrain"
    elif abs(gap - 100.0) <= gap_tolerance:
        verdict = "matches retrain"
    else:
        verdict = "over-unlearning" if gap > 100.0 else "under-unlearning"
    retrains = as_list(retrained)
    report = {
        "distance_ratio_test": function_space_distance_ratio(
            unlearned, retrains, original, X_test, response_method=response_method
        ),
        "distance_ratio_forget": function_space_distance_ratio(
            unlearned, retrains, original, X_forget, response_method=response_method
        ),
        "forget_gap_closed_percent": gap,
        "verdict": verdict,
        "score_delta": score_delta(unlearned, retrains, X_test, y_test),
        **{
            f"mia_auc_{name}": membership_inference_auc(model, X_forget, y_forget, X_test, y_test)
            for name, model in (("original", original), ("unlearned", unlearned))
        },
        "mia_auc_retrained": float(
            np.mean(
                [membership_inference_auc(m, X_forget, y_forget, X_test, y_test) for m in retrains]
            )
        ),
    }
    if len(retrains) > 1:
        report["n_retrained"] = len(retrains)
        report["retrain_gap_closed_percent"] = [
            _gap_closed(m, retrains, original, X_forget, y_forget)[0] for m in retrains
        ]
        report["retrain_distance_ratio_test"] = [
            function_space_distance_ratio(
                m, retrains, original, X_test, response_method=response_method
            )
            for m in retrains
        ]
    return report
