"""Say why data lost the row ids it had (the index reset, renamed or flattened; an id
column in a polars frame)."""

import numpy as np
import pandas as pd

from ..exceptions import LineageLostError
from ._ids import MAX_CODE, ROW_INDEX_NAME, TRACED_ATTR, codes_of, lines_of
from ._source import REGISTRY


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
