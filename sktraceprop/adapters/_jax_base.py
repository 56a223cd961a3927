"""What :class:`~sktraceprop.adapters.JaxClassifier` and
:class:`~sktraceprop.adapters.JaxRegressor` share: their parameters (validated), the
training of a model's parameters on the rows given (seeded, full batch padded to a
power of two with rows of weight zero, apply_fn checked row by row before and after),
and the model's outputs on new rows, in blocks.

The model itself, a default network when none is given, is named by the estimators
(:mod:`._jax`), which keep the classes that pickles and fingerprints name.

A fit on traced rows (a traced frame's index, a ``sktraceprop.array``) that a removal
took out of a model says so, as a traced fit does
(:class:`~sktraceprop.exceptions.RefitOnRemovedWarning`): the estimator used alone
trains on them again. Rows given as a bare array carry no ids, and cannot be checked;
inside a traced fit (a traced pipeline, an explainer's or an unlearner's fit) that fit
checks them, once.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._state_format import StateFormatMixin
from ..gradients._jax_decay_steps import coefficient_before, record
from ..utils._sklearn_compat import Interval, StrOptions
from ._jax_params import check_frozen, check_params, frozen_leaves
from ._jax_train import _is_weighted, _predict_blocks, _row_weights, _trainer, check_apply_fn


def row_ids_given(X):
    """The row ids ``X`` carries (read before ``validate_data`` drops them), or None
    where it carries none or a traced fit around this one checks its rows."""
    from .._lineage._capture import carried_ids
    from .._lineage._fit_context import _RECORDING

    if _RECORDING.get():  # a traced fit's own check covers these rows
        return None
    return carried_ids(X, validate=False)


def warn_if_removed(estimator, ids, keep):
    """Say rows of ``ids`` (:func:`row_ids_given`), less those of weight zero (not
    ``keep``), that a removal took out of a model (the estimator trains on them again)."""
    if ids is None:
        return
    from .._removed_rows import warn_refit_on_removed
    from ..utils._stack import user_stacklevel

    ids = np.asarray(ids, dtype=np.int64)
    warn_refit_on_removed(
        ids if keep is None else ids[keep], type(estimator).__name__, user_stacklevel()
    )


def training_rows(estimator, ids, sample_weight, n_samples):
    """``(keep, W, weighted)``: the rows to train on and their weights
    (:func:`._jax_train._row_weights`), and whether they make another objective than the
    plain mean loss; rows of ``ids`` a removal took out are warned of first."""
    keep, W = _row_weights(sample_weight, n_samples)
    warn_if_removed(estimator, ids, keep)
    return keep, W, _is_weighted(keep, W, n_samples)


class _JaxEstimator(StateFormatMixin, BaseEstimator):
    """The parameters, training and outputs the JAX estimators share."""

    _parameter_constraints = {
        "apply_fn": [callable, None],
        "init_fn": [callable, None],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "optimizer": [StrOptions({"adam", "sgd"}), callable],
    }

    def __init__(
        self,
        apply_fn=None,
        init_fn=None,
        *,
        n_epochs=100,
        learning_rate=1e-2,
        batch_size=None,
        alpha=0.0,
        random_state=None,
        optimizer="adam",
    ):
        self.apply_fn = apply_fn
        self.init_fn = init_fn
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.alpha = alpha
        self.random_state = random_state
        self.optimizer = optimizer

    def _model(self):
        """The model's ``(init_fn, apply_fn)`` pair (each estimator's default when the
        parameters name none)."""
        raise NotImplementedError

    def _fit(self, X, Y, kind, n_outputs, W=None, weighted=False):
        import jax
        import jax.numpy as jnp

        init_fn, apply_fn = self._model()
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        init_key, train_key = jax.random.split(jax.random.PRNGKey(seed))
        params = init_fn(init_key, X.shape[1], n_outputs)
        check_params(params)
        check_apply_fn(apply_fn, params, X, n_outputs)
        n = X.shape[0]
        if W is None:
            W = np.ones(n, dtype=np.float32)
        batch_size = self.batch_size
        if batch_size is None or batch_size >= n:
            batch_size = None
            # Full batch: pad to a power of two with zero-weight rows, so that data sets
            # of similar size share one compiled training loop.
            pad = max(8, 1 << (n - 1).bit_length()) - n
            X = np.concatenate([X, np.zeros((pad, X.shape[1]), X.dtype)])
            Y = np.concatenate([Y, np.zeros((pad, *Y.shape[1:]), Y.dtype)])
            W = np.concatenate([W, np.zeros(pad, np.float32)])
        args = (jnp.asarray(X), jnp.asarray(Y), jnp.asarray(W))
        frozen = frozen_leaves(apply_fn, kind, params, *args)
        optimizer, coef, scaled = self.optimizer, None, False
        if callable(optimizer):
            # optax style: optimizer(learning_rate) -> GradientTransformation, whose
            # decay is read from its first steps and checked at every step of the fit
            optimizer = optimizer(self.learning_rate)
            coef, scaled = coefficient_before(optimizer, params)
        params, curve, off = _trainer()(
            params,
            *args,
            train_key,
            jnp.float32(self.learning_rate),
            jnp.float32(self.alpha),
            jnp.asarray(0.0 if coef is None else float(coef)),
            apply_fn=apply_fn,
            kind=kind,
            n_epochs=int(self.n_epochs),
            batch_size=None if batch_size is None else int(batch_size),
            optimizer=optimizer,
            check_decay=coef is not None,
            scaled=scaled is True,
        )
        # again at the trained parameters: an initialisation can hide a dependence on
        # the batch (a zero output layer gives zero outputs whatever the other rows)
        check_apply_fn(apply_fn, params, X[:n], n_outputs)
        if frozen:
            # state (a running mean) is not a parameter: shrunk by alpha, never held by data
            check_frozen(frozen, frozen_leaves(apply_fn, kind, params, *args), self.alpha)
        self.init_fn_ = init_fn
        self.apply_fn_ = apply_fn
        self.params_ = jax.tree_util.tree_map(np.asarray, params)
        self.loss_curve_ = np.asarray(curve, dtype=np.float64)
        self.n_iter_ = int(self.n_epochs)
        self.n_outputs_ = n_outputs
        # read by the neural influence, which scores the plain mean loss of every row
        # given to fit: weighted rows (or rows of weight zero, left out) are another one
        self._sample_weighted = bool(weighted)
        # read by the decay probe: the decay of each step of the fit (None: built-in)
        self._decay_steps = record(coef, off, scaled) if callable(self.optimizer) else None
        if not np.all(np.isfinite(self.loss_curve_)):
            raise ValueError(
                "Training diverged (non-finite loss); lower learning_rate or scale X."
            )
        return self

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        z = _predict_blocks(self.apply_fn_, self.params_, X)
        if z.shape != (X.shape[0], self.n_outputs_):
            raise ValueError(
                f"apply_fn returned shape {z.shape}; expected {(X.shape[0], self.n_outputs_)}."
            )
        return z

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
