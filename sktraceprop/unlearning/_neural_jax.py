"""Removal from JaxClassifier MLPs: last-layer access, fine-tuning, gradient norm.

The L2 term ``alpha / 2 ||params||^2`` of the influence step, the fine-tuning and the
certificate (the retained-objective gradient norm) covers every leaf, the biases
included, because :class:`~sktraceprop.adapters.JaxClassifier` trains with that penalty
on every leaf: the model is a stationary point of that objective, and of no objective
that leaves the biases out (``tests/unlearning/test_neural_jax_penalty.py`` checks the
step and the certificate against a float64 retrain of a linear model). skorch nets are
treated alike: a torch optimizer's ``weight_decay`` applies to every parameter of its
groups, and groups of different decays are refused (``_neural_torch.weight_decay``).
A decay outside the objective (``optax.adamw``, torch's ``AdamW``) is refused in both
(:mod:`sktraceprop.gradients._weight_decay`).
"""

import functools
import sys

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from ..adapters._digest import params_digest, rows_digest
from ..adapters._jax import MLPApply, _logits, _per_sample_loss
from ..gradients._weight_decay import decay_refusal, jax_coupled_decay
from ._finetune_lr import curvature_step, measured_source
from ._neural_backend import minibatches

_ACT = {
    "relu": lambda a: np.maximum(a, 0.0),
    "tanh": np.tanh,
    "logistic": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "identity": lambda a: a,
}


def _kind(model):
    return "binary" if model.n_outputs_ == 1 else "multiclass"


def prepare(model, Z, y):
    """Float32 inputs and class indices; raise unless the model is an ``mlp()`` network."""
    if not isinstance(model.apply_fn_, MLPApply):
        raise NotImplementedError(
            "the neural correction of a JaxClassifier needs the network of "
            f"sktraceprop.adapters.mlp(); got apply_fn={model.apply_fn_!r}."
        )
    weight_decay(model)  # no decay outside the objective, checked at fit
    Z = np.ascontiguousarray(Z, dtype=np.float32)
    y = np.asarray(y).ravel()
    classes = model.classes_
    Y = np.clip(np.searchsorted(classes, y), 0, classes.shape[0] - 1)
    unknown = classes[Y] != y
    if unknown.any():
        # searchsorted gives a label between two classes the index of the next one
        raise ValueError(
            f"y has labels that are not among the model's classes_ {classes.tolist()}: "
            f"{np.unique(y[unknown])[:5].tolist()}."
        )
    return Z, Y.astype(np.int64)


def fit_clone(fitted, template, Z, Y, seed):
    """Fit the unfitted clone ``template`` of ``fitted`` on inputs and class indices,
    with ``random_state=seed`` (initialisation and batch order)."""
    return template.set_params(random_state=seed).fit(Z, fitted.classes_[Y])


def fresh_clones(fitted):
    """False: a clone's initial weights are drawn by its ``init_fn`` from its seed."""
    return False


def fit_retrain(fitted, template, Z, Y, seed):
    """:func:`fit_clone` and None: the seed draws the initial weights (``init_fn``'s
    key)."""
    return fit_clone(fitted, template, Z, Y, seed), None


def last_layer_inputs(model, Z):
    act = _ACT[model.apply_fn_.activation]
    h = Z
    for layer in model.params_[:-1]:
        h = act(h @ layer["weight"] + layer["bias"])
    last = model.params_[-1]
    z = h @ last["weight"] + last["bias"]
    return np.hstack([h, np.ones((h.shape[0], 1), h.dtype)]), z


def get_last_layer(model):
    last = model.params_[-1]
    return np.hstack([last["weight"].T, last["bias"][:, None]]).astype(np.float64)


def set_last_layer(model, W):
    params = list(model.params_)
    last = params[-1]
    # in the leaves' own precision (float64 under jax_enable_x64 with such an init_fn)
    params[-1] = {
        "weight": np.ascontiguousarray(W[:, :-1].T, dtype=np.asarray(last["weight"]).dtype),
        "bias": np.asarray(W[:, -1], dtype=np.asarray(last["bias"]).dtype),
    }
    model.params_ = params


def reset_optimizer(model):
    """A JaxClassifier keeps no optimizer state after fit: nothing to clear."""


def record_held_rows(model, Z, Y):
    """Make the digest of the model's training rows (``_fit_digest``) name the rows it
    holds after a removal: the retained rows' inputs ``Z`` and class codes ``Y``, with
    its corrected parameters. Its fit's digest named the removed rows too, so an
    explainer given the model alone (a pickled ``unlearner.estimator_``) would compare
    the rows it is given with rows the model no longer holds."""
    model._fit_digest = (rows_digest(Z, Y), params_digest(model.params_))


def weight_decay(model):
    """The model's ``alpha`` plus the coefficient of a coupled decay its optax-style
    optimizer applies (``add_decayed_weights`` ahead of ``optax.adam``); a decay it
    applies outside the objective (as ``optax.adamw`` does) is refused
    (:mod:`sktraceprop.gradients._weight_decay`)."""
    refusal = decay_refusal(model, "the neural correction")
    if refusal is not None:
        raise refusal
    return float(model.alpha) + jax_coupled_decay(model)


def default_lr(model, Z, weight_decay):
    """The fine-tuning's step size, how it was chosen, and whether it is the largest of
    the steps to try (:mod:`._finetune_lr`): the model's ``learning_rate`` when it
    trained with ``optimizer="sgd"`` (plain gradient steps), else the step measured from
    the curvature of the retained objective at the rows ``Z`` (``"adam"``, the default,
    and an optax-style optimizer, whose learning rate scales another step).

    Refused for a trust-ratio optimizer (LAMB, LARS), whose rate scales a step of norm
    ``||params||`` per leaf times the ratio's coefficient (optax.lars's 0.001), no step
    of the gradient: taken as one it diverged (a LARS fitted at ``learning_rate=20``
    left a certificate of about 2e5; ``tests/unlearning/test_neural_trust_ratio_lr.py``).
    """
    kept = getattr(model, "_decay_steps", None) or {}
    name = getattr(model.optimizer, "__name__", type(model.optimizer).__name__)
    if kept.get("scaled") is True:
        raise ValueError(
            f"the model's optimizer {name} scales each leaf's update by a trust ratio "
            "(||params|| / ||update||, as optax.lamb and optax.lars do), so its "
            f"learning_rate={model.learning_rate:g} is no step size of the plain "
            "gradient steps the removal's fine-tuning takes (taken as one, the steps "
            "can diverge); pass the fine-tuning's step size as lr= to the unlearner."
        )
    if isinstance(model.optimizer, str) and model.optimizer == "sgd":
        return (
            float(model.learning_rate),
            "the model's learning_rate (its optimizer is sgd)",
            False,
        )
    if isinstance(model.optimizer, str):
        name = model.optimizer
    lr, top = curvature_step(sys.modules[__name__], model, Z, weight_decay)
    why = (
        f"{name}, whose learning_rate={float(model.learning_rate):g} is no step size of plain "
        "SGD steps"
    )
    return lr, measured_source("model", why, top, lr), True


@functools.cache
def _grad_fn(apply_fn, kind):
    def objective(params, X, Y, alpha):
        data = jnp.mean(_per_sample_loss(kind, _logits(apply_fn, params, X), Y))
        l2 = sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(params))
        return data + 0.5 * alpha * l2

    return jax.jit(jax.grad(objective))


def _targets(model, Y):
    return Y.astype(np.float32) if _kind(model) == "binary" else Y


def finetune(model, X, Y, *, n_steps, lr, weight_decay):
    """``n_steps`` plain SGD steps on the retained rows with the model's batch size."""
    if n_steps == 0:
        return
    grad = _grad_fn(model.apply_fn_, _kind(model))
    params = jax.tree_util.tree_map(jnp.asarray, model.params_)
    Yt = _targets(model, Y)
    for idx in minibatches(X.shape[0], model.batch_size, n_steps):
        g = grad(params, X[idx], Yt[idx], jnp.float32(weight_decay))
        params = jax.tree_util.tree_map(lambda p, gp: p - lr * gp, params, g)
    model.params_ = jax.tree_util.tree_map(np.asarray, params)


def gradient_norm(model, X, Y, weight_decay):
    """Norm of the gradient of the mean retained loss plus ``alpha / 2 ||theta||^2``,
    ``theta`` every leaf (biases included), as in training."""
    grad = _grad_fn(model.apply_fn_, _kind(model))
    g = grad(model.params_, X, _targets(model, Y), jnp.float32(weight_decay))
    return float(np.sqrt(sum(float(jnp.sum(leaf**2)) for leaf in jax.tree_util.tree_leaves(g))))


def params_vector(model):
    """All parameters, flattened in float64."""
    flat, _ = jax.flatten_util.ravel_pytree(model.params_)
    return np.asarray(flat, dtype=np.float64)


def set_params_vector(model, v):
    flat, unravel = jax.flatten_util.ravel_pytree(model.params_)
    params = unravel(jnp.asarray(v, dtype=flat.dtype))  # the leaves' own precision
    model.params_ = jax.tree_util.tree_map(np.asarray, params)


@functools.cache
def _sum_loss_grad(apply_fn, kind):
    def total(params, X, Y):
        return jnp.sum(_per_sample_loss(kind, _logits(apply_fn, params, X), Y))

    return jax.jit(jax.grad(total))


def loss_gradient(model, X, Y):
    """Sum over the rows of the per-row loss gradients, flattened in float64."""
    g = _sum_loss_grad(model.apply_fn_, _kind(model))(model.params_, X, _targets(model, Y))
    return np.asarray(jax.flatten_util.ravel_pytree(g)[0], dtype=np.float64)


def gauss_newton_operator(model, X):
    """``v -> G v``, the Gauss-Newton matrix of the mean loss over ``X`` in all
    parameters (softmax or sigmoid Hessian of the logits)."""
    apply_fn, binary = model.apply_fn_, _kind(model) == "binary"
    flat, unravel = jax.flatten_util.ravel_pytree(
        jax.tree_util.tree_map(jnp.asarray, model.params_)
    )
    X = jnp.asarray(X)
    n = X.shape[0]

    def f(w):
        return _logits(apply_fn, unravel(w), X)

    z = f(flat)
    P = jax.nn.sigmoid(z) if binary else jax.nn.softmax(z, axis=1)
    _, pullback = jax.vjp(f, flat)

    @jax.jit
    def gv(v):
        _, Jv = jax.jvp(f, (flat,), (v,))
        if binary:
            LJv = P * (1.0 - P) * Jv
        else:
            LJv = P * Jv - P * jnp.sum(P * Jv, axis=1, keepdims=True)
        return pullback(LJv / n)[0]

    return lambda v: np.asarray(gv(jnp.asarray(v, dtype=flat.dtype)), dtype=np.float64)
