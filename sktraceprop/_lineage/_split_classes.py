"""Classes a skorch net's internal validation split took whole: it never trained on them.

skorch's ``train_split`` (``ValidSplit(5)`` by default) holds part of the rows given to
``fit`` out of the training. Where it holds every row of a class, the net still has an
output for the class (its module was built with it; ``classes_`` is read from every row
given to ``fit``), but no row it trained on pulled that output up: its scores and
removals are those of a network that never saw the class. Found from the split the net
used (the positions it trained on) and the fit's targets, and said, never hidden.
"""

import numpy as np

__all__ = ["split_class_note", "split_classes"]


def split_classes(y, trained):
    """``(labels, positions)``: the classes that only rows outside ``trained`` (positions
    of the rows the net trained on, among those of ``y`` given to its fit) carry, and the
    positions of those rows; both empty where there are none or ``trained`` is None."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    none = np.zeros(0, dtype=y.dtype), np.zeros(0, dtype=np.intp)
    if trained is None or y.ndim != 1 or not y.size:
        return none
    held = np.ones(y.shape[0], dtype=bool)
    held[np.asarray(trained, dtype=np.intp)] = False
    held = np.flatnonzero(held)
    lost = np.setdiff1d(np.unique(y[held]), y[np.asarray(trained, dtype=np.intp)])
    if not lost.size:
        return none
    return lost, held[np.isin(y[held], lost)]


def split_class_note(net, labels, row_ids):
    """The sentence said of the classes ``labels`` that the validation split of the
    skorch ``net`` held whole (its rows' ids ``row_ids``)."""
    ids = np.asarray(row_ids, dtype=np.int64)
    shown = ", ".join(str(int(i)) for i in ids[:8]) + (", ..." if ids.size > 8 else "")
    return (
        f"the validation split of {type(net).__name__} (train_split) holds every row of "
        f"{len(labels)} class(es) ({np.asarray(labels).tolist()!r}: {ids.size} row(s), row "
        f"ids {shown}): the net never trained on a row of it, yet keeps an output for it "
        "(classes_ is read from every row given to fit), which no row pulled up; what is "
        "said of the class (scores, losses, removals) is of an output never trained. Give "
        "the training rows of every class: a stratified split (ValidSplit(5, "
        "stratified=True)), or train_split=None."
    )
