"""Classes a skorch net's training sampler never fed: their output was never trained.

A net given ``iterator_train__sampler`` or ``iterator_train__batch_sampler`` (a
``WeightedRandomSampler`` with zero weight for a class, a sampler over a subset) may
never draw a row of a class. The net still has an output for it (its module was built
with it; ``classes_`` is read from every row given to ``fit``), but no row pulled it up.
Where a sampler is given, the rows the training loop's loader fetches during the fit
are recorded (the dataset given to that loader alone is wrapped: one mark per fetched
row; callbacks and scoring passes see the training dataset itself) and a class of the training
rows none of whose rows was fetched is warned about, by name.

What cannot be seen, and so is not said: rows fetched in worker processes
(``iterator_train__num_workers > 0``: the wrapped dataset is a copy there), a fit whose
targets travel inside a torch ``Dataset`` given as ``X`` (``y`` is None), an iterable
dataset, and how often each row was drawn (only whether it was, at all).
"""

import contextlib
import functools
import sys
import warnings

import numpy as np

from ..utils._stack import _PACKAGE

__all__ = ["unfed_class_note", "warn_unfed_classes", "watch_fed_rows"]


class _FedRows:
    """A map-style dataset that marks each position fetched from ``dataset``."""

    def __init__(self, dataset, n):
        self.dataset = dataset
        self.fed = np.zeros(n, dtype=bool)

    def __len__(self):
        return self.fed.shape[0]

    def __getitem__(self, i):
        self.fed[i] = True
        return self.dataset[i]

    def __getattr__(self, name):  # (what skorch or a callback reads of the dataset)
        # never a dunder: a Subset's __getitems__ would fetch its rows past the marks
        if name == "dataset" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dataset, name)


@functools.cache
def _fed_rows_class():
    """:class:`_FedRows` as a torch ``Dataset`` (torch is imported only where a net
    exists)."""
    import torch

    return type("FedRows", (_FedRows, torch.utils.data.Dataset), {})


def _sampler_named(net):
    get_params_for = getattr(net, "get_params_for", None)
    if get_params_for is None:
        return None
    params = get_params_for("iterator_train")
    if params.get("num_workers"):
        return None  # fetched in other processes: not seen here
    drawn = [
        f"iterator_train__{key}={type(params[key]).__name__}"
        for key in ("sampler", "batch_sampler")
        if params.get(key) is not None
    ]
    return " and ".join(drawn) or None


def watch_fed_rows(net, dataset_train, y, positions):
    """``(dataset, watch)``: ``dataset_train`` wrapped to record the rows fetched where
    ``net``'s training iterator draws by a sampler, and the ``(wrapped dataset, labels,
    sampler)`` to check after the fit (None where there is nothing to watch).
    ``positions``: those of ``dataset_train``'s rows in ``y`` (None: all)."""
    sampler = _sampler_named(net)
    if sampler is None or y is None:
        return dataset_train, None
    try:
        n = len(dataset_train)
        labels = np.asarray(y)
    except TypeError:
        return dataset_train, None
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.ravel()
    if positions is not None:
        labels = labels[np.asarray(positions, dtype=np.intp)]
    if labels.ndim != 1 or labels.shape[0] != n or not hasattr(dataset_train, "__getitem__"):
        return dataset_train, None
    wrapped = _fed_rows_class()(dataset_train, n)
    return wrapped, (wrapped, labels, sampler)


def unfed_class_note(net, watch):
    """The sentence said where the sampler fed no row of a class, else None."""
    wrapped, labels, sampler = watch
    if not wrapped.fed.any():
        return None  # (no epoch ran: nothing was fetched, nor trained)
    lost = np.setdiff1d(np.unique(labels), labels[wrapped.fed])
    if not lost.size:
        return None
    n_rows = int(np.isin(labels, lost).sum())
    return (
        f"the training iterator of {type(net).__name__} ({sampler}) fed no row of "
        f"{lost.size} class(es) ({lost.tolist()!r}: {n_rows} of its {labels.shape[0]} "
        "training rows, never drawn in any epoch): the net keeps an output for it "
        "(classes_ is read from every row given to fit), which no row pulled up; what is "
        "said of the class (predictions, scores, removals) is of an output never trained. "
        "Give the sampler rows of every class (a non-zero weight for each)."
    )


def warn_unfed_classes(net, watch):
    """Warn with :func:`unfed_class_note` where it has something to say."""
    note = None if watch is None else unfed_class_note(net, watch)
    if note is not None:
        warnings.warn(note, UserWarning, stacklevel=_level())
    return note


def _level():
    """:func:`user_stacklevel` for a warning said as a ``with`` block ends: the
    frames of ``contextlib`` skipped too."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE)
        or frame.f_code.co_filename == contextlib.__file__
    ):
        frame, level = frame.f_back, level + 1
    return level
