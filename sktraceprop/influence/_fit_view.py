"""What an :class:`~sktraceprop.influence.Explanation` reads of the explainer's fit.

An explanation traces its rows (``trace``: row id, raw values, ops) long after
``explain`` returned. Read from the explainer itself, a refit in between (the same
explainer fitted on other rows, in this thread or another) would have the old scores'
rows traced through the new fit: the row id, file and values of whichever row now sits
at that position. The view keeps the fit's own attributes (each replaced, never changed
in place, by a refit), so an explanation always describes the fit that scored it.
"""

from ._scoring import ScoringMixin

#: The explainer's fitted attributes the view keeps (those read below).
_KEPT = (
    "train_row_ids_",
    "n_train_",
    "_X_fit",
    "_input_positions_",
    "_lineage",
    "transformer_",
    "model_",
    "estimator_",
)


class FitView:
    """The fitted attributes of one fit of an explainer, and the row readers of
    :class:`~._scoring.ScoringMixin` over them."""

    def __init__(self, explainer):
        for name in _KEPT:
            setattr(self, name, getattr(explainer, name))

    _raw_values = ScoringMixin._raw_values
    _ops = ScoringMixin._ops
