"""TRAK-style attribution for neural classifiers (skorch nets and JAX models).

For model ``m`` of an ensemble, ``Phi_m`` holds the projected per-sample gradients of
the signed margin of the training rows (``P_m^T grad m(x_i)``, ``k`` columns, a
different projection seed per model) and ``phi_m(z)`` those of a test row. Following
Park et al. (2023), "TRAK: Attributing Model Behavior at Scale", the scores are::

    tau(z, x_i) = [1/M sum_m phi_m(z) (Phi_m^T Phi_m + lambda_m I)^-1 Phi_m(x_i)^T]
                  * [1/M sum_m (1 - p_m(x_i))]

i.e. the kernel part is averaged over the models and multiplied by the averaged
re-weighting ``Q = diag(1 - p)`` (``p`` the probability of the true class). As in TRAK,
every model computes features for every training row, including rows outside the
random half it was trained on.

``Phi_m^T Phi_m`` is inverted on its range only (through the eigendecomposition of the
smaller of ``Phi^T Phi`` and ``Phi Phi^T``): the scores never involve its null space, so
the result is the same as with the ``k x k`` matrix, for any ``n_train`` and ``k``.

torch and jax are imported only through :mod:`sktraceprop.gradients`, when used.
"""

import os
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._lineage._skorch import is_skorch_net

__all__ = ["fit_trak", "is_neural_model", "refit_subset_margins"]

# Eigenvalues of the Gram matrix below this fraction of the largest are its numerical
# null space (n_train < k, or repeated rows) and are dropped, as in the linear case.
_NULL_RTOL = 1e-7

# "auto" damping, as a multiple of the mean nonzero eigenvalue of Phi^T Phi. Measured on
# the binary MNIST MLP of benchmarks/bench_neural.py (one model, LDS over 50 retrained
# subsets): 0.001 -> 0.23, 0.01 -> 0.31, 0.1 -> 0.48, 1 -> 0.63, 3 -> 0.63, 10 -> 0.57,
# 100 -> 0.33. The near-null directions of an over-parameterised net make a small
# damping amplify noise (DESIGN.md); a very large one gives plain gradient products.
_AUTO_DAMPING = 1.0


def is_jax_model(model):
    return hasattr(model, "apply_fn_") and hasattr(model, "params_")


def is_neural_model(model):
    """Whether ``model`` is a fitted skorch net or JAX adapter (explained by TRAK)."""
    return is_skorch_net(model) or is_jax_model(model)


# -- framework dispatch -------------------------------------------------------------------


def _margins(model, X, y):
    if is_jax_model(model):
        from ..gradients import jax_margins

        return jax_margins(model, X, y)
    from ..gradients import torch_margins

    return torch_margins(model, X, y)


def _gradients(model, X, y, parameters, block_size, out, projector):
    kwargs = dict(parameters=parameters, block_size=block_size, out=out, projector=projector)
    if is_jax_model(model):
        from ..gradients import jax_per_sample_gradients

        return jax_per_sample_gradients(model, X, y, **kwargs)
    from ..gradients import torch_per_sample_gradients

    return torch_per_sample_gradients(model, X, y, **kwargs)


def _n_params(model, parameters):
    if is_jax_model(model):
        from ..gradients import jax_parameter_names
        from ..gradients._jax import _leaves

        names, leaves, _ = _leaves(model.params_)
        chosen = set(jax_parameter_names(model, parameters))
        return sum(int(np.size(leaf)) for name, leaf in zip(names, leaves) if name in chosen)
    from ..gradients import torch_parameter_names

    chosen = set(torch_parameter_names(model, parameters))
    return sum(p.numel() for name, p in model.module_.named_parameters() if name in chosen)


def _refit(model, X, y, seed):
    """A clone of ``model`` trained on ``(X, y)`` with its own seed."""
    est = clone(model)
    if is_jax_model(model):
        return est.set_params(random_state=int(seed)).fit(X, y)
    import torch

    # skorch draws its initialisation and batch order from torch's global generator.
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
    finally:
        torch.random.set_rng_state(state)
    return est


def refit_subset_margins(model, Xt, y, mask, Xt_test, y_test, seed):
    """Margins on the test rows of ``model`` retrained from scratch on rows ``mask``.

    Used by :func:`sktraceprop.metrics.linear_datamodeling_score` for neural models.
    """
    est = _refit(model, Xt[mask], y[mask], seed)
    return _margins(est, Xt_test, y_test)[0].astype(np.float64)


def as_inputs(Xt):
    """Inputs of the model as a float32 array (torch modules may take n-d inputs)."""
    return np.ascontiguousarray(np.asarray(Xt, dtype=np.float32))


# -- the estimator ------------------------------------------------------------------------


class TRAKState:
    """What :meth:`InfluenceExplainer.explain` needs for a neural model.

    Attributes
    ----------
    models : list of estimators
        The ensemble; ``models[0]`` is the explained model itself.
    projectors : list of JLProjector
        One per model (different seeds).
    features : list of ndarray or numpy.memmap of shape (n_train, k)
        Projected margin gradients of the training rows, per model.
    weights : ndarray of shape (n_train,)
        ``1 - p`` of the training rows, averaged over the models.
    maps : list of ndarray of shape (k, k)
        ``(Phi_m^T Phi_m + lambda_m I)^+`` restricted to its range, divided by ``M``.
    dampings : ndarray of shape (n_models,)
        Absolute damping ``lambda_m``.
    """

    def __init__(self, models, projectors, features, weights, maps, dampings, parameters):
        self.models = models
        self.projectors = projectors
        self.features = features
        self.weights = weights
        self.maps = maps
        self.dampings = dampings
        self.parameters = parameters

    def margins(self, Xt, y):
        """Margins of the explained model (member 0) on ``(Xt, y)``."""
        return _margins(self.models[0], Xt, y)[0].astype(np.float64)

    def test_features(self, Xt, y, block_size):
        """``[phi_m(Z) maps_m]_m`` side by side: shape (n_test, n_models * k)."""
        parts = [
            np.asarray(
                _gradients(model, Xt, y, self.parameters, block_size, None, proj.transform),
                dtype=np.float64,
            )
            @ inv
            for model, proj, inv in zip(self.models, self.projectors, self.maps)
        ]
        return np.hstack(parts)

    def train_block(self, A, tr):
        """Scores ``(n_test, len(tr))`` of the training rows ``tr``."""
        k = self.maps[0].shape[0]
        S = np.zeros((A.shape[0], tr.stop - tr.start))
        for m, Phi in enumerate(self.features):
            S += A[:, m * k : (m + 1) * k] @ np.asarray(Phi[tr], dtype=np.float64).T
        return S * self.weights[tr]


def _inverse_on_range(Phi, damping, block_size=4096):
    """``(Phi^T Phi + lambda I)^+`` on the range of ``Phi^T``, and ``lambda``.

    ``Phi`` may be a memmap: with ``n >= k`` it is read block by block.
    """
    n, k = Phi.shape
    if n < k:
        # Phi Phi^T = U diag(s2) U^T, and V = Phi^T U / s spans the range of Phi^T Phi;
        # here Phi holds fewer than k * k entries.
        Phi = np.asarray(Phi, dtype=np.float64)
        s2, U = np.linalg.eigh(Phi @ Phi.T)
        keep = s2 > _NULL_RTOL * max(s2.max(), 0.0)
        V = (Phi.T @ U[:, keep]) / np.sqrt(s2[keep])
    else:
        gram = np.zeros((k, k))
        for start in range(0, n, block_size):
            B = np.asarray(Phi[start : start + block_size], dtype=np.float64)
            gram += B.T @ B
        s2, V = np.linalg.eigh(gram)
        keep = s2 > _NULL_RTOL * max(s2.max(), 0.0)
        V = V[:, keep]
    if not keep.any():
        raise ValueError("All projected gradients are zero: nothing to attribute.")
    s2 = s2[keep]
    lam = float(damping * s2.mean())
    return (V / (s2 + lam)) @ V.T, lam


def fit_trak(
    model,
    Xt,
    y,
    *,
    n_models,
    n_components,
    parameters,
    damping,
    gradient_store,
    block_size,
    random_state,
):
    """Train the ensemble, compute and store the projected gradients, invert the kernels.

    Parameters
    ----------
    model : fitted skorch net or JaxClassifier
        The explained model (member 0 of the ensemble).
    Xt : ndarray of shape (n_train, ...)
        Model inputs of the rows the model trained on.
    y : ndarray of shape (n_train,)
        Their labels.
    n_models : int
        Ensemble size; members ``1..n_models-1`` are clones trained from scratch on
        random halves of the rows, each with its own seed.
    n_components : int
        Projection dimension ``k``.
    parameters : None, list of str or callable
        Parameters to differentiate.
    damping : "auto" or float
        Multiple of the mean nonzero eigenvalue of ``Phi^T Phi``.
    gradient_store : None or path
        Directory where the projected training gradients are written as ``.npy``
        memmaps, block by block; None keeps them in memory.
    block_size : int
        Rows per vectorised gradient pass.
    random_state : int, RandomState instance or None
        Draws the halves, the model seeds and the projection seeds.

    Returns
    -------
    state : TRAKState
    """
    from ..projection import JLProjector

    rng = check_random_state(random_state)
    n = Xt.shape[0]
    n_params = _n_params(model, parameters)
    factor = _AUTO_DAMPING if damping == "auto" else float(damping)
    if gradient_store is not None:
        os.makedirs(gradient_store, exist_ok=True)
    # Gradients come out in blocks of at most this many rows (bounded memory).
    grad_block = max(1, min(int(block_size), 256))
    models, projectors, features, maps, dampings = [], [], [], [], []
    weights = np.zeros(n)
    for m in range(n_models):
        proj_seed = int(rng.randint(np.iinfo(np.int32).max))
        if m == 0:
            member = model
        else:
            half = np.sort(rng.choice(n, size=max(1, n // 2), replace=False))
            member = _refit(model, Xt[half], y[half], rng.randint(np.iinfo(np.int32).max))
        proj = JLProjector(n_components, random_state=proj_seed).fit(
            np.zeros((1, n_params), dtype=np.float32)
        )
        out = (
            None
            if gradient_store is None
            else os.path.join(os.fspath(gradient_store), f"trak_features_{m}.npy")
        )
        Phi = _gradients(member, Xt, y, parameters, grad_block, out, proj.transform)
        inv, lam = _inverse_on_range(Phi, factor)
        weights += 1.0 - _margins(member, Xt, y)[1].astype(np.float64)
        models.append(member)
        projectors.append(proj)
        features.append(Phi)
        maps.append(inv / n_models)
        dampings.append(lam)
    return TRAKState(
        models, projectors, features, weights / n_models, maps, np.asarray(dampings), parameters
    )
