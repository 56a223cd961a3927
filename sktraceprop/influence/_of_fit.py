"""What an :class:`~sktraceprop.influence.Explanation` holds of the fit that scored it.

Its scores, and what they were computed from (the explained model's margins and
classes, the notes on its training rows), are numbers of one fit of the explainer. A
removal (an unlearner's ``unlearn``) or an erasure request of rows that fit held drops
it (:mod:`._forget`): they are then numbers of a model the removed rows trained, and
every accessor of them refuses, naming the removal, as ``top()`` and ``trace()`` do
(:class:`OfFit`). An explanation pickled before an erasure, loaded after (or one whose
model's store records an erasure made in another process, which could not reach it),
cannot know its fit was dropped; its rows are checked against the explained model's
store and the requests made in this process instead: ``top()`` and ``train_rows`` mark
them, and ``by_source()`` and every attribute of :data:`OF_FIT`, numbers computed from
the erased rows' data, warn (:func:`warn_erased_scored`). So does one whose explainer
was fitted again since: an erasure of the rows it scored could not drop that fit (the
explainer no longer held it), and its arrays, still readable, are checked against the
rows scored and the explained model's run and store, which its view keeps.
"""

import warnings

import numpy as np

from ..exceptions import ErasedRowsHeldWarning
from ..utils._stack import user_stacklevel

__all__ = ["OF_FIT", "OfFit", "held_privately", "warn_erased_scored"]

#: What an explanation holds of the fit that scored it: its scores and what they were
#: computed from (the model's margins and classes, the notes on its rows). A removal or
#: erasure that drops that fit (see :mod:`._forget`) leaves them numbers of a model the
#: removed rows trained: every one refuses then, as :meth:`Explanation.top` does.
OF_FIT = (
    "scores",
    "margins",
    "y",
    "top_indices",
    "top_scores",
    "bottom_indices",
    "bottom_scores",
    "source_scores",
    "notes",
)


class OfFit:
    """An attribute of :data:`OF_FIT`: kept as ``_name``, read only while the fit that
    scored the explanation was not dropped by a removal."""

    def __set_name__(self, owner, name):
        self.name, self.held = name, f"_{name}"

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        obj._refuse_if_forgotten()
        try:
            value = obj.__dict__[self.held]
        except KeyError:
            raise AttributeError(self.name) from None
        # (an erasure that could not drop the fit: pickled before it, or made elsewhere)
        warn_erased_scored(obj, f"Explanation.{self.name}", refitted_ok=True)
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.held] = value


def held_privately(state):
    """``state`` of an explanation pickled when :data:`OF_FIT` were plain attributes
    (state format 1, or none recorded): under their ``_name``."""
    state = dict(state)
    for name in OF_FIT:
        if name in state:
            state[f"_{name}"] = state.pop(name)
    return state


def warn_erased_scored(explanation, what, *, refitted_ok=False):
    """Warn where training rows ``explanation`` scored were erased at request since the
    explained model was fitted (its store records the request, or this process made
    it): what ``what`` returns was computed from their data (``top()`` marks them row by
    row; where it cannot know, ``<NA>`` there, no word here either). With
    ``refitted_ok``, where the explainer was fitted again since (its model and rows are
    no longer those scored: :meth:`Explanation.top` refuses then), the rows scored are
    checked against the run and store of the model explained, kept by the view
    (:class:`~._fit_view.FitView`; no check where a view pickled before it kept them
    holds none), else refused then."""
    train_index = _scored(explanation)
    reader = explanation._explainer
    # (a view of one fit; an explanation pickled before views held its explainer)
    refitted = {"refitted": _REFITTED} if refitted_ok and hasattr(reader, "_token") else {}
    marks = reader._erased_marks(train_index, **refitted)
    if marks is _REFITTED:
        return
    hit, seqs, _, _ = marks
    if hit is None or not hit.any():
        return
    named = [f"store.erasure event seq {s}" if not isinstance(s, str) else s for s in seqs]
    held = (
        "the sums hold their scores, computed from their data"
        if what.endswith("by_source")
        else "its numbers are of the model they trained, or their scores"
    )
    warnings.warn(
        f"{what}: {int(hit.sum())} of the {train_index.size} training row(s) scored "
        f"are, or were built from, rows erased at request ({'; '.join(named)}): "
        f"{held} (top() marks them, column erased). Refit the model and the explainer "
        "on the rows kept (the erasure could not reach this explanation), or discard it.",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )


def _scored(explanation):
    """The training positions ``explanation`` scored, each once: found once (every
    accessor reads them), kept out of its pickle (see :meth:`Explanation.__getstate__`)."""
    found = explanation.__dict__.get("_scored_index")
    if found is None:
        found = np.unique(explanation._train_rows["train_index"].to_numpy())
        explanation.__dict__["_scored_index"] = found
    return found


#: What :meth:`FitView._erased_marks` returns where the explainer was fitted again.
_REFITTED = object()
