"""Registering data held in memory as a source: ``from_pandas`` and ``from_numpy``
(and the frame registration and array digest that other entry points share).
"""

import hashlib

import numpy as np
import pandas as pd

from ..exceptions import LineageError, LineageLostError
from ._frame_digest import SCHEME, frame_digest
from ._frame_uri import warn_text_file_uri
from ._id_index import _witnessed
from ._ids import pack
from ._rows import has_id_level
from ._source import REGISTRY, Source, register_content


def _array_digest(X):
    """SHA-256 of an array's dtype, shape and bytes (not of object or string-dtype
    arrays, whose memory holds references)."""
    X = np.ascontiguousarray(X)
    if X.dtype.kind in "OT":
        raise TypeError(f"an array of dtype {X.dtype} is named by its cells, not its memory")
    dtype = X.dtype.str
    if X.dtype.kind == "V":
        # structured and foreign (ml_dtypes) dtypes share their .str ('|V8', '<V1'):
        # the fields and the name tell them apart
        dtype = f"{dtype}|{X.dtype.name}|{X.dtype.descr}"
    h = hashlib.sha256(f"{dtype}{X.shape}".encode())
    h.update(X.reshape(-1).view(np.uint8))  # a flat byte view: also for zero-size arrays
    return h.hexdigest()


def _check_untraced(df, func):
    if has_id_level(df.index):
        raise LineageError(
            f"{func}: this frame already carries sktraceprop row ids; it needs no "
            "registration (registering it again would cut its lineage to the original files)."
        )
    from ._lost_ids import _lost

    lost = _lost(df, marker=False, name="The frame")
    if lost is not None:
        raise LineageLostError(
            f"{func}: registering this frame would cut its lineage to the original files. " + lost
        )


def from_pandas(df, source_id, uri=None):
    """Register a DataFrame as a source and return it indexed by row ids.

    Parameters
    ----------
    df : DataFrame
        The rows. Its index is replaced by row ids (call ``df.reset_index()`` first to
        keep it as a column).
    source_id : str
        Name of the source.
    uri : str, default=None
        Where the frame came from; defaults to ``"pandas:<source_id>"``.

    Returns
    -------
    df : DataFrame
        A new frame with the same data; row ``k`` (1-based) has line ``k``.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"from_pandas expects a pandas DataFrame, got {type(df).__name__}")
    _check_untraced(df, "from_pandas")
    warn_text_file_uri(uri, "from_pandas")
    source = register_frame(df, source_id, uri)
    return _witnessed(df, pack(source.code, np.arange(1, len(df) + 1)), source)


def register_frame(df, source_id, uri=None):
    """Register ``df``'s content as a source of kind ``"frame"``; return the Source."""
    return register_content(
        source_id,
        uri or f"pandas:{source_id}",
        sha256=frame_digest(df),
        scheme=SCHEME,
        n_rows=len(df),
        columns=df.columns,
        dtypes=df.dtypes,
    )


def from_numpy(X, source_id, columns=None, uri=None):
    """Register an array as a source and return it as a DataFrame indexed by row ids.

    Parameters
    ----------
    X : array-like of shape (n_samples,) or (n_samples, n_features)
    source_id : str
        Name of the source.
    columns : list of str, default=None
        Column names; defaults to ``x0, x1, ...``.
    uri : str, default=None
        Where the array came from; defaults to ``"numpy:<source_id>"``.

    Returns
    -------
    df : DataFrame
        A copy of the array's data (a later write to ``X`` does not reach it), indexed
        by row ids. ``row_ids(df)`` gives the ids as an
        array, for passing as ``sample_id`` alongside plain arrays.
    """
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"from_numpy expects a 1-D or 2-D array, got {X.ndim} dimensions")
    if columns is None:
        columns = [f"x{j}" for j in range(X.shape[1])]
    # a copy: a later write to the caller's array must not change the traced rows (nor
    # break the SHA-256 recorded for them)
    df = pd.DataFrame(X, columns=columns, copy=True)
    warn_text_file_uri(uri, "from_numpy")
    named = X.dtype.kind in "OT" or list(df.columns) != [f"x{j}" for j in range(X.shape[1])]
    source = REGISTRY.register(
        Source(
            source_id=str(source_id),
            code=None,
            uri=uri or f"numpy:{source_id}",
            # the array's bytes, unless its labels are not the default ones (which its
            # shape gives) or it holds objects: then the frame's labels and cells
            sha256=frame_digest(df) if named else _array_digest(X),
            digest_scheme=SCHEME if named else None,
            n_rows=X.shape[0],
            columns=tuple(map(str, columns)),
            dtypes=(str(X.dtype),) * X.shape[1],
            kind="array",
        )
    )
    return _witnessed(df, pack(source.code, np.arange(1, X.shape[0] + 1)), source)
