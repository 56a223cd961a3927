"""What the step watch (:mod:`._fitted_elsewhere`) says when it refuses a traced fit's
run, or warns of what it could not digest.

One object held under two names (the same transformer given twice to a
``FeatureUnion``, or an object whose clone is itself held twice by a
``ColumnTransformer``) is one clause naming both: a fit of it elsewhere is a fit of
both parts.
"""

import warnings

from ..exceptions import LineageError, LineageWarning
from ..utils._stack import user_stacklevel
from ._watch_digests import undigested

#: How a traced pipeline's refused fit is avoided.
PIPELINE_ADVICE = (
    "Give the pipeline its own step objects (sklearn.base.clone), or fit them one at a time."
)


def pipeline_said(pipe, prefix):
    """``pipe`` (whose steps' names begin with ``prefix``) in words: its class, and its
    name among the traced model's steps where it is nested."""
    cls = f"{type(pipe).__module__}.{type(pipe).__qualname__}"
    return f"the pipeline {prefix[:-2]!r} ({cls})" if prefix else f"the pipeline {cls}"


def warn_undigested(left):
    """Warn of each watched attribute of ``left`` (step name -> (step, state, digests))
    whose content could not be digested."""
    for name, attr, why in undigested(left):
        warnings.warn(
            f"step {name!r}: the content of its attribute {attr!r} could not be "
            f"digested ({why}), so a change made in place inside it after its "
            "fit returned, before this run was recorded, is not seen (its "
            "replacement is)",
            LineageWarning,
            stacklevel=user_stacklevel(),
        )


def _grouped(names, twins):
    """``(name, its other names)`` of each object among ``names`` (in their order), once:
    a name ``twins`` says is the same object as one said before is said with it."""
    out, said = [], set()
    for name in names:
        if name in said:
            continue
        others = [n for n in twins.get(name, ()) if n != name]
        said |= {name, *others}
        out.append((name, others))
    return out


def _also(others):
    if not others:
        return ""
    return f" (the same object is held as step {', '.join(repr(n) for n in others)} too)"


def refusal(what, advice, elsewhere, changed, replaced, untold, twins):
    """The :class:`~sktraceprop.exceptions.LineageError` refusing the run of ``what`` (the
    traced model's class name): ``elsewhere`` (step name -> thread that fitted it),
    ``changed`` (step name -> its attributes changed), ``replaced`` (step names),
    ``untold`` (pipeline said -> how many of its memory's steps could not be told
    apart), ``twins`` (step name -> the other names of its object)."""
    said = [
        f"step {name!r} was fitted in thread {elsewhere[name]!r}{_also(others)}"
        for name, others in _grouped(list(elsewhere), twins)
    ]
    rest = [name for name in changed if name not in elsewhere]
    said += [
        f"step {name!r} had its fitted state replaced or changed in place "
        f"({', '.join(changed[name][:5])}) after its fit here returned{_also(others)}"
        for name, others in _grouped(rest, twins)
    ]
    said += [
        f"step {name!r} is no longer the object fitted here: the pipeline's steps "
        "hold another in its place"
        for name in replaced
        if name not in elsewhere
    ]
    said += [
        f"{n} step(s) fitted through the memory of {pipe} could not be told apart from "
        "its steps (its fit called memory.cache other than once per step, in order, or "
        "a clone of a step is of another class): the steps it put in place are not "
        "watched"
        for pipe, n in untold.items()
    ]
    return LineageError(
        f"{'; '.join(said)}, while this {what} was being fitted (in another thread, or "
        f"by code outside the {what}): the step is an object shared with other code, "
        "and its fitted state and the fingerprint the run would record may be of that "
        "other fit, not of the rows this fit gave it. No run was recorded. " + advice
    )
