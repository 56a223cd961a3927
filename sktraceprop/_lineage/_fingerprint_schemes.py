"""What a run's recorded fingerprint scheme says of its ``model_fingerprint``, in words.

A run records the scheme that made its fingerprints (``Lineage.fingerprint_scheme``),
so that a record read without the model (a report from a stored run, an export) can say
what the fingerprint tells apart. Runs stored before it was recorded hold none: their
scheme is 1 or 2, and the library version they record does not tell which, so it is
said to be not recorded, never guessed.
"""

from ._fingerprint import SCHEME
from ._fingerprint_scopes import (
    SCOPE,
    SCOPE_3,
    SCOPE_4,
    SCOPE_5,
    SCOPE_6,
    SCOPE_6_ALIASED,
    SCOPE_6_FOLLOWED,
)

__all__ = ["EARLIER_NOTES", "NOTES", "scheme_note"]

#: Each scheme this sktraceprop knows, and what a fingerprint of it tells apart.
NOTES = {
    SCHEME: (
        "fingerprint scheme 6: every value of the fitted model type-tagged and "
        f"length-prefixed, so different fitted models never share a fingerprint; {SCOPE}"
    ),
    5: (
        "fingerprint scheme 5 (before sktraceprop's scheme 6): every value of the fitted "
        "model type-tagged and length-prefixed, user functions and classes hashed by their "
        "code, but a module a user function holds as a global (import mymod, from . import "
        "_utils) named only, not the helpers the function reaches through it "
        "(mymod.helper(X)), so models that differ only in such a helper (edited and "
        "reloaded, or replaced at run time) share a fingerprint"
    ),
    4: (
        "fingerprint scheme 4 (before sktraceprop's scheme 5): every value of the fitted "
        "model type-tagged and length-prefixed, user functions and classes hashed by their "
        "code and user classes' constants by value, but a container a user class fills as "
        "a cache hashed by its contents (the model read as changed once it predicted), a "
        "user module named like a standard library one taken for the standard library and "
        "packages installed from a package index named by module and qualified name only, "
        "so models that differ only in such a module or an index package edited in place "
        "share a fingerprint"
    ),
    3: (
        "fingerprint scheme 3 (before sktraceprop's scheme 4): every value of the fitted "
        "model type-tagged and length-prefixed, and user functions and classes hashed by "
        "their code, but the attributes of user classes other than functions named only "
        "(a class constant such as LIMIT = 3 edited, or set at run time, was not seen) "
        "and packages installed into site-packages from a folder, an archive or a "
        "checkout named by module and qualified name only, so models that differ only "
        "there share a fingerprint"
    ),
    2: (
        "fingerprint scheme 2 (before sktraceprop's scheme 3): every value of the fitted "
        "model type-tagged and length-prefixed, but functions and classes named by module "
        "and qualified name only, so models that differ only in their code share a "
        "fingerprint (FunctionTransformer(func=lambda X: X * 2) and lambda X: X * 3, a "
        "function or estimator class edited between runs, a closure over another value)"
    ),
    1: (
        "fingerprint scheme 1 (before sktraceprop's scheme 2): values fed by their repr "
        "with no type or length, so some different models share a fingerprint (a "
        "parameter [1, 23] and [12, 3], object categories [12, 34] and [1, 234])"
    ),
}
#: Said of a run that does not record its scheme.
NOT_RECORDED = (
    "fingerprint scheme not recorded: the run was stored by an sktraceprop from before "
    "runs recorded it, so its fingerprints are of scheme 1 (which could not tell some "
    "different models apart) or of scheme 2 (which could not tell apart models that "
    "differ only in their functions' or classes' code), and the library version it "
    "records does not tell which; a fitted model compared with the run is hashed by each "
    "scheme, and a match by an earlier scheme only is said to be one"
)
#: The words earlier sktraceprops wrote for a scheme (in reports of format 10, which
#: verify as written): scheme 2's note before scheme 3 did not say what it cannot tell
#: apart, nor scheme 3's before scheme 4, nor scheme 4's before scheme 5, nor scheme 5's before
#: scheme 6; scheme 6's said, before it followed getattr, closure cells, imports in a
#: function and methods replaced on an instance, that those were not seen, and then,
#: before it followed local aliases, defaults and import_module and took module-level
#: caches for state, that a module in a default or from import_module was named only,
#: and then, before it followed a module bound to an argument by a partial or a
#: FunctionTransformer's kw_args, that such a module was named only.
EARLIER_NOTES = {
    6: (
        "fingerprint scheme 6: every value of the fitted model type-tagged and "
        f"length-prefixed, so different fitted models never share a fingerprint; {SCOPE_6}",
        "fingerprint scheme 6: every value of the fitted model type-tagged and "
        "length-prefixed, so different fitted models never share a fingerprint; "
        f"{SCOPE_6_FOLLOWED}",
        "fingerprint scheme 6: every value of the fitted model type-tagged and "
        "length-prefixed, so different fitted models never share a fingerprint; "
        f"{SCOPE_6_ALIASED}",
    ),
    5: (
        "fingerprint scheme 5: every value of the fitted model type-tagged and "
        f"length-prefixed, so different fitted models never share a fingerprint; {SCOPE_5}",
    ),
    4: (
        "fingerprint scheme 4: every value of the fitted model type-tagged and "
        f"length-prefixed, so different fitted models never share a fingerprint; {SCOPE_4}",
    ),
    3: (
        "fingerprint scheme 3: every value of the fitted model type-tagged and "
        f"length-prefixed, so different fitted models never share a fingerprint; {SCOPE_3}",
    ),
    2: (
        "fingerprint scheme 2: every value of the fitted model type-tagged and "
        "length-prefixed, so different fitted models never share a fingerprint",
    ),
    None: (
        "fingerprint scheme not recorded: the run was stored by an sktraceprop from before "
        "runs recorded it, so its fingerprints are of scheme 1 (which could not tell some "
        "different models apart) or of scheme 2, and the library version it records does "
        "not tell which; a fitted model compared with the run is hashed by both, and a "
        "match by scheme 1 only is said to be one",
    ),
}


def scheme_note(scheme):
    """What a fingerprint of ``scheme`` (an int, or None: not recorded) tells apart."""
    if scheme is None:
        return NOT_RECORDED
    note = NOTES.get(scheme)
    if note is None:
        return (
            f"fingerprint scheme {scheme}, which this sktraceprop does not know: what "
            "the fingerprint tells apart is not stated"
        )
    return note
