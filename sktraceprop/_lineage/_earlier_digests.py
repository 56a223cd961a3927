"""Source digests made by an earlier sktraceprop: which records hold one, and why a
version of a new scheme stands apart from them.

Frames were once hashed by pandas' 64-bit row hashes, arrays without their column
labels; a record of such a digest cannot be compared with one of the current schemes
(``sktraceprop._lineage._frame_digest``), so a content read again is a version of its
own, said with a warning.
"""

import warnings


def _earlier_scheme(versions, record):
    """Versions of ``record``'s source id whose digest is of the scheme before
    ``record``'s (written by an earlier sktraceprop, learnt from a pickle)."""
    if record.digest_scheme is None:
        return []
    return [v for v in versions if v is not record and legacy_digest(v)]


def legacy_digest(source):
    """Whether a record's SHA-256 is of a digest scheme before "frame-2": a frame without
    a scheme, or an array with labels of its own (which were not hashed)."""
    if source.digest_scheme is not None:
        return False
    if source.kind == "frame":
        return True
    default = tuple(f"x{j}" for j in range(len(source.columns)))
    return source.kind == "array" and tuple(source.columns) != default


def earlier_scheme_message(record, earlier, where):
    """Why ``record`` is a version of its own beside the ``earlier`` records (``where``:
    where those are kept)."""
    names = ", ".join(f"sha256 {v.sha256[:12]}... (from {v.uri})" for v in earlier)
    return (
        f"source {record.source_id!r} {where} also has a version whose digest was made by "
        f"an earlier sktraceprop ({names}): frames then by pandas' 64-bit row hashes, "
        "which named some different frames alike (1 and '1', None and NaN, the order of "
        "categories, column labels 1 and '1'), and arrays without their column labels. "
        f"This {record.kind}'s digest (sha256 {record.sha256[:12]}..., scheme "
        f"{record.digest_scheme!r}) cannot be compared with it: it is a version of its "
        "own, whether or not its content is the same. To compare them, register that "
        "data again with this sktraceprop."
    )


def _warn_earlier_scheme(record, earlier):
    from ..exceptions import LineageWarning
    from ..utils._stack import user_stacklevel

    warnings.warn(
        earlier_scheme_message(record, earlier, "in this process"),
        LineageWarning,
        stacklevel=user_stacklevel(),
    )
