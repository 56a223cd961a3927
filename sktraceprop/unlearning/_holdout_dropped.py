"""A request that names only rows of a skorch validation split (never trained on, kept
as the calibration holdout): those rows dropped, the store told, the user warned."""

import warnings

import numpy as np

from ..utils._stack import user_stacklevel
from ._event import row_ids_digest
from ._event_fields import event_store

__all__ = ["drop_validation_only"]


def drop_validation_only(unl, dropped, what):
    """For a request that reaches no training row: drop the rows ``dropped`` (a mask) of
    the skorch validation split it names (never trained on, kept as the calibration
    holdout) and warn. The model is unchanged, so no unlearning event is logged; a store
    gets an ``unlearning.holdout_dropped`` event (the rows, the request), so that the
    record shows the request was carried out."""
    n = int(dropped.sum())
    ids = np.asarray(unl._method.validation_ids, dtype=np.int64)[dropped]
    store = event_store(unl)
    logged = ""
    if store is not None:
        event = store.append_event(
            "unlearning.holdout_dropped",
            {
                "request": what,
                "n_rows": n,
                "row_ids": ids.tolist(),
                "row_ids_sha256": row_ids_digest(ids),
            },
            run_id=getattr(unl, "run_id_", None),
        )
        logged = f"; the store logged unlearning.holdout_dropped event seq {event['seq']}"
    unl._method = unl._method.without_validation(dropped)
    warnings.warn(
        f"{what} names no row the model trained on, but {n} row(s) of its skorch "
        "validation split (never trained on, kept as the calibration holdout): those "
        "were dropped from what the unlearner keeps. The model is unchanged (it never "
        f"trained on them), so no unlearning event was logged{logged}.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
