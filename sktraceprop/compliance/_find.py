"""Logged decisions found again from their input rows (an applicant contests one).

A prediction event holds :func:`~sktraceprop.compliance.hash_rows` of the rows the call
was given, as one batch: the rows are found by hashing them again as they were given
(the same values, column names and order, and the same rows in the batch). A row
scored inside a larger batch is found only with that batch, then picked out by its
position (``row=``): the log holds no hash per row.
"""

import warnings

import numpy as np
import pandas as pd

from .._prediction_log import decode_array
from .._row_hash import hash_rows

__all__ = ["find_predictions", "logged_outputs"]

#: The columns of :func:`find_predictions`' table.
COLUMNS = (
    "seq",
    "created_at",
    "run_id",
    "method",
    "n_rows",
    "row",
    "output",
    "classes",
    "model_fingerprint",
    "model_fingerprint_now",
    "estimator",
    "changed_since_fit",
    "replaced_since_fit",
    "event_hash",
)


def logged_outputs(payload):
    """The outputs a logged call returned, decoded from its event's payload.

    Parameters
    ----------
    payload : dict
        The ``payload`` of a ``"prediction"`` event (``store.events(kind="prediction")``).

    Returns
    -------
    outputs : ndarray
        ``predict``'s labels as the text of the classes (the log keeps ``str`` of each
        class), scores as logged (float64, one column per class in ``classes``), other
        outputs as their text.
    """
    record = payload["outputs"]
    if "labels" in record:
        classes = np.asarray(record["classes"], dtype=object)
        return classes[decode_array(record["labels"]).astype(np.intp)]
    values = record["values"]
    if "text" in values:
        return np.asarray(values["text"], dtype=object).reshape(record["shape"])
    return decode_array(values)


def find_predictions(store, X, *, row=None, run_id=None):
    """The logged calls whose input rows were ``X``: which model answered, when, what.

    ``X`` is hashed by :func:`~sktraceprop.compliance.hash_rows` and compared with the
    ``input_sha256`` of every ``"prediction"`` event of ``store`` (read as stored; run
    ``store.verify()`` for the hash chain). A decision is found from the rows as they
    were given: the same values (an integer column and a float one holding the same
    numbers differ), column names and order, and the same batch. A row scored among
    others is not found alone: pass the batch, and ``row`` for its position in it.

    Parameters
    ----------
    store : BaseStore
        The store the model logged to (``SQLiteStore(path, mode="ro")`` in another
        process).
    X : DataFrame or array-like
        The input rows as given to ``predict`` (for one applicant scored alone, a
        one-row frame: ``frame.iloc[[i]]``, not the Series ``frame.iloc[i]``).
    row : int, default=None
        Position of one row in ``X``: the ``output`` column then holds that row's
        output only.
    run_id : str, default=None
        Only the events of this run.

    Returns
    -------
    found : DataFrame
        One row per matching call, oldest first: ``seq``, ``created_at`` (UTC, ISO
        8601), ``run_id`` (the model that answered: ``store.load_run(run_id)`` gives its
        training data), ``method``, ``n_rows``, ``row``, ``output`` (what the call
        returned, see :func:`logged_outputs`, or the row's part), ``classes`` (the
        order of the classes in the output, or None), ``model_fingerprint`` (the
        run's; after an unlearner's removal, the corrected model's),
        ``model_fingerprint_now`` (where the model had changed since its run's fit:
        the fingerprint of the model that answered, else None), ``estimator``,
        ``changed_since_fit`` and ``replaced_since_fit`` (the steps that no longer
        were as the run recorded when the call was answered, or None), and
        ``event_hash``.

    Warns
    -----
    UserWarning
        When ``X`` is a Series and nothing matched: a Series is hashed as one column
        (a row taken with ``frame.iloc[i]`` is its values as a column).
    """
    n_rows = len(X) if isinstance(X, pd.DataFrame | pd.Series) else np.shape(X)[0]
    if row is not None:
        if not isinstance(row, int | np.integer) or isinstance(row, bool):
            raise TypeError(f"row must be an integer position in X, got {row!r}")
        if not 0 <= row < n_rows:
            raise ValueError(f"row {row} is not a position in X, which has {n_rows} rows")
    digest = hash_rows(X)
    found = []
    for event in store.events(run_id, kind="prediction"):
        payload = event["payload"]
        if payload.get("input_sha256") != digest:
            continue
        outputs = logged_outputs(payload)
        found.append(
            {
                "seq": event["seq"],
                "created_at": event["created_at"],
                "run_id": event["run_id"],
                "method": payload["method"],
                "n_rows": payload["n_rows"],
                "row": row,
                "output": outputs if row is None else outputs[row],
                "classes": payload["outputs"].get("classes"),
                "model_fingerprint": payload.get("model_fingerprint"),
                "model_fingerprint_now": payload.get("model_fingerprint_now"),
                "estimator": payload.get("estimator"),
                "changed_since_fit": payload.get("changed_since_fit"),
                "replaced_since_fit": payload.get("replaced_since_fit"),
                "event_hash": event["hash"],
            }
        )
    if not found and isinstance(X, pd.Series):
        warnings.warn(
            "no logged call had these rows; a Series is hashed as one column, so a row "
            "taken with frame.iloc[i] is not the one-row frame predict was given: pass "
            "frame.iloc[[i]]",
            UserWarning,
            stacklevel=2,
        )
    return pd.DataFrame(found, columns=list(COLUMNS))
