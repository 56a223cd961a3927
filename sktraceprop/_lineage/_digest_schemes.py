"""What a source's ``sha256`` names: its digest scheme, in a word and in words.

Every source record holds a ``sha256``, but not every one is a SHA-256 of the data's
bytes: a frame's is over its labels, dtypes and cells (scheme ``frame-2``), and a frame
registered by an earlier sktraceprop holds one over pandas' 64-bit row hashes (scheme
``frame-1``), which named some different frames alike. A reader seeing "sha256" takes it
for a digest that names the data exactly; the compliance report and every export say
which scheme made each digest (the report's ``digest_scheme`` and ``digest_note``), from
this one module.
"""

from ._frame_digest import SCHEME
from ._polars_digest import SCHEME as POLARS_SCHEME
from ._source import legacy_digest

#: Each scheme a report names, and what a digest of it names, in words.
NOTES = {
    "file-bytes": (
        "SHA-256 of the file's bytes: names the file's content exactly (another file, or "
        "this one edited, has another)"
    ),
    "frame-2": (
        "SHA-256 of the frame's column labels, dtypes and every cell by its type and exact "
        "value (sktraceprop's scheme frame-2): names the content exactly, not the bytes of "
        "any file and not the index; comparable only with digests of scheme frame-2"
    ),
    "frame-1": (
        "not a SHA-256 of the data: a SHA-256 over pandas' 64-bit row hashes "
        "(hash_pandas_object), made by an earlier sktraceprop (scheme frame-1, before "
        "frame-2), which gives some different frames the same value (object cells 1 and "
        "'1', None and NaN, the order of categories, column labels 1 and '1'): it does not "
        "name the content exactly, and cannot be compared with a digest of scheme frame-2 "
        "(the same data registered now has another)"
    ),
    "polars-1": (
        "SHA-256 of the polars frame's column names, dtypes, null mask and every cell by "
        "its type and exact value (sktraceprop's scheme polars-1): names the content "
        "exactly, not the bytes of any file; comparable only with digests of scheme "
        "polars-1 (the same rows as a pandas frame have a frame-2 digest)"
    ),
    "array-bytes": (
        "SHA-256 of the array's dtype, shape and bytes: names its values exactly (its "
        "column labels are sktraceprop's defaults, x0, x1, ...)"
    ),
    "array-bytes-1": (
        "SHA-256 of the array's dtype, shape and bytes, made by an earlier sktraceprop "
        "(before scheme frame-2): the column labels listed are not part of it, so the same "
        "values under other labels have the same digest; it cannot be compared with a "
        "digest of scheme frame-2, which this array registered now with its labels has"
    ),
    "anonymous-content": (
        "SHA-256 of the data's dtype, shape and bytes (an array), or of its pickle by "
        "joblib's content hash (a sparse matrix or another container): which of the two "
        "is not recorded; the data has no file identity"
    ),
    "joblib-sha1": (
        "not a SHA-256: a SHA-1 of the data's pickle (joblib.hash), made by an earlier "
        "sktraceprop for an object array or a container; the data has no file identity"
    ),
    "derived": (
        "SHA-256 of its parent rows, their sources' digests and the operation's "
        "parameters: names how its rows were made, as exactly as its parents' digests "
        "name them"
    ),
}
#: Schemes whose digest can be shared by different data: said in Art. 26(4).
INEXACT = ("frame-1", "array-bytes-1", "joblib-sha1")
#: The schemes a source record names itself (``Source.digest_scheme``): the others are
#: inferred from the rest of the record (:func:`digest_scheme`), which holds None.
RECORDED = (SCHEME, POLARS_SCHEME)
#: The schemes each kind of source can have.
KINDS = {
    "file": ("file-bytes",),
    "frame": ("frame-2", "frame-1", "polars-1"),
    "array": ("array-bytes", "frame-2", "array-bytes-1"),
    "anonymous": ("frame-2", "frame-1", "polars-1", "anonymous-content", "joblib-sha1"),
    "merge": ("derived",),
    "aggregate": ("derived",),
}


def digest_scheme(source):
    """The scheme of ``source``'s ``sha256`` (a :class:`~sktraceprop.Source`), by name."""
    if source.digest_scheme is not None:
        return source.digest_scheme
    if source.kind == "file":
        return "file-bytes"
    if source.derived:
        return "derived"
    if source.kind == "anonymous":
        if source.columns:  # a frame: hashed by hash_pandas_object before frame-2
            return "frame-1"
        return "joblib-sha1" if len(source.sha256) == 40 else "anonymous-content"
    if source.kind == "array":
        return "array-bytes-1" if legacy_digest(source) else "array-bytes"
    return "frame-1"


def digest_facts(source):
    """``{"digest_scheme", "digest_note"}`` of a source record."""
    scheme = digest_scheme(source)
    note = NOTES.get(scheme)
    if note is None:
        note = (
            f"a digest scheme ({scheme!r}) this sktraceprop does not know: what the "
            "sha256 names is not stated"
        )
    return {"digest_scheme": scheme, "digest_note": note}


def exact(scheme):
    """Whether a digest of ``scheme`` names its data exactly (no two different data share
    it): False for the schemes in :data:`INEXACT` and for a scheme this sktraceprop does
    not know, whose digest it cannot vouch for."""
    return scheme in NOTES and scheme not in INEXACT
