"""Input columns attached from another loaded source by position, found by content.

``a["x"] = B["v"].values`` (or ``assign``, ``a.loc[:, "x"] = ...``) puts the values of
source B's column ``v`` into the rows of A without lineage: the fit sees a column that
no source of its rows holds. The witness rows of B's load (:mod:`._witness`, a few
hundred rows kept in this process) still recognise them. Such a column holds B's column
when, of B's witness rows whose value is unique among them, at least :data:`MIN_PAIRS`
hold a value that the column holds on exactly one training row, and those rows are in
B's row order (an in-order copy: a whole column, or a row subset in the training rows'
order). Values found on rows in another order, or sorted in both (a counter, a date),
could be a chance overlap of two columns' values; they are taken as evidence only where
the match is strong (:func:`_strong`): at least :data:`MIN_STRONG` such values, not all
whole numbers (two sources sharing a key or a count hold the same whole numbers in
their own orders), at least :data:`MIN_SHARE` of B's witness values found in the
column, and the column's distinct values sparse among the numbers written with as many
decimals as the values matched (at most :data:`MAX_DENSITY` of those in its range are
held: prices in cents or readings to one decimal fill their range, so another source's
values would be found there by chance). A strong match in another order is a copy from B
reordered (``"reordered"``: B sorted or shuffled before the ``.values`` copy, so a
training row may hold the value of another row). A column of few distinct values (a
0/1 flag, small integers) holds no value on exactly one row: it cannot be checked, and
is said so.

Cost: a hash table of each such column's values held on one row (at most
:data:`MAX_COLUMNS` columns; a sort of its distinct values only where a strong match is
looked for), then per loaded numeric column a look-up of its
witness values there (a few hundred); the loads of the training rows' own sources are
not searched.
"""

import numpy as np
import pandas as pd

from ._ids import lines_of
from ._witness import WITNESSES
from ._witness_values import series_integers

#: Witness rows of the loaded column that must be found, in order, on distinct rows.
MIN_PAIRS = 16
#: Columns of unknown source checked in one fit (the rest are said not checked).
MAX_COLUMNS = 16
#: Matches named per column.
MAX_MATCHES = 4
#: Values held by one row each, matched, for a match in another order (or sorted).
MIN_STRONG = 32
#: Share of the loaded column's witness values found in the column, for such a match.
MIN_SHARE = 0.9
#: Largest share of its grid's values a column may hold for such a match.
MAX_DENSITY = 0.05


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


def _once(values, present):
    """Rows of ``values`` (where ``present``) holding a value no other row holds, and
    those values in a hash table."""
    once = present & ~pd.Series(values).duplicated(keep=False).to_numpy()
    rows = np.flatnonzero(once)
    return rows, pd.Index(values[rows])


class _Held:
    """One column's values held on exactly one row, in a hash table: the row of each
    (no sort of the column). An integer column's are also kept as int64 (``exact``:
    ``(values, missing)`` of :func:`._witness_values.series_integers`) and looked up so
    in a loaded integer column: float64 rounds integers past 2**53, so account numbers
    one apart were one value held by no single row, and the column was said not checked
    (and one raised by one would be found)."""

    def __init__(self, values, narrow=False, exact=None):
        # a float32 column (cast for torch) holds the loaded values rounded: looked up so
        self.narrow = narrow
        self.rows, self.index = _once(values, ~np.isnan(values))
        self.exact = None if exact is None else _once(exact[0], ~exact[1])
        self._values = values
        self._distinct = None

    def held_rows(self):
        """Rows holding a value no other row holds (as integers, for an integer column)."""
        return self.rows if self.exact is None else self.exact[0]

    def distinct(self):
        """The column's distinct values, sorted (computed once, where a strong match is
        looked for)."""
        if self._distinct is None:
            v = self._values[~np.isnan(self._values)]
            self._distinct = np.unique(v[np.isfinite(v)])
        return self._distinct

    def find(self, wanted):
        """Row of each value of ``wanted`` held on exactly one row, ``-1`` elsewhere
        (int64 ``wanted``: looked up among the integers, exactly)."""
        rows, index = self.rows, self.index
        if wanted.dtype == np.int64:
            rows, index = self.exact
        if not rows.size:  # (an integer column's floats, all rounded onto others)
            return np.full(wanted.size, -1, dtype=np.intp)
        at = index.get_indexer(wanted)
        return np.where(at >= 0, rows[at], -1)


def _monotone(values):
    d = np.diff(values)
    return bool((d >= 0).all() or (d <= 0).all())


def _decimals(values, narrow):
    """The median number of decimals the values are written with (shortest repr that
    reads back the same; in float32 for a narrowed column)."""
    kind = np.float32 if narrow else np.float64
    said = [np.format_float_positional(kind(v), unique=True, trim="-") for v in values]
    return int(np.median([len(t.partition(".")[2]) for t in said]))


def _density(distinct, decimals):
    """Share of the values written with ``decimals`` decimals in the column's range that
    it holds: near 1 for codes, counts and readings rounded to a few decimals (another
    column's values fall on them by chance); small for values held to full precision."""
    if distinct.size < 2:
        return 1.0
    span = float(distinct[-1] - distinct[0])
    return min(1.0, distinct.size / (span * 10.0 ** min(decimals, 300) + 1.0))


def _strong(column, wanted, paired):
    """Whether a match is strong enough to be no chance overlap whatever the rows'
    order (see the module's docstring)."""
    if paired.sum() < MIN_STRONG:
        return False
    if (wanted[paired] == np.round(wanted[paired])).all():
        return False
    distinct = column.distinct()
    if np.isin(wanted, distinct).mean() < MIN_SHARE:
        return False
    return _density(distinct, _decimals(wanted[paired], column.narrow)) <= MAX_DENSITY


def _match(column, load, name, row_ids):
    """The match of ``column`` (:class:`_Held`) with the loaded column ``name`` of
    ``load``, or None: ``(match, rows_matched, rows_compared)``."""
    loaded = load.columns[name]
    if column.exact is not None and loaded.exact is not None:  # integers: exactly
        keep = ~loaded.missing
        wanted, ids = loaded.exact[keep], load.ids[keep]
    else:
        keep = ~loaded.missing & np.isfinite(loaded.values)
        wanted, ids = loaded.values[keep], load.ids[keep]  # (ids sorted: the load's order)
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
    # (a counter) would be found in order by chance, unless the match is strong
    if not (np.diff(at) > 0).all():
        if not _strong(column, wanted, paired):
            return None
        return "reordered", int(paired.sum()), int(wanted.size)
    if _monotone(wanted[paired]) and not _strong(column, wanted, paired):
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
        column = _Held(values, X[label].dtype == np.float32, series_integers(X[label]))
        if column.held_rows().size < MIN_PAIRS:
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
    if entry["match"] == "reordered":
        return (
            f"reordered: {entry['rows_matched']} of the {entry['rows_compared']} rows of "
            "that column compared found, each on one training row, but not in that "
            "source's row order; only values that no other row holds count, and not "
            "whole numbers"
        )
    return (
        f"{entry['match']}: {entry['rows_matched']} of the {entry['rows_compared']} rows "
        "of that column compared found in order, each on one training row; only values "
        "that no other row holds count"
    )


def attached_message(found):
    """The fit's warning (and the run's note) naming the columns of ``found``."""
    reordered = [e for e in found if e["match"] == "reordered"]
    said = {e["input_column"] for e in reordered}
    rest = [e for e in found if e["input_column"] not in said]
    parts = [reordered_message(reordered)] if reordered else []
    if rest:
        parts.append(_positional_message(rest))
    return " ".join(parts)


def reordered_message(found):
    """What the fit says of columns holding another source's values in another row
    order (entries of ``found`` with ``match == "reordered"``)."""
    listed = "; ".join(
        f"{e['input_column']} holds the values of column {e['column']} of source "
        f"{e['source_id']!r} ({evidence_said(e)})"
        for e in found
    )
    return (
        f"input column(s) attached by position from a reordered table: {listed}. Their "
        "values are that source's, as a set, but the rows do not hold them in the "
        "source's row order (the table was sorted or shuffled before a .values "
        "copy, assign or .loc), so a training row's value may belong to another row of "
        "that source: the model may be trained on wrong data, and the run records no "
        "row of that source for any training row. feature_sources() names the source "
        "for the features made from them, and unlearning that source is refused. Join "
        "on a key with sktraceprop.merge."
    )


def _positional_message(found):
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
