"""An explainer fitted on rows that a removal takes away drops its fitted state.

Its fit keeps per training row the rows' features, gradients, projected features,
leverages, the training frame and the explained model's fit over them (``estimator_``,
``model_``), and its scores are of the model before the removal: a removal
(:meth:`~sktraceprop.unlearning.GradientCorrectionUnlearner.unlearn`, or
:meth:`~sktraceprop.stores.BaseStore.erase_rows`) of any of its rows has it drop all of
that (see :func:`sktraceprop._holders.held_elsewhere`'s ``dropped``), so that no row
said to be forgotten is kept there, and :meth:`explain`, :meth:`score`,
:meth:`influence_sums` and its explanations' ``top`` and ``trace`` refuse, naming the
removal, until it is fitted again. What it was given as ``estimator`` (a fitted model
in use) is the user's and stays; a removal names it if it holds removed rows.
"""

import numpy as np

from .._model_lock import exclusive
from ..utils._fit_under_way import MARKS, removal_marked
from ._fit_view import as_fit_token


class ForgetRowsMixin:
    """``_forget_rows`` for :class:`~sktraceprop.InfluenceExplainer`."""

    def __setstate__(self, state):
        if "_fit_token" in state:  # (pickled by an earlier sktraceprop: a bare object)
            state = {**state, "_fit_token": as_fit_token(state["_fit_token"])}
        super().__setstate__(state)

    def _forget_rows(self, removed_ids, by=None):
        """Drop every fitted attribute (all but the constructor's parameters) where the
        fit holds any row of ``removed_ids``; returns how many of its rows were removed
        (0: nothing changed)."""
        with exclusive(self, "a removal of an explainer's rows"):
            ids = self.__dict__.get("train_row_ids_")
            if ids is None:
                return 0
            gone = int(np.isin(ids, np.asarray(removed_ids, dtype=np.int64)).sum())
            if not gone:
                return 0
            token = self.__dict__.get("_fit_token")
            params = self.get_params(deep=False)
            # marked while its attributes go one by one: a copy made meanwhile (pickle,
            # deepcopy in another thread) holds some of them and is refused, naming this
            with removal_marked(self, by):
                for key in [k for k in self.__dict__ if k not in params and k not in MARKS]:
                    del self.__dict__[key]
                self.forgotten_ = (
                    f"this {type(self).__name__} was fitted on {gone} row(s) that "
                    f"{by or 'a removal'} removed: it dropped its fitted state (its copies "
                    "of the training rows' features, gradients and the explained model's "
                    "fit), and its explanations would be of the model before the removal. "
                    "Fit it again (fit) on the unlearned model (the unlearner's estimator_) "
                    "and the retained rows"
                )
                if token is not None:  # its explanations refuse too (see _fit_view)
                    token.forgotten = self.forgotten_
            return gone

    def _refuse_if_forgotten(self):
        """Raise where a removal dropped this explainer's fit."""
        note = self.__dict__.get("forgotten_")
        if note is not None:
            raise ValueError(note)
