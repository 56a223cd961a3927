"""Input columns attached from another loaded source by position, found by content.

``a["x"] = B["v"].values`` (or ``assign``, ``a.loc[:, "x"] = ...``) puts the values of
source B's column ``v`` into the rows of A without lineage: the fit sees a column that
no source of its rows holds. The witness rows of B's load (:mod:`._witness`, a few
hundred rows kept in this process) still recognise them. Such a column holds B's column
when, of B's witness rows whose value is unique among them, at least :data:`MIN_PAIRS`
hold a value that the column holds on exactly one training row, and those rows are in
B's row order (an in-order copy: a whole column, or a row subset in the training rows'
order). Rows permuted are not named: values found on rows in another order could be a
chance overlap of two columns' values, which their order rules out here; so could values
that are sorted in both (a counter, a date), which is not taken as evidence. A column of
few distinct values (a 0/1 flag, small integers) holds no value on exactly one row: it
cannot be checked, and is said so.

Cost: a hash table of each such column's values held on one row (at most
:data:`MAX_COLUMNS` columns; no sort), then per loaded numeric column a look-up of its
witness values there (a few hundred); the loads of the training rows' own sources are
not searched.
"""

import numpy as np
import pandas as pd

from ._ids import lines_of
from ._witness import WITNESSES

#: Witness rows of the loaded column that must be found, in order, on distinct rows.
MIN_PAIRS = 16
#: Columns of unknown source checked in one fit (the rest are said not checked).
MAX_COLUMNS = 16
#: Matches named per column.
MAX_MATCHES = 4


def _numbers(series):
    """A column's values as float64 (NaN where missing), or None if not numeric."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ):
        return None
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return None


class _Held:
    """One column's values held on exactly one row, in a hash table: the row of each
    (no sort of the column)."""

    def __init__(self, values, narrow=False):
        # a float32 column (cast for torch) holds the loaded values rounded: looked up so
        self.narrow = narrow
        once = ~np.isnan(values) & ~pd.Series(values).duplicated(keep=False).to_numpy()
        self.rows = np.flatnonzero(once)
        self.index = pd.Index(values[self.rows])

    def find(self, wanted):
        """Row of each value of ``wanted`` held on exactly one row, ``-1`` elsewhere."""
        at = self.index.get_indexer(wanted)
        return np.where(at >= 0, self.rows[at], -1)


def _monotone(values):
    d = np.diff(values)
    return bool((d >= 0).all() or (d <= 0).all())


def _match(column, load, name, row_ids):
    """The match of ``column`` (:class:`_Held`) with the loaded column ``name`` of
    ``load``, or None: ``(match, rows_matched, rows_compared)``."""
    loaded = load.columns[name]
    keep = ~loaded.missing & np.isfinite(loaded.values)
    wanted, ids = loaded.values[keep], load.ids[keep]  # (ids sorted: the load's row order)
    if column.narrow:
        wanted = wanted.astype(np.float32).astype(np.float64)
    if wanted.size < MIN_PAIRS:
        return None
    rows = column.find(wanted)
    if np.count_nonzero(rows >= 0) < MIN_PAIRS:
        return None
    _, first, counts = np.unique(wanted, return_index=True, return_counts=True)
    unique = np.zeros(wanted.size, dtype=bool)
    unique[first[counts == 1]] = True
    paired = unique & (rows >= 0)
    if paired.sum() < MIN_PAIRS:
        return None
    at = rows[paired]
    # in the load's row order, on rows in the training rows' order; values sorted in both
    # (a counter) would be found in order by chance
    if not (np.diff(at) > 0).all() or _monotone(wanted[paired]):
        return None
    same = row_ids is not None and bool((lines_of(row_ids[at]) == lines_of(ids[paired])).all())
    return ("same lines" if same else "in order"), int(paired.sum()), int(wanted.size)


def attached_columns(X, columns, row_ids, source_of):
    """Input columns of ``X`` that hold a loaded source's column by position.

    Parameters
    ----------
    X : DataFrame
        The data given to ``fit``.
    columns : list of str
        Its columns that no source of its rows holds.
    row_ids : ndarray of int64 or None
        The row ids of ``X``'s rows.
    source_of : callable
        Code -> :class:`Source`.

    Returns
    -------
    found : list of dict
        One entry per input column and loaded column it holds: ``input_column``,
        ``source_id``, ``sha256`` and ``uri`` of the source, ``column`` (the loaded
        column), ``match`` (``"same lines"``: each row holds the value of the source's
        row of its own line; ``"in order"``: of the source's rows in its order, a row
        subset) and ``rows_matched`` of the ``rows_compared`` witness rows of that
        column (a sample: the other rows are not compared).
    unchecked : dict of str to str
        Column -> why it could not be checked.
    """
    found, unchecked = [], {}
    by_name = {str(c): c for c in X.columns}
    _, loads = WITNESSES.every_load()
    for k, name in enumerate(columns):
        if k >= MAX_COLUMNS:
            unchecked[name] = f"more than {MAX_COLUMNS} columns of unknown source"
            continue
        label = by_name.get(name)
        values = None if label is None else X[label]
        values = None if not isinstance(values, pd.Series) else _numbers(values)
        if values is None:
            unchecked[name] = "not numeric"
            continue
        column = _Held(values, X[label].dtype == np.float32)
        if column.rows.size < MIN_PAIRS:
            unchecked[name] = (
                f"fewer than {MIN_PAIRS} of its values are held by one row only (few "
                "distinct values: a match could be chance)"
            )
            continue
        if not loads:
            unchecked[name] = "no loaded values are kept in this process"
            continue
        seen = {}
        for code, load in loads:
            source = source_of(code)
            if source is None:
                continue
            for loaded_name, loaded in load.columns.items():
                key = (source.source_id, source.sha256, loaded_name)
                if not loaded.numeric or key in seen:
                    continue
                hit = _match(column, load, loaded_name, row_ids)
                if hit is not None:
                    seen[key] = {
                        "input_column": name,
                        "source_id": source.source_id,
                        "sha256": source.sha256,
                        "uri": str(source.uri or ""),
                        "column": loaded_name,
                        "match": hit[0],
                        "rows_matched": hit[1],
                        "rows_compared": hit[2],
                    }
        found += sorted(seen.values(), key=lambda e: -e["rows_matched"])[:MAX_MATCHES]
    return found, unchecked


def evidence_said(entry):
    """How an entry of :func:`attached_columns` was found, in words: its rows matched
    are those of the rows compared whose value no other row holds (a column of repeated
    values matches on few rows, none of them contradicted)."""
    return (
        f"{entry['match']}: {entry['rows_matched']} of the {entry['rows_compared']} rows "
        "of that column compared found in order, each on one training row; only values "
        "that no other row holds count"
    )


def attached_message(found):
    """The fit's warning (and the run's note) naming the columns of ``found``."""
    listed = "; ".join(
        f"{e['input_column']} holds column {e['column']} of source {e['source_id']!r} "
        f"({evidence_said(e)})"
        for e in found
    )
    return (
        f"input column(s) attached by position without lineage: {listed}. Their values "
        "are another source's rows, put beside the training rows outside the pipeline "
        "(a .values copy, assign, .loc), so the run records neither which of that "
        "source's rows each training row holds nor that it is right: feature_sources() "
        "names the source for the features made from them, and unlearning that source "
        "is refused. Join on a key with sktraceprop.merge, or compute the column inside "
        "the pipeline."
    )


def unchecked_message(unchecked):
    """The run's note naming the columns of unknown source not compared with what was
    loaded, and why."""
    listed = "; ".join(f"{c} ({why})" for c, why in unchecked.items())
    return (
        f"input column(s) of unknown source not compared with the loaded columns, so "
        f"whether they hold another source's column is not known: {listed}"
    )
