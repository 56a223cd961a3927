"""The training rows of models this library fitted or corrected without a run saying so.

A traced pipeline's run (``lineage_``) names the rows its model was trained on, and an
explainer given the fitted pipeline checks that it is given those rows. A bare model an
unlearner corrected (``unlearner.estimator_``: a ``LogisticRegression`` that no longer
holds a removed source) has no run; it is recorded here, with its fingerprint, so that
an explainer given it with the rows it was fitted on before the removal refuses them
instead of scoring removed rows as training rows. The record is dropped with the model
(a weak reference) and ignored once the model changes (another fingerprint). Models in
other processes, or loaded from a pickle, are not seen.
"""

import threading
import weakref

import numpy as np

from ._lineage._fingerprint import fingerprint

_LOCK = threading.Lock()
_TRAINED = weakref.WeakKeyDictionary()  # model -> (row ids, fingerprint)


def record_trained_rows(model, row_ids, model_fingerprint):
    """Remember that ``model`` (with this fingerprint) was trained on ``row_ids``."""
    ids = np.array(row_ids, dtype=np.int64)
    ids.setflags(write=False)
    try:
        with _LOCK:
            _TRAINED[model] = (ids, model_fingerprint)
    except TypeError:  # not weakly referable or not hashable: nothing can be recorded
        pass


def trained_rows(model):
    """The row ids ``model`` was recorded as trained on, or None (unknown, or changed)."""
    try:
        with _LOCK:
            found = _TRAINED.get(model)
    except TypeError:
        return None
    if found is None or fingerprint(model) != found[1]:
        return None
    return found[0]
