"""Which rows a skorch net trained on, given its internal validation split and its
training iterator."""

import sys
from contextlib import contextmanager

import numpy as np

from ..gradients._decay_record import record_decays
from ._fed_rows import warn_unfed_classes, watch_fed_rows


class SeenRows:
    """Positions (in the data given to ``fit``) of the rows a net trained on; None = all.

    ``n_train`` is the length of its training set (after the validation split; None
    where the net was not seen splitting).
    """

    indices = None
    n_train = None
    watch = None  # the rows a sampler fetched (:mod:`._fed_rows`)
    unfed_note = None


def is_skorch_net(est):
    """Whether ``est`` is a skorch net, a user's subclass of one included."""
    # skorch is imported wherever one of its nets exists: never import it here
    skorch = sys.modules.get("skorch")
    base = getattr(skorch, "NeuralNet", None)
    if base is not None and isinstance(est, base):
        return True
    return type(est).__module__.startswith("skorch") and hasattr(est, "get_split_datasets")


#: The methods :func:`skorch_fit_indices` shadows on the net instance.
_SHADOWED = ("get_split_datasets", "get_iterator")


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
    # nested: each level calls the one around it (which records too) and puts it back
    # on exit, so that an outer context keeps recording after an inner one ends
    outer = {name: estimator.__dict__[name] for name in _SHADOWED if name in estimator.__dict__}
    split_datasets = estimator.get_split_datasets
    training_rows = []  # the training dataset, the fit's y and its rows' positions

    def get_split_datasets(X, y=None, *args, **kwargs):
        dataset_train, dataset_valid = split_datasets(X, y, *args, **kwargs)
        try:
            seen.n_train = len(dataset_train)
        except TypeError:  # (a dataset without a length: its rows are not known)
            seen.n_train = None
        if dataset_valid is not None and hasattr(dataset_train, "indices"):
            seen.indices = np.asarray(dataset_train.indices, dtype=np.int64)
        # a sampler may never draw a class's rows: the rows it fetches are marked
        positions = seen.indices if dataset_valid is not None else None
        if dataset_valid is None or positions is not None:
            training_rows[:] = [dataset_train, y, positions]
        return dataset_train, dataset_valid

    get_iterator = estimator.get_iterator

    def iterator(dataset, training=False):
        # only the training loop's loader fetches through the marks: callbacks and
        # scoring passes are given the training dataset itself
        if training and training_rows and dataset is training_rows[0]:
            dataset, seen.watch = watch_fed_rows(estimator, *training_rows)
        return get_iterator(dataset, training=training)

    # Shadow the methods on this instance only (skorch's __setattr__ is bypassed).
    estimator.__dict__["get_split_datasets"] = get_split_datasets
    estimator.__dict__["get_iterator"] = iterator
    try:
        # the decay each optimizer step used: one changed during the fit is refused
        with record_decays(estimator):
            yield seen
    finally:
        for name in _SHADOWED:
            estimator.__dict__.pop(name, None)
        estimator.__dict__.update(outer)
    seen.unfed_note = warn_unfed_classes(estimator, seen.watch)


def iterator_rows(net, seen):
    """What ``net``'s training iterator left out of the rows it was given to train on.

    Returns ``(trained, note)``: ``trained`` the positions (in the data given to
    ``fit``) of the rows the net trained on where its iterator drops rows known exactly
    (``drop_last=True`` without shuffling drops the same rows, those after the last full
    batch, in every epoch; ``seen.indices`` first applied), else None; ``note`` says
    what the run's rows are then, or that they are a superset of the rows trained on (a
    ``sampler`` or ``batch_sampler``, or ``drop_last`` with shuffling, may leave rows
    out that the run cannot know), else None.
    """
    get_params_for = getattr(net, "get_params_for", None)
    if get_params_for is None or seen.n_train is None:
        return None, None
    params = get_params_for("iterator_train")
    drawn = [
        f"iterator_train__{key}={type(params[key]).__name__}"
        for key in ("sampler", "batch_sampler")
        if params.get(key) is not None
    ]
    if drawn:
        return None, (
            f"the final estimator's training iterator draws rows by {' and '.join(drawn)}: "
            "it may have trained on some rows more or less often than others, or never, "
            "which the run does not record; the run's rows are a superset of the rows it "
            "trained on"
        )
    if not params.get("drop_last"):
        return None, None
    size = params.get("batch_size", getattr(net, "batch_size", None))
    if not isinstance(size, int | np.integer) or size <= 0:  # (-1: one full batch)
        return None, None
    n = seen.n_train
    left = n % size
    if not left:
        return None, None
    if params.get("shuffle"):
        return None, (
            f"the final estimator's training iterator drops the last incomplete batch "
            f"(iterator_train__drop_last=True, batch_size={size}: {left} of its {n} "
            "training rows, drawn anew each epoch by shuffling): a row may never have "
            "been drawn, which the run does not record; the run's rows are a superset of "
            "the rows it trained on"
        )
    positions = np.arange(n, dtype=np.int64) if seen.indices is None else seen.indices
    return positions[: n - left], (
        f"the final estimator never trained on {left} of its {n} training rows: "
        f"iterator_train__drop_last=True without shuffling (batch_size={size}) drops "
        "the same rows, those after the last full batch, in every epoch; they are not "
        "among the run's rows"
    )


def rows_trained(row_ids, net, seen, traced, notes):
    """``row_ids`` (of the rows given to the final estimator's fit) narrowed to those
    ``net`` trained on: its internal validation split left out (``seen.indices``), and
    the rows its iterator drops where known exactly (:func:`iterator_rows`), whose note
    is added to ``notes``. As given where the fit's rows were not traced."""
    trained, note = iterator_rows(net, seen)
    if traced and trained is not None:
        row_ids = row_ids[trained]
    elif traced and seen.indices is not None:
        row_ids = row_ids[seen.indices]
    if traced and note is not None:
        notes.append(note)
    return row_ids
