"""Per-source statistics through merges (for :mod:`._stats`): each source reached
through merged rows, with the training rows built from it, their label balance and the
missing values of the columns that come from it."""

import copy

import numpy as np
import pandas as pd

from ._ids import codes_of, distinct_codes, few_distinct
from ._source import REGISTRY
from ._stats_labels import _label_stats
from ._stats_missing import _missing_counts


def _through_merges(X, y, ids, classes, names, whole=None):
    """One statistics record per source reached through merged rows (see
    :func:`._stats.source_stats`).

    ``whole``: the label record and missing counts (per column of ``names``) of all the
    rows, when already counted: a source that every row was built from has those.
    """
    from ._merged_parents import expand
    from ._parents_kernel import rows_by_source

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
