"""Values of a column moved from one row to another (``shift``, ``ffill``, ``bfill``).

A column changed after loading is named in the run's notes (:mod:`._witness`), and its
rows keep their lines: the change may be computed from each row's own values (a unit
conversion), which leaves the lineage right. A value that is the value *another* row
was loaded with is not: the row's lineage names its own line, while the value came from
the other line, and unlearning that line leaves it in the row. The library does not see
the operation; it sees that a witness row's changed value is the loaded value of another
witness row, held by that row alone among the load's witness rows. That is evidence,
and the fit warns. In a many-to-many merge no value is one row's (each repeats once per
row of its join group): a value there names a row of the parent it was merged from
(:mod:`._moved_values_merge`).

At least ``MIN_ROWS`` rows, and half of those that differ, must hold such a value: one
row, or a few among many changed, can meet another row's value by chance (a name typed
by hand, numbers rounded to few decimals). In numbers not so rounded (:func:`_precise`)
one such row, of one or two that differ, is enough: a value copied from one row to
another (``df.loc[i, "b"] = df.loc[j, "b"]``, in a merge too) meets no other row's by
chance. Rows holding
none of their record's values are said as such (:mod:`._replaced_rows`). Whole numbers
(and booleans) are no evidence: ``age + 1`` is another person's age, an
integer code shifted by one is the next code. Values missing in the file and filled
(``fillna`` with a constant) are left to their own note. Values computed over rows
(``rolling().mean()``, ``groupby().transform("mean")``, ``diff``, ``cumsum``) are not
another row's value: :mod:`._over_rows` warns of them; new columns (a lag beside the
loaded column, identified by its values as that column renamed) stay in the notes only:
the row keeps its own loaded values there.

Witness rows are every row of a load under 512 rows, a sample of larger ones, where the
row a value came from is rarely one. There a changed witness row counts too when the
value it was loaded with is now on one other row of the data, under another id (after
a ``shift``, the next row holds it), except where the column's values are rounded to
few decimals that fill their range (another row holds such a value by chance).
"""

import numpy as np
import pandas as pd

from ._ids import codes_of
from ._moved_values_merge import MergeValues, merged_holders
from ._witness import WITNESSES
from ._witness_values import _take_columns, cell_keys

#: Rows of a column that must hold another row's loaded value for the column to count,
#: and at least half of the rows that differ: one value, or a few among many changed,
#: meet another row's by chance (values rounded to one decimal fill their range).
MIN_ROWS = 2


def _evidence(key):
    """True for a cell key that names one row's value: not missing, not a whole number."""
    if key is None:
        return False
    if key[0] == "n":
        return not float(key[1]).is_integer()
    return key[0] == "o" and not isinstance(key[1], bool | int | np.integer | np.bool_)


def _unique_owners(code, sha256, loaded):
    """Cell key -> witness row id, for the values of column ``loaded`` that one witness
    row alone holds among every load of the source kept."""
    owner, seen = {}, set()
    for w in WITNESSES.loads(code, sha256):
        column = w.columns.get(loaded)
        if column is None:
            continue
        for key, row_id in zip(cell_keys(column), w.ids.tolist()):
            if not _evidence(key):
                continue
            if key in seen and owner.get(key) != row_id:
                owner.pop(key, None)
                continue
            seen.add(key)
            owner.setdefault(key, row_id)
    return owner


def _loaded_numbers(code, sha256, loaded, row_ids):
    """The value each of ``row_ids`` (witness rows) was loaded with in numeric column
    ``loaded``, NaN where not known or missing."""
    out = np.full(row_ids.size, np.nan)
    for w in WITNESSES.loads(code, sha256):
        column = w.columns.get(loaded)
        if column is None or not column.numeric:
            continue
        at = w.positions(row_ids)
        ok = (at >= 0) & np.isnan(out)
        out[ok] = np.where(column.missing[at[ok]], np.nan, column.values[at[ok]])
    return out


def _gridded(values, sample):
    """True when ``values`` (a column's numbers) are rounded to few decimals that fill
    their range (prices in cents, readings to one decimal): such a value is found on
    another row by chance. ``sample`` (loaded values) gives the decimals."""
    for decimals in range(7):
        scaled = sample * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1, np.abs(scaled))):
            span = (np.nanmax(values) - np.nanmin(values)) * 10.0**decimals + 1
            return np.unique(values).size > 0.05 * span
    return False


def _precise(column):
    """True for a column of numbers, some not whole, not rounded to few decimals that
    fill their range (:func:`_gridded`): one row's value is met on another by no chance."""
    if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column):
        return False
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    values = values[~np.isnan(values)]
    fractions = values[values != np.round(values)]
    return fractions.size > 0 and not _gridded(values, fractions)


def _taken_elsewhere(column, ids, code, sources, name, row_ids):
    """``(position, row id, witness id)`` for each witness row of ``row_ids`` whose loaded
    value (one no whole number) another row of the data holds now, the row of its own
    id no longer: in a load larger than its witness rows, the row a value was moved to
    is found where the one it came from is not a witness (``shift``)."""
    if not row_ids.size or not pd.api.types.is_numeric_dtype(column.dtype):
        return []
    loaded = _loaded_numbers(code, sources[code].sha256, name, row_ids)
    keep = ~np.isnan(loaded) & (loaded != np.round(loaded))
    if not keep.any():
        return []
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    present = values[~np.isnan(values)]
    if not present.size or _gridded(present, loaded[keep]):
        return []
    at = np.flatnonzero(np.isin(values, loaded[keep]))
    holders = {}
    for q in at.tolist():
        holders.setdefault(values[q], []).append(q)
    out = []
    for row_id, value in zip(row_ids[keep].tolist(), loaded[keep].tolist()):
        elsewhere = [q for q in holders.get(value, ()) if int(ids[q]) != row_id]
        if len(elsewhere) == 1:  # (a value now on several rows: a fill, not one move)
            q = elsewhere[0]
            out.append((q, int(ids[q]), row_id))
    return out


def moved_values(X, ids, changed, sources):
    """Columns of ``X`` some of whose changed witness rows hold another row's value.

    Parameters
    ----------
    X : DataFrame
        The data, rows in the order of ``ids``.
    ids : ndarray of int64
        Row ids of ``X``.
    changed : Changes
        The columns of ``X`` changed after loading (:func:`._changes.changes`: its
        ``by_source`` and ``rows``).
    sources : dict
        Source code -> :class:`~._source.Source`.

    Returns
    -------
    moved : list of tuple
        ``(column, rows found, rows that differ, position in X, row id, id of the row
        whose loaded value it holds)`` per column, the first such row as an example.
    """
    out = []
    if not changed.by_source:
        return out
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    names = [str(c) for c in X.columns]
    replaced = np.array([r[0] for r in changed.replaced], dtype=np.int64)
    merges = {}  # source code -> MergeValues, or None for no merge
    for name, (_, differ_ids, filled_ids) in changed.rows.items():
        if name not in names or not differ_ids.size:
            continue
        # (rows holding none of their record's values are said as such: replaced)
        differ_ids = np.setdiff1d(differ_ids, np.concatenate([filled_ids, replaced]))
        if not differ_ids.size:
            continue
        at = np.searchsorted(sorted_ids, differ_ids)
        at = np.minimum(at, sorted_ids.size - 1)
        ok = sorted_ids[at] == differ_ids
        positions, differ_ids = order[at[ok]], differ_ids[ok]
        (now,) = _take_columns(X[[X.columns[names.index(name)]]], positions)
        keys = cell_keys(now)
        found = []
        for code, columns in changed.by_source.items():
            if name not in columns or code not in sources or columns[name][0] != name:
                continue  # (a new column found holding a loaded one's values: a lag)
            owner = _unique_owners(code, sources[code].sha256, columns[name][0])
            mine = codes_of(differ_ids) == code
            for k in np.flatnonzero(mine):
                other = owner.get(keys[k]) if _evidence(keys[k]) else None
                if other is not None and other != int(differ_ids[k]):
                    found.append((int(positions[k]), int(differ_ids[k]), other))
            seen = {f[1] for f in found}
            left = [k for k in np.flatnonzero(mine) if int(differ_ids[k]) not in seen]
            if code not in merges:
                loads = WITNESSES.loads(code, sources[code].sha256)
                merges[code] = MergeValues.of(sources[code], loads)
            if merges[code] is not None:  # (a merge's values repeat: named by parents)
                named = merged_holders(merges[code], name, keys, differ_ids, left, _evidence)
                found += [(int(positions[k]), row_id, other) for k, row_id, other in named]
                seen.update(row_id for _, row_id, _ in named)
                left = [k for k in left if int(differ_ids[k]) not in seen]
            found += _taken_elsewhere(
                X[X.columns[names.index(name)]], ids, code, sources, name, differ_ids[left]
            )
        column = X[X.columns[names.index(name)]]
        need = 1 if len(found) == 1 and _precise(column) else MIN_ROWS
        if len(found) >= need and 2 * len(found) >= differ_ids.size:
            position, row_id, other = min(found)
            stat = _statistic(column, position) if len(found) == 1 else None
            out.append((name, len(found), int(differ_ids.size), position, row_id, other, stat))
    return out


def _statistic(column, position):
    """The order statistic of ``column`` (``"median"``, ``"minimum"``, ``"maximum"``,
    of its other rows or of all) that the value at ``position`` equals, or None: one
    value set to such a statistic (an outlier capped, a gap imputed by hand) is some
    other row's value by construction, and is warned of as a copy would be."""
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    value = values[position]
    present = values[~np.isnan(values)]
    others = np.delete(values, position)
    others = others[~np.isnan(others)]
    if np.isnan(value) or not others.size:
        return None
    for label, of in (("median", others), ("median", present)):
        if value == np.median(of):
            return label
    if value == others.min():
        return "minimum"
    if value == others.max():
        return "maximum"
    return None


def moved_message(moved, name="X"):
    """The warning (and run note) for :func:`moved_values`' columns."""
    from ._capture import describe_id  # (it builds on the registry)

    column, n_found, n_differ, position, row_id, other, stat = moved[0]
    more = ""
    if len(moved) > 1:
        more = " (also " + ", ".join(f"{m[0]}: {m[1]} of {m[2]} rows" for m in moved[1:]) + ")"
    return (
        f"column {column} of {name}: {n_found} of the {n_differ} changed rows compared "
        f"hold the value loaded for another row, or their own is held by another "
        f"row{more}: row "
        f"{position} (lineage {describe_id(row_id)}) holds the {column} of "
        f"{describe_id(other)}. Values were moved between rows (shift, ffill/bfill, a "
        "column sorted or reindexed on its own): such a row's lineage names its own "
        "line, not the line its value came from, and unlearning that line does not "
        "remove the value. Make lag features in new columns beside the loaded ones, "
        "fill gaps in the pipeline (SimpleImputer), or join with sktraceprop.merge."
        + (
            f" That row's {column} is also the {stat} of the column's other rows: a value "
            f"set to the {stat} (a cap, a gap filled by hand) is warned of too, as the "
            "library cannot tell it from a copy; it also comes from other rows' lines."
            if stat
            else ""
        )
    )
