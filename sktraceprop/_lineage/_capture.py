"""Find and validate the row ids of the data given to a traced fit."""

import sys
import warnings

import numpy as np
import pandas as pd

from ..exceptions import LineageError, LineageLostError, LineageWarning
from ..utils._sklearn_compat import num_samples as _num_samples
from ..utils._stack import user_stacklevel
from ._ids import (
    MAX_CODE,
    ROW_INDEX_NAME,
    TRACED_ATTR,
    codes_of,
    distinct_codes,
    lines_of,
    pack,
)
from ._rows import index_ids
from ._source import REGISTRY, Source


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


def check_paired(X, y=None, sample_weight=None, call="fit", ids=None):
    """Refuse ``y`` or ``sample_weight`` whose row ids put their rows in another order
    than ``X``'s (see :func:`check_aligned`): for the explainers' and valuers' own
    ``fit``, ``value``, ``score`` and ``explain``, which scikit-learn's traced fit does
    not reach. ``ids`` are ``X``'s rows' ids where the caller has them (``sample_id=``);
    else those ``X`` carries. Nothing is checked when ``X`` carries none."""
    if ids is None:
        ids = carried_ids(X, validate=False)
    if ids is None:
        return
    params = {} if sample_weight is None else {"sample_weight": sample_weight}
    check_aligned(np.asarray(ids, np.int64), y, params, call=call)


def check_aligned(ids, y, params, routes=None, call="fit"):
    """Refuse a target or fit parameter whose row ids put its rows in another order than X.

    scikit-learn pairs ``X`` and ``y`` by position; pandas aligns by index. A ``y`` sorted
    or filtered apart from ``X`` still has the right length, and every row would meet
    another row's target. Ids of other sources (labels read from their own file, paired
    by position) are not compared. The fit parameters compared are the sample weights:
    those named ``sample_weight`` or ``<step>__sample_weight``, and those a step receives
    as ``sample_weight`` under another name (``routes``, see ``_fit_routes``: a metadata
    routing alias). A validation set given as ``X_val`` (HistGradientBoosting) is
    compared with its ``y_val`` and ``sample_weight_val`` the same way. ``call`` names
    the method in the message.
    """
    routes = routes or {}
    weights = [
        (k, v)
        for k, v in params.items()
        if k.split("__")[-1] == "sample_weight"
        or any(d["as"] == "sample_weight" for d in routes.get(k, ()))
    ]
    for name, value in [("y", y), *weights]:
        _check_pair(ids, "X", name, value, call)
    val = {k.split("__")[-1]: (k, v) for k, v in params.items() if v is not None}
    if "X_val" in val:
        x_name, x_val = val["X_val"]
        val_ids = carried_ids(x_val, validate=False)
        if val_ids is not None:
            for key in ("y_val", "sample_weight_val"):
                if key in val:
                    _check_pair(val_ids, x_name, *val[key], call)


def _check_pair(ids, x_name, name, value, call="fit"):
    """Refuse ``value`` when its row ids are rows of ``ids``' sources in another order."""
    if not isinstance(value, pd.DataFrame | pd.Series):
        return
    other = index_ids(value.index)
    if other is None or other.dtype != np.int64 or other.shape != ids.shape:
        return
    if np.array_equal(other, ids):
        return
    if not np.isin(distinct_codes(other), distinct_codes(ids)).any():
        _check_merged_pair(ids, x_name, name, other, call)
        return
    k = int(np.flatnonzero(other != ids)[0])
    raise LineageError(
        f"{name} is not in the order of {x_name}: row {k} of {x_name} is "
        f"{describe_id(ids[k])} but row {k} of {name} is {describe_id(other[k])}. "
        f"scikit-learn pairs them by position, so rows would meet other rows' values; "
        f"{x_name} and {name} were sorted or filtered apart. Reorder {name} like {x_name} "
        f"({name}.loc[{x_name}.index]) before {call}. If the pairing is deliberate "
        f"(scikit-learn's permutation_test_score permutes y for its null distribution), "
        f"pass {name} without its row ids ({name}.to_numpy()): its values are then "
        f"recorded as given, without rows."
    )


def _check_merged_pair(ids, x_name, name, other, call):
    """Refuse ``other`` (a target's ids) when ``X``'s rows were merged
    (:func:`sktraceprop.merge`) from rows of its sources, but not from its rows in order:
    a ``y`` taken from one side of a merge that reordered the rows (``how="right"``,
    ``sort=True``). Rows of ``X`` merged from no row of those sources are not compared."""
    codes = distinct_codes(ids)
    if not any(REGISTRY.by_code(int(c)).kind == "merge" for c in codes):
        return
    from ._rows import rows_behind

    behind, rows = rows_behind(ids, REGISTRY.by_code)
    mine = np.isin(codes_of(behind), distinct_codes(other))
    behind, rows = behind[mine], rows[mine]
    if not rows.size:
        return
    paired = np.zeros(ids.shape[0], bool)
    paired[rows[behind == other[rows]]] = True
    unpaired = np.setdiff1d(rows, np.flatnonzero(paired))
    if not unpaired.size:
        return
    k = int(unpaired[0])
    parent = behind[rows == k][0]
    raise LineageError(
        f"{name} is not in the order of {x_name}: row {k} of {x_name} was merged from "
        f"{describe_id(parent)} but row {k} of {name} is {describe_id(other[k])}. "
        f"scikit-learn pairs them by position, so rows would meet other rows' values; "
        f"the merge put the rows in another order than {name}'s. Take {name} from the "
        f"merged frame (its column) before {call}, or pass it without its row ids "
        f"({name}.to_numpy()) if the pairing is deliberate."
    )


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
    if distinct_codes(ids).size == 1:
        # One source: the largest id holds the largest line, the smallest the smallest.
        top, low = ids.max(), ids.min()
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


def _looks_like_ids(index):
    """True when an unnamed integer index holds row ids of registered sources.

    Every value must be either a valid id (a registered source, a line inside it) or a
    small integer (what an untraced frame's default index holds), and at least one must
    be an id: random large integers (hashed keys) essentially never pass.
    """
    if isinstance(index, pd.MultiIndex) or index.dtype != np.int64 or len(index) == 0:
        return False
    values = index.to_numpy()
    codes = codes_of(values)
    lines = lines_of(values)
    found = False
    for code in np.unique(codes):
        if code == 0:
            continue
        if not 1 <= code <= MAX_CODE or not REGISTRY.has_code(code):
            return False
        mine = codes == code
        if lines[mine].min() < 1 or lines[mine].max() > REGISTRY.by_code(code).max_line:
            return False
        found = True
    return found


def _ids_in_tuples(index):
    """True when an object index holds tuples whose last items, with its other values,
    are row ids of registered sources (a MultiIndex of row ids flattened by pandas)."""
    if isinstance(index, pd.MultiIndex) or index.dtype != object or len(index) == 0:
        return False
    values = index.to_list()
    if not any(isinstance(v, tuple) for v in values):
        return False
    last = [v[-1] if isinstance(v, tuple) and v else v for v in values]
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in last):
        return False
    if not all(-(2**63) <= int(v) < 2**63 for v in last):
        return False
    return _looks_like_ids(pd.Index(np.asarray(last, dtype=np.int64)))


def _lost(X, marker=True, name="X"):
    """Why ``X`` lost its row ids, when the evidence says it had them; else None.

    With ``marker=False`` only the frame's own evidence counts (an id column, ids left in
    an unnamed index), not the ``attrs`` marker pandas copies to frames derived from it.
    ``name`` is what the message calls ``X``.
    """
    if not isinstance(X, pd.DataFrame | pd.Series):
        return None
    if isinstance(X, pd.DataFrame) and ROW_INDEX_NAME in X.columns:
        return (
            f"{name} has a column {ROW_INDEX_NAME!r}: its row ids were moved out of the "
            f"index (reset_index()); restore them with X.set_index({ROW_INDEX_NAME!r})."
        )
    if _looks_like_ids(X.index):
        return (
            f"{name}'s index holds sktraceprop row ids but is no longer named "
            f"{ROW_INDEX_NAME!r}: pandas drops the name when traced and untraced frames are "
            "concatenated (pd.concat) or an index is rebuilt, and a level can be renamed "
            "(rename_axis, or pd.concat(keys=..., names=[...]) naming every level). "
            "Register the untraced part with sktraceprop.from_pandas before "
            f"concatenating, or name the level {ROW_INDEX_NAME!r} again "
            f"(X.rename_axis({ROW_INDEX_NAME!r}))."
        )
    if _ids_in_tuples(X.index):
        return (
            f"{name}'s index holds tuples whose last item is an sktraceprop row id: "
            "pd.concat of frames whose indexes have different levels (one read with "
            f"index_col, whose index is the file's index then {ROW_INDEX_NAME!r}, with one "
            "read without) builds a plain Index of tuples and ids. Give every frame the "
            f"same levels before concatenating: drop the file's index "
            f"(df.droplevel(0), or df.reset_index(level=0)) to keep only {ROW_INDEX_NAME!r}."
        )
    if marker and X.attrs.get(TRACED_ATTR, False):
        return (
            f"{name} comes from traced sources but its index no longer carries row ids (it is "
            f"{_index_kind(X.index)}). pandas drops them in reset_index(drop=True), with "
            "ignore_index=True (pd.concat, sort_values, drop_duplicates, dropna), by "
            "assigning a new index, and in operations that build new rows from several "
            "(groupby().agg/mean, pivot_table, melt, DataFrame.merge). Keep the index, merge "
            "with sktraceprop.merge, compute group statistics with sktraceprop.aggregate, or "
            "pass the ids as sample_id=."
        )
    return None


def _check_polars_ids(X):
    """Refuse a polars frame with a row-id column (``pl.from_pandas(df,
    include_index=True)`` of a traced frame): the model would learn the ids as a
    feature, and the run would not know the rows."""
    if ROW_INDEX_NAME in getattr(X, "columns", ()):
        raise LineageLostError(
            f"X (a polars DataFrame) has a column {ROW_INDEX_NAME!r}: the row ids of a "
            "traced pandas frame (pl.from_pandas(df, include_index=True)), which the model "
            "would learn as a feature. polars has no index to carry them: fit on the "
            f"traced pandas frame, or on X.drop({ROW_INDEX_NAME!r}) with "
            f"sample_id=X[{ROW_INDEX_NAME!r}].to_numpy()."
        )


def _index_kind(index):
    """``index`` in words: its class, and its name when it has one."""
    kind = type(index).__name__
    names = [n for n in index.names if n is not None]
    named = f" named {', '.join(map(repr, names))}" if names else ""
    return f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind}{named}"


def _source_column(name, registered):
    """The source column ``name`` is: itself, or the column that pandas' default merge
    suffixes (``_x``, ``_y``) renamed; None for neither. (Before pandas 3 a plain merge
    also drops the frame's ``attrs`` marker: these names are then the only evidence.)"""
    if name in registered:
        return name
    if name.endswith(("_x", "_y")) and name[:-2] in registered:
        return name[:-2]
    return None


def _warn_if_resembles(X):
    """Warn when untraced data has the columns of a loaded source: it may be derived."""
    shared = shared_columns(X)
    if shared is None:
        return False
    columns = list(X.columns)
    warnings.warn(
        f"X carries no sktraceprop row ids, but {len(shared)} of its {len(columns)} columns "
        f"are columns of traced source(s) {holders(shared)}. If X was derived from "
        "them (a plain DataFrame.merge/join drops row ids and every other marker), its "
        "lineage is lost: use sktraceprop.merge. Otherwise (new data with the same schema), "
        "register it with sktraceprop.from_pandas (from_polars for a polars frame) to name "
        "it. The run records X as an anonymous source.",
        LineageWarning,
        stacklevel=user_stacklevel(),
    )
    return True


def shared_columns(X):
    """The columns of DataFrame ``X`` that loaded sources have (as their loaded names),
    when they are at least half of its columns; else None."""
    if not isinstance(X, pd.DataFrame) or len(X.columns) == 0:
        return None
    columns = [str(c) for c in X.columns]
    registered = REGISTRY.all_columns()
    shared = [_source_column(c, registered) for c in columns]
    shared = [c for c in shared if c is not None]
    return shared if len(shared) >= max(1, len(columns) // 2) else None


def holders(shared):
    """``"credit (cid, fico), hiring (age, score)"``: each loaded source holding some of
    the ``shared`` columns, with those columns (a merge of two sources holds both's)."""
    held = {}
    for column in dict.fromkeys(shared):
        for source in REGISTRY.sources_with_columns([column]):
            held.setdefault(source.source_id, {})[column] = None
    parts = [
        f"{name} ({', '.join(list(cols)[:5])}{', ...' if len(cols) > 5 else ''})"
        for name, cols in sorted(held.items())
    ]
    return ", ".join(parts[:5]) + (f" and {len(parts) - 5} more" if len(parts) > 5 else "")


def _warn_if_bare_output(X):
    """Warn when untraced data holds rows a traced transformer output without their ids
    (see :mod:`._bare_outputs`); True when it warned."""
    from ._bare_outputs import bare_output_message, output_in

    found = output_in(X)
    if found is None:
        return False
    warnings.warn(
        bare_output_message(*found, _num_samples(X)),
        LineageWarning,
        stacklevel=user_stacklevel(),
    )
    return True


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
