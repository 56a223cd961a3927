"""Name untraced data by its content and register it as an anonymous source."""

import sys

import numpy as np
import pandas as pd

from ..utils._sklearn_compat import num_samples as _num_samples
from ._source import REGISTRY, Source


def content_name(X):
    """``(digest, scheme, columns, dtypes)`` naming the content of untraced data (the
    anonymous source's SHA-256 and digest scheme, its column names and dtypes)."""
    from .._polars_frame import is_polars
    from ._frame_digest import SCHEME, frame_digest
    from ._io_memory import _array_digest

    scheme = None
    if is_polars(X):
        from ._polars_digest import SCHEME as POLARS_SCHEME
        from ._polars_digest import polars_digest

        X = X if isinstance(X, sys.modules["polars"].DataFrame) else X.to_frame()
        # its names, dtypes and cells: np.asarray(X) would drop the names and dtypes
        # and make a null a NaN, naming different frames alike
        digest, scheme = polars_digest(X), POLARS_SCHEME
        columns = tuple(X.columns)
        dtypes = tuple(map(str, X.dtypes))
    elif isinstance(X, pd.DataFrame):
        digest, scheme = frame_digest(X), SCHEME
        columns = tuple(map(str, X.columns))
        dtypes = tuple(map(str, X.dtypes))
    else:
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError):  # ragged lists
            arr = np.empty(0, dtype=object)
        if arr.dtype.kind not in "OT":
            digest = _array_digest(arr)
        elif arr.ndim in (1, 2) and arr.size:
            # objects (a list of dicts, mixed values): their cells, by type
            digest, scheme = frame_digest(pd.DataFrame(arr)), SCHEME
        else:
            from joblib.hashing import NumpyHasher

            # sparse matrices and other containers: joblib's content hash, in SHA-256
            digest = NumpyHasher(hash_name="sha256").hash(X)
        columns, dtypes = (), ()
    return digest, scheme, columns, dtypes


def anonymous_source(X, named=None):
    """Register the content of untraced data as an anonymous source (``named``: what
    :func:`content_name` gave for it, where already computed)."""
    digest, scheme, columns, dtypes = content_name(X) if named is None else named
    n = _num_samples(X)
    return REGISTRY.register(
        Source(
            source_id=f"anonymous:{digest[:16]}",
            code=None,
            uri="memory:anonymous",
            sha256=digest,
            n_rows=n,
            columns=columns,
            dtypes=dtypes,
            kind="anonymous",
            digest_scheme=scheme,
        )
    )
