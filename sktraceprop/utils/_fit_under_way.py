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

A removal (``_forget_rows``: an unlearner's removal or an erasure request reaching the
object) updates the fitted state in place, one attribute after another, holding the
object's lock alone; a copy taken meanwhile carried no mark and answered half-removed (a
valuer's rows kept but their norms and distance statistics still those of every row, an
explainer with some of its per-row arrays dropped and others kept). The removal is
marked the same way (:func:`removal_marked`), and such a copy is refused naming it.
"""

import contextlib

__all__ = [
    "MARKS",
    "FitStateCarryMixin",
    "check_fit_finished",
    "check_removal_finished",
    "fit_marked",
    "removal_marked",
]

#: The attribute of the mark (absent once a fit completed).
_ATTR = "_fit_state"
UNDER_WAY = "under way"
RAISED = "raised"
#: The mark of a copy (pickle, deepcopy) made while a fit was under way.
COPIED = "copied while under way"
#: The marks of a removal of rows (``_forget_rows``): under way, raised part way, and
#: the mark of a copy made while one was under way.
REMOVING = "removal under way"
REMOVAL_RAISED = "removal raised"
REMOVAL_COPIED = "copied while a removal was under way"
#: The attributes the marks are held in.
MARKS = (_ATTR, "_removal_what")


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
    for key in MARKS:  # (a removal's that raised too: this fit replaced its state)
        obj.__dict__.pop(key, None)


@contextlib.contextmanager
def removal_marked(obj, by=None):
    """Mark ``obj`` as having rows removed while the block runs (its lock held alone),
    as removed part way where the block raises (``by``: what removes them, in words,
    kept for the error); the mark goes once the block completes."""
    # a copy made during a fit or a removal (registered as holding rows when loaded)
    # stays refused after this removal: its state was of two fits before it
    prior = {key: obj.__dict__[key] for key in MARKS if key in obj.__dict__}
    obj.__dict__[_ATTR] = REMOVING
    obj.__dict__["_removal_what"] = "a removal of its rows" + (f" by {by}" if by else "")
    try:
        yield
    except BaseException:
        obj.__dict__[_ATTR] = REMOVAL_RAISED
        raise
    for key in MARKS:
        obj.__dict__.pop(key, None)
    obj.__dict__.update(prior)


def _check_removal(obj, state):
    name = type(obj).__name__
    what = obj.__dict__.get("_removal_what") or "a removal of its rows"
    if state == REMOVAL_COPIED:
        raise ValueError(
            f"this {name} was copied (pickled or deep-copied) while {what} was under way: "
            "it holds its fitted state part updated (some of it of every row, some of the "
            "rows kept), so it answers nothing. Copy the "
            f"{name} again once the removal is done, or fit this copy."
        )
    if state == REMOVING:  # (a query from inside the removal: other threads wait)
        raise ValueError(
            f"{what} is under way in this {name}: it answers once the removal is done."
        )
    if state == REMOVAL_RAISED:
        raise ValueError(
            f"{what} raised part way through this {name}: its fitted state is part "
            "updated (some of it of every row, some of the rows kept), so it answers "
            "nothing. Fit it again on the rows kept."
        )


def check_removal_finished(obj):
    """Refuse a query of ``obj`` copied while a removal of its rows was under way, or
    whose removal raised part way (see :func:`removal_marked`)."""
    _check_removal(obj, obj.__dict__.get(_ATTR))


def check_fit_finished(obj, completed, holds):
    """Refuse a query of ``obj`` that holds no completed fit (``completed`` false), or
    was copied while a fit of it was under way, saying which; ``holds``: what it then
    has none of ("no model to explain")."""
    name = type(obj).__name__
    state = obj.__dict__.get(_ATTR)
    _check_removal(obj, state)
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
    """Pickles (and deep-copies) a fit or a removal under way as a copy made during it:
    the copy's fit (removal) is not under way, it never completes."""

    def __getstate__(self):
        state = super().__getstate__()
        carried = {UNDER_WAY: COPIED, REMOVING: REMOVAL_COPIED}
        if isinstance(state, dict) and state.get(_ATTR) in carried:
            state = {**state, _ATTR: carried[state[_ATTR]]}
        return state
