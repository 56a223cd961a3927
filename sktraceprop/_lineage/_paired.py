"""Refuse a target or sample weights whose row ids put their rows in another order
than the data given to a fit."""

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._capture import carried_ids, describe_id
from ._ids import codes_of, distinct_codes
from ._rows import index_ids
from ._source import REGISTRY


def check_paired(X, y=None, sample_weight=None, call="fit", ids=None):
    """Refuse ``y`` or ``sample_weight`` whose row ids put their rows in another order
    than ``X``'s (see :func:`check_aligned`): for the explainers' and valuers' own
    ``fit``, ``value``, ``score`` and ``explain``, which scikit-learn's traced fit does
    not reach. ``ids`` are ``X``'s rows' ids where the caller has them (``sample_id=``);
    else those ``X`` carries. Nothing is checked when ``X`` carries none."""
    if ids is None:
        ids = carried_ids(X, validate=False)
    if ids is None:
        return
    params = {} if sample_weight is None else {"sample_weight": sample_weight}
    check_aligned(np.asarray(ids, np.int64), y, params, call=call)


def check_aligned(ids, y, params, routes=None, call="fit"):
    """Refuse a target or fit parameter whose row ids put its rows in another order than X.

    scikit-learn pairs ``X`` and ``y`` by position; pandas aligns by index. A ``y`` sorted
    or filtered apart from ``X`` still has the right length, and every row would meet
    another row's target. Ids of other sources (labels read from their own file, paired
    by position) are not compared. The fit parameters compared are the sample weights:
    those named ``sample_weight`` or ``<step>__sample_weight``, and those a step receives
    as ``sample_weight`` under another name (``routes``, see ``_fit_routes``: a metadata
    routing alias). A validation set given as ``X_val`` (HistGradientBoosting) is
    compared with its ``y_val`` and ``sample_weight_val`` the same way. ``call`` names
    the method in the message.
    """
    routes = routes or {}
    weights = [
        (k, v)
        for k, v in params.items()
        if k.split("__")[-1] == "sample_weight"
        or any(d["as"] == "sample_weight" for d in routes.get(k, ()))
    ]
    for name, value in [("y", y), *weights]:
        _check_pair(ids, "X", name, value, call)
    val = {k.split("__")[-1]: (k, v) for k, v in params.items() if v is not None}
    if "X_val" in val:
        x_name, x_val = val["X_val"]
        val_ids = carried_ids(x_val, validate=False)
        if val_ids is not None:
            for key in ("y_val", "sample_weight_val"):
                if key in val:
                    _check_pair(val_ids, x_name, *val[key], call)


def _check_pair(ids, x_name, name, value, call="fit"):
    """Refuse ``value`` when its row ids are rows of ``ids``' sources in another order."""
    if not isinstance(value, pd.DataFrame | pd.Series):
        return
    other = index_ids(value.index)
    if other is None or other.dtype != np.int64 or other.shape != ids.shape:
        return
    if np.array_equal(other, ids):
        return
    if not np.isin(distinct_codes(other), distinct_codes(ids)).any():
        _check_merged_pair(ids, x_name, name, other, call)
        return
    k = int(np.flatnonzero(other != ids)[0])
    raise LineageError(
        f"{name} is not in the order of {x_name}: row {k} of {x_name} is "
        f"{describe_id(ids[k])} but row {k} of {name} is {describe_id(other[k])}. "
        f"scikit-learn pairs them by position, so rows would meet other rows' values; "
        f"{x_name} and {name} were sorted or filtered apart. Reorder {name} like {x_name} "
        f"({name}.loc[{x_name}.index]) before {call}. If the pairing is deliberate "
        f"(scikit-learn's permutation_test_score permutes y for its null distribution), "
        f"pass {name} without its row ids ({name}.to_numpy()): its values are then "
        f"recorded as given, without rows."
    )


def _check_merged_pair(ids, x_name, name, other, call):
    """Refuse ``other`` (a target's ids) when ``X``'s rows were merged
    (:func:`sktraceprop.merge`) from rows of its sources, but not from its rows in order:
    a ``y`` taken from one side of a merge that reordered the rows (``how="right"``,
    ``sort=True``). Rows of ``X`` merged from no row of those sources are not compared."""
    codes = distinct_codes(ids)
    if not any(REGISTRY.by_code(int(c)).kind == "merge" for c in codes):
        return
    from ._merged_parents import rows_behind

    behind, rows = rows_behind(ids, REGISTRY.by_code)
    mine = np.isin(codes_of(behind), distinct_codes(other))
    behind, rows = behind[mine], rows[mine]
    if not rows.size:
        return
    paired = np.zeros(ids.shape[0], bool)
    paired[rows[behind == other[rows]]] = True
    unpaired = np.setdiff1d(rows, np.flatnonzero(paired))
    if not unpaired.size:
        return
    k = int(unpaired[0])
    parent = behind[rows == k][0]
    raise LineageError(
        f"{name} is not in the order of {x_name}: row {k} of {x_name} was merged from "
        f"{describe_id(parent)} but row {k} of {name} is {describe_id(other[k])}. "
        f"scikit-learn pairs them by position, so rows would meet other rows' values; "
        f"the merge put the rows in another order than {name}'s. Take {name} from the "
        f"merged frame (its column) before {call}, or pass it without its row ids "
        f"({name}.to_numpy()) if the pairing is deliberate."
    )
