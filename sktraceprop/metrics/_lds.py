"""Linear datamodeling score (LDS) of training-data attributions."""

import numbers

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import rankdata
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..gradients import linear_model_objective
from ..utils._progress import map_blocks
from ..utils._sklearn_compat import num_samples

__all__ = ["linear_datamodeling_score"]


def _refit_margins(model, Xt, y, sample_weight, mask, Xt_test, y_test):
    est = clone(model)
    params = {} if sample_weight is None else {"sample_weight": sample_weight[mask]}
    est.fit(Xt[mask], y[mask], **params)
    return linear_model_objective(est).margins(Xt_test, y_test)[0]


def _refit_mask_margins(mask, model, Xt, y, sample_weight, Xt_test, y_test):
    return _refit_margins(model, Xt, y, sample_weight, mask, Xt_test, y_test)


def _refit_neural_margins(mask_seed, model, Xt, y, Xt_test, y_test):
    from ..influence._neural_refit import refit_subset_margins

    mask, seed = mask_seed
    return refit_subset_margins(model, Xt, y, mask, Xt_test, y_test, seed)


def _rowwise_spearman(a, b):
    """Spearman correlation of matching rows; rows where either side is constant give 0,
    rows where either side holds NaN give NaN (scipy's ``spearmanr``)."""
    ra = rankdata(a, axis=1)
    rb = rankdata(b, axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    num = (ra * rb).sum(axis=1)
    den = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    out = np.where(np.isnan(den), np.nan, 0.0)  # NaN ranks: no correlation to report
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


def _check_subsets_keep_classes(model, y, masks):
    """Refuse subsets that leave out every row of a class: the retrain on such a subset
    knows fewer classes, and its margins (a binary model's decision value for a
    three-class model's margin, or a class it cannot predict) compare with no other."""
    y = np.asarray(y)
    if not is_classifier(model) or y.ndim != 1:
        return
    classes, codes = np.unique(y, return_inverse=True)
    for s, mask in enumerate(masks):
        missing = np.flatnonzero(np.bincount(codes[mask], minlength=classes.size) == 0)
        if missing.size:
            c = classes[missing[0]]
            raise ValueError(
                f"subset {s} of {len(masks)} leaves out every training row of class "
                f"{classes[missing].tolist()[0]!r} ({int(np.sum(y == c))} rows): its "
                "retrain would not know that class and its margins compare with no other "
                "subset's; raise alpha or give that class more rows"
            )


def _same_rows(a, b):
    """Whether two inputs hold the same rows in the same order (values, and row ids
    where both carry them)."""
    if a is b:
        return True
    from .._lineage import row_ids

    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        try:
            ids_a, ids_b = row_ids(a), row_ids(b)
        except Exception:
            ids_a = ids_b = None
        if ids_a is not None and ids_b is not None and not np.array_equal(ids_a, ids_b):
            return False
        return a.reset_index(drop=True).equals(b.reset_index(drop=True))
    a = a.toarray() if sparse.issparse(a) else np.asarray(a)
    b = b.toarray() if sparse.issparse(b) else np.asarray(b)
    if a.shape != b.shape:
        return False
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:  # objects that NaN cannot be looked for in
        return bool(np.array_equal(a, b))


def linear_datamodeling_score(
    explainer,
    X_train,
    y_train,
    X_test,
    y_test,
    n_subsets=100,
    alpha=0.5,
    random_state=None,
    n_jobs=None,
    verbose=0,
    return_per_row=False,
):
    """Linear datamodeling score: do summed attributions rank retrained models right?

    Draws ``n_subsets`` random subsets of ``round(alpha * n_train)`` training rows,
    retrains the explainer's final estimator on each (on the features its fitted
    preprocessing produces, which stay fixed), and measures each test row's margin.
    The attribution's prediction for a subset is the sum of the scores of its rows.
    Per test row, the Spearman correlation over subsets between prediction and actual
    margin; the score is the mean over test rows. A test row whose predictions or
    actual margins are constant across subsets counts as 0; one where either holds
    NaN (a retrain that diverged) is NaN, and so is the score. A subset that leaves
    out every row of a class raises a ``ValueError`` (its retrain knows fewer classes).

    Parameters
    ----------
    explainer : InfluenceExplainer
        Fitted on ``(X_train, y_train)``; an unfitted one is fitted on a clone.
    X_train : array-like of shape (n_train, n_features)
        The data the explainer was (or is to be) fitted on; for a fitted explainer,
        other rows, or the same in another order, raise a ``ValueError`` (the retrains
        use the explainer's rows), and None uses them.
    y_train : array-like of shape (n_train,)
        May be None when ``explainer`` is fitted.
    X_test : array-like of shape (n_test, n_features)
    y_test : array-like of shape (n_test,) or None
        True classes whose margins are compared (ignored for regressors); None
        compares the margins of the classes the explainer's model predicts, as
        ``explain`` does.
    n_subsets : int, default=100
    alpha : float, default=0.5
        Fraction of training rows in each subset, in (0, 1).
    random_state : int, RandomState instance or None, default=None
        Draws the subsets.
    n_jobs : int, default=None
        Retrain subsets in parallel with joblib (honours ``joblib.parallel_backend``,
        so ``parallel_backend("dask")`` runs them on a Dask cluster).
    verbose : int, default=0
        Show the progress of the retraining (``tqdm`` when installed, else lines on
        standard error).
    return_per_row : bool, default=False
        Also return the correlation of every test row.

    Returns
    -------
    lds : float
    per_row : ndarray of shape (n_test,)
        Only when ``return_per_row`` is True.
    """
    if not isinstance(n_subsets, numbers.Integral) or n_subsets < 2:
        raise ValueError(f"n_subsets must be an integer >= 2, got {n_subsets!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    try:
        check_is_fitted(explainer, "objective_")
    except Exception:
        if X_train is None or y_train is None:
            raise ValueError(
                "the explainer is not fitted: pass X_train and y_train to fit it"
            ) from None
        explainer = clone(explainer).fit(X_train, y_train)
    if X_train is not None and num_samples(X_train) != num_samples(explainer._X_fit):
        raise ValueError(
            f"X_train has {num_samples(X_train)} rows but the explainer was fitted on "
            f"{num_samples(explainer._X_fit)}"
        )
    if X_train is not None and not _same_rows(X_train, explainer._X_fit):
        # the retrains use the explainer's rows: an LDS on these would not be theirs
        raise ValueError(
            "X_train is not the data the explainer was fitted on (same number of rows, "
            "other values or order): the score retrains on the explainer's training "
            "rows; pass those, or X_train=None"
        )
    n = explainer.n_train_
    size = max(1, int(round(alpha * n)))
    rng = check_random_state(random_state)
    masks = np.zeros((n_subsets, n), dtype=bool)
    for s in range(n_subsets):
        masks[s, rng.choice(n, size=size, replace=False)] = True

    # the retrains' margins take y_test as explain does (a column vector as one target)
    _, y_test = explainer._check_explained(X_test, y_test)
    Xt_test = explainer._test_features(X_test)
    # without y_test, explain's classes (the model's predictions), for the retrains too
    y_test = explainer._explained_targets(X_test, Xt_test, y_test)
    if getattr(explainer, "trak_", None) is not None:
        # Neural models: retrain the net from scratch on each subset, own seed each.
        seeds = rng.randint(np.iinfo(np.int32).max, size=n_subsets)
        refits = map_blocks(
            _refit_neural_margins,
            list(zip(masks, seeds)),
            shared=(explainer.model_, explainer.Xt_, explainer.y_, Xt_test, y_test),
            n_jobs=n_jobs,
            verbose=verbose,
            desc="LDS retrains",
        )
        actual = [margins for margins, _ in refits]
        # a skorch validation split leaves rows of each subset out of its retrain: the
        # prediction is for the rows the retrain trained on
        trained = np.stack([rows for _, rows in refits])
        predicted = explainer.influence_sums(X_test, y_test, trained)
        per_row = _rowwise_spearman(predicted, np.column_stack(actual))
        lds = float(per_row.mean())
        return (lds, per_row) if return_per_row else lds
    _check_subsets_keep_classes(explainer.model_, explainer.y_, masks)
    predicted = explainer.influence_sums(X_test, y_test, masks)
    actual = map_blocks(
        _refit_mask_margins,
        list(masks),
        shared=(
            explainer.model_,
            explainer.Xt_,
            explainer.y_,
            explainer.sample_weight_,
            Xt_test,
            y_test,
        ),
        n_jobs=n_jobs,
        verbose=verbose,
        desc="LDS retrains",
    )
    per_row = _rowwise_spearman(predicted, np.column_stack(actual))
    lds = float(per_row.mean())
    return (lds, per_row) if return_per_row else lds
