"""Row ids of traced data, and where each row comes from (through merges and aggregates)."""

import warnings

import numpy as np
import pandas as pd

from .._polars_frame import is_polars
from ..exceptions import LineageError
from ._ids import ROW_INDEX_NAME, codes_of, distinct_codes, lines_of

#: Merges of merges are expanded at most this deep.
_MAX_DEPTH = 64


def index_ids(index):
    """The raw values of the row-id level of a pandas index, or None when it has none."""
    if isinstance(index, pd.MultiIndex):
        if ROW_INDEX_NAME not in index.names:
            return None
        names = list(index.names)
        if names.count(ROW_INDEX_NAME) == 1:
            level = names.index(ROW_INDEX_NAME)
            if _in_order(index.codes[level], len(index.levels[level])):
                # each row holds the level's value at its own position (the level read_csv
                # builds for a file's index_col): the level is the values, nothing taken
                return index.levels[level].to_numpy()
        return index.get_level_values(ROW_INDEX_NAME).to_numpy()
    if index.name != ROW_INDEX_NAME:
        return None
    return index.to_numpy()


def _in_order(codes, n_level):
    """True when ``codes`` are ``0, 1, ..., n_level - 1``: row ``k`` holds level value ``k``."""
    codes = np.asarray(codes)
    if codes.size != n_level or not n_level:
        return False
    if codes[0] != 0 or codes[-1] != n_level - 1:  # (most other orders, at no cost)
        return False
    return bool(np.array_equal(codes, np.arange(n_level, dtype=codes.dtype)))


def has_id_level(index):
    if isinstance(index, pd.MultiIndex):
        return ROW_INDEX_NAME in index.names
    return index.name == ROW_INDEX_NAME


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
    from ._lost_ids import _lost
    from ._resembles_loaded import holders, shared_columns

    if is_polars(X):
        raise LineageError(
            f"a polars {type(X).__name__} has no index to carry sktraceprop row ids: "
            "register it with sktraceprop.from_polars (which returns its rows as a traced "
            "pandas frame), or read its file with sktraceprop.read_csv."
        )
    ids = ids_from_index(X)
    if ids is None:
        lost = _lost(X, name=type(X).__name__)
        shared = None if lost else shared_columns(X)
        if shared:  # (no marker left: pd.merge_asof, a plain merge before pandas 3)
            lost = (
                f"{type(X).__name__} carries no sktraceprop row ids (its index has no level "
                f"{ROW_INDEX_NAME!r}), but {len(shared)} of its {len(X.columns)} columns "
                f"are columns of traced source(s) {holders(shared)}: if it was derived "
                "from them, an operation that builds new rows (pd.merge_asof, a plain "
                "merge, groupby().agg) dropped their ids and every other marker. Merge "
                "with sktraceprop.merge, aggregate with sktraceprop.aggregate, or keep "
                "the index."
            )
        raise LineageError(
            lost
            or f"{type(X).__name__} carries no sktraceprop row ids (its index has no level "
            f"{ROW_INDEX_NAME!r}); load it with sktraceprop.read_csv/from_pandas/from_numpy."
        )
    return ids


def expand(ids, sources, with_via=True):
    """``(position, leaf_id, via)`` for every leaf row behind each id.

    Merged rows are replaced by their parent rows (``via`` names the merge); aggregate
    rows are leaves here: expanding a group into all its rows would multiply a frame by
    the group sizes (see :func:`depends_on` for what an aggregate was computed from).
    ``with_via=False`` gives ``via`` as None (an object array per row is the slow part).
    Leaves come level by level (a row's own leaves before those of its merged parents);
    within a level, by merge in order of first appearance, each row's parents in their
    recorded order.
    """
    pos = None  # positions of the current rows in the given ids; None while 0 .. n-1
    via = np.full(ids.size, None, dtype=object) if with_via else None
    out = []
    for _ in range(_MAX_DEPTH):
        present = distinct_codes(ids)
        merges = [c for c in present.tolist() if sources(c).kind == "merge"]
        if not merges:
            out.append((pos, ids, via))
            break
        codes = None if present.size == 1 else codes_of(ids)
        if len(merges) > 1:  # in order of first appearance, as the rows list them
            merges.sort(key=lambda c: int(np.argmax(codes == c)))
        nxt_pos, nxt_ids, nxt_via = [], [], []
        for code in merges:
            src = sources(code)
            at = None if codes is None else np.flatnonzero(codes == code)
            which, parent_ids = src.require_parents().of(
                lines_of(ids if at is None else ids[at]) - 1
            )
            where = which if at is None else at[which]
            nxt_pos.append(where if pos is None else pos[where])
            nxt_ids.append(parent_ids)
            if with_via:
                nxt_via.append(np.full(parent_ids.size, src.source_id, dtype=object))
        if len(merges) < present.size:
            leaf = np.flatnonzero(~np.isin(codes, merges))
            out.append(
                (leaf if pos is None else pos[leaf], ids[leaf], None if via is None else via[leaf])
            )
        pos, ids = _joined(nxt_pos), _joined(nxt_ids)
        via = _joined(nxt_via) if with_via else None
    else:
        raise LineageError(f"merges nested deeper than {_MAX_DEPTH} levels")
    if out[0][0] is None:  # no row was merged
        out[0] = (np.arange(ids.size), *out[0][1:])
    pos, leaf_ids = _joined([p for p, _, _ in out]), _joined([i for _, i, _ in out])
    return pos, leaf_ids, _joined([v for _, _, v in out]) if with_via else None


def _joined(parts):
    """The arrays one after the other (the one array itself, not a copy, when alone)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def lineage_frame(ids, sources, position_name="row"):
    """DataFrame describing each row id; ``sources`` maps a code to its :class:`Source`.

    A file source whose bytes ``sources`` says were read from several paths (copies
    under one ``source_id``, not told apart by the ids) gives its rows no ``uri`` (one
    path would name one they need not have been read from) and a ``uris`` column
    listing every path, each holding the same bytes; with a warning."""
    ids = np.asarray(ids, dtype=np.int64)
    pos, leaf_ids, via = expand(ids, sources)
    codes = codes_of(leaf_ids)
    unique = np.unique(codes)
    table = [sources(c) for c in unique]
    which = np.searchsorted(unique, codes)
    several = [len(s.uris()) > 1 for s in table]
    frame = pd.DataFrame(
        {
            position_name: pos,
            "row_id": leaf_ids,
            "source_id": _categorical(which, [s.source_id for s in table]),
            "uri": _categorical(which, [None if k else s.uri for s, k in zip(table, several)]),
            "line": lines_of(leaf_ids),
        }
    )
    if any(several):
        uris = np.empty(len(table), dtype=object)
        uris[:] = [tuple(s.uris()) for s in table]
        frame["uris"] = uris[which]
    if any(v is not None for v in via):
        frame["via"] = via
    _warn_several_paths([s for s, k in zip(table, several) if k])
    return frame.sort_values([position_name], kind="stable").reset_index(drop=True)


def _warn_several_paths(several):
    """Say so where rows name a source whose bytes were read from several paths and
    which of them these rows were read from is not known (ids alone, a concat of frames
    read from two copies): their ``uri`` is empty and ``uris`` lists the paths."""
    if not several:
        return
    from ..exceptions import LineageWarning
    from ..utils._stack import user_stacklevel

    names = "; ".join(
        f"source {s.source_id!r} (sha256 {s.sha256[:12]}...): {', '.join(s.uris())}"
        for s in several
    )
    warnings.warn(
        f"the same bytes were read from several paths under one source_id ({names}), "
        "and which of them these rows were read from is not known (row ids alone; a "
        "frame that lost the path it was read from, as pandas drops DataFrame.attrs in "
        "some operations (get_dummies); a concat or merge of frames read from two "
        "copies): their uri is empty and the uris column lists the paths they may have "
        "been read from, each holding the same bytes (so the line is the same in each)",
        LineageWarning,
        stacklevel=user_stacklevel(),
    )


def _categorical(which, labels):
    # Versions of one source share a source_id (and a file its uri): categories are unique.
    # A None label (a uri not known: see lineage_frame) is a missing value.
    known = [label for label in labels if label is not None]
    names = np.unique(np.asarray(known, dtype=object)) if known else np.array([], object)
    codes = np.array(
        [-1 if label is None else int(np.searchsorted(names, label)) for label in labels],
        dtype=np.int64,
    )
    return pd.Categorical.from_codes(codes[which], names)


def _hits(ids, sources, removed, memo, inner=False):
    """``(hit, direct)`` for each id: is it, or (through merges and aggregates) was it
    built from, a removed row; and is it, or was it merged from, one (aggregates aside).
    ``inner``: some removed rows are merged rows, looked for among the merged rows too."""
    pos, leaf_ids, _ = expand(ids, sources, with_via=False)
    leaf_hit = removed(leaf_ids)
    hit = leaf_hit.copy()
    codes = codes_of(leaf_ids)
    for code in pd.unique(codes):
        src = sources(code)
        if src.kind != "aggregate":
            continue
        if code not in memo:
            parents = src.require_parents()
            member, _ = _hits(parents.ids, sources, removed, memo, inner)
            counts = np.diff(parents.indptr)
            group_hit = np.zeros(parents.n_rows, bool)
            nonempty = counts > 0
            sums = np.add.reduceat(member.astype(np.int64), parents.indptr[:-1][nonempty])
            group_hit[nonempty] = sums > 0
            memo[code] = group_hit
        m = codes == code
        hit[m] |= memo[code][lines_of(leaf_ids[m]) - 1]
    out = np.zeros(ids.size, bool)
    np.logical_or.at(out, pos, hit)
    direct = np.zeros(ids.size, bool)
    np.logical_or.at(direct, pos, leaf_hit)
    # a removed merged row (a training row removed whole) is no leaf: the rows that are
    # it, or were merged from it at any depth, are found among every row's ancestors
    if inner:
        within = removed_within(ids, sources, removed)
        out |= within
        direct |= within
    return out, direct


def _is_merge(sources, code):
    """Whether ``code`` names a merge (False for a code ``sources`` does not know)."""
    try:
        return sources(code).kind == "merge"
    except (KeyError, LineageError):
        return False


def removed_within(ids, sources, removed):
    """For each id: is it, or a merged row it was built from at any depth, one that
    ``removed`` (a mask over ids) says is removed? Leaves are asked too."""
    out = np.zeros(ids.size, bool)
    for pos, level in levels(ids, sources):
        out[pos[removed(level)]] = True
    return out


def levels(ids, sources):
    """``(positions in ids, row ids)`` of ``ids`` and then, level by level, of the rows
    their merged rows were merged from (merged rows and leaves alike)."""
    pos = np.arange(ids.size)
    for _ in range(_MAX_DEPTH + 1):
        if not ids.size:
            return
        yield pos, ids
        codes = codes_of(ids)
        merges = [c for c in np.unique(codes).tolist() if sources(c).kind == "merge"]
        nxt_pos, nxt_ids = [pos[:0]], [ids[:0]]
        for code in merges:
            at = np.flatnonzero(codes == code)
            which, parents = sources(code).require_parents().of(lines_of(ids[at]) - 1)
            nxt_pos.append(pos[at[which]])
            nxt_ids.append(parents)
        pos, ids = np.concatenate(nxt_pos), np.concatenate(nxt_ids)
    raise LineageError(f"merges nested deeper than {_MAX_DEPTH} levels")


def rows_behind(ids, sources):
    """``(row_ids, rows)``: every row the merged rows among ``ids`` were built from, at
    every level of the merges (the merged rows of an inner merge and the leaves alike),
    and the position in ``ids`` of the row each is behind (empty when no row is merged).
    """
    found = [(np.empty(0, np.intp), np.empty(0, np.int64))]
    for depth, (pos, level) in enumerate(levels(np.asarray(ids, dtype=np.int64), sources)):
        if depth:
            found.append((pos, level))
    return (
        np.concatenate([level for _, level in found]).astype(np.int64, copy=False),
        np.concatenate([pos for pos, _ in found]).astype(np.intp, copy=False),
    )


def depends_on(ids, sources, removed_ids=None, removed_codes=None):
    """Which rows were built from removed rows, through merges or aggregates.

    Parameters
    ----------
    ids : ndarray of int64
        Row ids to check (a run's training rows, say).
    sources : callable
        Maps a code to its :class:`Source`.
    removed_ids : array-like of int64, default=None
        Row ids being removed: leaf rows (file lines), or merged rows removed whole
        (a training row merged by :func:`sktraceprop.merge`), which hit the rows that
        are them or were merged from them.
    removed_codes : iterable of int, default=None
        Sources being removed whole.

    Returns
    -------
    row : ndarray of bool of shape (n,)
        True where the row is a removed row, has one among its merge parents, or joins
        an aggregate computed over one.
    via_aggregate : ndarray of bool of shape (n,)
        True where the row depends on a removed row only through an aggregate.
    """
    ids = np.asarray(ids, dtype=np.int64)
    removed_ids = np.unique(np.asarray([] if removed_ids is None else removed_ids, np.int64))
    removed_codes = np.asarray(sorted(set(removed_codes or ())), dtype=np.int64)

    def removed(leaf):
        return np.isin(leaf, removed_ids) | np.isin(codes_of(leaf), removed_codes)

    removed_codes_all = np.union1d(distinct_codes(removed_ids), removed_codes)
    inner = any(_is_merge(sources, c) for c in removed_codes_all.tolist())
    row, direct = _hits(ids, sources, removed, {}, inner)
    return row, row & ~direct


def row_lineage(X):
    """Where each row of ``X`` comes from: source, URI and line.

    Parameters
    ----------
    X : DataFrame, Series, traced array or array-like of int64
        Traced data (``sktraceprop.array`` included), or packed row ids. A polars
        frame, which has no index to carry row ids, is refused.

    Returns
    -------
    lineage : DataFrame
        Columns ``row`` (position in ``X``), ``row_id``, ``source_id``, ``uri`` and
        ``line`` (physical 1-based file line, or 1-based row position for frames and
        arrays; the group number for an aggregate). A merged row appears once per
        parent, with the merge in column ``via``. Two versions of one ``source_id`` share
        the name; their ``uri`` and ``row_id`` tell them apart. A file whose bytes were
        read from several paths (copies, one ``source_id``: the same row ids) is named
        by the path ``X`` was read from (a frame read by :func:`read_csv` carries it);
        where that is not known (row ids alone, a concat or merge of frames read from
        two copies), ``uri`` is empty and a ``uris`` column lists every path (each
        holding the same bytes), with a :class:`~sktraceprop.exceptions.LineageWarning`.

    The values are checked first, as a traced fit checks them: against the values kept
    of each load (every row of a load under 512 rows; 256 to 512 rows of a larger one).
    A row holding another row's values (labels swapped, values assigned without
    alignment) is refused; rows holding none of their line's values (overwritten whole,
    added under an id, blanked by ``where``/``mask``), values moved between rows
    (``shift``, ``ffill``) and a loaded column computed over rows (``cumsum``,
    ``rolling().mean()``) are named in a :class:`~sktraceprop.exceptions.LineageWarning`.
    A Series is checked as the frame of its one column (a row holding another row's
    values is noticed from two columns); a traced array as a fit checks an array given
    with ``sample_id=``, with a warning where it cannot be (one column, not numbers);
    rows whose loaded values this process does not keep (read in a worker process) are
    named in a warning. The rows named are unchanged.

    Raises
    ------
    LineageError
        When a row of ``X`` holds the values loaded for another row: its row id would
        name a line whose record it does not hold.
    """
    from ._capture import carried_ids, validate_ids
    from ._read_paths import narrowed_sources
    from ._row_check import check_values
    from ._source import REGISTRY

    sources = REGISTRY.by_code
    if isinstance(X, pd.DataFrame | pd.Series) or is_polars(X):
        ids = row_ids(X)  # (a polars frame, with no index, is refused)
        check_values(X, ids)
        # a file's rows named by the path this frame read them from (its copies share ids)
        sources = narrowed_sources(X, sources)
    elif getattr(X, "__stp_row_ids__", None) is not None:  # sktraceprop.array
        ids = carried_ids(X)
        check_values(X, ids)
    elif hasattr(X, "fit") or hasattr(X, "lineage_"):
        raise TypeError(
            f"row_lineage takes traced data or row ids, not a {type(X).__name__}; a fitted "
            "traced estimator's training rows are in its lineage_ (lineage_.rows(), "
            "lineage_.trace(i))"
        )
    else:
        ids = validate_ids(np.asarray(X), REGISTRY)
    return lineage_frame(ids, sources)


def ancestor_codes(sources, codes):
    """``codes`` and the codes of every source their rows were built from (merges'
    and aggregates' parents, at every depth), among the keys of ``sources`` (a dict
    code -> Source)."""
    seen, todo = set(), [int(c) for c in codes]
    while todo:
        c = todo.pop()
        if c in seen or c not in sources:
            continue
        seen.add(c)
        todo.extend(int(p) for p in sources[c].parent_codes)
    return seen
