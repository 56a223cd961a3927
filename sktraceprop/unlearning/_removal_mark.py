"""An unlearner copied while its removal was swapped in is refused, naming the removal.

A removal is computed on copies and recorded before anything of the unlearner changes;
then :func:`~._record.commit` swaps the corrected model in and sets the unlearner's
state (its removal method, the fingerprint it prepared, the retained rows, the
certificate, the log) one attribute after another, holding the model's lock alone.
Pickling and ``copy.deepcopy`` do not wait for that lock: a copy taken in another thread
meanwhile held the corrected model with the rows and log of before (its ``predict``
answered, its log listed no removal, and a later ``unlearn`` of it mapped the rows of
one state onto the other). The swap is marked as an explainer's or a valuer's removal is
(:func:`~sktraceprop.utils._fit_under_way.removal_marked`); a copy taken meanwhile
carries the mark and refuses every use, saying which removal it was copied during, and
so does an unlearner whose swap raised part way, until it is fitted again.
"""

from sklearn.exceptions import NotFittedError

from ..utils._fit_under_way import (
    _ATTR,
    MARKS,
    REMOVAL_COPIED,
    REMOVAL_RAISED,
    FitStateCarryMixin,
    check_removal_finished,
)

__all__ = ["RemovalMarkMixin"]


class RemovalMarkMixin(FitStateCarryMixin):
    """Carries a removal under way into a copy (pickle, deepcopy) as a copy made during
    it, and refuses a fitted unlearner so marked wherever it is checked to be fitted."""

    def _check_whole(self):
        """Refuse an unlearner copied during a removal, or whose removal raised part way."""
        # the removal's own thread, and the others waiting on its lock, never see
        # "under way": only a copy or a removal that raised do
        if self.__dict__.get(_ATTR) in (REMOVAL_COPIED, REMOVAL_RAISED):
            check_removal_finished(self)

    def __sklearn_is_fitted__(self):
        # every check_is_fitted(self) (predict, score and the other delegated calls)
        # passes here; raised as NotFittedError (a ValueError), which scikit-learn's
        # HTML display reads as "not fitted" rather than failing
        try:
            self._check_whole()
        except ValueError as exc:
            raise NotFittedError(str(exc)) from None
        # (scikit-learn's own test where no __sklearn_is_fitted__ is defined)
        return any(k.endswith("_") and not k.startswith("__") for k in vars(self))

    def _clear_removal_marks(self):
        """Drop the marks: a new fit (or none) replaces the part-updated state."""
        for key in MARKS:
            self.__dict__.pop(key, None)
