"""Training rows that are the only row of their class: no refit without them keeps it.

A score is the first-order change of the margins when the row is removed and the model
refitted on the others. A refit without the only row of a class has no such class: a
binary model is left with one class (``LogisticRegression`` refuses to fit it), with no
margin between two; a multiclass
model is refitted over the other classes, whose margins compare with the explained
model's only over fewer logits, and the score, a change within a model that keeps the
class, predicts none of them (against such refits a lone row's scores had the wrong
sign; ``tests/influence/test_lone_class_rows.py``). The scores of the other rows are
not affected. The explainer warns at ``fit``, and every explanation's ``notes`` name
these rows (found from the kept labels ``y_``, so an explainer pickled before says it
too).

A neural model (the TRAK route) is named alike: a retrain without such a row has no row
of the class either (a ``JaxClassifier`` has no output for it, or refuses the single
class left; a skorch net keeps the output its module was built with, which no row then
pulls up), far from the model trained with it, where the score is a first-order change.
"""

import numpy as np
from sklearn.base import is_classifier

__all__ = ["lone_class_note", "lone_class_rows"]


def lone_class_rows(model, y, ids=None):
    """Positions of the training rows whose label ``y`` no other training row carries,
    for a classifier ``model`` with one label per row (an empty array otherwise). With
    ``ids`` (each training row's id, ``train_row_ids_``), copies of one row (an
    over-sampler's, or the data's) count as that one row: removing its line removes
    every copy, and the class with them."""
    y = np.asarray(y)
    if not is_classifier(model) or y.ndim != 1 or y.size == 0:
        return np.zeros(0, dtype=np.intp)
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    codes = codes.ravel()
    if ids is not None and np.shape(ids) == y.shape:
        # distinct row ids per class
        pairs = np.unique(np.stack([codes, np.asarray(ids, dtype=np.int64)]), axis=1)
        counts = np.bincount(pairs[0], minlength=counts.size)
    return np.flatnonzero(counts[codes] == 1)


def lone_class_note(model, y, *, neural=False, ids=None):
    """The sentence said of the training rows (labels ``y``, ids ``ids`` where known) of
    a classifier ``model`` that are the only row of their class, or None where there are
    none. ``neural``: the model is explained by the neural (TRAK) route."""
    rows = lone_class_rows(model, y, ids)
    if not rows.size:
        return None
    labels = np.asarray(y)
    shown = ", ".join(f"{int(i)} (class {labels[i].tolist()!r})" for i in rows[:5])
    more = ", ..." if rows.size > 5 else ""
    n_classes = np.unique(labels).size
    distinct = rows.size if ids is None else np.unique(np.asarray(ids)[rows]).size
    if distinct < rows.size:
        more += (
            f"; {rows.size - distinct} of them copies of another of these rows (one row "
            "id: removing its line removes every copy)"
        )
    if neural:
        return (
            f"{rows.size} training row(s) are the only row of their class (train_index "
            f"{shown}{more}): a retrain without it has no row of the class (a "
            "JaxClassifier then has no output for it, or refuses the single class left; "
            "a skorch net keeps the output its module was built with, which no row then "
            "pulls up), far from the network trained with it, so the score of such a "
            f"row, a first-order change within a {type(model).__name__} trained with "
            "the class, need not predict a retrain's margins (for linear models it had "
            "the opposite sign). The other rows' scores are not affected; add rows of "
            "the class, or leave it out of the training rows."
        )
    refit = (
        "a refit without it sees a single class, with no margin between two (most "
        "classifiers refuse to fit it)"
        if n_classes == 2
        else "a refit without it has no such class, and its margins are taken over the "
        "other classes only"
    )
    return (
        f"{rows.size} training row(s) are the only row of their class (train_index "
        f"{shown}{more}): {refit}, so the score of such a row, a first-order change "
        f"within a {type(model).__name__} that keeps the class, predicts no refit's "
        "margins (it can have the opposite sign). The other rows' scores are not "
        "affected; add rows of the class, or leave it out of the training rows."
    )
