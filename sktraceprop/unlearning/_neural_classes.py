"""A neural removal that takes every row of a class is refused, not approximated.

A retrain without those rows has no row of the class: a ``JaxClassifier`` is then built
with no output for it (or refuses the single class left), a skorch net keeps the output
its module was built with, which no row pulls up. The neural correction (an influence
step and fine-tuning of the network trained with the class) keeps that output and the
class in ``classes_``, and can still predict it: no retrain, so it is not done (a convex
model is refitted instead, :mod:`._convex_correct`; a neural one with
``neural_method="refit"``, :mod:`._neural_refit`).
"""

import numpy as np

from .._lineage._skorch import is_skorch_net
from ..exceptions import UnlearningError

__all__ = ["check_no_class_lost"]


def check_no_class_lost(final, Y, forget, keep):
    """Raise :class:`~sktraceprop.exceptions.UnlearningError` where the rows ``forget``
    (positions among the held rows, encoded targets ``Y``) take every held row of a class
    that the rows ``keep`` do not hold; ``final`` is the network, skorch or JAX."""
    Y = np.asarray(Y)
    if Y.ndim != 1 or not np.size(forget):
        return
    lost = np.setdiff1d(np.unique(Y[forget]), Y[keep])
    if not lost.size:
        return
    # skorch's targets are the class indices; a JaxClassifier's codes index classes_
    labels = lost.astype(int) if is_skorch_net(final) else final.classes_[lost.astype(int)]
    n_rows = int(np.isin(Y[forget], lost).sum())
    raise UnlearningError(
        f"this removal takes every row of {lost.size} class(es) "
        f"({labels.tolist()!r}: {n_rows} of the {np.size(forget)} rows removed): a "
        "retrain without these rows has no row of the class (a JaxClassifier would have "
        "no output for it, or could not be fitted on the single class left; a skorch "
        "net's output for it would be pulled up by no row), while the neural correction, "
        "an influence step and fine-tuning of the network trained with the class, keeps "
        f"that output and the class in classes_ and can still predict it. It is no "
        f"retrain, so it was not done: nothing was changed. Retrain {type(final).__name__} "
        "on the retained rows: set neural_method='refit' on the unlearner "
        "(unlearner.set_params(neural_method='refit')), which removes the rows by "
        "retraining the network on the retained rows and logs the removal as an exact "
        "event of unlearning_log_; or fit the unlearner again on the data without these rows "
        "(unlearner.fit(X_kept, y_kept)), which fits the whole pipeline anew and starts a "
        "new unlearning_log_ (the removal is then that fit, not an event of the log: keep "
        "the old log, or the run it records, for the audit); or remove fewer rows."
    )
