"""Per-source statistics of the rows given to a traced fit: label balance, missing values.

Recorded in the run at fit time (``Lineage.source_stats``), so a report on the training
data never recomputes them from files that may have changed since. Every figure is an
exact count (rates are derived by whoever reads them), and the whole record is JSON-safe.
"""

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._ids import lines_of
from ._read_paths import frame_paths, narrowed
from ._source import REGISTRY
from ._stats_index import _source_index
from ._stats_labels import SEMI_SUPERVISED, _label_stats
from ._stats_merges import _through_merges
from ._stats_missing import _missing_counts


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
    listed = ", ".join(repr(c) for c in columns[:5])
    if len(columns) > 5:  # (five named, all counted: a list cut short says so)
        listed += f" and {len(columns) - 5} more ({len(columns)} in all)"
    return (
        f"column(s) {listed} of the data given to fit are missing (NaN) in every row. If "
        "they were taken from another traced frame by index alignment (df[col] = "
        "other[col], df.join(other), df + other, pd.concat(axis=1), where(cond, other)), "
        "note that the index of a traced frame holds its row ids (stp_row_id), which "
        "the rows of two sources never share, so pandas matched no row: join with "
        "stp.merge on a key column, or assign values by position (other[col].to_numpy())"
    )
