"""The step watch's digests of what a step holds (:mod:`._fitted_elsewhere`).

Each attribute a step holds (:func:`state`) is digested by content when the step's fit
here returns, and again when the run is checked: :func:`changed` names those no longer
there, replaced, or changed in place. A part of a ``ColumnTransformer`` or
``FeatureUnion`` step watched as a step of its own (:mod:`._watch_parts`) is digested
there, and inside its step's attributes (``transformers_``, ``transformer_list``) by
identity alone (``by_id``): walking it there again digested each part twice at each
fit and at each check, and its own digest names it where it changed.
"""

import hashlib

from ._fingerprint_params import watched_state
from ._fingerprint_walk import _feed, _Path


def state(step):
    """What of ``step`` is watched: all it holds (``watched_state``: its fitted state,
    public and private, such as a KNN's ``_fit_X``, and its parameters)."""
    return watched_state(step)


class Undigested(str):
    """Why an attribute's content could not be digested: only its replacement is seen."""


def digest(value, before=True, by_id=None):
    """A digest of ``value``'s content (nested estimators by all they hold, as the step,
    or as ``before`` says they held before a call: ``_fingerprint_walk._Path``; those
    whose ids are in ``by_id`` by identity alone), or :class:`Undigested` where the walk
    refuses it (nested too deep) or raised."""
    # SHA-256, as the fingerprint: faster than BLAKE2b over a large array where the CPU
    # computes it (SHA extensions; ``benchmarks/bench_step_watch.py``)
    h = hashlib.sha256()
    try:
        _feed(h, value, 0, _Path(watch=before or True, by_id=by_id))
    except Exception as e:  # noqa: BLE001 - said, not swallowed: see StepFits.check
        return Undigested(f"{type(e).__name__}: {e}")
    return h.digest()


def digests(held, by_id=None):
    """:func:`digest` of each value of ``held`` (a :func:`state`)."""
    return {k: digest(v, by_id=by_id) for k, v in held.items()}


def changed(held, digested, now, by_id=None):
    """The attributes of ``held`` (digested as ``digested``, with ``by_id``) no longer in
    ``now``, replaced, or changed in place; a list of names by content alone (skorch
    rebuilds ``prefixes_`` and its other registries of its torch parts, the same names,
    when scikit-learn removes its callbacks' context from the step once the step's fit
    returned)."""
    moved = []
    for k, v in held.items():
        value = now.get(k, _GONE)
        if value is _GONE or (value is not v and not is_names(v)):
            moved.append(k)
        elif (
            not isinstance(digested[k], Undigested) and digest(value, by_id=by_id) != (digested[k])
        ):
            moved.append(k)
    return sorted(moved)


def undigested(left):
    """``(step name, attribute, why)`` of each watched attribute whose content could not
    be digested (``left``: step name -> (step, state, digests))."""
    return [
        (name, k, why)
        for name, (_, _, digested) in left.items()
        for k, why in digested.items()
        if isinstance(why, Undigested)
    ]


def is_names(value):
    """Whether ``value`` is a list or tuple of names (strings)."""
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


_GONE = object()
