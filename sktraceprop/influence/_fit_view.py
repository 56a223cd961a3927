"""What an :class:`~sktraceprop.influence.Explanation` reads of the explainer's fit.

An explanation traces its rows (``trace``: row id, raw values, ops) long after
``explain`` returned, reading them from the explainer. Read after a refit (the same
explainer fitted on other rows, in this thread or another), the old scores' rows would
be traced through the new fit: the row id, file and values of whichever row now sits at
that position. The view checks that the explainer still holds the fit that scored the
explanation (a token each fit replaces) and refuses otherwise. It keeps no copy of the
fit: an explanation holds no training data the explainer does not (an erasure request
names the explainer, and refitting or discarding it lets the data go). It keeps what
the fit's erasure check reads (the training rows' ids, the explained model's run and
store): the arrays an explanation hands out after a refit (``scores``, ``margins``...)
are still numbers of the rows scored, and rows of them erased at request since are said
(an erasure that named them could not drop the fit: the explainer no longer held it).
"""

import threading

import numpy as np

from .._erased_held import run_and_store, run_marks
from .._model_lock import shared
from ..utils._fit_under_way import check_removal_finished


class FitToken:
    """Names one fit of an explainer; ``forgotten`` is set (the error's text) where a
    removal dropped that fit (see :mod:`._forget`), also after a refit."""

    forgotten = None


#: id(bare token) -> (the bare token, its FitToken); the bare token is kept so that its
#: id names no other object while the entry lives
_EARLIER = {}
_EARLIER_LOCK = threading.Lock()


def as_fit_token(token):
    """``token`` as a :class:`FitToken`: an explainer (and its explanations) pickled by
    an sktraceprop that named each fit by a bare ``object()`` (before 6d8791c) holds
    one, which a removal could not mark (``AttributeError`` out of every removal and
    erasure while it was loaded). Each bare token gets one FitToken, the same for every
    object unpickled with it (an explainer and its explanations in one pickle), so the
    explanations still read their explainer's fit and refuse once a removal drops it."""
    if token is None or isinstance(token, FitToken):
        return token
    with _EARLIER_LOCK:
        return _EARLIER.setdefault(id(token), (token, FitToken()))[1]


class FitView:
    """One fit of an explainer, as an explanation reads it."""

    def __init__(self, explainer):
        self._explainer = explainer
        self._token = explainer._fit_token
        self.n_train_ = explainer.n_train_
        # (references, not copies: the fit's own, kept only where the explainer is
        # fitted again while this view lives)
        model = explainer.estimator_
        self._scored = (explainer.train_row_ids_, *run_and_store(model), type(model).__name__)

    def __getstate__(self):
        state = dict(self.__dict__)
        if getattr(self._token, "forgotten", None) is not None:
            # (a removal dropped the fit: its rows' ids are not pickled, as the
            # explanation's own are not)
            state.pop("_scored", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._token = as_fit_token(self._token)

    def _read(self, name, *args, refitted=None):
        """``explainer.name`` (called with ``args``), refused where the fit that scored
        the explanation was dropped, or, unless ``refitted`` is given (returned then),
        where the explainer was fitted again since."""
        explainer = self._explainer
        with shared(explainer):  # never during a refit (see InfluenceExplainer.fit)
            self.refuse_if_forgotten()
            # (an explainer copied with this view while a removal dropped its fit)
            check_removal_finished(explainer)
            if getattr(explainer, "_fit_token", None) is not self._token:
                if refitted is not None:
                    return refitted
                raise ValueError(
                    f"the {type(explainer).__name__} was fitted again after this "
                    "explanation was made: its training rows are no longer the ones "
                    "scored here. Call explain() again on the refitted explainer."
                )
            value = getattr(explainer, name)
            return value(*args) if args else value

    def refuse_if_forgotten(self):
        """Raise where a removal dropped the fit that scored this explanation: it lists
        removed rows' ids and scores of the model before the removal."""
        if self._token.forgotten is not None:
            raise ValueError(
                f"{self._token.forgotten} (this explanation was made by the fit dropped)"
            )

    @property
    def train_row_ids_(self):
        return self._read("train_row_ids_")

    def _raw_values(self, train_index):
        return self._read("_raw_values", train_index)

    def _ops(self, train_index):
        return self._read("_ops", train_index)

    def _removal(self, row_id):
        return self._read("_removal", row_id)

    def _erased_marks(self, train_index, *, refitted=None):
        """The explainer's ``_erased_marks``; where it was fitted again since (its model
        and rows are no longer those scored), refused unless ``refitted`` is given, then
        those of the rows scored, read from the run and store of the model explained
        (``refitted`` where a view pickled before it kept them holds none)."""
        if refitted is None:
            return self._read("_erased_marks", train_index)
        marks = self._read("_erased_marks", train_index, refitted=_REFITTED)
        if marks is not _REFITTED:
            return marks
        scored = self.__dict__.get("_scored")
        if scored is None:
            return refitted
        ids, run, store, name = scored
        return run_marks(run, store, np.asarray(ids, dtype=np.int64)[train_index], name)


#: What :meth:`FitView._read` returns to :meth:`FitView._erased_marks` after a refit.
_REFITTED = object()
