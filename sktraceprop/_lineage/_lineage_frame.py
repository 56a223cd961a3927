"""The table naming where each row id comes from (source, uri, line, the merge it came
through)."""

import warnings

import numpy as np
import pandas as pd

from ._ids import codes_of, lines_of
from ._merged_parents import expand


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
