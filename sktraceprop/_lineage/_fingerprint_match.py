"""Comparing a model with a fingerprint a record holds, whichever scheme made it.

Runs, prediction events, removal records and reports written before fingerprint scheme 6
hold scheme-5 fingerprints, those written before scheme 5 scheme-4 fingerprints, those
written before scheme 4 scheme-3 fingerprints, those written before scheme 3 scheme-2
fingerprints, and those written before scheme 2 scheme-1 fingerprints
(``_fingerprint_v1``, in either of its two forms). A model compared with such a record is
hashed each way, newest first: the record matches when a scheme gives its value, and a
match by an earlier scheme only is said to be one. Scheme 1 fed values as their
``repr`` with no type or length (``[1, 23]`` and ``[12, 3]`` in a parameter had one
fingerprint); scheme 2 named functions and classes by module and qualified name only
(two lambdas of one function, a function edited between runs had one fingerprint);
scheme 3 named the attributes of user classes other than functions (an edited class
constant) and packages installed into site-packages from a folder or an archive; scheme
4 took a user module of a standard library name for the standard library and named
packages from a package index (either edited was not seen), and hashed the contents of
a cache a user class fills (a scheme-4 record holds the cache as it was at fit: once
the cache fills, the model no longer matches it, a false alarm only a refit, recording
scheme 5, ends); scheme 5 named a module a user function holds as a global and not the
helpers it calls through it (``mymod.helper(X)``: the helper edited or replaced was not
seen). A model without user code or index packages has the same fingerprint by schemes 2
to 6, one whose user classes hold only functions the same by schemes 3 to 6, one without
class caches the same by schemes 4 to 6, and one whose user functions read no attribute
of a user or index module the same by schemes 5 and 6, so it matches such a record by
the current scheme. Neither a false alarm on an old record where the current scheme can
avoid it, nor a silent match.
"""

from ._fingerprint import (
    SCHEME,
    fingerprint,
    fingerprint_v2,
    fingerprint_v3,
    fingerprint_v4,
    fingerprint_v5,
)
from ._fingerprint_v1 import fingerprint_v1, fingerprint_v1_early, fingerprint_v1_original

__all__ = [
    "OLD_SCHEME_NOTE",
    "OLD_SCHEME_NOTES",
    "UNCHECKED_NOTE",
    "UNTOLD_SCHEMES",
    "matching_scheme",
    "may_hold_unseen_form",
    "old_scheme_note",
    "unseen_by_early_forms",
]

#: Said wherever a model matched a record only by scheme 1.
OLD_SCHEME_NOTE = (
    "recorded with fingerprint scheme 1 (before sktraceprop's scheme 2), which fed values "
    "by their repr with no type or length and could not tell some different models apart "
    "(a parameter [1, 23] and [12, 3], object categories [12, 34] and [1, 234]); the model "
    "matches the record as far as that scheme can tell"
)
#: Said wherever a model matched a record only by scheme 2.
SCHEME_2_NOTE = (
    "recorded with fingerprint scheme 2 (before sktraceprop's scheme 3), which named "
    "functions and classes by module and qualified name only and could not tell apart "
    "models that differ in their code (FunctionTransformer(func=lambda X: X * 2) and "
    "lambda X: X * 3, a function or estimator class edited between runs, a closure over "
    "another value); the model matches the record as far as that scheme can tell"
)
#: Said wherever a model matched a record only by scheme 3.
SCHEME_3_NOTE = (
    "recorded with fingerprint scheme 3 (before sktraceprop's scheme 4), which named the "
    "attributes of user classes other than functions (a class constant such as LIMIT = 3 "
    "edited, or set at run time) and the code of packages installed into site-packages "
    "from a folder, an archive or a checkout, and could not tell apart models that differ "
    "only there; the model matches the record as far as that scheme can tell"
)
#: Said wherever a model matched a record only by scheme 4.
SCHEME_4_NOTE = (
    "recorded with fingerprint scheme 4 (before sktraceprop's scheme 5), which hashed "
    "the contents of containers a user class fills as a cache, took a user module named "
    "like a standard library one (statistics.py beside the script) for the standard "
    "library, and named the code of packages installed from a package index by module "
    "and qualified name only, and could not tell apart models that differ only in such "
    "a module or an index package edited in place; the model matches the record as far "
    "as that scheme can tell"
)
#: Said wherever a model matched a record only by scheme 5.
SCHEME_5_NOTE = (
    "recorded with fingerprint scheme 5 (before sktraceprop's scheme 6), which named a "
    "module a user function holds as a global (import mymod, from . import _utils) and "
    "not the helpers the function calls through it (mymod.helper(X)), and could not tell "
    "apart models that differ only in such a helper (edited and reloaded, or replaced at "
    "run time); the model matches the record as far as that scheme can tell"
)
#: Said of a step whose run may hold a fingerprint of a form that did not see it.
UNCHECKED_NOTE = (
    "the run records no fingerprint scheme (stored before runs recorded it) or scheme 1, "
    "so its fingerprints may be of scheme 1 as it was before 1 December 2026 (c4997b1), which "
    "did not see what a tree, a KNN model or a histogram boosting model learnt (its "
    "nodes, rows or predictors) and gave such a model refitted on other rows the same "
    "fingerprint: no scheme of now gives the recorded one, and whether the step changed "
    "since cannot be told"
)
#: The fingerprint schemes a run may be recorded with (None: none recorded) whose
#: fingerprints may be of the forms that did not see a tree (:data:`UNCHECKED_NOTE`).
#: One definition: the call's event is written by it (``unchecked_since_fit``) and the
#: report, ``find_predictions`` and the CLI read the events by it.
UNTOLD_SCHEMES = frozenset({None, 1})
#: What each earlier scheme's match is worth, by scheme.
OLD_SCHEME_NOTES = {
    1: OLD_SCHEME_NOTE,
    2: SCHEME_2_NOTE,
    3: SCHEME_3_NOTE,
    4: SCHEME_4_NOTE,
    5: SCHEME_5_NOTE,
}
#: The earlier schemes, newest first, and how each is made.
EARLIER = (
    (5, fingerprint_v5),
    (4, fingerprint_v4),
    (3, fingerprint_v3),
    (2, fingerprint_v2),
    (1, fingerprint_v1),
    (1, fingerprint_v1_early),  # (scheme 1 before c4997b1: public fitted state only)
    (1, fingerprint_v1_original),  # (and before 9e45841: values by repr, classes by name)
)


def old_scheme_note(scheme):
    """What a match by the earlier ``scheme`` only (1 to 5; None read as 1: records
    from before scheme 3 named no other) is worth."""
    return OLD_SCHEME_NOTES[1 if scheme is None else scheme]


def matching_scheme(obj, recorded, now=None):
    """The scheme whose fingerprint of ``obj`` is ``recorded``: 6 to 1, or None.

    ``now``: ``fingerprint(obj)`` when already made. Earlier schemes are computed only
    when the current scheme does not match (a record from before it, or a changed model).
    """
    now = fingerprint(obj) if now is None else now
    if now == recorded:
        return SCHEME
    if not isinstance(recorded, str) or len(recorded) != 64:
        return None
    for scheme, made in EARLIER:
        try:
            old = made(obj)
        except Exception:  # a value the scheme could not walk: its record cannot be of it
            continue
        if old == recorded:
            return scheme
    return None


def may_hold_unseen_form(fingerprint_scheme):
    """Whether a run recorded with ``fingerprint_scheme`` (None: not recorded) may hold
    a fingerprint of a form that did not see what a step learnt (:data:`UNTOLD_SCHEMES`)."""
    return fingerprint_scheme in UNTOLD_SCHEMES


def unseen_by_early_forms(obj):
    """Whether scheme 1's forms of before c4997b1 (1 December 2026) did not see what
    ``obj`` learnt (a tree, a KNN model, a histogram boosting model): they refuse it, so
    a record of then cannot be compared with it, neither matched nor told apart."""
    for made in (fingerprint_v1_early, fingerprint_v1_original):
        try:
            made(obj)
        except ValueError:  # (their refusal: state they fed by a repr showing none of it)
            return True
        except Exception:  # noqa: BLE001 (a value the form could not walk: not this case)
            continue
    return False
