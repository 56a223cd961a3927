"""A valuer's transformer is the one its training rows' features came from.

A valuer given a fitted transformer (``KNNShapleyValuer(transformer=pipe[:-1])``) keeps
that object and takes the validation rows of each ``value`` and ``score`` through it.
Refitted after the valuer's fit (the pipeline it came from refitted, in this thread or
another), the validation rows were transformed by the new fit and compared with
training rows transformed by the old: values off by 0.015 where the largest is 0.030
(a ``StandardScaler`` refitted on other rows), without an error. Here the transformer's
fingerprint is recorded at fit and compared at each query, and what one fit or query
reads of it is checked unchanged by its end
(:class:`~sktraceprop.utils._read_unchanged.ReadSnapshot`: a refit in another thread
while it transforms; at a query, by the objects its fitted attributes hold only).
"""

import warnings

from .._lineage._fingerprint import fingerprint
from ..exceptions import UncheckedStateWarning
from ..utils._fit_under_way import check_fit_finished
from ..utils._prefit import is_fitted, unfrozen
from ..utils._read_unchanged import ReadSnapshot
from ..utils._stack import user_stacklevel

__all__ = [
    "TransformerCarryMixin",
    "check_fit_done",
    "check_transformer",
    "record_transformer",
    "start_fit_read",
]


def _fingerprint(transformer):
    return fingerprint(unfrozen(transformer))  # (as ReadSnapshot takes it)


#: ``_transformer_fingerprint`` of a valuer whose last fit did not complete.
_INCOMPLETE = "incomplete"
#: ... of one unpickled after its transformer changed (see TransformerCarryMixin).
_CHANGED = "changed before pickling"


def start_fit_read(valuer):
    """At the start of a fit: a snapshot of a transformer given fitted (read as it is),
    else None; until the fit completes, the valuer answers no query."""
    valuer._transformer_fingerprint = _INCOMPLETE
    transformer = valuer.transformer
    return (
        ReadSnapshot(transformer) if transformer is not None and is_fitted(transformer) else None
    )


def _refusal(valuer, what, change):
    return ValueError(
        f"the transformer of this {type(valuer).__name__} changed {what} ({change}): "
        "refitted or modified in place, so the rows' features would come from two "
        "fits of it (the values compare rows transformed by one with rows transformed "
        "by the other). Fit the valuer again once the transformer is not being refitted."
    )


def record_transformer(valuer, snapshot):
    """At the end of a fit: refuse it where the transformer given fitted changed while
    it was read (``snapshot``: :func:`start_fit_read`'s), else record its fingerprint."""
    if valuer.transformer_ is None:
        valuer._transformer_fingerprint = None
        return
    now = _fingerprint(valuer.transformer_)
    change = None if snapshot is None else snapshot.change(valuer.transformer_, now)
    if change is not None:
        raise _refusal(valuer, "while the fit read it", change)
    valuer._transformer_fingerprint = now


def check_fit_done(valuer):
    """Refuse a query of a valuer whose last fit did not complete, or that was copied
    while a fit of it was under way (with or without a transformer: its rows, labels
    and statistics may be of two fits)."""
    recorded = valuer.__dict__.get("_transformer_fingerprint")
    check_fit_finished(valuer, recorded != _INCOMPLETE, "no training rows to value")


def check_transformer(valuer, transform):
    """``transform()`` (the validation rows through ``transformer_``), refused where
    the transformer is not the one fitted, or changed while it transformed them."""
    recorded = valuer.__dict__.get("_transformer_fingerprint")
    snapshot = ReadSnapshot(valuer.transformer_)
    if recorded is None:
        # pickled before fingerprints were recorded: nothing to compare with, and said
        warnings.warn(
            f"this {type(valuer).__name__} was pickled by an sktraceprop that did not "
            "record its transformer's fingerprint: whether the transformer "
            f"({type(unfrozen(valuer.transformer_)).__name__}) was refitted or changed "
            "since the valuer's fit cannot be checked, and the values rest on it being "
            "unchanged. Fit the valuer again to have it checked.",
            UncheckedStateWarning,
            stacklevel=user_stacklevel(),
        )
    elif snapshot.fingerprint != recorded:
        raise _refusal(
            valuer,
            "after the valuer's fit",
            f"fingerprint {recorded[:12]} at fit, {snapshot.fingerprint[:12]} now",
        )
    out = transform()
    # a refit in another thread meanwhile (the fingerprint, taken above, is not taken
    # again: each costs 70 ms for a TfidfVectorizer of 20,000 words)
    change = snapshot.change(valuer.transformer_, by_content=False)
    if change is not None:
        raise _refusal(valuer, "while it transformed the validation rows", change)
    return out


class TransformerCarryMixin:
    """Pickles the transformer's fingerprint as whether the transformer still had it:
    some fitted state hashes differently once unpickled (object addresses in reprs), as
    :class:`~sktraceprop._lineage._current.FingerprintCarryMixin` says of models."""

    def __getstate__(self):
        state = dict(super().__getstate__())
        recorded = state.get("_transformer_fingerprint")
        if recorded not in (None, _INCOMPLETE, _CHANGED):
            state["_transformer_fingerprint"] = recorded == _fingerprint(self.transformer_)
        return state

    def __setstate__(self, state):
        carried = state.get("_transformer_fingerprint")
        super().__setstate__(state)
        if isinstance(carried, bool):
            self._transformer_fingerprint = (
                _fingerprint(self.transformer_) if carried else _CHANGED
            )
