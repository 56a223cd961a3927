"""Fits made by ``permutation_test_score``: their record (:func:`_permutation_fold`),
whether the labels they were given were permuted, and what a run then says of them
(its note, its label balance per source not recorded).
"""

import sys

from ._selection_frames import _class_path, _codes, _library_frame

__all__ = ["enclosing_permutation", "permuted_labels_note", "permuted_stats"]


def _permutation_fold(frame, estimator, codes):
    """The record of a fit made by ``permutation_test_score`` (``frame``: its
    ``_permutation_test_score``, which fits one clone on each split in turn).

    ``labels_permuted``: False when ``permutation_test_score`` itself called it (its
    score on the labels as given), True when joblib did, through scikit-learn's
    ``delayed`` wrapper (its only other caller: one call per permutation, given labels
    it shuffled), None when neither shows (not
    known).
    """
    local = frame.f_locals
    if local.get("estimator") is not estimator:
        return None
    permuted = _permuted(frame, codes)
    train, test = local.get("train"), local.get("test")
    done = local.get("avg_score")  # one score per split fitted before this one
    return {
        "role": "cv_fold",
        "estimator": _class_path(estimator),
        "search_id": None,
        "search": "sklearn.model_selection.permutation_test_score",
        "called_by": "sklearn.model_selection._validation._permutation_test_score",
        "split_progress": None,
        "candidate_progress": None,
        "candidate_params": None,
        "n_train": None if train is None else len(train),
        "n_test": None if test is None else len(test),
        "split_index": len(done) if isinstance(done, list) else None,
        "labels_permuted": permuted,
    }


def enclosing_permutation():
    """For a fit running inside a fit that ``permutation_test_score`` made (a traced
    step of a plain scikit-learn pipeline it fits, a meta-estimator's inner fit):
    ``{"labels_permuted": ...}`` of that outer fit, as :func:`_permutation_fold` finds
    it; None outside one. The labels such a fit is given derive from the permuted ones
    (a step may be given no labels at all: then nothing is counted of them anyway)."""
    if "sklearn.model_selection" not in sys.modules:
        return None
    codes = _codes()
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is codes["permutation"]:
            return {"labels_permuted": _permuted(frame, codes)}
        frame = frame.f_back
    return None


def _permuted(frame, codes):
    """Whether the ``_permutation_test_score`` call running in ``frame`` was given
    permuted labels (see :func:`_permutation_fold`; None: not known)."""
    caller = frame.f_back
    if caller is not None and caller.f_code is codes["permutation_call"]:
        return False
    if caller is not None and _library_frame(caller, ("sklearn.utils.parallel", "joblib.")):
        return True
    return None


def permuted_labels_note(selection):
    """The run's note for a fit ``permutation_test_score`` made, or None: whether the
    labels it was given were the data's or a permutation of them."""
    if selection is None or "labels_permuted" not in selection:
        return None
    permuted = selection["labels_permuted"]
    how = "fitted by" if "role" in selection else "fitted inside a fit made by"
    if permuted is False:
        return (
            f"{how} permutation_test_score on one split with the labels as given (its "
            "score on the data's labels, against which the permutations are compared)"
        )
    which = "labels it permuted" if permuted else "labels it may have permuted"
    return (
        f"{how} permutation_test_score on one split with {which} (y shuffled across "
        "rows, or within groups): each row's label is not the data's, so the model "
        "learnt from labels no source holds, and the run's label balance per source is "
        "not recorded (a permutation moves labels between sources). A test of chance, "
        "not a model to put in use"
    )


def permuted_stats(stats, selection):
    """``stats`` (a run's ``source_stats``) with the label balance of every source
    replaced by why it is not recorded, for a fit on labels that were (or may have been)
    permuted; ``stats`` itself otherwise."""
    if not stats or selection is None or selection.get("labels_permuted") is False:
        return stats
    if "labels_permuted" not in selection:
        return stats
    reason = (
        "the labels given to this fit were permuted by permutation_test_score"
        if selection["labels_permuted"]
        else "the labels given to this fit may have been permuted by permutation_test_score"
    ) + ": their balance per source is not the data's, balance not recorded"
    out = dict(stats)
    for key in ("sources", "through_merges"):
        if key in out:
            out[key] = [
                {**r, "labels": {"kind": "not recorded", "reason": reason}} for r in out[key]
            ]
    return out
