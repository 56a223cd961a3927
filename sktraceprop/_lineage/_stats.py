"""Per-source statistics of the rows given to a traced fit: label balance, missing values.

Recorded in the run at fit time (``Lineage.source_stats``), so a report on the training
data never recomputes them from files that may have changed since. Every figure is an
exact count (rates are derived by whoever reads them), and the whole record is JSON-safe.
"""

import copy

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._frame_columns import column_arrays
from ..exceptions import LineageError
from ._ids import codes_of, distinct_codes, few_distinct, lines_of
from ._read_paths import frame_paths, narrowed
from ._source import REGISTRY

#: Classes listed one by one up to this many; above, the record says how many there are.
MAX_CLASSES = 1000


def _source_index(ids):
    """``(codes, index)``: the distinct source codes and each row's position among them."""
    codes = distinct_codes(ids)
    if codes.size == 1:
        return codes, None
    uniq, index = np.unique(codes_of(ids), return_inverse=True)
    return uniq, index


def _per_source_sum(mask, index, n_sources):
    """Count of True per source."""
    if index is None:
        return np.array([np.count_nonzero(mask)])
    return np.bincount(index[mask], minlength=n_sources)


def _class_counts(y, index, n_sources):
    """``(labels, counts (n_sources, n_labels), missing per source)`` of class labels."""
    # (uint64 labels above the int64 range would wrap in the cast: counted as values)
    if y.dtype.kind in "iub" and not (y.dtype == np.uint64 and y.size and int(y.max()) >= 2**63):
        y64 = y.astype(np.int64, copy=False)
        lo, hi = int(y64.min()), int(y64.max())
        if hi - lo < 65536:
            # small integer range: bincount beats a hash or sort on large arrays
            lo = min(lo, 0) if hi < 65536 else lo  # labels 0..k need no shifted copy
            values = y64 - lo if lo else y64
            width = hi - lo + 1
            if index is None:
                counts = np.bincount(values, minlength=width)[None, :]
            else:
                counts = np.bincount(index * width + values, minlength=n_sources * width).reshape(
                    n_sources, width
                )
            present = np.flatnonzero(counts.sum(axis=0))
            labels = present + lo
            if y.dtype.kind == "b":
                labels = labels.astype(bool)
            return labels, counts[:, present], np.zeros(n_sources, dtype=np.int64)
    codes, uniques = pd.factorize(y, sort=True, use_na_sentinel=True)
    missing = codes < 0
    width = max(len(uniques), 1)
    rows = codes[~missing]
    if index is None:
        counts = np.bincount(rows, minlength=width)[None, :]
    else:
        counts = np.bincount(index[~missing] * width + rows, minlength=n_sources * width).reshape(
            n_sources, width
        )
    return (
        np.asarray(uniques),
        counts[:, : len(uniques)],
        _per_source_sum(missing, index, n_sources),
    )


def _label_stats(y, index, n_sources, classes):
    """One label record per source."""
    if y is None:
        return [{"kind": "none"}] * n_sources
    y = np.asarray(y)
    if y.ndim != 1:
        reason = f"the target has shape {y.shape} (several outputs): balance not recorded"
        return [{"kind": "not recorded", "reason": reason}] * n_sources
    if not classes and (y.dtype.kind == "f" or (classes is False and y.dtype.kind in "iub")):
        return _continuous(y, index, n_sources)  # (a regressor's integer target too)
    if y.dtype.kind not in "iubfOUST":
        reason = f"target dtype {y.dtype} is not supported: balance not recorded"
        return [{"kind": "not recorded", "reason": reason}] * n_sources
    unlabelled = None
    if classes == SEMI_SUPERVISED:
        # scikit-learn's semi-supervised classifiers: -1 is "no label", not a class
        marked = _unlabelled(y)
        if marked is not None:
            unlabelled = _per_source_sum(marked, index, n_sources)
            y, index = y[~marked], None if index is None else index[~marked]
    try:
        labels, counts, missing = _class_counts(y, index, n_sources)
    except TypeError as exc:  # objects that cannot be hashed or ordered (the fit says why)
        reason = f"target values cannot be counted as classes ({exc}): balance not recorded"
        return [{"kind": "not recorded", "reason": reason}] * n_sources
    out = []
    for s in range(n_sources):
        record = {"kind": "classes", "n_classes": int(len(labels)), "missing": int(missing[s])}
        if unlabelled is not None:
            record["unlabelled"] = int(unlabelled[s])
        if len(labels) <= MAX_CLASSES:
            record["counts"] = {str(k): int(c) for k, c in zip(labels.tolist(), counts[s])}
        else:
            record["note"] = f"{len(labels)} classes: too many to list"
        out.append(record)
    return out


def _one_column(y):
    """A target of one column (shape ``(n, 1)``, a one-column ``DataFrame``) as that
    column: one target, as scikit-learn fits it, not several outputs."""
    if isinstance(y, pd.DataFrame):
        return y.iloc[:, 0] if y.shape[1] == 1 else y
    if y is None or isinstance(y, pd.Series):
        return y
    # (np.shape would ask an array-like's __array_function__, which may refuse)
    shape = getattr(y, "shape", None)
    if shape is None:
        y = np.asarray(y)
        shape = y.shape
    return np.asarray(y)[:, 0] if len(shape) == 2 and shape[1] == 1 else y


def _unlabelled(y):
    """Rows whose target is -1 (unlabelled for a semi-supervised classifier), as a
    mask; None for targets that cannot hold -1 (text labels)."""
    if y.dtype.kind in "iuf":
        return y == -1
    if y.dtype.kind == "O":
        return np.array([isinstance(v, int | float | np.number) and v == -1 for v in y])
    return None


def _continuous(y, index, n_sources):
    y = y.astype(np.float64, copy=False)
    present = ~np.isnan(y)
    frame = pd.DataFrame({"y": y[present]})
    group = np.zeros(int(present.sum()), dtype=np.int64) if index is None else index[present]
    stats = frame.groupby(group)["y"].agg(["count", "mean", "std", "min", "max"])
    missing = _per_source_sum(~present, index, n_sources)
    out = []
    for s in range(n_sources):
        record = {"kind": "continuous", "missing": int(missing[s]), "count": 0}
        if s in stats.index:
            row = stats.loc[s]
            record["count"] = int(row["count"])
            for key in ("mean", "std", "min", "max"):
                value = float(row[key])
                record[key] = value if np.isfinite(value) else None
        out.append(record)
    return out


def _missing_counts(X, index, n_sources):
    """``(column names, counts (n_sources, n_columns))`` of missing values, or a reason."""
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        kinds = [d for d, _ in column_arrays(X)]
        if all(isinstance(d, np.dtype) and d.kind in "iub" for d in kinds):
            # numpy integers and booleans cannot be missing (no copy of the values)
            return names, np.zeros((n_sources, len(names)), dtype=np.int64)
        dtypes = set(kinds)
        if len(dtypes) == 1 and isinstance(kinds[0], np.dtype):
            # one numpy dtype: the frame's values are (usually) one block, a view
            return names, _missing_counts(X.to_numpy(), index, n_sources)[1]
        counts = np.zeros((n_sources, len(names)), dtype=np.int64)
        for j in range(X.shape[1]):
            col = X.iloc[:, j]
            kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else None
            if kind in ("i", "u", "b"):
                continue  # numpy integers and booleans cannot be missing
            if kind == "f":
                values = col.to_numpy()
                if np.isfinite(values.sum()):
                    continue  # no NaN (a NaN makes the sum NaN); one pass, no mask
                mask = np.isnan(values)
            else:
                mask = col.isna().to_numpy(dtype=bool)
            counts[:, j] = _per_source_sum(mask, index, n_sources)
        return names, counts
    if sp.issparse(X):
        coo = X.tocoo()
        if coo.dtype.kind != "f":
            return [f"x{j}" for j in range(X.shape[1])], np.zeros((n_sources, X.shape[1]), int)
        bad = np.isnan(coo.data)
        rows, cols = coo.row[bad], coo.col[bad]
        which = np.zeros(rows.size, dtype=np.int64) if index is None else index[rows]
        counts = np.zeros((n_sources, X.shape[1]), dtype=np.int64)
        np.add.at(counts, (which, cols), 1)
        return [f"x{j}" for j in range(X.shape[1])], counts
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "iubfO":
        names = [f"x{j}" for j in range(X.shape[1])]
        counts = np.zeros((n_sources, X.shape[1]), dtype=np.int64)
        if X.dtype.kind in "iub":
            return names, counts
        if X.dtype.kind == "f":
            if np.isfinite(np.add.reduce(X.ravel(order="K"))):
                return names, counts  # no NaN anywhere: one contiguous pass
            columns = np.flatnonzero(np.isnan(X).any(axis=0))
        else:
            columns = range(X.shape[1])
        for j in columns:
            mask = pd.isna(X[:, j]) if X.dtype.kind == "O" else np.isnan(X[:, j])
            counts[:, j] = _per_source_sum(np.asarray(mask, dtype=bool), index, n_sources)
        return names, counts
    shape = getattr(X, "shape", None)
    return f"X is a {type(X).__name__} (shape {shape}): missing values not counted", None


#: ``classes`` for a semi-supervised classifier: its target -1 marks an unlabelled row.
SEMI_SUPERVISED = "semi-supervised"


def target_kind(estimator):
    """``classes`` for :func:`source_stats`: True for a classifier, False for a
    regressor (its integer target is a quantity), None when neither is declared, and
    :data:`SEMI_SUPERVISED` for scikit-learn's semi-supervised classifiers
    (``SelfTrainingClassifier``, ``LabelPropagation``, ``LabelSpreading``), which read
    the target -1 as "no label", not as a class."""
    from sklearn.base import is_classifier, is_regressor

    from ._final import model_of

    model = model_of(getattr(estimator, "estimator", estimator))[0]
    if type(model).__module__.startswith("sklearn.semi_supervised"):
        return SEMI_SUPERVISED
    if is_classifier(estimator):
        return True
    return False if is_regressor(estimator) else None


def source_stats(X, y, ids, classes):
    """Training-data statistics per source of the rows given to fit.

    Parameters
    ----------
    X : DataFrame, ndarray, sparse matrix or polars DataFrame of shape (n_samples, n_features)
        The data given to fit (other types get no missing-value counts, said so).
    y : array-like of shape (n_samples,) or None
        The targets given to fit.
    ids : ndarray of int64 of shape (n_samples,)
        Row id of each row of ``X``.
    classes : bool, None or SEMI_SUPERVISED
        True when the estimator is a classifier: ``y`` holds classes even if float;
        False for a regressor: ``y`` holds quantities even if integer (summarised as
        continuous); None when unknown: float targets are continuous, others classes;
        :data:`SEMI_SUPERVISED` for a semi-supervised classifier: rows of target -1
        are counted as ``unlabelled``, not as a class.

    Returns
    -------
    stats : dict
        ``columns`` (the names of ``X``'s columns that were checked for missing values;
        ``x0``, ``x1``, ... for arrays), ``target`` (the name of ``y``, when it has
        one), and ``sources``: one record per source code found in ``ids``, by code,
        with ``code``, ``source_id``, ``n_rows``, ``labels`` (``kind`` ``"classes"``
        with ``counts`` per class (and ``unlabelled``, the rows of target -1, for a
        semi-supervised classifier), ``"continuous"`` with count, mean, std, min, max,
        ``"none"`` without a target, or ``"not recorded"`` with a ``reason``; each with
        the number of ``missing`` targets) and ``missing`` (column -> count of missing
        values, only the columns that have some). When ``X``'s type allows no count,
        ``columns`` is None and ``missing_note`` says why. Empty for no rows.
        Where rows were built by :func:`sktraceprop.merge`, ``through_merges`` holds
        the same record for every source of their parents (a training row counts once
        per source it has a line in): ``n_rows`` training rows built from it, the label
        balance of those rows, and ``missing`` over the columns of ``X`` that the
        source itself has (``columns_checked`` lists them).
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size == 0:
        return {}
    from .._polars_frame import as_pandas, is_polars

    if is_polars(X):
        X = as_pandas(X)  # its nulls (and a float column's NaNs) are what is missing
    y = _one_column(y)
    codes, index = _source_index(ids)
    n_sources = codes.size
    rows = np.array([ids.size]) if index is None else np.bincount(index, minlength=n_sources)
    labels = _label_stats(y, index, n_sources, classes)
    names, counts = _missing_counts(X, index, n_sources)
    name = getattr(y, "name", None)
    out = {
        "columns": None if counts is None else names,
        "target": None if name is None else str(name),
    }
    if counts is None:
        out["missing_note"] = names
    out["sources"] = []
    paths = frame_paths(X)
    for s, code in enumerate(codes.tolist()):
        record = {
            "code": int(code),
            "source_id": REGISTRY.by_code(code).source_id,
            "n_rows": int(rows[s]),
            "labels": labels[s],
        }
        if counts is not None:
            record["missing"] = {names[j]: int(counts[s, j]) for j in np.flatnonzero(counts[s])}
        source = narrowed(REGISTRY.by_code(code), paths.get(int(code)), ids)  # X's reads
        if source.other_reads:
            mine = ids if index is None else ids[index == s]
            record["reads"] = _reads(source, lines_of(mine))
        out["sources"].append(record)
    if any(REGISTRY.by_code(int(c)).kind == "merge" for c in codes):
        try:
            # one source given: its figures are those of a source every row was built from
            whole = (labels[0], None if counts is None else counts[0]) if n_sources == 1 else None
            merged = _through_merges(X, y, ids, classes, None if counts is None else names, whole)
        except LineageError as exc:  # a merge whose parent rows stayed in another process
            out["through_merges_note"] = f"not counted in this process: {exc}"
        else:
            if merged:
                out["through_merges"] = merged
    return out


def _reads(source, lines):
    """Per read of a file read more than once: the lines it read and how many of the
    given rows (their ``lines``) lie outside them, so that read did not give them."""
    out = []
    for read in source.reads():
        span = REGISTRY.read_lines(source.code, read)
        entry = {"n_rows": read["n_rows"], "loaded_at": read["loaded_at"]}
        if read.get("uri") is not None:
            entry["uri"] = read["uri"]
        if span is None:
            entry.update(first_line=None, last_line=None, rows_outside=None)
        else:
            outside = np.count_nonzero((lines < span[0]) | (lines > span[1]))
            entry.update(first_line=span[0], last_line=span[1], rows_outside=int(outside))
        out.append(entry)
    return out


def _through_merges(X, y, ids, classes, names, whole=None):
    """One statistics record per source reached through merged rows (see above).

    ``whole``: the label record and missing counts (per column of ``names``) of all the
    rows, when already counted: a source that every row was built from has those.
    """
    from ._parents_kernel import rows_by_source
    from ._rows import expand

    direct = distinct_codes(ids).tolist()
    merges = [c for c in direct if REGISTRY.by_code(c).kind == "merge"]
    if not merges:
        return []
    pos, leaf_ids, _ = expand(ids, REGISTRY.by_code, with_via=False)
    sel_pos, sel_code = pos, codes_of(leaf_ids)
    if len(merges) < len(direct):
        # a leaf came through a merge exactly when the row it stands for is a merged row
        merged = np.isin(codes_of(ids), merges)[pos]
        sel_pos, sel_code = pos[merged], sel_code[merged]
    y_arr = None if y is None else np.asarray(y)
    frame = isinstance(X, pd.DataFrame) and names is not None
    memo = {}
    out = []
    leaf_sources = few_distinct(sel_code)
    # the training rows built from each source (once each, in order): masks, not a
    # sort, over the rows, all in one pass over the leaves
    masks = rows_by_source(
        np.ascontiguousarray(sel_pos, dtype=np.int64),
        np.ascontiguousarray(sel_code, dtype=np.int64),
        leaf_sources,
        ids.size,
    )
    for code, mask in zip(leaf_sources.tolist(), masks):
        everyone = bool(mask.all())  # every training row (a left merge's left side)
        rows = np.flatnonzero(mask) if not everyone else slice(None)
        n_rows = ids.size if everyone else rows.size
        record = {
            "code": int(code),
            "source_id": REGISTRY.by_code(int(code)).source_id,
            "n_rows": int(n_rows),
        }
        if everyone and whole is not None:
            record["labels"] = copy.deepcopy(whole[0])
        else:
            y_rows = None if y_arr is None else y_arr[rows]
            record["labels"] = _label_stats(y_rows, None, 1, classes)[0]
        if frame:
            # the columns of X whose values come from this source in every merge its
            # rows went through (a merge records where each of its columns came from)
            mine = direct if everyone else distinct_codes(ids[rows]).tolist()
            checked = [
                j
                for j, name in enumerate(names)
                if all(int(code) in _leaf_codes(int(d), X.columns[j], memo) for d in mine)
            ]
            if everyone and whole is not None:
                sub_names, counts = [names[j] for j in checked], whole[1][None, checked]
            else:
                part = X.iloc[:, checked] if everyone else X.iloc[rows, checked]
                sub_names, counts = _missing_counts(part, None, 1)
            record["columns_checked"] = sub_names
            record["missing"] = {
                sub_names[j]: int(counts[0, j]) for j in np.flatnonzero(counts[0])
            }
        out.append(record)
    return out


def _leaf_codes(code, column, memo, depth=0):
    """Codes of the non-merged sources the values of ``column`` of source ``code`` come
    from; empty where the record does not say. (Not :func:`._run_features.column_origins`: that
    walks into aggregates and names source ids; here an aggregate is a leaf, as in
    :func:`._rows.expand`, and versions of one source id stay apart.)"""
    key = (code, column)
    if key not in memo:
        source = REGISTRY.by_code(code)
        if source.kind != "merge":
            memo[key] = {code} if column in source.columns_read() else set()
        elif depth > 64 or not source.columns_from or column not in source.columns_from:
            memo[key] = set()
        else:
            memo[key] = set().union(
                *(
                    _leaf_codes(int(c), parent_column, memo, depth + 1)
                    for c, parent_column in source.columns_from[column]
                )
            )
    return memo[key]


def empty_columns(stats, n_rows):
    """Columns of the data given to fit that are missing in every one of its rows."""
    if not stats or not n_rows or stats.get("columns") is None:
        return []
    total = {}
    for record in stats["sources"]:
        for name, count in record.get("missing", {}).items():
            total[name] = total.get(name, 0) + count
    return [name for name in stats["columns"] if total.get(name, 0) == n_rows]


def empty_columns_message(columns):
    """The warning of a traced fit whose data has columns missing in every row."""
    listed = ", ".join(repr(c) for c in columns[:5]) + (" ..." if len(columns) > 5 else "")
    return (
        f"column(s) {listed} of the data given to fit are missing (NaN) in every row. If "
        "they were taken from another traced frame by index alignment (df[col] = "
        "other[col], df.join(other), df + other, pd.concat(axis=1), where(cond, other)), "
        "note that the index of a traced frame holds its row ids (stp_row_id), which "
        "the rows of two sources never share, so pandas matched no row: join with "
        "stp.merge on a key column, or assign values by position (other[col].to_numpy())"
    )
