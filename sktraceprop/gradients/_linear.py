"""Closed-form per-sample gradients and exact Hessians of scikit-learn linear models.

Every supported estimator minimises, up to a positive factor that does not move the
minimiser, an objective of the *sum form*

.. math::

    J(\\theta) = \\sum_i s\\, w_i\\, \\ell(y_i, z_i) + \\frac{\\lambda_n}{2} \\|W\\|^2,
    \\qquad z_i = W x_i + b,

with the intercept ``b`` unpenalised. ``theta`` is ``coef_`` flattened row-major
followed by ``intercept_``. The sum form is the one that stays true when rows are
removed, which is what influence and unlearning need:

================================  ======================  =========  ====================
estimator                         loss ``l``              ``s``      penalty ``lambda_n``
================================  ======================  =========  ====================
LogisticRegression (lbfgs, ...)   binomial / multinomial  ``C``      1
SGDClassifier(loss="log_loss")    binary log loss, OvR    1          ``n * alpha``
Ridge, RidgeClassifier            squared error           1          ``2 * alpha``
LinearRegression                  squared error           1          0
================================  ======================  =========  ====================

scikit-learn's lbfgs writes the logistic objective as a weighted mean plus
``1 / (2 C sum(w)) ||W||^2``: that is ``J / (C sum(w))``. ``SGDClassifier`` minimises
``mean(loss) + alpha / 2 ||W||^2`` = ``J / n``: its penalty grows with ``n``, so each
row's gradient carries its ``alpha * W`` share of the penalty and the rows' gradients sum
to the objective gradient exactly. Squared error is ``(y - z)^2`` (sklearn's Ridge
objective ``||y - Xw||^2 + alpha ||w||^2`` as is). RidgeClassifier regresses on
``{-1, 1}`` codes of the classes, one column per class (one column when binary); fitted
on a multilabel target (a 0/1 indicator matrix), on the ``{-1, 1}`` codes of each label
column.

A ``class_weight`` multiplies ``w_i`` by the weight of row ``i``'s class, computed as
scikit-learn computes it from the training rows (:mod:`._class_weight`: ``"balanced"``
counts rows or sums sample weights, as the estimator does); an objective evaluated on
some of the training rows takes the whole set's weights after
:meth:`LinearObjective.fix_class_weights`. ``SGDClassifier`` with class weights on more
than two classes is refused: its one-vs-rest problems weigh rows per class and output.
"""

import numpy as np
from sklearn.base import is_classifier

from ._class_weight import class_weights, per_class_weights
from ._labels import known_class_indices
from ._linear_hessian import dense, linear_hessian
from ._linear_losses import multiclass_margins, multilabel_codes, pointwise

__all__ = ["LinearObjective"]


class LinearObjective:
    """Closed-form sum-form objective of a fitted linear model (see module docstring).

    Build it with :func:`linear_model_objective`. Arrays ``X`` are the features the
    model was fitted on (dense or sparse); ``y`` are targets as passed to ``fit``.

    Parameters
    ----------
    estimator : estimator
        The fitted model; :meth:`set_params_vector` writes into it.
    loss : {"binomial", "multinomial", "log_ovr", "squared", "squared_classifier"}
    scale : float
        Factor ``s`` on every row's loss.
    penalty : float
        L2 strength on ``coef_`` independent of the number of rows.
    penalty_per_sample : float
        L2 strength contributed by each row (``alpha`` of SGDClassifier).

    Attributes
    ----------
    n_outputs : int
        Number of linear outputs ``K`` (rows of ``coef_``).
    n_features : int
    fit_intercept : bool
    n_params : int
        ``K * n_features + K * fit_intercept``.
    """

    def __init__(self, estimator, loss, *, scale, penalty, penalty_per_sample):
        self.estimator = estimator
        self.loss = loss
        self.scale = scale
        self.penalty = penalty
        self.penalty_per_sample = penalty_per_sample
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
        self._coef_shape = np.shape(estimator.coef_)
        self._intercept_shape = np.shape(estimator.intercept_)
        self.n_outputs, self.n_features = coef.shape
        self.fit_intercept = bool(getattr(estimator, "fit_intercept", True))
        self.n_params = self.n_outputs * (self.n_features + self.fit_intercept)
        self._class_weights = None  # per class; None: those of the rows given
        #: A RidgeClassifier fitted on a 0/1 indicator matrix: ridge regression on its
        #: ``{-1, 1}`` codes, one output per label column
        self.multilabel = False

    # -- parameters ----------------------------------------------------------------------
    def params(self):
        """Flattened parameters ``[coef_.ravel(), intercept_]`` (intercept only if fitted).

        Returns
        -------
        theta : ndarray of shape (n_params,)
        """
        coef = np.asarray(self.estimator.coef_, dtype=np.float64).ravel()
        if not self.fit_intercept:
            return coef.copy()
        return np.concatenate([coef, np.ravel(self.estimator.intercept_).astype(np.float64)])

    def set_params_vector(self, theta):
        """Write flattened parameters back into ``coef_`` and ``intercept_``.

        Parameters
        ----------
        theta : array-like of shape (n_params,)

        Returns
        -------
        estimator : estimator
            The estimator, modified in place.
        """
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta has shape {theta.shape}, expected ({self.n_params},)")
        k, d = self.n_outputs, self.n_features
        est = self.estimator
        est.coef_ = theta[: k * d].reshape(self._coef_shape).copy()
        if self.fit_intercept:
            b = theta[k * d :]
            est.intercept_ = (
                b.reshape(self._intercept_shape).copy() if self._intercept_shape else (float(b[0]))
            )
        return est

    def bound_parameters(self):
        """Coefficients held at their bound: zero under ``positive=True``.

        ``Ridge``, ``RidgeClassifier`` and ``LinearRegression`` with ``positive=True``
        minimise the objective over ``coef_ >= 0``; where a coefficient sits at 0 the
        constraint, not a zero gradient, holds it there, and a small change of the rows
        leaves it at 0. First-order changes of the solution live on the other (free)
        parameters only.

        Returns
        -------
        mask : ndarray of bool of shape (n_params,)
            True for the coefficients at the bound (never the intercept).
        """
        mask = np.zeros(self.n_params, dtype=bool)
        if getattr(self.estimator, "positive", False):
            coef = np.asarray(self.estimator.coef_, dtype=np.float64).ravel()
            mask[: coef.size] = coef <= 0.0
        return mask

    def _split(self, theta):
        theta = self.params() if theta is None else np.asarray(theta, dtype=np.float64)
        k, d = self.n_outputs, self.n_features
        W = theta[: k * d].reshape(k, d)
        b = theta[k * d :] if self.fit_intercept else np.zeros(k)
        return W, b

    def decision(self, X, theta=None):
        """Linear outputs ``Z = X W^T + b`` of shape (n_samples, n_outputs)."""
        W, b = self._split(theta)
        Z = X @ W.T
        return np.asarray(Z) + b

    # -- targets and pointwise derivatives -------------------------------------------------
    def encode_targets(self, y):
        """Targets in the loss's coding: class index, ``+-1`` codes or float values."""
        y = np.asarray(y)
        name = type(self.estimator).__name__
        if self.loss in ("binomial", "multinomial"):
            return known_class_indices(self.estimator.classes_, y, name)
        if getattr(self, "multilabel", False):  # (absent from older pickles)
            return multilabel_codes(y, self.n_outputs)
        if self.loss in ("log_ovr", "squared_classifier"):
            classes = self.estimator.classes_
            idx = known_class_indices(classes, y, name)
            if len(classes) <= 2:
                # one class (a RidgeClassifier fitted on one, as a refit without every
                # row of the other is): scikit-learn's LabelBinarizer codes it -1
                return (2.0 * idx - 1.0)[:, None]
            Y = -np.ones((y.shape[0], len(classes)))
            Y[np.arange(y.shape[0]), idx] = 1.0
            return Y
        return np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)

    def row_weights(self, y, sample_weight=None):
        """Each row's weight in the objective: ``sample_weight`` times its class weight.

        Balanced class weights depend on *all* the rows: compute them here on the whole
        training set and pass slices as ``row_weights`` to
        :meth:`per_sample_gradients` when working through blocks of rows.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
        """
        return self._weights(y, sample_weight)

    def _weights(self, y, sample_weight):
        n = np.shape(y)[0]
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if is_classifier(self.estimator):
            of = getattr(self, "_class_weights", None)  # (absent from older pickles)
            cw = class_weights(self.estimator, y, sample_weight, of=of)
            if cw is not None:
                w = w * cw
        return w

    def fix_class_weights(self, y, sample_weight=None):
        """Weigh the classes as the training set ``(y, sample_weight)`` does, from now on.

        ``class_weight="balanced"`` depends on the rows: without this, each call weighs
        the classes of the rows it is given, right for a whole training set, wrong for
        a block of one. Returns ``self``.
        """
        if is_classifier(self.estimator):
            self._class_weights = per_class_weights(self.estimator, y, sample_weight)
        return self

    def pointwise(self, Z, t):
        """Loss, dloss/dz (n, K) and d2loss/dz2 (n, K, K) or its diagonal (n, K)."""
        return pointwise(self.loss, Z, t)

    # -- public derivatives ----------------------------------------------------------------
    def _parts(self, X, y, sample_weight, theta, row_weights=None):
        t = self.encode_targets(y)
        if row_weights is None:
            row_weights = self._weights(y, sample_weight)
        w = np.asarray(row_weights, dtype=np.float64) * self.scale
        Z = self.decision(X, theta)
        return t, w, Z

    def _expand(self, X, G):
        """Per-row gradients wrt theta from per-row gradients wrt Z, dense (n, p)."""
        Xd = dense(X)
        n, k = G.shape
        out = (G[:, :, None] * Xd[:, None, :]).reshape(n, k * self.n_features)
        if self.fit_intercept:
            out = np.hstack([out, G])
        return out

    def penalty_strength(self, n_samples):
        """L2 strength ``lambda_n`` on ``coef_`` for an objective over ``n_samples`` rows."""
        return self.penalty + self.penalty_per_sample * n_samples

    def _penalty_vector(self, theta):
        W, _ = self._split(theta)
        v = np.zeros(self.n_params)
        v[: W.size] = W.ravel()
        return v

    def objective(self, X, y, sample_weight=None, theta=None):
        """Value of the sum-form objective ``J`` on the given rows.

        Returns
        -------
        value : float
        """
        t, w, Z = self._parts(X, y, sample_weight, theta)
        loss, _, _ = self.pointwise(Z, t)
        W, _ = self._split(theta)
        lam = self.penalty_strength(Z.shape[0])
        return float(w @ loss + 0.5 * lam * np.sum(W**2))

    def per_sample_gradients(self, X, y, sample_weight=None, theta=None, *, row_weights=None):
        """Each row's contribution to the objective gradient.

        Row ``i`` is ``s w_i grad loss_i`` plus its share ``alpha * W`` of a per-row
        penalty (SGDClassifier). Rows sum to :meth:`objective_gradient` minus the
        row-independent penalty gradient ``penalty * W``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
        theta : ndarray of shape (n_params,), default=None
            Parameters at which to differentiate; the fitted ones if None.
        row_weights : ndarray of shape (n_samples,), default=None
            The rows' weights from :meth:`row_weights` on the whole training set,
            overriding ``sample_weight``. Pass them for a block of the training rows:
            balanced class weights computed on the block alone would be the block's.

        Returns
        -------
        gradients : ndarray of shape (n_samples, n_params)
        """
        out = self._expand(
            X, self.output_gradients(X, y, sample_weight, theta, row_weights=row_weights)
        )
        if self.penalty_per_sample:
            out += self.penalty_per_sample * self._penalty_vector(theta)
        return out

    def output_gradients(self, X, y, sample_weight=None, theta=None, *, row_weights=None):
        """Each row's weighted loss gradient with respect to its ``K`` linear outputs.

        Row ``i``'s gradient with respect to the parameters is ``J_i^T v_i`` (``v_i``
        times ``x_i`` in each output's coefficients, ``v_i`` at the intercepts): this
        is ``v_i``, without the ``p``-sized product (and without a per-row penalty share,
        see :meth:`per_sample_gradients`). Arguments as :meth:`per_sample_gradients`.

        Returns
        -------
        gradients : ndarray of shape (n_samples, n_outputs)
        """
        t, w, Z = self._parts(X, y, sample_weight, theta, row_weights)
        _, G, _ = self.pointwise(Z, t)
        return G * w[:, None]

    def objective_gradient(self, X, y, sample_weight=None, theta=None):
        """Gradient of the objective ``J`` on the given rows, shape (n_params,)."""
        t, w, Z = self._parts(X, y, sample_weight, theta)
        _, G, _ = self.pointwise(Z, t)
        G = G * w[:, None]
        grad_w = np.asarray((X.T @ G).T)
        parts = [grad_w.ravel()]
        if self.fit_intercept:
            parts.append(G.sum(axis=0))
        grad = np.concatenate(parts)
        return grad + self.penalty_strength(Z.shape[0]) * self._penalty_vector(theta)

    def hessian(self, X, y, sample_weight=None, theta=None):
        """Exact Hessian of the objective ``J`` on the given rows, penalty included.

        Returns
        -------
        hessian : ndarray of shape (n_params, n_params)
        """
        t, w, Z = self._parts(X, y, sample_weight, theta)
        _, _, H = self.pointwise(Z, t)
        return linear_hessian(self, X, w, H, self.penalty_strength(Z.shape[0]))

    # -- model outputs ---------------------------------------------------------------------
    def margins(self, X, y=None, theta=None):
        """Signed true-class margin (classifiers) or prediction (regressors).

        Binary: decision value times ``2y - 1``. Multiclass: true-class logit minus the
        logsumexp of the other logits. Multilabel ``RidgeClassifier``: the decision
        value of label ``y`` (a column index, one of ``classes_``). Regressors: the
        prediction (one output only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            True classes; ignored for regressors.
        theta : ndarray of shape (n_params,), default=None

        Returns
        -------
        margins : ndarray of shape (n_samples,)
        gradients : ndarray of shape (n_samples, n_params)
            Gradients of the margins with respect to ``theta``.

        Raises
        ------
        ValueError
            If ``y`` holds a label that is not one of the classifier's ``classes_``.
        """
        margins, U = self.margin_outputs(X, y, theta)
        return margins, self._expand(X, U)

    def margin_outputs(self, X, y=None, theta=None):
        """:meth:`margins` with each gradient as ``u_i``, its derivative with respect to
        the row's ``K`` linear outputs (the gradient is ``J_i^T u_i``, see
        :meth:`output_gradients`): no ``p``-sized row.

        Returns
        -------
        margins : ndarray of shape (n_samples,)
        gradients : ndarray of shape (n_samples, n_outputs)
        """
        Z = self.decision(X, theta)
        if not is_classifier(self.estimator):
            if Z.shape[1] != 1:
                raise ValueError("margins are defined for single-output regressors only")
            return Z[:, 0], np.ones_like(Z)
        idx = known_class_indices(self.estimator.classes_, y, type(self.estimator).__name__)
        if getattr(self, "multilabel", False):
            # label idx's decision value: positive where the model assigns the label
            rows = np.arange(Z.shape[0])
            U = np.zeros_like(Z)
            U[rows, idx] = 1.0
            return Z[rows, idx], U
        if Z.shape[1] == 1:
            sign = (2.0 * idx - 1.0)[:, None]
            return (Z * sign)[:, 0], sign
        return multiclass_margins(Z, idx)
