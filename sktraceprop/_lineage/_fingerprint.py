"""Fingerprints of fitted state and JSON-safe parameter records.

A fingerprint must change whenever the fitted state changes and must not change when
nothing did (a pickle round trip, another process). So every value is hashed by its
content: arrays by their dtype, shape and bytes, torch modules and optimizers by their
``state_dict``, tensors and JAX arrays by their bytes (never by ``repr``, which elides
large arrays), other objects by their class and attributes, and a ``repr`` only for
leaves that keep no other state, with memory addresses removed.

Every value is written as a type tag, then its length or item count, then its content,
so the bytes hashed are a prefix-free encoding: two values of the types walked here that
differ (``[1, 23]`` and ``[12, 3]``, ``"1"`` and ``1``, a ``bfloat16`` array and a
``float16`` one) feed different bytes. Scheme 1 (``_fingerprint_v1``) did not.

Scheme 6 (this module) hashes functions and classes of user code by their code
(``_fingerprint_code``: two lambdas of one function, an edited function, closures over
other values, an edited class constant differ) together with the helpers they reach
through a module they hold as a global (``mymod.helper(X)``: ``_fingerprint_attrs``),
leaves out the containers a user class's own code fills (a class-level cache:
``_fingerprint_state``), takes a module for the standard library only when read from its
folder, and names functions and classes of packages installed from a package index with
their distribution and the SHA-256 of their module's file (``_install_origin``). Scheme 5
(``fingerprint_v5``) named such a module only (a helper edited, reloaded or replaced was
not seen); scheme 4 (``fingerprint_v4``) hashed a class cache's contents (a model read as
changed after a ``predict``), took a user's ``statistics.py`` for the standard library,
and named an index package's code by module and qualified name only (edited in place,
not seen); scheme 3 (``fingerprint_v3``) also named the non-function attributes of user
classes and the code of packages installed into site-packages from a folder or an
archive; scheme 2 named every function and class by module and qualified name only
(``fingerprint_v2``: the same walk, functions by name). Each writes what it adds with
tags the earlier one never wrote and everything else exactly as it did, after the same
first bytes: a model without user code or packages from an index has the fingerprint
scheme 2 gave it, one whose user classes hold only functions (and no code installed
from a folder or an index) the fingerprint scheme 3 gave it, one without class caches,
index packages or modules of standard library names the fingerprint scheme 4 gave it,
and one whose user functions read no attribute of a module of user code or of an index
package the fingerprint scheme 5 gave it. Records of earlier schemes are compared with
``_fingerprint_match``. What a fingerprint cannot tell apart: functions and classes of
the standard library, of the packages whose versions a run records and C functions of
builtin modules are named by module and qualified name (the standard library, or a
recorded package whose RECORD lists no hash, such as an editable install of
scikit-learn, edited in place is not seen: the run records their versions and the
Python version, not their files; a recorded package's file that is no longer the
SHA-256 its RECORD lists is named with its SHA-256 too); a module a user function
holds in a container or gets in ``**kwargs`` is named only (one bound to an argument
it reads by a partial or a ``FunctionTransformer``'s ``kw_args`` is followed:
``_fingerprint_bound``), one it gets from
``importlib.import_module`` with a name computed at run time not seen, and one it imports
when it runs by its file (a helper of it replaced at run time is not seen:
``_fingerprint_imports``); a module-level container a user function fills (a memo) is
hashed by its type (``_fingerprint_state``); a fit method replaced on one fitted
instance is not part of the fingerprint (a traced fit shadows fit methods there
itself: ``own_params``), other methods replaced there are
(``_fingerprint_walk._feed_overrides``); objects with no state but their ``repr`` are
hashed by that ``repr`` without addresses, and values nested deeper than ``MAX_DEPTH``
are refused
(``ValueError``), never cut short.

The walk is ``_fingerprint_walk``, its leaves ``_fingerprint_leaves``, and what of an
estimator it takes ``_fingerprint_params``.
"""

import hashlib

from ._fingerprint_params import class_path, fitted_state, json_params, json_safe, own_params
from ._fingerprint_walk import MAX_DEPTH, SCHEME, _feed, _Path

__all__ = [
    "MAX_DEPTH",
    "SCHEME",
    "class_path",
    "fingerprint",
    "fingerprint_v2",
    "fingerprint_v3",
    "fingerprint_v4",
    "fingerprint_v5",
    "fitted_state",
    "json_params",
    "json_safe",
    "own_params",
]

#: The first bytes hashed, scheme 2's: a value without user code is hashed as scheme 2
#: hashed it (schemes 3 to 6 write user code with tags of their own).
_PREFIX = b"sktraceprop fingerprint scheme 2\0"


def fingerprint(estimator):
    """SHA-256 of an estimator's class, parameters and fitted state (scheme 6)."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator)
    return h.hexdigest()


def fingerprint_v5(estimator):
    """The scheme-5 fingerprint of ``estimator`` (a user function's global module named
    only, the helpers it reaches through it not hashed), to compare with records made
    before scheme 6."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator, 0, _Path(scheme=5))
    return h.hexdigest()


def fingerprint_v4(estimator):
    """The scheme-4 fingerprint of ``estimator`` (a class cache's contents hashed, a
    user module of a standard library name and packages from a package index named), to
    compare with records made before scheme 5."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator, 0, _Path(scheme=4))
    return h.hexdigest()


def fingerprint_v3(estimator):
    """The scheme-3 fingerprint of ``estimator`` (user classes' attributes other than
    functions named, packages installed into site-packages from a folder named), to
    compare with records made before scheme 4."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator, 0, _Path(scheme=3))
    return h.hexdigest()


def fingerprint_v2(estimator):
    """The scheme-2 fingerprint of ``estimator`` (every function and class named by
    module and qualified name only), to compare with records made before scheme 3."""
    h = hashlib.sha256(_PREFIX)
    _feed(h, estimator, 0, _Path(by_name=True))
    return h.hexdigest()
