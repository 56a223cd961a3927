"""The tables an :class:`~sktraceprop.influence.Explanation` hands out: its top rows,
its sums per source and one row's trace, built from what it holds of its fit (the
caller refuses where that fit was dropped)."""

import numpy as np
import pandas as pd

from .._lineage._ids import codes_of
from .._lineage._source import REGISTRY
from ._of_fit import warn_erased_scored

__all__ = ["lines_of", "source_table", "top_table", "trace_row"]


def lines_of(train_rows, train_index):
    """Positions in ``train_rows`` (an explanation's, sorted by ``train_index``) of the
    lines behind each training row at ``train_index``, and how many each has."""
    at = train_rows["train_index"].to_numpy()
    start = np.searchsorted(at, train_index, side="left")
    count = np.searchsorted(at, train_index, side="right") - start
    offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(start, count) + offsets, count


def top_table(explanation, n, opponents):
    """:meth:`Explanation.top`'s table, with its ``erased`` column."""
    idx, val = (
        (explanation._bottom_indices, explanation._bottom_scores)
        if opponents
        else (explanation._top_indices, explanation._top_scores)
    )
    k = idx.shape[1] if n is None else min(int(n), idx.shape[1])
    idx, val = idx[:, :k], val[:, :k]
    n_test = idx.shape[0]
    train_index = idx.ravel()
    lines, count = lines_of(explanation._train_rows, train_index)
    rows = explanation._train_rows.iloc[lines]
    out = pd.DataFrame(
        {
            "test_index": np.repeat(np.repeat(np.arange(n_test), k), count),
            "rank": np.repeat(np.tile(np.arange(k), n_test), count),
            "train_index": np.repeat(train_index, count),
            "score": np.repeat(val.ravel(), count),
            "row_id": rows["row_id"].to_numpy(),
            "source_id": rows["source_id"].to_numpy(),
            "uri": rows["uri"].to_numpy(),
            "line": rows["line"].to_numpy(),
        }
    )
    if "uris" in rows:  # sources read from several paths (uri missing for them)
        out["uris"] = rows["uris"].to_numpy()
    if "via" in rows:
        out["via"] = rows["via"].to_numpy()
    out["file_state"] = explanation._with_file_states(rows, "Explanation.top")["file_state"].array
    return explanation._with_erasures(out, "Explanation.top")


def source_table(explanation, test_index):
    """:meth:`Explanation.by_source`'s table, with no word of erased rows."""
    frame = explanation._source_scores  # (refused, and erased rows said, by the caller)
    if test_index is not None:
        frame = frame.iloc[np.atleast_1d(test_index)]
    sources, n_rows = explanation._sources, explanation._source_rows
    total = frame.sum(axis=0).to_numpy()
    out = pd.DataFrame(
        {
            "source_id": [s.source_id for s in sources],
            "uri": [s.uri for s in sources],
            "sha256": [s.sha256 for s in sources],
            "label": list(frame.columns),
            "n_rows": n_rows,
            "score": total,
        }
    )
    out["mean_score"] = out["score"] / (out["n_rows"] * len(frame))
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def trace_row(explanation, test_index, rank, opponents):
    """:meth:`Explanation.trace`'s dict."""
    idx, val = (
        (explanation._bottom_indices, explanation._bottom_scores)
        if opponents
        else (explanation._top_indices, explanation._top_scores)
    )
    train_index = int(idx[test_index, rank])
    row_id = int(explanation._explainer.train_row_ids_[train_index])
    lines, _ = lines_of(explanation._train_rows, np.array([train_index]))
    keys = ("row_id", "source_id", "uri", "uris", "line", "via", "file_state")
    rows = explanation._with_file_states(explanation._train_rows.iloc[lines], "Explanation.trace")
    found = [
        {
            key: (int(value) if key in ("row_id", "line") else value)
            for key, value in row.items()
            if not (key in ("via", "uris") and not isinstance(value, str | tuple))
        }
        for row in rows[[c for c in keys if c in rows]].to_dict("records")
    ]
    if len(found) == 1 and found[0]["row_id"] == row_id:
        source_id, uri, line = found[0]["source_id"], found[0]["uri"], found[0]["line"]
        file_state = found[0]["file_state"]
    else:
        source = REGISTRY.by_code(int(codes_of(np.array([row_id]))[0]))
        source_id, uri, line = source.source_id, source.uri, None
        file_state = "not a file"  # (a merged row: its lines' files are in lines)
    if not isinstance(uri, str):  # read from several paths: which one is not known
        uri = None
    # a row the explained unlearner removed since: its values are not shown again
    removed, withheld = explanation._explainer._removal(row_id)
    # (its score, and every other, is of the model the erased rows trained)
    warn_erased_scored(explanation, "Explanation.trace")
    return {
        "test_index": int(test_index),
        "rank": int(rank),
        "train_index": train_index,
        "score": float(val[test_index, rank]),
        "row_id": row_id,
        "source_id": source_id,
        "uri": uri,
        "line": line,
        "file_state": file_state,
        "lines": found,
        "values": None if withheld else explanation._explainer._raw_values(train_index),
        "ops": explanation._explainer._ops(train_index),
        "removed": removed,
    }
