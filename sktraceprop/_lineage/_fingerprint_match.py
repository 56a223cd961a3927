"""Comparing a model with a fingerprint a record holds, whichever scheme made it.

Runs, prediction events, removal records and reports written before fingerprint scheme 2
hold scheme-1 fingerprints (``_fingerprint_v1``). A model compared with such a record is
hashed both ways: the record matches when either scheme gives its value, and a match by
scheme 1 only is said to be one (scheme 1 fed values as their ``repr`` with no type or
length, so some different models, ``[1, 23]`` and ``[12, 3]`` in a parameter, had one
fingerprint). Neither a false alarm on an old record nor a silent match.
"""

from ._fingerprint import SCHEME, fingerprint
from ._fingerprint_v1 import fingerprint_v1

__all__ = ["OLD_SCHEME_NOTE", "matching_scheme"]

#: Said wherever a model matched a record only by scheme 1.
OLD_SCHEME_NOTE = (
    "recorded with fingerprint scheme 1 (before sktraceprop's scheme 2), which fed values "
    "by their repr with no type or length and could not tell some different models apart "
    "(a parameter [1, 23] and [12, 3], object categories [12, 34] and [1, 234]); the model "
    "matches the record as far as that scheme can tell"
)


def matching_scheme(obj, recorded, now=None):
    """The scheme whose fingerprint of ``obj`` is ``recorded``: 2, 1, or None.

    ``now``: ``fingerprint(obj)`` when already made. Scheme 1 is computed only when the
    current scheme does not match (a record from before it, or a changed model).
    """
    now = fingerprint(obj) if now is None else now
    if now == recorded:
        return SCHEME
    if not isinstance(recorded, str) or len(recorded) != 64:
        return None
    try:
        old = fingerprint_v1(obj)
    except Exception:  # a value scheme 1 could not walk: its record cannot be of it
        return None
    return 1 if old == recorded else None
