"""Find and validate the row ids of the data given to a traced fit."""

import numpy as np
import pandas as pd

from ..exceptions import LineageError, LineageLostError
from ..utils._sklearn_compat import num_samples as _num_samples
from ._anonymous import anonymous_source, content_name
from ._ids import ROW_INDEX_NAME, codes_of, lines_of, pack
from ._lost_ids import _check_polars_ids, _lost
from ._resembles_loaded import _warn_if_bare_output, _warn_if_resembles
from ._rows import index_ids
from ._source import REGISTRY


def ids_from_index(X, validate=True):
    """Row ids held by the index of a DataFrame or Series, or None (checked against the
    registry unless ``validate`` is False)."""
    if not isinstance(X, pd.DataFrame | pd.Series):
        return None
    ids = index_ids(X.index)
    if ids is None:
        return None
    if ids.dtype != np.int64:
        raise LineageError(
            f"the {ROW_INDEX_NAME!r} index has dtype {ids.dtype}, not int64: the row ids "
            "were modified."
        )
    return validate_ids(ids, REGISTRY) if validate else ids


def carried_ids(X, validate=True):
    """Row ids ``X`` carries itself (a traced array, or a frame's index), or None (checked
    against the registry unless ``validate`` is False)."""
    traced_array = getattr(X, "__stp_row_ids__", None)  # sktraceprop.array (NumPy/torch/JAX)
    if traced_array is not None:
        ids = traced_array()
        return validate_ids(ids, REGISTRY) if validate else np.asarray(ids, np.int64)
    return ids_from_index(X, validate)


def describe_id(row_id):
    """``source_id line N`` for one row id (the raw id when its source is unknown)."""
    try:
        source = REGISTRY.by_code(int(codes_of(row_id)))
    except LineageError:
        return f"row id {int(row_id)}"
    where = "line" if source.kind == "file" else "row"
    return f"{source.source_id} {where} {int(lines_of(row_id))}"


def validate_ids(ids, registry):
    """Check that every id names a registered source and a line inside it."""
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise LineageError(f"row ids must be 1-D, got shape {ids.shape}")
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise LineageError(f"row ids must be integers, got dtype {ids.dtype}")
    ids = ids.astype(np.int64, copy=False)
    if ids.size == 0:
        return ids
    # The code is in the high bits: the smallest and largest id have the smallest and
    # largest code, so equal codes mean one source (no pass for distinct_codes).
    top, low = ids.max(), ids.min()
    if codes_of(top) == codes_of(low):
        # One source: the largest id holds the largest line, the smallest the smallest.
        max_line = {int(codes_of(top)): int(lines_of(top))}
        first = int(lines_of(low))
    else:
        lines = lines_of(ids)
        max_line = pd.Series(lines).groupby(codes_of(ids), sort=False).max().to_dict()
        low = ids[np.argmin(lines)]
        first = int(lines_of(low))
    if first < 1:
        # (line 0: a source code alone, ``code << 36``, or ids shifted by arithmetic)
        source = registry.by_code(int(codes_of(low)))
        raise LineageError(
            f"row id names line 0 of source {source.source_id!r}, before its first line "
            "(lines and row positions count from 1): the ids were modified."
        )
    for code, top in max_line.items():
        source = registry.by_code(code)
        if top > source.max_line:
            where = (
                f"line {top} of {source.uri}"
                if source.kind == "file"
                else f"row {top} of source {source.source_id!r}"
            )
            raise LineageError(
                f"row id names {where}, past its last row ({source.max_line}): "
                "the ids were modified."
            )
    return ids


def resolve_row_ids(X, sample_id=None, y=None, fit_params=None):
    """Row ids of the samples in ``X``.

    Order of precedence: ``sample_id`` if given, else the ids a traced array carries
    (``sktraceprop.array``), else the ids in ``X``'s index. Data
    that never carried ids is recorded as an anonymous source whose lines are row
    positions, with a warning where it holds loaded rows' values (as loaded or scaled)
    or, that failing, where ``y`` or the sample weights or groups in ``fit_params``
    hold loaded rows (:mod:`._untraced`); data that lost its ids raises
    :class:`LineageLostError`.

    Returns
    -------
    ids : ndarray of int64 of shape (n_samples,)
    """
    n = _num_samples(X)
    if sample_id is not None:
        if isinstance(sample_id, pd.Index):
            found = index_ids(sample_id)
            sample_id = found if found is not None else sample_id.to_numpy()
        # a copy: the run keeps these ids, and a caller may reuse its array
        ids = validate_ids(np.array(sample_id, copy=True), REGISTRY)
        if ids.shape[0] != n:
            raise LineageError(f"sample_id has {ids.shape[0]} entries but X has {n} samples")
        return ids
    ids = carried_ids(X)
    if ids is not None:
        return ids
    from .._polars_frame import as_pandas, is_polars

    if is_polars(X):
        # no index, so no ids: the checks of untraced data read it as the pandas frame
        # of its names and values
        _check_polars_ids(X)
        checked = as_pandas(X)
    else:
        checked = X
        message = _lost(X)
        if message is not None:
            raise LineageLostError(message)
    named = content_name(X)
    if not _warn_if_bare_output(X) and not _warn_if_resembles(checked):
        from ._untraced import warn_if_holds_loaded_rows, warn_if_loaded_labels

        if not warn_if_holds_loaded_rows(checked, named[:2]):
            warn_if_loaded_labels(X, y, fit_params)
    source = anonymous_source(X, named)
    return pack(source.code, np.arange(1, n + 1))
