"""Row ids of traced data (the row-id level of its index) and where each row comes from."""

import numpy as np
import pandas as pd

from .._polars_frame import is_polars
from ..exceptions import LineageError
from ._ids import ROW_INDEX_NAME
from ._lineage_frame import lineage_frame


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


def row_lineage(X, *, store=None):
    """Where each row of ``X`` comes from: source, URI and line.

    Parameters
    ----------
    X : DataFrame, Series, traced array or array-like of int64
        Traced data (``sktraceprop.array`` included), or packed row ids. A polars
        frame, which has no index to carry row ids, is refused.
    store : store, default=None
        The store whose erasure requests (``store.erase_rows``) to check the rows
        against. None: checked only against the requests made in this process (their
        rows True, naming them in ``frame.attrs["erasures_requests_here"]``); every
        other row says ``<NA>`` (a request made elsewhere is recorded only in its store).

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
        Column ``file_state`` says whether the row's file still holds the bytes read
        (their SHA-256 is recorded; each file is hashed again, once per call, unless
        its status, its status-change time included, is the one a call of this process
        hashed it with: see ``_file_digests``):
        ``"unchanged"``; ``"changed"`` (edited or replaced: the line may now hold another
        row), ``"missing"`` or ``"unreadable"``, each with a
        :class:`~sktraceprop.exceptions.LineageWarning` naming the file, its recorded
        SHA-256 and what is there now; ``"not a file"`` for rows of frames, arrays and
        aggregates (a merged row's parents are traced to their files); ``"unknown"``
        where this process lacks the source's record. Column ``erased`` (nullable
        boolean): True where the row of ``X`` is, or was built from, a row that an
        erasure request recorded in ``store`` named, or, given no store, one made in
        this process (with an :class:`~sktraceprop.exceptions.ErasedRowsHeldWarning`),
        False where none did, ``<NA>`` where not known (no store given, and no request
        made here named it); ``frame.attrs["erasures_checked"]`` and
        ``frame.attrs["erasures_note"]`` say which.

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
    from ._erasures_seen import erased_in_registry, with_erasures
    from ._file_digests import PROCESS_DIGESTS
    from ._file_state import with_file_states
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
    frame = lineage_frame(ids, sources)
    frame = with_file_states(frame, sources, "row_lineage", digests=PROCESS_DIGESTS)
    hit, seqs = erased_in_registry(store, ids, REGISTRY)
    return with_erasures(frame, frame["row"].to_numpy(), hit, seqs, store, "row_lineage")
