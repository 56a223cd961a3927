"""What a neural correction's calibration needs, prepared at ``fit`` (:mod:`._neural`):
the calibration ``calibration="auto"`` resolves to, and the crossfit clones' losses
(:mod:`._crossfit`) where it is ``"crossfit"``."""

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ._calibration import resolve_calibration
from ._crossfit import crossfit_losses
from ._neural_backend import row_losses
from ._neural_inputs import _final, _holdout_rows

__all__ = ["fit_calibration"]


def fit_calibration(backend, estimator, Z, Y, validation, params, X_holdout, y_holdout):
    """The calibration of the correction of ``estimator``, fitted on the module inputs
    ``Z`` and encoded targets ``Y`` (``validation``: its skorch validation rows or None).

    Returns ``(calibration, crossfit, auto_at_refit)``: the calibration resolved,
    the crossfit losses (see :class:`~._neural.NeuralCorrection`) or None, and whether
    ``"auto"`` was resolved for ``neural_method="refit"`` (to ``"holdout"``: a retrain
    calibrates nothing, so no clones are fitted; a later correction says so).
    """
    auto_at_refit = (
        params.get("neural_method", "correct") == "refit" and params["calibration"] == "auto"
    )
    calibration = (
        "holdout"
        if auto_at_refit
        else resolve_calibration(
            params["calibration"], X_holdout is not None or validation is not None
        )
    )
    if calibration != "crossfit":
        return calibration, None, auto_at_refit
    holdout = (
        validation
        if X_holdout is None
        else _holdout_rows(backend, estimator, X_holdout, y_holdout)
    )
    if holdout is None:
        raise ValueError(
            "calibration='crossfit' needs rows the model does not train on, at fit: "
            "pass X_holdout and y_holdout to fit, or give the skorch net a "
            "validation split (train_split)."
        )
    final = _final(estimator)
    # a module given as an instance holds the trained weights: drawn anew per clone
    fresh = backend.fresh_clones(final)
    seed = check_random_state(params["random_state"]).randint(np.iinfo(np.int32).max)
    unseen, clones_holdout, left_out = crossfit_losses(
        backend,
        final,
        clone(final),
        Z,
        Y,
        n_models=params["n_crossfit"],
        n_folds=params["crossfit_folds"],
        seed=seed,
        holdout=holdout,
        n_jobs=params["n_jobs"],
        verbose=params["verbose"],
        return_left_out=True,
    )
    full_holdout = row_losses(backend.last_layer_inputs(final, holdout[0])[1], holdout[1])
    crossfit = {
        "unseen": unseen,
        "model_holdout": float(full_holdout.mean()),
        "clones_holdout": float(clones_holdout.mean()),
        # 1 / crossfit_folds, more when a skorch validation split held rows out
        "left_out": left_out,
        "holdout_clones": clones_holdout,
        "holdout_full": full_holdout,
        # the rows the clones were fitted among: a removal's size is a share of them
        "n_rows": int(Y.shape[0]),
        "holdout_source": holdout[2],
        "source": (
            f"{params['n_crossfit']} clones on {params['crossfit_folds']}-fold "
            f"splits, corrected on the {holdout[2]} rows to the share of the fit's rows "
            "removed"
            + (
                f" (the {type(final.module).__name__} module given as an instance: each "
                "clone's weights drawn anew by its layers' reset_parameters, which do not "
                "repeat an initialisation of its own)"
                if fresh
                else ""
            )
        ),
    }
    return calibration, crossfit, auto_at_refit
