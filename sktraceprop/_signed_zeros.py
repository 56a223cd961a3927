"""-0.0 and 0.0 as one value in the hashes of input rows, and the signed form kept for
the calls logged before.

numpy, pandas and Python compare ``-0.0 == 0.0``, and a -0.0 comes and goes with
arithmetic (``-1.0 * 0.0``, a centred column, a round trip through a text file writes
``-0.0`` and reads it back, another program writes ``0``): rows that compare equal must
find the same logged call. :func:`~sktraceprop.compliance.hash_rows` and the keyed row
digests (:mod:`._row_digests`) therefore hash every float -0.0 as 0.0 (NaNs were
already hashed as missing, whatever their payload). The digests of rows without a -0.0
are unchanged, so every call logged before is found as it was; a call logged before
whose rows held a -0.0 kept the sign: a lookup or an erasure of rows that hold a -0.0
also tries them hashed with their signs (inside :func:`signed_zeros`), and a match so
found says so (:data:`SIGNED_NOTE`). Such a call is found only by rows whose zeros have
the signs it was given (the log cannot tell which zeros were negative).

Calls logged before also hashed a pyarrow time-stamp column as its text (now as the
instants a ``datetime64`` column of them is hashed as, :func:`~._datetime_ns.arrow_instants`):
inside :func:`signed_zeros` such a column is hashed as its text again, so the same
lookup finds those calls too.
"""

import contextlib
import contextvars

import numpy as np

__all__ = [
    "SIGNED_NOTE",
    "copy_floats",
    "hashed_floats",
    "logged_before",
    "signed_digest",
    "signed_zeros",
]

#: True inside :func:`signed_zeros` (a lookup of calls logged before -0.0 was 0.0).
_SIGNED = contextvars.ContextVar("sktraceprop_signed_zeros", default=False)

#: What a match found with the signs of zeros kept says.
SIGNED_NOTE = (
    "its -0.0 hashed with the sign of zero (and a pyarrow time stamp as its text), as "
    "calls logged before sktraceprop hashed -0.0 as 0.0 (and such a time stamp as its "
    "instant) were"
)


def logged_before():
    """Whether rows are hashed as calls logged before were (inside :func:`signed_zeros`)."""
    return _SIGNED.get()


def hashed_floats(values, dtype=np.float64):
    """``values`` (numbers) as a new array of ``dtype`` floats, each -0.0 as 0.0 (the
    sign kept inside :func:`signed_zeros`)."""
    if _SIGNED.get():
        return np.array(values, dtype=dtype)
    # IEEE 754: -0.0 + 0.0 is +0.0, every other value (and NaN) is unchanged
    return np.add(values, 0.0, dtype=dtype)


def copy_floats(out, values):
    """Copy ``values`` into ``out`` as ``np.copyto`` does, a float ``out`` with each
    -0.0 as 0.0 (in the same pass)."""
    if out.dtype.kind == "f" and not _SIGNED.get():
        np.add(values, 0.0, out=out)
    else:
        np.copyto(out, values)


@contextlib.contextmanager
def signed_zeros():
    """Hash rows as calls logged before -0.0 was 0.0 were: the sign of zero kept (and a
    pyarrow time-stamp column as its text)."""
    token = _SIGNED.set(True)
    try:
        yield
    finally:
        _SIGNED.reset(token)


def signed_digest(X, digest):
    """``hash_rows(X)`` with the signs of zeros kept, where it is not ``digest`` (its
    digest now: ``X`` holds a -0.0), else None."""
    from ._row_hash import hash_rows

    with signed_zeros():
        signed = hash_rows(X)
    return None if signed == digest else signed
