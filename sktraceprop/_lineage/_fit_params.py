"""What a traced fit was given besides ``X`` and ``y``: its fit parameters, recorded.

A run that lists its training rows but not the weights they were fitted with overstates
what it proves: a row of weight 0 is in ``row_ids`` yet the model never learnt from it,
and a row of weight 10 counts ten times. So every fit parameter is recorded in the run
(``Lineage.fit_params``) by content: arrays by shape, dtype and a SHA-256 of their
values (never the values themselves: a removal must not find them kept), sample weights
also by exact counts (rows, rows of weight 0, negative and non-finite weights) and their
sum; other values JSON-safe. The record is what was given to ``fit``, taken before it.
"""

import hashlib

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._fingerprint import _feed, json_safe


def _is_array(value):
    if isinstance(value, str | bytes | dict):
        return False
    if isinstance(value, np.ndarray | pd.Series | pd.DataFrame | pd.Index | list | tuple):
        return True
    if sp.issparse(value):
        return True
    # NumPy, torch and JAX arrays; 0-d ones (NumPy scalars) are values
    return hasattr(value, "__array__") and bool(getattr(value, "shape", ()))


def _digest(value):
    """SHA-256 of an array's content (values, dtype and shape; see ``_fingerprint``)."""
    h = hashlib.sha256(b"fit-param")
    _feed(h, value)
    return h.hexdigest()


def _weights(value):
    """Exact summary of a sample-weight vector, or None when it is not numeric 1-D."""
    try:
        w = np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value)
    except Exception:  # noqa: BLE001 - anything numpy cannot read is recorded by digest only
        return None
    if w.ndim != 1 or w.dtype.kind not in "biuf":
        return None
    w = w.astype(np.float64, copy=False)
    finite = np.isfinite(w)
    out = {
        "n": int(w.size),
        "n_zero": int(np.count_nonzero(w == 0)),
        "n_negative": int(np.count_nonzero(w < 0)),
        "n_not_finite": int(w.size - np.count_nonzero(finite)),
    }
    if out["n_not_finite"] == 0 and w.size:
        # aggregates only: a minimum or maximum would be one row's own value
        out.update(sum=float(w.sum()), all_equal=bool(w.min() == w.max()))
    return out


def fit_params_record(params):
    """JSON-safe record of the fit parameters ``params`` (name -> value).

    Returns
    -------
    record : dict
        Name -> ``{"kind": "array", "shape", "dtype", "sha256"}`` for array-likes (with
        ``"weights"``, exact counts and the sum, for parameters named ``sample_weight`` or
        ``<step>__sample_weight``), or ``{"kind": "value", "value"}`` for the rest.
    """
    record = {}
    for name, value in params.items():
        if value is None:
            continue  # sample_weight=None is scikit-learn's default: nothing was given
        if _is_array(value):
            # a list's length only: its items may be anything (LightGBM's eval_set holds
            # (X, y) pairs), and an array of them may not even be buildable
            shape = getattr(value, "shape", None)
            shape = (len(value),) if shape is None else shape
            entry = {
                "kind": "array",
                "shape": [int(n) for n in shape],
                "dtype": str(getattr(value, "dtype", type(value).__name__)),
                "sha256": _digest(value),
            }
            if name.split("__")[-1] == "sample_weight":
                weights = _weights(value)
                if weights is not None:
                    entry["weights"] = weights
            record[str(name)] = entry
        else:
            record[str(name)] = {"kind": "value", "value": json_safe(value)}
    return record


def fit_params_notes(record):
    """Notes for the run on what the recorded fit parameters change in its meaning."""
    notes = []
    for name, entry in record.items():
        weights = entry.get("weights")
        if weights is None:
            continue
        if weights.get("all_equal"):
            continue  # equal weights change no fitted model's argmin; recorded all the same
        zero = weights["n_zero"]
        text = (
            f"fitted with {name} (weights of {weights['n']} rows, SHA-256 "
            f"{entry['sha256'][:12]}...): each row counts in proportion to its weight"
        )
        if zero:
            text += (
                f"; {zero} row(s) of weight 0 are in the run's rows but the model did not "
                "learn from them"
            )
        if weights["n_negative"] or weights["n_not_finite"]:
            text += (
                f"; {weights['n_negative']} negative and {weights['n_not_finite']} "
                "non-finite weight(s) were given"
            )
        notes.append(text)
    return notes
