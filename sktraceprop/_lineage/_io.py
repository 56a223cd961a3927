"""Loading data with row ids: ``read_csv``, ``from_pandas``, ``from_numpy``, ``merge``."""

import bz2
import gzip
import hashlib
import io
import lzma
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._csv_lines import check_options, data_lines
from ._ids import ROW_INDEX_NAME, TRACED_ATTR, codes_of, lines_of, pack
from ._source import REGISTRY, Source

__all__ = ["from_numpy", "from_pandas", "merge", "read_csv", "row_ids", "row_lineage"]


def _decompress(raw, path, compression):
    if compression == "infer":
        compression = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}.get(
            path.suffix.lower()
        )
    if isinstance(compression, dict):
        compression = compression.get("method")
    if compression is None:
        return raw
    if compression == "gzip":
        return gzip.decompress(raw)
    if compression == "bz2":
        return bz2.decompress(raw)
    if compression == "xz":
        return lzma.decompress(raw)
    if compression == "zip":
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            names = zf.namelist()
            if len(names) != 1:
                raise ValueError(f"{path}: a zip file must hold exactly one member")
            return zf.read(names[0])
    raise ValueError(f"sktraceprop.read_csv does not support compression={compression!r}")


def _frame_digest(df):
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _array_digest(X):
    X = np.ascontiguousarray(X)
    h = hashlib.sha256(f"{X.dtype.str}{X.shape}".encode())
    h.update(memoryview(X).cast("B"))
    return h.hexdigest()


def _with_ids(df, ids):
    out = df.set_axis(pd.Index(ids, name=ROW_INDEX_NAME), axis=0)
    out.attrs[TRACED_ATTR] = True
    return out


def _check_untraced(df, func):
    if df.index.name == ROW_INDEX_NAME:
        raise LineageError(
            f"{func}: this frame already carries sktraceprop row ids; it needs no "
            "registration (registering it again would cut its lineage to the original files)."
        )


def read_csv(path, source_id=None, **pandas_kwargs):
    """Read a CSV file into a DataFrame whose index carries row ids.

    Each row's id records the source and the physical 1-based line of the file where
    the row starts, so ``sed -n '<line>p' file`` prints it, also with comments, blank
    lines, quoted multi-line fields and ``skiprows``.

    Parameters
    ----------
    path : str or path-like
        CSV file, optionally compressed (``.gz``, ``.bz2``, ``.xz``, ``.zip``).
    source_id : str, default=None
        Name of the source; defaults to the file name without its suffixes.
    **pandas_kwargs
        Passed to :func:`pandas.read_csv`. ``index_col`` columns are kept as ordinary
        columns, since the index holds the row ids.

    Returns
    -------
    df : DataFrame
        The data, indexed by packed row ids (index name ``"stp_row_id"``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    SourceConflictError
        If ``source_id`` is registered already with different content.
    """
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"sktraceprop.read_csv: no such file: {path}")
    check_options(pandas_kwargs)
    raw = path.read_bytes()
    data = _decompress(raw, path, pandas_kwargs.pop("compression", "infer"))
    index_col = pandas_kwargs.get("index_col")
    df = pd.read_csv(io.BytesIO(data), **pandas_kwargs)
    if index_col is not None and index_col is not False:
        df = df.reset_index()
    lines = data_lines(data, pandas_kwargs)
    if lines.size != len(df):
        raise LineageError(
            f"sktraceprop.read_csv: could not match the {len(df)} rows pandas read from "
            f"{path} to physical lines ({lines.size} records found); read it with pandas and "
            "use sktraceprop.from_pandas (lines become row positions)."
        )
    if source_id is None:
        source_id = path.name.split(".")[0]
    source = REGISTRY.register(
        Source(
            source_id=str(source_id),
            code=None,
            uri=path.resolve().as_uri(),
            sha256=hashlib.sha256(raw).hexdigest(),
            n_rows=len(df),
            max_line=int(lines[-1]) if lines.size else 0,
            columns=tuple(map(str, df.columns)),
            dtypes=tuple(map(str, df.dtypes)),
            kind="file",
        )
    )
    return _with_ids(df, pack(source.code, lines))


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
    source = REGISTRY.register(
        Source(
            source_id=str(source_id),
            code=None,
            uri=uri or f"pandas:{source_id}",
            sha256=_frame_digest(df),
            n_rows=len(df),
            columns=tuple(map(str, df.columns)),
            dtypes=tuple(map(str, df.dtypes)),
            kind="frame",
        )
    )
    return _with_ids(df, pack(source.code, np.arange(1, len(df) + 1)))


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
        The array's data, indexed by row ids. ``row_ids(df)`` gives the ids as an
        array, for passing as ``sample_id`` alongside plain arrays.
    """
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"from_numpy expects a 1-D or 2-D array, got {X.ndim} dimensions")
    if columns is None:
        columns = [f"x{j}" for j in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns, copy=False)
    source = REGISTRY.register(
        Source(
            source_id=str(source_id),
            code=None,
            uri=uri or f"numpy:{source_id}",
            sha256=_array_digest(X),
            n_rows=X.shape[0],
            columns=tuple(map(str, columns)),
            dtypes=(str(X.dtype),) * X.shape[1],
            kind="array",
        )
    )
    return _with_ids(df, pack(source.code, np.arange(1, X.shape[0] + 1)))


def merge(left, right, source_id=None, **merge_kwargs):
    """Merge two traced frames; each result row records its left and right parent row.

    Parameters
    ----------
    left, right : DataFrame
        Frames carrying row ids.
    source_id : str, default=None
        Name of the derived source; defaults to ``"merge:<hash>"``.
    **merge_kwargs
        Passed to :func:`pandas.merge` (``left_index``/``right_index`` are not supported:
        the index holds row ids).

    Returns
    -------
    df : DataFrame
        The merged rows, indexed by new row ids of the derived source. A row missing on
        one side (outer joins) has parent id 0 on that side.
    """
    if merge_kwargs.get("left_index") or merge_kwargs.get("right_index"):
        raise ValueError("sktraceprop.merge: left_index/right_index are not supported")
    lids, rids = row_ids(left), row_ids(right)
    lcol, rcol = "__stp_left_parent__", "__stp_right_parent__"
    lf = left.set_axis(pd.RangeIndex(len(left)), axis=0).assign(**{lcol: lids})
    rf = right.set_axis(pd.RangeIndex(len(right)), axis=0).assign(**{rcol: rids})
    out = pd.merge(lf, rf, **merge_kwargs)
    parents = np.column_stack(
        [out[lcol].fillna(0).to_numpy(np.int64), out[rcol].fillna(0).to_numpy(np.int64)]
    )
    out = out.drop(columns=[lcol, rcol])
    digest = hashlib.sha256(parents.tobytes()).hexdigest()
    parent_sources = {
        REGISTRY.by_code(c).source_id for c in pd.unique(codes_of(np.concatenate([lids, rids])))
    }
    source = REGISTRY.register(
        Source(
            source_id=source_id or f"merge:{digest[:12]}",
            code=None,
            uri="merge:" + "+".join(sorted(parent_sources)),
            sha256=digest,
            n_rows=len(out),
            columns=tuple(map(str, out.columns)),
            dtypes=tuple(map(str, out.dtypes)),
            kind="merge",
            parents=parents,
        )
    )
    return _with_ids(out, pack(source.code, np.arange(1, len(out) + 1)))


def row_ids(X):
    """The packed row ids of a traced DataFrame or Series, validated.

    Parameters
    ----------
    X : DataFrame or Series
        Data indexed by row ids.

    Returns
    -------
    ids : ndarray of int64
    """
    from ._capture import ids_from_index

    ids = ids_from_index(X)
    if ids is None:
        raise LineageError(
            f"{type(X).__name__} carries no sktraceprop row ids (its index is not "
            f"{ROW_INDEX_NAME!r}); load it with sktraceprop.read_csv/from_pandas/from_numpy."
        )
    return ids


def _expand(ids, sources):
    """Rows of ``(position, row_id, source, line, via)`` with merge parents expanded."""
    pos = np.arange(ids.size)
    via = np.full(ids.size, None, dtype=object)
    out = []
    for _ in range(64):  # merges of merges: expand until only leaf sources remain
        codes = codes_of(ids)
        leaf = np.ones(ids.size, bool)
        nxt_pos, nxt_ids, nxt_via = [], [], []
        for code in pd.unique(codes):
            src = sources(code)
            if src.parents is None:
                continue
            m = codes == code
            leaf &= ~m
            par = src.parents[lines_of(ids[m]) - 1]
            for side in range(2):
                keep = par[:, side] != 0
                nxt_pos.append(pos[m][keep])
                nxt_ids.append(par[keep, side])
                nxt_via.append(np.full(keep.sum(), src.source_id, dtype=object))
        out.append((pos[leaf], ids[leaf], via[leaf]))
        if not nxt_ids:
            break
        pos, ids, via = map(np.concatenate, (nxt_pos, nxt_ids, nxt_via))
    return [np.concatenate(parts) for parts in zip(*out)]


def lineage_frame(ids, sources, position_name="row"):
    """DataFrame describing each row id; ``sources`` maps a code to its :class:`Source`."""
    ids = np.asarray(ids, dtype=np.int64)
    pos, leaf_ids, via = _expand(ids, sources)
    codes = codes_of(leaf_ids)
    unique = np.unique(codes)
    table = [sources(c) for c in unique]
    which = np.searchsorted(unique, codes)
    frame = pd.DataFrame(
        {
            position_name: pos,
            "row_id": leaf_ids,
            "source_id": pd.Categorical.from_codes(which, [s.source_id for s in table]),
            "uri": pd.Categorical.from_codes(which, [s.uri for s in table]),
            "line": lines_of(leaf_ids),
        }
    )
    if any(v is not None for v in via):
        frame["via"] = via
    return frame.sort_values([position_name], kind="stable").reset_index(drop=True)


def row_lineage(X):
    """Where each row of ``X`` comes from: source, URI and line.

    Parameters
    ----------
    X : DataFrame, Series or array-like of int64
        Traced data, or packed row ids.

    Returns
    -------
    lineage : DataFrame
        Columns ``row`` (position in ``X``), ``row_id``, ``source_id``, ``uri`` and
        ``line`` (physical 1-based file line, or 1-based row position for frames and
        arrays). A merged row appears once per parent, with the merge in column ``via``.
    """
    if isinstance(X, pd.DataFrame | pd.Series):
        ids = row_ids(X)
    else:
        from ._capture import validate_ids

        ids = validate_ids(np.asarray(X), REGISTRY)
    return lineage_frame(ids, REGISTRY.by_code)
