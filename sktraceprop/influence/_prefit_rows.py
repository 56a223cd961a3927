"""Whether a neural model fitted before the explainer trained on the rows it is given.

A traced fit's run names the rows its model trained on, and the explainer refuses other
rows (:meth:`InfluenceExplainer._check_training_rows`). A bare net fitted by its user has
no run: rows of ``X`` it never trained on would be scored as training rows, with
attributions they did not earn. A :class:`~sktraceprop.adapters.JaxClassifier` keeps a
digest of its training rows, so other rows are refused; a skorch net's ``history_``
counts the rows each epoch trained on, so a different number of rows is refused; where
nothing says which rows they were, the explainer says so (a warning and a note).
"""

import numpy as np

from .._lineage._skorch import is_skorch_net
from ..adapters._digest import module_digest, params_digest, rows_digest

__all__ = ["check_prefit_rows"]

_REFUSED = (
    "A fitted model is explained as it is: pass the rows it was fitted on, in the same "
    "order, or an unfitted estimator (sklearn.base.clone(model)) to fit one on X."
)


def _skorch_epoch_rows(net):
    """Rows the last epoch of ``net`` trained on, from its ``history_``; None if unknown."""
    if getattr(net, "iterator_train__drop_last", False):
        return None  # the last incomplete batch was not trained on, nor counted
    try:
        batches = net.history_[-1, "batches"]
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    sizes = [b["train_batch_size"] for b in batches if "train_batch_size" in b]
    return int(sum(sizes)) if sizes else None


def check_prefit_rows(model, Xt, y, cross_fitted=None):
    """Check the rows given for a neural ``model`` fitted before the explainer.

    Parameters
    ----------
    model : fitted skorch net or JAX classifier
    Xt : ndarray
        The model's inputs of the rows the explainer takes as its training rows.
    y : ndarray of shape (n_rows,)
        Their labels.
    cross_fitted : str or None
        Why the inputs ``Xt`` (``transform``'s) may not be those the model was fitted on
        (a pipeline's cross-fitting step), said where they do not match its record.

    Returns
    -------
    note : str or None
        What the explanation must say when which rows trained the model is unknown;
        None when the rows were checked.

    Raises
    ------
    ValueError
        If the model's record says it trained on other rows.
    """
    name = type(model).__name__
    n = Xt.shape[0]
    digest = getattr(model, "_fit_digest", None)
    changed = ""
    if digest is not None and params_digest(model.params_) != digest[1]:
        # corrected (an unlearner) or edited since its fit: the rows it holds are unknown
        changed = " (its parameters changed since its fit, so its record of them is void)"
        digest = None
    if digest is not None:
        classes = np.asarray(model.classes_)
        y = np.asarray(y)
        same = bool(np.isin(y, classes).all()) and (
            rows_digest(Xt, np.searchsorted(classes, y)) == digest[0]
        )
        if not same:
            raise ValueError(
                f"X and y are not the rows this {name} was trained on: its fit (or an "
                "unlearner's last removal from it) kept a digest of the inputs and labels "
                "of the rows it holds, and the rows given differ "
                f"({n} rows: other rows, another order, other values or labels). "
                + (
                    ""
                    if cross_fitted is None
                    else f"They may be its rows all the same: {cross_fitted} The "
                    "explainer's inputs of them are transform()'s, not those. "
                )
                + _REFUSED
            )
        return None
    counted = ""
    if is_skorch_net(model):
        seen = _skorch_epoch_rows(model)
        how, whose = (
            "its last epoch trained on {} rows (skorch's history_ counts them)",
            "skorch's history_",
        )
        held = model.__dict__.get("_held_rows")
        if held is not None and held[1] == module_digest(model):
            # an unlearner removed rows since its fit: history_ counts them too
            seen = held[0]
            how, whose = (
                "an unlearner's last removal left it holding {} rows",
                "the unlearner's record",
            )
        if seen is not None and seen != n:
            raise ValueError(
                f"X is not the data this {name} was trained on: {how.format(seen)}, X "
                f"has {n}. " + _REFUSED
            )
        if seen is not None:
            counted = f" ({whose} agrees on their number, {n}, not on which)"
    return (
        f"{name} was fitted before the explainer, outside a traced pipeline: nothing "
        f"records which rows it was trained on{changed}, so the scores take the rows of X given "
        f"to fit as its training rows{counted}. A row of X it did not train on gets a "
        "score all the same, though it had no influence, and a row it trained on that X "
        "lacks gets none. Fit it in a TracedPipeline (its run records the rows, which "
        "the explainer then checks), or pass an unfitted clone for the explainer to fit."
    )
