"""Whether an explainer's or a valuer's fit is under way, raised, or was when it was copied.

An explainer (or a valuer) answers no query while it holds no completed fit. Its
queries wait for a fit under way in another thread (:mod:`sktraceprop._model_lock`),
but pickling and ``copy.deepcopy`` do not: a copy made while a refit ran in another
thread holds the earlier fit's state, partly replaced by the refit's, and its queries
were refused as a fit that "did not complete (it raised)", telling the user to fit it
again when no fit had failed. Here the fit marks the object while it runs
(:func:`fit_marked`), the mark says "raised" where the fit raised, and a copy taken
meanwhile carries "copied while under way" (:class:`FitStateCarryMixin`), so each is
refused in its own words (:func:`check_fit_finished`).
"""

import contextlib

__all__ = ["FitStateCarryMixin", "check_fit_finished", "fit_marked"]

#: The attribute of the mark (absent once a fit completed).
_ATTR = "_fit_state"
UNDER_WAY = "under way"
RAISED = "raised"
#: The mark of a copy (pickle, deepcopy) made while a fit was under way.
COPIED = "copied while under way"


@contextlib.contextmanager
def fit_marked(obj):
    """Mark ``obj`` as being fitted while the block runs (its lock held alone), as
    raised where the block raises; the mark goes once the block completes."""
    obj.__dict__[_ATTR] = UNDER_WAY
    try:
        yield
    except BaseException:
        obj.__dict__[_ATTR] = RAISED
        raise
    obj.__dict__.pop(_ATTR, None)


def check_fit_finished(obj, completed, holds):
    """Refuse a query of ``obj`` that holds no completed fit (``completed`` false), or
    was copied while a fit of it was under way, saying which; ``holds``: what it then
    has none of ("no model to explain")."""
    name = type(obj).__name__
    state = obj.__dict__.get(_ATTR)
    if state == COPIED:
        raise ValueError(
            f"this {name} was copied (pickled or deep-copied) while a fit of it was under "
            "way: it holds parts of two fits, so it answers nothing. Copy the "
            f"{name} again once that fit is done, or fit this copy."
        )
    if state == UNDER_WAY:  # (a query from inside its own fit: other threads wait)
        raise ValueError(
            f"a fit of this {name} is under way: it holds {holds} until that fit is "
            "done. Ask once the fit has returned."
        )
    if completed:
        return
    if state == RAISED:
        raise ValueError(
            f"this {name}'s last fit did not complete (it raised): it holds {holds}. Fit it again."
        )
    # (pickled by a version that did not mark its fits: either is possible)
    raise ValueError(
        f"this {name}'s last fit did not complete (it raised, or this copy of it was "
        f"made while the fit was under way): it holds {holds}. Fit it again."
    )


class FitStateCarryMixin:
    """Pickles (and deep-copies) a fit under way as a copy made during it: the copy's
    fit is not under way, it never completes."""

    def __getstate__(self):
        state = super().__getstate__()
        if isinstance(state, dict) and state.get(_ATTR) == UNDER_WAY:
            state = {**state, _ATTR: COPIED}
        return state
