"""Clones of a neural model retrained from scratch on some of its rows, each with its
own seed: the ensemble members of :mod:`._trak`, the damping retrains of
:mod:`._damping` and the LDS retrains of :mod:`sktraceprop.metrics`. A skorch net's
module given as an instance (which a clone holds with the trained weights) is drawn
anew under the seed (:mod:`sktraceprop.utils._fresh_module_torch`).
"""

import numpy as np
from sklearn.base import clone

from .._lineage._skorch import skorch_fit_indices
from ..utils._quiet import quiet
from ._neural_model import _margins, is_jax_model


def _refit_member(member, model, Xt, y):
    """Ensemble member ``(seed, rows)``: a clone of ``model`` trained on those rows."""
    seed, half = member
    return _refit(model, Xt[half], y[half], seed)


def _refit(model, X, y, seed):
    """A clone of ``model`` trained on ``(X, y)`` with its own seed."""
    return _refit_seen(model, X, y, seed)[0]


def _refit_seen(model, X, y, seed):
    """A clone trained on ``(X, y)``, and the positions of the rows it trained on (None:
    all; a skorch net with a ``train_split`` holds some of them out, as the explained
    model did)."""
    est = clone(model)
    if is_jax_model(model):
        return est.set_params(random_state=int(seed)).fit(X, y), None
    import torch

    from ..utils._fresh_module_torch import fresh_module

    # skorch draws its initialisation and batch order from torch's global generator.
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        # a module given as an instance: the clone holds it trained, so drawn anew
        fresh_module(est, f"a retrain of {type(model).__name__} from scratch")
        with quiet(), skorch_fit_indices(est) as seen:  # (its warnings: this thread's)
            est.fit(X, y)
    finally:
        torch.random.set_rng_state(state)
    return est, seen.indices


def refit_on(model, Xt, y, mask, seed):
    """A clone trained on the rows ``mask`` and the mask of the rows it trained on.

    A skorch net's validation split leaves out some of the rows it is given: the
    retrain's counterfactual is the rows it trained on, not ``mask``.
    """
    rows = np.flatnonzero(mask)
    est, seen = _refit_seen(model, Xt[rows], y[rows], seed)
    trained = np.asarray(mask, dtype=bool).copy()
    if seen is not None:
        trained[:] = False
        trained[rows[seen]] = True
    return est, trained


def refit_subset_margins(model, Xt, y, mask, Xt_test, y_test, seed):
    """Margins on the test rows of ``model`` retrained from scratch on rows ``mask``,
    and the mask of the rows the retrain trained on (see :func:`refit_on`).

    Used by :func:`sktraceprop.metrics.linear_datamodeling_score` for neural models.
    """
    est, trained = refit_on(model, Xt, y, mask, seed)
    return _margins(est, Xt_test, y_test)[0].astype(np.float64), trained
