"""Which rows of ``X`` a fitted model was trained on, and the file lines behind them.

A model explained as it is must be given the rows it was fitted on, in order: those its
run recorded, or those an unlearner retained. A sampler or a skorch validation split
leaves the final estimator fewer rows than ``X``: their positions in ``X`` are found by
row id. Each training row is then located in its source file (a merged row once per
parent).
"""

import numpy as np
import pandas as pd

from .._lineage._capture import resolve_row_ids
from .._lineage._ids import codes_of, lines_of
from .._lineage._lineage_frame import lineage_frame
from .._lineage._source import REGISTRY
from ..exceptions import LineageError

__all__ = ["check_training_ids", "check_training_rows", "input_positions", "locate"]


def check_training_rows(X, lineage):
    """A model explained as it is must be given the rows it was fitted on."""
    expected = lineage.input_row_ids if lineage.input_row_ids is not None else lineage.row_ids
    check_training_ids(X, expected, f"its run {lineage.run_id} recorded")


def check_training_ids(X, expected, whose):
    """Refuse ``X`` unless its rows are ``expected`` (the rows the model holds, as
    ``whose`` says), in that order."""
    given = resolve_row_ids(X)
    if given.shape == expected.shape and np.array_equal(given, expected):
        return
    unknown = int((~np.isin(given, expected)).sum())
    untraced = ""
    if all(REGISTRY.by_code(int(c)).kind == "anonymous" for c in np.unique(codes_of(given))):
        untraced = (
            " X carries no row ids (it is not traced), so its rows match only when it "
            "is the very array the model was fitted on, not a subset of it: trace the "
            "data before fitting (sktraceprop.from_numpy, sktraceprop.from_pandas or "
            "read_csv) so that a subset keeps its rows' ids."
        )
    raise ValueError(
        f"X is not the data the fitted model was trained on: {expected.size} rows "
        f"{whose}, X has {given.size} rows ({unknown} of them not among those, or in "
        "another order). A fitted model is explained as it is: pass the rows it was "
        "fitted on, in the same order (for an unlearner, X[unlearner.retained_mask_] "
        "when X is what it was fitted on), or an unfitted estimator "
        f"(sklearn.base.clone(model)) to fit one on X.{untraced}"
    )


def input_positions(input_ids, row_ids, n):
    """Positions in ``X`` (row ids ``input_ids``, ``n`` rows) of the rows the final
    estimator trained on (``row_ids``), or None when they are all of them, in order."""
    if row_ids is input_ids or (
        row_ids.shape == input_ids.shape and np.array_equal(row_ids, input_ids)
    ):
        return None
    # A sampler or a skorch split changed the rows: find each final row in the input.
    order = np.argsort(input_ids, kind="stable")
    found = np.searchsorted(input_ids[order], row_ids)
    found = np.clip(found, 0, n - 1)
    ok = input_ids[order][found] == row_ids
    if not ok.all():
        raise ValueError(
            f"{int((~ok).sum())} training rows of the final estimator are not rows of "
            "X (synthesised by a sampler); influence needs real training rows."
        )
    return order[found]


def locate(ids, sources=None):
    """The file lines behind each training row: a merged row once per parent.

    ``sources`` maps a code to its :class:`Source` (default: this process's registry;
    :func:`~sktraceprop._lineage._read_paths.run_sources` gives a run's, whose files
    name the paths the run's rows were read from). Where a merge's parent rows stayed
    in the process that made it (a worker of ``GridSearchCV(n_jobs=2)``), its rows are
    named by the merge itself (its ``merge:`` URI and row number), as
    :func:`sktraceprop.row_lineage` cannot do better there.
    """
    sources = REGISTRY.by_code if sources is None else sources
    try:
        return lineage_frame(ids, sources, position_name="train_index")
    except LineageError:
        codes = codes_of(ids)
        table = {int(c): sources(int(c)) for c in pd.unique(codes)}
        out = pd.DataFrame(
            {
                "train_index": np.arange(ids.size),
                "row_id": ids,
                "source_id": [table[int(c)].source_id for c in codes],
                # a file read from several paths (copies) by a fit that cannot say
                # which: no one uri, every path in uris (see lineage_frame)
                "uri": [_one_uri(table[int(c)]) for c in codes],
                "line": lines_of(ids),
            }
        )
        if any(len(s.uris()) > 1 for s in table.values()):
            out["uris"] = [tuple(table[int(c)].uris()) for c in codes]
        return out


def _one_uri(source):
    return source.uri if len(source.uris()) == 1 else None
