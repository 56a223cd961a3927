"""scikit-learn estimators around a pure JAX model: an apply function and an init function.

:class:`JaxClassifier` and :class:`JaxRegressor` (their shared parameters, training and
outputs are in :mod:`._jax_base`, their ``fit`` docstring in :mod:`._jax_docs`, the
compiled training loop in :mod:`._jax_train`, what they predict from the logits in
:mod:`._jax_outputs`), and the default model, a fully
connected network (:func:`mlp`). These classes stay in this module: pickles and model
fingerprints name a class by its module. jax is imported inside the functions that need
it, so importing this module (and ``sktraceprop.adapters``) does not import jax.
"""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._digest import params_digest, rows_digest
from ._jax_base import _JaxEstimator, row_ids_given, training_rows
from ._jax_docs import fit_doc
from ._jax_outputs import _ClassifierOutputs, _RegressorOutputs
from ._jax_train import (  # noqa: F401 (importable from here, as before)
    _is_weighted,
    _logits,
    _per_sample_loss,
    _predict_blocks,
    _row_weights,
    _trainer,
    check_apply_fn,
)

__all__ = ["JaxClassifier", "JaxRegressor", "MLPApply", "MLPInit", "mlp"]

_ACTIVATIONS = ("relu", "tanh", "logistic", "identity")


class MLPInit:
    """Initialise the parameters of a fully connected network.

    A plain class rather than a closure so that it pickles and compares by value.

    Parameters
    ----------
    hidden : tuple of int, default=(256,)
        Widths of the hidden layers.
    init : {"glorot", "torch"}, default="glorot"
        ``"glorot"``: Glorot-uniform weights, zero biases. ``"torch"``: the default of
        ``torch.nn.Linear`` (weights and biases uniform in ``+-1/sqrt(fan_in)``), so a
        JAX model starts from the same distribution as its PyTorch twin.

    Notes
    -----
    ``init(key, n_features, n_outputs)`` returns a list with one dict
    ``{"weight": (n_in, n_out), "bias": (n_out,)}`` per layer, float32; the
    parameter names used by the gradient functions are then ``"0.weight"``,
    ``"0.bias"``, ..., the last layer being ``f"{len(hidden)}.weight"``.
    """

    def __init__(self, hidden=(256,), init="glorot"):
        if init not in ("glorot", "torch"):
            raise ValueError(f"init must be 'glorot' or 'torch', got {init!r}")
        self.hidden = tuple(int(h) for h in hidden)
        self.init = init

    def __call__(self, key, n_features, n_outputs):
        import jax
        import jax.numpy as jnp

        sizes = (int(n_features), *self.hidden, int(n_outputs))
        keys = jax.random.split(key, len(sizes) - 1)
        params = []
        for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
            if self.init == "torch":
                kw, kb = jax.random.split(k)
                bound = 1.0 / np.sqrt(n_in)
                weight = jax.random.uniform(kw, (n_in, n_out), jnp.float32, -bound, bound)
                bias = jax.random.uniform(kb, (n_out,), jnp.float32, -bound, bound)
            else:
                bound = np.sqrt(6.0 / (n_in + n_out))
                weight = jax.random.uniform(k, (n_in, n_out), jnp.float32, -bound, bound)
                bias = jnp.zeros(n_out, jnp.float32)
            params.append({"weight": weight, "bias": bias})
        return params

    def __setstate__(self, state):
        state.setdefault("init", "glorot")  # pickles written before ``init`` existed
        self.__dict__.update(state)

    def __eq__(self, other):
        return (
            type(other) is type(self) and other.hidden == self.hidden and other.init == self.init
        )

    def __hash__(self):
        return hash((type(self).__name__, self.hidden, self.init))

    def __repr__(self):
        return f"MLPInit(hidden={self.hidden}, init={self.init!r})"


class MLPApply:
    """Forward pass of the network built by :class:`MLPInit`: logits of shape (n, n_outputs).

    Parameters
    ----------
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers (the output layer is linear).
    """

    def __init__(self, activation="relu"):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {_ACTIVATIONS}; got {activation!r}.")
        self.activation = activation

    def __call__(self, params, X):
        import jax

        act = {
            "relu": jax.nn.relu,
            "tanh": jax.numpy.tanh,
            "logistic": jax.nn.sigmoid,
            "identity": lambda a: a,
        }[self.activation]
        for layer in params[:-1]:
            X = act(X @ layer["weight"] + layer["bias"])
        return X @ params[-1]["weight"] + params[-1]["bias"]

    def __eq__(self, other):
        return type(other) is type(self) and other.activation == self.activation

    def __hash__(self):
        return hash((type(self).__name__, self.activation))

    def __repr__(self):
        return f"MLPApply(activation={self.activation!r})"


def mlp(hidden=(256,), activation="relu", init="glorot"):
    """A fully connected network as a picklable ``(init_fn, apply_fn)`` pair.

    Parameters
    ----------
    hidden : tuple of int, default=(256,)
        Widths of the hidden layers; ``()`` gives a linear model.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    init : {"glorot", "torch"}, default="glorot"
        Initial weights; ``"torch"`` matches ``torch.nn.Linear``'s default.

    Returns
    -------
    init_fn : MLPInit
    apply_fn : MLPApply

    Examples
    --------
    >>> from sktraceprop.adapters import JaxClassifier, mlp
    >>> init_fn, apply_fn = mlp(hidden=(32,))
    >>> clf = JaxClassifier(apply_fn, init_fn, n_epochs=50, random_state=0)
    """
    return MLPInit(hidden, init), MLPApply(activation)


class _BaseJax(_JaxEstimator):
    def _model(self):
        """``(init_fn, apply_fn)``, or the default network, ``mlp(hidden=(100,))``."""
        if (self.apply_fn is None) != (self.init_fn is None):
            raise ValueError("Pass both apply_fn and init_fn, or neither (a default MLP).")
        if self.apply_fn is None:
            return mlp(hidden=(100,))
        return self.init_fn, self.apply_fn


class JaxClassifier(ClassifierMixin, _ClassifierOutputs, _BaseJax):
    """A scikit-learn classifier around a pure JAX model trained by cross-entropy.

    The model is a pair of functions: ``init_fn(key, n_features, n_outputs) -> params``
    (any pytree of arrays) and ``apply_fn(params, X) -> logits`` of shape
    ``(n_samples, n_outputs)``. Binary problems use **one** output, the decision value
    (logit of the second class in ``classes_``), trained with the logistic loss;
    ``K > 2`` classes use ``K`` logits and the softmax cross-entropy. The objective is
    ``sum_i w_i loss_i / sum_i w_i + alpha / 2 * ||params||^2`` (``w_i`` from
    ``fit(..., sample_weight=...)``, 1 by default, so the data term is the mean loss;
    every leaf is penalised, biases included), minimised by a built-in Adam (or SGD) for
    ``n_epochs`` epochs, full batch or in shuffled mini-batches (each step then takes the
    weighted mean over its batch). Float32, or float64 for float64 leaves under
    ``jax_enable_x64``; each leaf is a float array, trained (no non-trainable state).

    Both functions must be picklable for ``pickle``, ``joblib`` and ``GridSearchCV`` with
    ``n_jobs > 1``: module-level functions, or instances of module-level classes with
    ``__call__`` (as :func:`mlp` returns); lambdas and closures work in one process
    (``clone`` copies them) but do not pickle. jax is imported when fitting or predicting.

    Parameters
    ----------
    apply_fn : callable, default=None
        ``apply_fn(params, X) -> logits``. None (with ``init_fn=None``) uses
        ``mlp(hidden=(100,))``.
    init_fn : callable, default=None
        ``init_fn(key, n_features, n_outputs) -> params``.
    n_epochs : int, default=100
        Passes over the training data.
    learning_rate : float, default=1e-2
        Step size.
    batch_size : int, default=None
        Rows per mini-batch; None trains full batch (one step per epoch).
    alpha : float, default=0.0
        L2 penalty strength.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the mini-batch order.
    optimizer : {"adam", "sgd"} or callable, default="adam"
        Built-in Adam (beta 0.9, 0.999) or plain SGD, or an optax-style factory
        ``optimizer(learning_rate)`` returning an object with ``init(params)`` and
        ``update(grads, state, params) -> (updates, state)`` (e.g. ``optax.adamw``).
        A decay it applies outside the loss (``optax.adamw``'s ``weight_decay``) is
        no part of the objective ``alpha`` gives: influence warns and leaves it out,
        the neural removal refuses it. A coupled one (``add_decayed_weights``
        chained ahead of ``optax.adam``) is read from the optimizer's steps and added
        to ``alpha``, the same L2 term.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    params_ : pytree of ndarray
        Fitted parameters (numpy arrays of ``init_fn``'s float dtypes).
    apply_fn_ : callable
        The apply function used (the default MLP's when ``apply_fn`` is None).
    init_fn_ : callable
        The init function used.
    n_outputs_ : int
        1 for binary problems, else ``n_classes``.
    loss_curve_ : ndarray of shape (n_epochs,)
        Mean objective per epoch (over its steps, each evaluated before its update).
    n_iter_ : int
        Number of epochs run.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen in ``fit`` (only when ``X`` had string column names).

    See Also
    --------
    sktraceprop.gradients._jax.jax_per_sample_gradients : per-sample margin gradients.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sktraceprop.adapters import JaxClassifier, mlp
    >>> X, y = load_iris(return_X_y=True)
    >>> init_fn, apply_fn = mlp(hidden=(16,))
    >>> clf = JaxClassifier(apply_fn, init_fn, n_epochs=200, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)

    def fit(self, X, y, sample_weight=None):
        self._validate_params()
        ids = row_ids_given(X)
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        keep, W, weighted = training_rows(self, ids, sample_weight, X.shape[0])
        if keep is not None:
            X, y = X[keep], y[keep]
        classes, y_enc = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            where = "" if keep is None else " among the rows with a non-zero sample_weight"
            raise ValueError(
                "JaxClassifier needs samples of at least 2 classes; "
                f"got 1 class ({classes[0]!r}){where}."
            )
        self.classes_ = classes
        if classes.shape[0] == 2:
            self._fit(X, y_enc.astype(np.float32), "binary", 1, W, weighted)
        else:
            self._fit(X, y_enc.astype(np.int32), "multiclass", classes.shape[0], W, weighted)
        # read by the neural influence: rows it did not train on are refused, not scored
        self._fit_digest = (rows_digest(X, y_enc), params_digest(self.params_))
        return self

    fit.__doc__ = fit_doc(
        "JaxClassifier",
        "classifier",
        y="array-like of shape (n_samples,)\n            Class labels.",
        removed=" (also from ``classes_``)",
        zero="is zero everywhere, or leaves rows of fewer than 2 classes",
    )


class JaxRegressor(RegressorMixin, _RegressorOutputs, _BaseJax):
    """A scikit-learn regressor around a pure JAX model trained by squared error.

    Same model contract, training and ``sample_weight`` handling as
    :class:`JaxClassifier`; the per-sample loss is ``0.5 * ||apply_fn(params, x) - y||^2``
    with one output per target column.

    Parameters
    ----------
    apply_fn : callable, default=None
        ``apply_fn(params, X) -> predictions`` of shape ``(n_samples, n_targets)``.
        None (with ``init_fn=None``) uses ``mlp(hidden=(100,))``.
    init_fn : callable, default=None
        ``init_fn(key, n_features, n_targets) -> params``.
    n_epochs : int, default=100
        Passes over the training data.
    learning_rate : float, default=1e-2
        Step size.
    batch_size : int, default=None
        Rows per mini-batch; None trains full batch.
    alpha : float, default=0.0
        L2 penalty strength.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the mini-batch order.
    optimizer : {"adam", "sgd"} or callable, default="adam"
        As in :class:`JaxClassifier`.

    Attributes
    ----------
    params_ : pytree of ndarray
        Fitted parameters.
    apply_fn_ : callable
        The apply function used.
    init_fn_ : callable
        The init function used.
    n_outputs_ : int
        Number of target columns.
    loss_curve_ : ndarray of shape (n_epochs,)
        Mean objective per epoch (over its steps, each evaluated before its update).
    n_iter_ : int
        Number of epochs run.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen in ``fit`` (only when ``X`` had string column names).
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)

    def fit(self, X, y, sample_weight=None):
        self._validate_params()
        ids = row_ids_given(X)
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=np.float32)
        self._y_1d = y.ndim == 1
        Y = y[:, None] if y.ndim == 1 else y
        keep, W, weighted = training_rows(self, ids, sample_weight, X.shape[0])
        if keep is not None:
            X, Y = X[keep], Y[keep]
        return self._fit(X, Y, "squared", Y.shape[1], W, weighted)

    fit.__doc__ = fit_doc(
        "JaxRegressor",
        "regressor",
        y="array-like of shape (n_samples,) or (n_samples, n_targets)\n            Targets.",
        removed="",
        zero="or is zero everywhere",
    )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
