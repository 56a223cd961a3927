"""Rows derived from other rows: ``merge`` (joins) and ``aggregate`` (group statistics)."""

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._derived_notes import keep, warn_undecided
from ._derived_witness import aggregate_witnesses, merge_witnesses, unchecked_codes
from ._id_index import _with_ids
from ._ids import ROW_INDEX_NAME, distinct_codes, pack
from ._misplaced_merge import merge_sides
from ._read_paths import READ_PATHS_ATTR, joined
from ._record import changes
from ._replaced_rows import warn_replaced
from ._rows import row_ids
from ._source import REGISTRY, Parents, Source
from ._witness import WITNESSES

__all__ = ["aggregate", "merge"]

_LEFT, _RIGHT = "__stp_left_position__", "__stp_right_position__"


def _numbered(frame, name):
    """``frame`` with a column ``name`` of its row positions as nullable integers: where
    a side has gaps, pandas makes a plain int64 column float64 (NaN for no row), and the
    positions must stay integers, with "no row" a marker of its own."""
    return frame.assign(**{name: pd.array(np.arange(len(frame)), dtype="Int64")})


def _positions(column):
    """Parent positions from a merge result column (nullable integers, see
    :func:`_numbered`); -1 where the side did not match."""
    if not pd.api.types.is_integer_dtype(column.dtype):
        raise TypeError(f"merge positions must be integers, got {column.dtype}")
    return column.to_numpy(dtype=np.int64, na_value=-1)


def _identity(h, codes, columns, params):
    """SHA-256 naming a derived source: its parent rows, their sources and its parameters.

    ``h`` is :meth:`Parents.digest` of its parent rows. The rows' values are a function of
    these (the parents' content is named by their own hashes), so hashing the whole
    derived frame again is not needed.
    """
    for code in codes:
        h.update(REGISTRY.by_code(code).sha256.encode())
    h.update(json.dumps([list(map(str, columns)), params], sort_keys=True, default=str).encode())
    return h.hexdigest()


def _side_codes(ids):
    return tuple(int(c) for c in distinct_codes(ids))


def _register(kind, frame, digest, parents, parent_codes, columns_from, source_id):
    """Register ``frame`` as a derived source of ``kind``; return it with its new row ids.

    Returns ``(frame, source, ids)``: ``frame`` carrying the ids ``ids`` of the registered
    ``source`` (named ``source_id``, or ``"<kind>:<digest[:12]>"`` when None).
    """
    names = sorted({REGISTRY.by_code(c).source_id for c in parent_codes})
    source = REGISTRY.register(
        Source(
            source_id=source_id or f"{kind}:{digest[:12]}",
            code=None,
            uri=f"{kind}:" + "+".join(names),
            sha256=digest,
            n_rows=len(frame),
            columns=tuple(map(str, frame.columns)),
            dtypes=tuple(map(str, frame.dtypes)),
            kind=kind,
            parents=parents,
            parent_codes=parent_codes,
            columns_from=columns_from,
        )
    )
    ids = pack(source.code, np.arange(1, len(frame) + 1))
    return _with_ids(frame, ids), source, ids


def _origin(column, codes):
    """``[[code, column_in_that_source], ...]`` for a column taken from rows of ``codes``."""
    out = []
    for code in codes:
        source = REGISTRY.by_code(code)
        # Through a merge to the rows it was made of; an aggregate stays named, since its
        # values summarise a whole group rather than copy one row.
        if source.kind == "merge" and source.columns_from and column in source.columns_from:
            out += source.columns_from[column]
        else:
            out.append([code, column])
    return out


def _key_labels(kwargs, side):
    """The labels ``merge_kwargs`` give as join keys of one side (``"left"``/``"right"``)."""
    keys = kwargs.get("on") if kwargs.get("on") is not None else kwargs.get(f"{side}_on")
    keys = list(keys) if isinstance(keys, list | tuple) else [keys]
    return [k for k in keys if k is not None and pd.api.types.is_hashable(k)]


def _keyed(frame, keys, side):
    """``frame`` on a RangeIndex, its index levels named as join keys moved to columns.

    pandas joins on index level names as on columns (a file read with ``index_col``);
    the other levels are dropped, as pandas drops the index of a join on columns.
    """
    names = [n for n in frame.index.names if n is not None]
    levels = [k for k in keys if k in names and k not in frame.columns]
    if ROW_INDEX_NAME in levels:
        raise ValueError(
            f"sktraceprop.merge: the {side} key {ROW_INDEX_NAME!r} is the row ids; frames "
            "with the same rows align on them without a merge (DataFrame.join, "
            "pd.concat(axis=1))"
        )
    if levels:
        frame = frame.reset_index(level=levels)
    return frame.set_axis(pd.RangeIndex(len(frame)), axis=0)


def _merge_columns(left, right, kwargs):
    """Which side (or both) each output column of ``pd.merge`` comes from, by name."""

    def listed(value):
        # keys given as arrays (allowed by pandas) name no column
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]

    def label(value):
        return pd.api.types.is_hashable(value)

    on = kwargs.get("on")
    keys = {k for k in listed(on) if label(k)}
    if kwargs.get("left_on") is not None:
        pairs = zip(listed(kwargs.get("left_on")), listed(kwargs.get("right_on")))
        keys = {a for a, b in pairs if label(a) and label(b) and a == b}
    elif on is None and kwargs.get("how") != "cross":
        keys = set(left.columns) & set(right.columns)
    suffixes = kwargs.get("suffixes", ("_x", "_y"))
    overlap = (set(left.columns) & set(right.columns)) - keys
    sides = {}
    for c in left.columns:
        name = f"{c}{suffixes[0] or ''}" if c in overlap else c
        sides.setdefault(str(name), []).append(("left", c))
    for c in right.columns:
        name = f"{c}{suffixes[1] or ''}" if c in overlap else c
        sides.setdefault(str(name), []).append(("right", c))
    return sides


def merge(left, right, source_id=None, **merge_kwargs):
    """Merge two traced frames; each result row records the rows it was made of.

    Parameters
    ----------
    left, right : DataFrame
        Frames carrying row ids.
    source_id : str, default=None
        Name of the derived source; defaults to ``"merge:<hash>"``.
    **merge_kwargs
        Passed to :func:`pandas.merge` (``left_index``/``right_index`` are not supported:
        the index holds row ids). Keys may name index levels, as in pandas (a file read
        with ``index_col``): those levels join as columns and stay columns of the result.

    Returns
    -------
    df : DataFrame
        The merged rows, indexed by new row ids of the derived source. A row that matched
        on one side only (left, right and outer joins) records that one parent: the other
        side has no parent, never a placeholder line.
    """
    if merge_kwargs.get("left_index") or merge_kwargs.get("right_index"):
        raise ValueError("sktraceprop.merge: left_index/right_index are not supported")
    for frame in (left, right):
        clash = {_LEFT, _RIGHT} & {str(c) for c in frame.columns}
        if clash:
            raise ValueError(f"sktraceprop.merge: column names {sorted(clash)} are reserved")
    lids, rids = row_ids(left), row_ids(right)
    lf = _keyed(left, _key_labels(merge_kwargs, "left"), "left")
    rf = _keyed(right, _key_labels(merge_kwargs, "right"), "right")
    origins = _merge_columns(lf, rf, merge_kwargs)
    out = pd.merge(_numbered(lf, _LEFT), _numbered(rf, _RIGHT), **merge_kwargs)
    lpos, rpos = _positions(out[_LEFT]), _positions(out[_RIGHT])
    out = out.drop(columns=[_LEFT, _RIGHT])
    parents = Parents.from_positions(lpos, rpos, lids, rids)
    # The parents' SHA-256 (most of the derived source's identity) runs beside the checks
    # of the inputs: hashing releases the GIL.
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(parents.digest)
        # before anything is registered: rows holding other rows' values are refused here
        before = {"left": changes(left, lids, "left"), "right": changes(right, rids, "right")}
        hashed = hashing.result()
    said = []  # (what the fits of its rows note: see _derived_notes)
    for side in ("left", "right"):  # (a parent named for a row not holding its record)
        said += warn_replaced(before[side], side)
        said += warn_undecided(before[side], side, "sktraceprop.merge")
    lcodes, rcodes = _side_codes(lids), _side_codes(rids)
    columns_from = {}
    origins = {str(c): origins.get(str(c), []) for c in out.columns}
    for name, sides in origins.items():
        columns_from[name] = [
            ref
            for side, col in sides
            for ref in _origin(str(col), lcodes if side == "left" else rcodes)
        ]
    parent_codes = tuple(sorted(set(lcodes) | set(rcodes)))
    digest = _identity(hashed, parent_codes, out.columns, {"merge": merge_kwargs})
    out, source, out_ids = _register(
        "merge", out, digest, parents, parent_codes, columns_from, source_id
    )
    keep(source, "merge", said)
    paths = joined(left, right, codes=(lcodes, rcodes))  # the parent rows' paths
    if paths:
        out.attrs[READ_PATHS_ATTR] = paths
    else:
        out.attrs.pop(READ_PATHS_ATTR, None)
    sides = merge_sides(origins, lcodes, rcodes)
    positions = {"left": lpos, "right": rpos}
    changed = [
        (positions[side], before[side].compared_at, len(frame))
        for side, frame in (("left", left), ("right", right))
        if getattr(before[side], "rows", None)  # (a column differing or not known)
    ]
    WITNESSES.add(
        source.code,
        source.sha256,
        out,
        _inherited(origins, before, {"left": (lpos, lids), "right": (rpos, rids)}),
        ids=out_ids,
        sides=sides,
        chosen=merge_witnesses(out_ids, changed),
        unchecked=unchecked_codes(before["left"], lcodes)
        | unchecked_codes(before["right"], rcodes),
    )
    return out


def _marks(ids, compared_at, found):
    """Per row of an input (row ids ``ids``, witness rows compared at ``compared_at``),
    whether its id is one of each of ``found`` (ids of some of those witness rows), and a
    last entry ``False`` (for a position -1: no row)."""
    held = np.asarray(ids, dtype=np.int64)[compared_at]
    out = []
    for wanted in found:
        mark = np.zeros(len(ids) + 1, dtype=bool)
        mark[compared_at[np.isin(held, wanted)]] = True  # (a few hundred ids each)
        out.append(mark)
    return out


def _inherited(origins, before, parents):
    """Output column -> ``(differs, filled, known)`` over the rows made (see
    :meth:`._witness._Witnesses.add`): a row differs where a parent it took the column's
    value from is a witness row found changed in its input (:attr:`.ChangedColumns.rows`
    of :func:`changes`), was filled where that value was missing in the files, and is
    known where every parent it took the value from was compared (a row made from a
    row that is not a witness of its load may hold a changed value that nothing saw).

    ``origins``: output column -> ``[(side, input column), ...]``; ``before``: side ->
    :func:`changes` of that input; ``parents``: side -> ``(positions, ids)``, per row
    made the position of its parent row in that input (-1 where none), and the input's
    row ids (an aggregate's rows: :func:`_group_inherited`)."""
    out = {}
    for name, refs in origins.items():
        masks = None
        for side, col in refs:
            found = getattr(before[side], "rows", {}).get(str(col))
            if found is None:
                continue
            positions, ids = parents[side]
            marks = _marks(ids, before[side].compared_at, found)
            compared, differs, filled = (mark[positions] for mark in marks)
            # (a row with no parent on this side holds no value of it: nothing to know)
            known = compared | (positions < 0)
            if masks is None:
                masks = (differs, filled, known)
            else:
                masks = (masks[0] | differs, masks[1] | filled, masks[2] & known)
        if masks is not None:
            out[name] = masks
    return out


def aggregate(df, by, agg=None, *, source_id=None, dropna=True, **named):
    """Group statistics of a traced frame; each group row records the rows it was computed from.

    Use it with :func:`merge` to join group statistics back to rows ("the mean blood
    pressure of the patient's ward"): every merged row then records the aggregate row it
    joined, and the aggregate row records which source rows it was computed from, so
    unlearning and the compliance report can see that a feature carries information from
    every row of the group.

    Parameters
    ----------
    df : DataFrame
        Traced rows.
    by : str or list of str
        Grouping columns.
    agg : dict, default=None
        ``{column: function}`` as for :meth:`pandas.core.groupby.DataFrameGroupBy.agg`
        (one function per column).
    source_id : str, default=None
        Name of the aggregate source; defaults to ``"aggregate:<hash>"``.
    dropna : bool, default=True
        Drop rows whose group key is missing, as pandas does.
    **named
        Named aggregations, ``new_column=(column, function)``.

    Returns
    -------
    groups : DataFrame
        One row per group: the ``by`` columns and the statistics, indexed by row ids of
        the aggregate source (line ``k`` is the ``k``-th group in sorted key order; a
        categorical key sorts in its categories' order, and categories no row has make
        no group, with pandas 2 as with pandas 3).
    """
    if (agg is None) == (not named):
        raise ValueError("sktraceprop.aggregate: give either agg={column: function} or named=")
    spec = dict(agg or named)
    if agg is not None:
        bad = [c for c, f in spec.items() if isinstance(f, list | tuple)]
        if bad:
            raise ValueError(
                f"sktraceprop.aggregate: one function per column (got lists for {bad}); use "
                "named aggregations, new_column=(column, function)."
            )
    ids = row_ids(df)
    changed = changes(df, ids, "df")  # before anything is made (see merge)
    said = warn_replaced(changed, "df") + warn_undecided(changed, "df", "sktraceprop.aggregate")
    keys = [by] if isinstance(by, str) else list(by)
    # observed=True: a categorical key's categories with no row make no group, as in
    # pandas 3 (pandas 2 also made empty groups, which no row's ngroup() numbers)
    grouped = df.groupby(keys, sort=True, dropna=dropna, observed=True)
    # each row's group, -1 where it is in none (pandas numbers those NaN: a float column)
    group = grouped.ngroup().fillna(-1).to_numpy(dtype=np.int64)
    result = grouped.agg(spec) if agg is not None else grouped.agg(**named)
    result = result.reset_index()
    kept = group >= 0
    if kept.sum() and group[kept].max() + 1 != len(result):
        raise LineageError("sktraceprop.aggregate: groups and their statistics do not align")
    parents = Parents.from_groups(group[kept], ids[kept], len(result))
    codes = _side_codes(ids)
    columns_from, origins = {}, {}
    for column in result.columns:
        if column in keys:
            source_column = column
        elif agg is not None:
            source_column = column
        else:
            source_column = named[column][0]
        columns_from[str(column)] = _origin(str(source_column), codes)
        origins[str(column)] = [("in", source_column)]
    params = {"by": keys, "agg": spec, "named": named, "dropna": dropna}
    digest = _identity(parents.digest(), codes, result.columns, params)
    result, source, out_ids = _register(
        "aggregate", result, digest, parents, codes, columns_from, source_id
    )
    keep(source, "aggregate", said)
    inherited = _group_inherited(origins, changed, group, ids, len(result))
    chosen = None
    if changed.rows:  # (an input column differing or not known: see merge)
        chosen = aggregate_witnesses(out_ids, group, changed.compared_at)
    WITNESSES.add(
        source.code,
        source.sha256,
        result,
        inherited,
        ids=out_ids,
        chosen=chosen,
        unchecked=unchecked_codes(changed, codes),
    )
    return result


def _group_inherited(origins, changed, group, ids, n_groups):
    """:func:`_inherited` of an aggregate: a group's row differs where one of the rows it
    was computed from is a witness row found changed (``group``: each input row's group,
    -1 where it is in none), was filled where such a row's value was missing in the
    files, and is known where it differs or every row it was computed from was compared."""
    out = {}
    kept = group >= 0

    def some(mask):
        return np.bincount(group[kept & mask], minlength=n_groups) > 0

    for name, refs in origins.items():
        found = getattr(changed, "rows", {}).get(str(refs[0][1]))
        if found is None:
            continue
        compared, differs, filled = (m[:-1] for m in _marks(ids, changed.compared_at, found))
        out[name] = (some(differs), some(filled), some(differs) | ~some(~compared))
    return out
