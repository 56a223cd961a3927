"""What a traced fit was given besides ``X`` and ``y``: its fit parameters, recorded.

A run that lists its training rows but not the weights they were fitted with overstates
what it proves: a row of weight 0 is in ``row_ids`` yet the model never learnt from it,
and a row of weight 10 counts ten times. So every fit parameter is recorded in the run
(``Lineage.fit_params``) by content: arrays by shape, dtype and a SHA-256 of their
values (never the values themselves: a removal must not find them kept), sample weights
also by exact counts (rows, rows of weight 0, negative and non-finite weights) and their
sum; other values JSON-safe. The record is what was given to ``fit``, taken before it,
with the steps each parameter was given to (see ``_fit_routes``): weights given to a
scaler only are not weights of the model.

The SHA-256 of an array is of :data:`DIGEST_SCHEME` (``"digest_scheme"`` in its entry):
the type-tagged, length-prefixed encoding of fingerprint scheme 2, so two different
values never share it (``[1, 23]`` and ``[12, 3]``, ``1`` and ``"1"`` in an object
array), with pandas objects by their exact content (:mod:`._exact_pandas`: a ``pd.NA``
apart from a NaN, a string dtype's storage, an object column's time stamps by their time
zone). Entries of ``"fit-param-2"`` were recorded before that, pandas columns by
``str(dtype)`` and ``to_numpy()``, which named some different frames alike; they are
compared by recomputing their own scheme. Entries without ``"digest_scheme"`` were
recorded before both, by the encoding of fingerprint scheme 1 (values by their ``repr``,
untyped and unseparated), which gave some different values one digest: such a digest is
kept as recorded (the run's hash covers it), and says less.
"""

import hashlib

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..exceptions import LineageError
from ._capture import carried_ids
from ._fingerprint_params import json_safe
from ._fingerprint_walk import _feed, _Path
from ._ids import codes_of
from ._source import REGISTRY


def _is_array(value):
    if isinstance(value, str | bytes | dict):
        return False
    if isinstance(value, np.ndarray | pd.Series | pd.DataFrame | pd.Index | list | tuple):
        return True
    if sp.issparse(value):
        return True
    # NumPy, torch and JAX arrays; 0-d ones (NumPy scalars) are values
    return hasattr(value, "__array__") and bool(getattr(value, "shape", ()))


#: The scheme of the digests recorded now (``"digest_scheme"`` of each array entry).
DIGEST_SCHEME = "fit-param-3"
#: Schemes whose digests can be recomputed to compare (the one before: pandas objects
#: by ``str(dtype)`` and ``to_numpy()``). They differ in pandas objects only, whose
#: bytes they tag apart: other values have one digest in both.
_SCHEMES = ("fit-param-3", "fit-param-2")


def _digest(value, scheme=DIGEST_SCHEME):
    """SHA-256 of an array's content (values by type, dtype and shape; see
    ``_fingerprint``) of ``scheme``, or None for a value nested too deeply to be walked
    whole."""
    h = hashlib.sha256(b"sktraceprop fit-param digest 2\0")
    # scheme 2's walk, as fit-param-2 was; fit-param-3: pandas objects exactly
    path = _Path(by_name=True, exact_frames=scheme != "fit-param-2")
    try:
        _feed(h, value, 0, path)
    except ValueError:  # deeper than MAX_DEPTH: refused rather than cut short
        return None
    return h.hexdigest()


def _row_sources(value):
    """Rows per source of a parameter that carries row ids (a traced frame given as
    ``X_val``, a weight Series with X's index), or None."""
    try:
        ids = carried_ids(value, validate=False)
    except LineageError:
        return None
    if ids is None or not ids.size:
        return None
    codes, counts = np.unique(codes_of(ids), return_counts=True)
    out = {}
    try:
        for c, n in zip(codes.tolist(), counts.tolist()):
            # summed: one source under two codes (an alias adopted from another
            # process) or two versions of one source_id are one name's rows
            name = REGISTRY.by_code(c).source_id
            out[name] = out.get(name, 0) + n
    except LineageError:  # ids of no registered source: nothing to name
        return None
    return out


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
    # the values row by row, as a model uses them (by position: a Series' index and name,
    # and the container, are not covered; an index in another order than X's rows is
    # refused where it is given, by check_paired)
    out["values_sha256"] = _digest(np.ascontiguousarray(w))
    return out


def _as_weights(name, given_to):
    """Whether the parameter ``name`` is sample weights: received as ``sample_weight`` by
    a step, or, where its steps are not known, so named."""
    if given_to is None:
        return name.split("__")[-1] == "sample_weight"
    return any(d["as"] == "sample_weight" for d in given_to)


def fit_params_record(params, routes=None):
    """JSON-safe record of the fit parameters ``params`` (name -> value).

    Parameters
    ----------
    params : dict
        Name -> value, as given to ``fit``.
    routes : dict, default=None
        Name -> the steps given the parameter (see
        :func:`~sktraceprop._lineage._fit_routes.fit_param_routes`), recorded as
        ``"given_to"``. None where not known.

    Returns
    -------
    record : dict
        Name -> ``{"kind": "array", "shape", "dtype", "sha256", "digest_scheme"}`` for
        array-likes (``"sha256"`` None, with a ``"digest_note"``, for one nested too
        deeply to be named whole; with
        ``"weights"``, exact counts and the sum, for sample weights: parameters a step
        received as ``sample_weight``, or, without ``routes``, so named; and
        ``"row_sources"``, rows per source, for arrays that carry row ids), or
        ``{"kind": "value", "value"}`` for the rest; and ``"given_to"``.
    """
    record = {}
    for name, value in params.items():
        if value is None:
            continue  # sample_weight=None is scikit-learn's default: nothing was given
        given_to = None if routes is None else routes.get(name)
        if _is_array(value):
            # a list's length only: its items may be anything (LightGBM's eval_set holds
            # (X, y) pairs), and an array of them may not even be buildable
            shape = getattr(value, "shape", None)
            shape = (len(value),) if shape is None else shape
            digest = _digest(value)
            entry = {
                "kind": "array",
                "shape": [int(n) for n in shape],
                "dtype": str(getattr(value, "dtype", type(value).__name__)),
                "sha256": digest,
                "digest_scheme": DIGEST_SCHEME,
            }
            if digest is None:
                entry["digest_note"] = (
                    "no digest: the value is nested too deeply to be walked whole, and a "
                    "digest of part of it would name other values alike"
                )
            sources = _row_sources(value)
            if sources is not None:
                entry["row_sources"] = sources
            if _as_weights(name, given_to):
                weights = _weights(value)
                if weights is not None:
                    entry["weights"] = weights
        else:
            entry = {"kind": "value", "value": json_safe(value)}
        if given_to is not None:
            entry["given_to"] = [dict(d) for d in given_to]
        record[str(name)] = entry
    return record


def _steps(given_to):
    return ", ".join(d["step"] or "the estimator" for d in given_to)


def fit_params_notes(record):
    """Notes for the run on what the recorded fit parameters change in its meaning."""
    notes = []
    for name, entry in record.items():
        weights = entry.get("weights")
        if weights is None:
            continue
        if _all_ones(weights):
            continue  # weights all 1 are no weights; recorded all the same
        zero = weights["n_zero"]
        digest = entry.get("sha256")
        text = f"fitted with {name} (weights of {weights['n']} rows, SHA-256 " + (
            f"{digest[:12]}...)" if digest else "not recorded)"
        )
        given_to = entry.get("given_to")
        weighted = (
            None if given_to is None else [d for d in given_to if d["as"] == "sample_weight"]
        )
        if weighted is not None and not any(d["final"] for d in weighted):
            # weights of a preprocessing step only: the model itself was fitted unweighted
            text += (
                f": given as sample_weight to step(s) {_steps(weighted)} only; the final "
                "estimator was not given them and learnt from every row with weight 1"
            )
            if zero:
                text += (
                    f"; {zero} row(s) of weight 0 were left out by those steps only, and the "
                    "final estimator learnt from them"
                )
        elif weighted and all(d.get("meta") for d in weighted if d["final"]):
            # a meta-estimator decides what its own estimators are given
            text += (
                f": given as sample_weight to {_steps([d for d in weighted if d['final']])}, "
                "which fits estimators of its own: whether they weighted the rows by them "
                "(and left out rows of weight 0) is its own routing, not recorded"
            )
            if zero:
                text += (
                    f"; {zero} row(s) of weight 0 are in the run's rows, and the model may "
                    "have learnt from them"
                )
        else:
            text += ": each row counts in proportion to its weight"
            if weighted and name.split("__")[-1] != "sample_weight":
                text += f" (given as sample_weight to {_steps(weighted)})"
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


def _final_entries(record):
    for name, entry in record.items():
        given_to = entry.get("given_to")
        if given_to is None:
            if name == "sample_weight":
                yield name, entry
        elif any(d["as"] == "sample_weight" and d["final"] for d in given_to):
            yield name, entry


def final_weights_differ(record, sample_weight):
    """Why ``sample_weight`` (given for the run's rows, in its order) are not the weights
    the run's final estimator was fitted with, or None when they agree: the counts and
    sum :func:`fit_params_record` kept, then the SHA-256 it kept (the same weights on
    other rows have the same counts and sum); no record and weights all 1 agree.

    Returns
    -------
    why : str or None
        Why they differ, or None.
    unchecked : list of str
        The recorded parameters whose order could not be checked (no digest of
        :data:`DIGEST_SCHEME`): only their counts and sum were compared.
    """
    unchecked = []
    why = _weights_differ(record, sample_weight, unchecked)
    return why, unchecked


def _scheme_of(entry):
    """The scheme ``entry``'s digest can be recomputed in (the current one where its
    own cannot)."""
    scheme = entry.get("digest_scheme")
    return scheme if scheme in _SCHEMES else DIGEST_SCHEME


def _given_digests(sample_weight, entry):
    """The digests of ``sample_weight`` in the forms a traced fit may have been given
    the same values in (as given, a NumPy array, of the recorded dtype, a list)."""
    scheme = _scheme_of(entry)
    yield _digest(sample_weight, scheme)
    try:
        values = np.asarray(
            sample_weight.to_numpy() if hasattr(sample_weight, "to_numpy") else sample_weight
        )
    except Exception:  # noqa: BLE001 - compared as given only
        return
    yield _digest(values, scheme)
    try:
        yield _digest(values.astype(np.dtype(entry.get("dtype")), copy=False), scheme)
    except (TypeError, ValueError):
        pass
    if entry.get("dtype") in {"list", "tuple"}:
        as_list = values.tolist()
        yield _digest(as_list if entry["dtype"] == "list" else tuple(as_list), scheme)


def _weights_differ(record, sample_weight, unchecked):
    given = _weights(sample_weight)
    if given is None or given.get("sum") is None:
        return None  # not numeric or not finite: the estimator's own checks refuse them
    entries = [(n, e["weights"]) for n, e in _final_entries(record) if e.get("weights")]
    if not entries:
        if _all_ones(given):
            return None
        return "the run records no sample weights given to its final estimator"
    for name, kept in entries:
        same = (kept["n"], kept["n_zero"]) == (given["n"], given["n_zero"]) and (
            kept.get("sum") is not None and np.isclose(kept["sum"], given["sum"], rtol=1e-12)
        )
        if not same:
            return (
                f"the run's {name} ({kept['n']} rows, sum {kept.get('sum')}) are not those "
                f"given ({given['n']} rows, sum {given['sum']})"
            )
        entry = record[name]
        recorded = entry.get("sha256")
        if kept.get("values_sha256") is not None:  # (recorded since it was kept)
            if kept["values_sha256"] == given["values_sha256"]:
                continue
            return (
                f"the run's {name} (SHA-256 {recorded}; of its values row by row, "
                f"{kept['values_sha256']}) are not those given (SHA-256 "
                f"{_digest(sample_weight, _scheme_of(entry))}; "
                f"of their values, {given['values_sha256']}), "
                "though their counts and sum agree: the same weights on other rows "
                "(another order), or other values of the same sum"
            )
        if recorded is None or entry.get("digest_scheme") not in _SCHEMES:
            unchecked.append(name)  # counts and sum only: the order is not checked
            continue
        digests = [d for d in _given_digests(sample_weight, entry) if d is not None]
        if recorded not in digests:
            return (
                f"the run's {name} (SHA-256 {recorded}) are not those given (SHA-256 "
                f"{digests[0] if digests else None}), though their counts and sum agree: "
                "the same weights on other rows (another order), other values of the same "
                "sum, or the same values in another container (the digest covers a "
                "Series' index and name: pass them as given to the traced fit)"
            )
    return None


def final_weight_names(record):
    """Names of the recorded fit parameters that gave the final estimator sample weights
    other than all 1 (``record``: :func:`fit_params_record`'s): a model fitted with them minimises
    a weighted objective, which its rows scored or removed unweighted do not match. A
    parameter whose steps are not known counts when named ``sample_weight`` (given to a
    bare estimator)."""
    names = []
    for name, entry in _final_entries(record):
        weights = entry.get("weights")
        if weights is not None and not _all_ones(weights):
            names.append(name)
    return names


def _all_ones(weights):
    """Whether a :func:`_weights` summary is of weights all 1, the same as none: equal
    weights other than 1 scale the loss against a penalty (``C``, ``alpha``), which
    moves a penalised model's minimum."""
    return bool(weights.get("all_equal")) and weights.get("sum") == weights["n"]
