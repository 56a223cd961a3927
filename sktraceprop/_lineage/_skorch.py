"""Which rows a skorch net trained on, given its internal validation split."""

import sys
from contextlib import contextmanager

import numpy as np


class SeenRows:
    """Positions (in the data given to ``fit``) of the rows a net trained on; None = all."""

    indices = None


def is_skorch_net(est):
    """Whether ``est`` is a skorch net, a user's subclass of one included."""
    # skorch is imported wherever one of its nets exists: never import it here
    skorch = sys.modules.get("skorch")
    base = getattr(skorch, "NeuralNet", None)
    if base is not None and isinstance(est, base):
        return True
    return type(est).__module__.startswith("skorch") and hasattr(est, "get_split_datasets")


@contextmanager
def skorch_fit_indices(estimator):
    """Record the training subset a skorch net draws during ``fit``.

    skorch's default ``train_split=ValidSplit(5)`` trains on 80% of the rows passed
    to ``fit``; the split may be random, so it is recorded as it happens rather than
    recomputed.
    """
    seen = SeenRows()
    if not is_skorch_net(estimator):
        yield seen
        return
    original = type(estimator).get_split_datasets

    def get_split_datasets(X, y=None, *args, **kwargs):
        dataset_train, dataset_valid = original(estimator, X, y, *args, **kwargs)
        if dataset_valid is not None and hasattr(dataset_train, "indices"):
            seen.indices = np.asarray(dataset_train.indices, dtype=np.int64)
        return dataset_train, dataset_valid

    # Shadow the method on this instance only (skorch's __setattr__ is bypassed).
    estimator.__dict__["get_split_datasets"] = get_split_datasets
    try:
        yield seen
    finally:
        estimator.__dict__.pop("get_split_datasets", None)
