"""Logged decisions found again from their input rows (an applicant contests one).

A prediction event commits to :func:`~sktraceprop.compliance.hash_rows` of the rows the
call was given, as one batch, under a salt kept beside the chain (an event logged before
salting holds the hash itself; see :mod:`sktraceprop.stores._prediction_salts`): the
rows are found by hashing them again, then each salted call's commitment recomputed
with its salt, as given and then
in their exact other forms (column order, names, integer or float; never a lossy
conversion, and a match so found says so). A row scored inside a larger batch is found
from the row alone through the keyed per-row digests a salted call keeps beside its
salt (:mod:`sktraceprop._row_digests`, :mod:`._find_rows`), with its position(s) in the
batch; a call that keeps none (logged before them) is found only with its whole batch,
and a lookup that meets such calls says so.
"""

import warnings

import numpy as np
import pandas as pd

from .._polars_frame import as_pandas, is_polars
from .._prediction_outputs import decode_array
from .._row_hash import hash_rows
from .._signed_zeros import SIGNED_NOTE, signed_digest
from ..stores._prediction_salts import matching
from ._find_exact import exact_variants
from ._find_rows import row_matches
from ._told_apart import run_schemes, step_columns

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
    "unchecked_since_fit",
    "changed_or_unchecked_since_fit",
    "replaced_since_fit",
    "matched_by_old_fingerprint_scheme",
    "old_fingerprint_schemes",
    "event_hash",
    "matched_as",
    "positions",
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
    """The logged calls whose input rows were ``X``, or held a row of it: which model
    answered, when, what.

    ``X`` is hashed by :func:`~sktraceprop.compliance.hash_rows` and compared with
    every ``"prediction"`` event of ``store`` (read as stored; run ``store.verify()``
    for the hash chain): with its ``input_commitment`` through the call's salt, or,
    for a call logged before salting, its ``input_sha256``. A call erased by
    :meth:`~sktraceprop.stores.BaseStore.erase_predictions` (its salt deleted) is
    never found. When ``X`` as given matches no event, its
    exact other forms are tried: the columns in the order of the run's input, an
    array named as that input or a frame unnamed, and integer columns as float
    (``44`` as ``44.0``) or float columns of whole numbers as integers, as read again
    where a missing value made a column float. A conversion that loses information
    (``44.5`` as ``44``) is never used. A match found so says what was converted in
    ``matched_as``. A ``-0.0`` is hashed as ``0.0``; rows holding one are also hashed
    with the sign of zero, as calls logged by an sktraceprop from before were (a call
    found so says so in ``matched_as``; see :mod:`sktraceprop._signed_zeros`).

    Each row of ``X`` is also looked up alone, in every prediction and explanation
    event that keeps per-row digests (every salted call logged since they exist; see
    :mod:`sktraceprop._row_digests`): a person scored among 1,000 applicants is found
    from their own row (a one-row frame), with ``positions`` (where the row was in that
    call's batch) and the row's ``output``. Erasing such a call erases it whole (every
    row of its batch). Calls that keep no row digests (logged before them, or unsalted)
    are found only with their whole batch (pass it, and ``row``): a lookup that meets
    them warns, naming them (``found.attrs["no_row_digests"]``), never a silent "not
    found".

    Parameters
    ----------
    store : BaseStore
        The store the model logged to (``SQLiteStore(path, mode="ro")`` in another
        process).
    X : DataFrame, polars DataFrame or array-like
        The input rows as given to ``predict``, or a person's own row(s) (a one-row
        frame: ``frame.iloc[[i]]``, not the Series ``frame.iloc[i]``).
    row : int, default=None
        Position of one row in ``X``: the ``output`` column then holds that row's
        output only, and only that row is looked up alone.
    run_id : str, default=None
        Only the events of this run.

    Returns
    -------
    found : DataFrame
        One row per matching call (per call and row of ``X`` for a call found by a
        row), oldest first: ``seq``, ``created_at`` (UTC, ISO
        8601), ``run_id`` (the model that answered: ``store.load_run(run_id)`` gives its
        training data), ``method``, ``n_rows``, ``row``, ``output`` (what the call
        returned, see :func:`logged_outputs`, or the row's part), ``classes`` (the
        order of the classes in the output, or None), ``model_fingerprint`` (the
        run's; after an unlearner's removal, the corrected model's),
        ``model_fingerprint_now`` (where the model had changed since its run's fit:
        the fingerprint of the model that answered, else None), ``estimator``,
        ``changed_since_fit`` and ``replaced_since_fit`` (the steps that no longer
        were as the run recorded when the call was answered, or None),
        ``unchecked_since_fit`` (the steps that could not be checked against a run of
        fingerprint scheme 1 or none, whose form did not see what a tree, a KNN model or
        a histogram boosting model learnt: whether they changed cannot be told; None
        where there were none, and in events logged before it was said),
        ``changed_or_unchecked_since_fit`` (the steps an event logged before then named
        changed, of a run of fingerprint scheme 1 or none, or of a run the store does
        not hold: changed, or unchecked, which the event cannot tell apart; not in
        ``changed_since_fit``, as the report counts these calls apart, in
        ``calls_by_a_model_changed_or_unchecked_since_fit``; None for other events),
        ``matched_by_old_fingerprint_scheme`` (the steps that matched their run's
        record, when the call was answered, only by an earlier fingerprint scheme,
        which some different models share: the run was recorded before the current
        scheme, and that the model that answered is the run's is known only as far as
        that scheme can tell; None where every step matched by the current scheme, or
        the event was logged before events said so), ``old_fingerprint_schemes``
        (those earlier schemes: ``[4]``, where scheme 4 named the code of packages
        installed from a package index, ``[3]``, where scheme 3 named the attributes of user
        classes other than functions, ``[2]``, where scheme 2 named functions by name
        only, or ``[1]``; events logged before scheme 3 name none and are of scheme 1; None
        where no step matched only so), ``event_hash``, and ``matched_as`` (None when ``X``
        matched as given, else how it matched: by row, the exact conversions), and
        ``positions`` (for a call found by a row of ``X``: the row's positions in the
        call's batch; None for a call whose batch was ``X``). When empty,
        ``found.attrs["not_found"]`` says what was compared and the common reasons.

    Warns
    -----
    UserWarning
        When nothing matched, with ``found.attrs["not_found"]`` (a Series, for one:
        it is hashed as one column, so a row taken with ``frame.iloc[i]`` is not the
        one-row frame ``predict`` was given); when calls could not be searched by row,
        with ``found.attrs["no_row_digests"]`` (their seqs).

    Raises
    ------
    TypeError
        ``X`` is not rows (a dict, a scalar, None): a row held as a dict of column ->
        value is passed as ``pandas.DataFrame([row])``.
    CorruptStoreError
        A call's salt or row digests do not match its event's ``salt_sha256``
        (changed outside sktraceprop).
    """
    if is_polars(X):
        X = as_pandas(X)  # logged as the pandas frame of its names and values
    check_rows(X)
    n_rows = len(X) if isinstance(X, pd.DataFrame | pd.Series) else np.shape(X)[0]
    if row is not None:
        if not isinstance(row, int | np.integer) or isinstance(row, bool):
            raise TypeError(f"row must be an integer position in X, got {row!r}")
        if not 0 <= row < n_rows:
            raise ValueError(f"row {row} is not a position in X, which has {n_rows} rows")
    events = list(store.events(run_id, kind="prediction"))
    explained = list(store.events(run_id, kind="explanation"))
    salts = store._raw_prediction_salts() if events or explained else {}
    given = {hash_rows(X): None}
    # a call logged before -0.0 was hashed as 0.0 kept its sign (see .._signed_zeros)
    signed = signed_digest(X, next(iter(given)))
    if signed is not None:
        given[signed] = SIGNED_NOTE
    matches = matching(events, salts, given)
    tried = len(given)
    complete = True
    if not matches and events:
        variants = {}
        for frame, note, whole in exact_variants(X, _input_orders(store, events)):
            complete = complete and whole
            digest = hash_rows(frame)
            variants.setdefault(digest, note)
            if signed is not None:
                old = signed_digest(frame, digest)
                if old is not None:
                    variants.setdefault(old, f"{note}; {SIGNED_NOTE}")
        tried += len(variants)
        matches = matching(events, salts, variants)
    found = [(event, row, note) for event, note in matches]
    # each row of X alone, inside any logged batch (calls and explanations)
    calls = sorted(events + explained, key=lambda e: e["seq"])
    rows, without = row_matches(
        calls,
        salts,
        X,
        lambda: _input_orders(store, calls),
        only=row,
        skip={event["seq"] for event, _ in matches},
    )
    # the runs whose scheme tells apart the steps of calls logged before (_told_apart)
    schemes = run_schemes(store, [e for e, _, _ in found] + [e for e, _, _, _ in rows])
    found = [_found(event, row, note, schemes) for event, row, note in found]
    found += [_found_row(e, i, positions, note, schemes) for e, i, positions, note in rows]
    found.sort(key=lambda f: (f["seq"], -1 if f["row"] is None else f["row"]))
    result = pd.DataFrame(found, columns=list(COLUMNS))
    if without:
        message = _no_row_digests(without)
        result.attrs["no_row_digests"] = list(without)
        result.attrs["no_row_digests_message"] = message
        warnings.warn(message, UserWarning, stacklevel=2)
    if not found:
        message = _nothing_found(X, events, n_rows, tried, complete, run_id, salts)
        result.attrs["not_found"] = message
        warnings.warn(message, UserWarning, stacklevel=2)
    return result


def check_rows(X):
    """Raise a TypeError naming the problem where ``X`` is not rows (a dict, a scalar,
    None): a person's row as a dict is a natural thing to hold, and the hash of rows
    would fail on it with an error about shapes."""
    if isinstance(X, pd.DataFrame | pd.Series) or hasattr(X, "tocsr"):
        return
    if isinstance(X, dict) or np.ndim(X) not in (1, 2):
        said = (
            ": for one row held as a dict of column -> value, pass pandas.DataFrame([row])"
            if isinstance(X, dict)
            else ""
        )
        raise TypeError(
            "X must be input rows as the model was given them (a DataFrame, or an array "
            f"of shape (n_rows, n_columns)), got {type(X).__name__}{said}"
        )


def _input_orders(store, events):
    """The input column names of the runs that answered ``events`` (as recorded)."""
    orders = []
    for run_id in dict.fromkeys(e["run_id"] for e in events if e["run_id"]):
        try:
            run = store.load_run(run_id)
        except (KeyError, LookupError, ValueError):  # an event of a run not in the store
            continue
        # the model's input is one op's (which one depends on the pipeline's shape);
        # an order only counts where it names X's columns or their number
        for op in run.ops:
            names = [str(name) for name in (op.features_in or ())]
            if names and names not in orders:
                orders.append(names)
    return orders


def _outputs(event):
    """``(method, outputs or None, classes)`` of a logged call; an explanation's are the
    labels it explained (None where it was given no labels)."""
    payload = event["payload"]
    if event.get("kind") == "explanation" or "outputs" not in payload:
        record = payload.get("explained")
        if record is None:
            return "explain", None, None
        return "explain", logged_outputs({"outputs": record}), record.get("classes")
    return payload["method"], logged_outputs(payload), payload["outputs"].get("classes")


def _found_row(event, i, positions, note, schemes):
    """The table row of a call found by row ``i`` of X at ``positions`` of its batch."""
    found = _found(event, None, note, schemes)
    outputs = found["output"]
    if outputs is not None:
        outputs = outputs[positions[0]] if len(positions) == 1 else outputs[positions]
    said = (
        f"row {i} of X at position(s) {', '.join(map(str, positions))} of the call's "
        f"{found['n_rows']} rows, by its keyed row digest (the call's input was a larger "
        "or other batch; erasing the row erases the whole call)"
    )
    found.update(row=i, output=outputs, positions=list(positions))
    found["matched_as"] = said if note is None else f"{said}; {note}"
    return found


def _found(event, row, note, schemes):
    """The table row of a call; ``schemes``: :func:`~._told_apart.run_schemes`'."""
    payload = event["payload"]
    method, outputs, classes = _outputs(event)
    return {
        "seq": event["seq"],
        "created_at": event["created_at"],
        "run_id": event["run_id"],
        "method": method,
        "n_rows": payload["n_rows"],
        "row": row,
        "output": outputs if row is None or outputs is None else outputs[row],
        "classes": classes,
        "model_fingerprint": payload.get("model_fingerprint"),
        "model_fingerprint_now": payload.get("model_fingerprint_now"),
        "estimator": payload.get("estimator"),
        **step_columns(event, schemes),
        "replaced_since_fit": payload.get("replaced_since_fit"),
        "matched_by_old_fingerprint_scheme": payload.get("matched_by_old_fingerprint_scheme"),
        "old_fingerprint_schemes": _old_schemes(payload),
        "event_hash": event["hash"],
        "matched_as": note,
        "positions": None,
    }


def _old_schemes(payload):
    """The earlier schemes an event's steps matched by only (events from before scheme
    3 say none: theirs is scheme 1), or None."""
    if not payload.get("matched_by_old_fingerprint_scheme"):
        return None
    return payload.get("old_fingerprint_schemes") or [1]


def _no_row_digests(seqs):
    listed = ", ".join(map(str, seqs[:20])) + (" ..." if len(seqs) > 20 else "")
    return (
        f"single-row lookup was not possible for {len(seqs)} logged call(s) (event(s) "
        f"{listed}): they keep no per-row digests (logged before them, or unsalted, or of "
        "input they could not be computed of), so a row scored inside one of their "
        "batches is found only with that whole batch (pass the batch, and row=)"
    )


def _nothing_found(X, events, n_rows, tried, complete, run_id, salts):
    """Why no logged call matched, in words: what was compared, and the common causes
    (an erased call only where the store holds one: a salted event without its salt)."""
    scope = f" of run {run_id}" if run_id else ""
    if not events:
        return (
            f"no logged call: the store holds no prediction event{scope} (was the model "
            "fitted with log_predictions=True, and is this its store?)"
        )
    same = sum(1 for e in events if e["payload"].get("n_rows") == n_rows)
    limited = "" if complete else " (not every combination of column dtypes was tried)"
    text = (
        f"no logged call had these {n_rows} row(s): {tried} exact form(s) of them (as "
        "given, in the run's column order, integer and float columns converted where "
        f"exact){limited} were compared with {len(events)} prediction event(s){scope}, "
        f"{same} of them of {n_rows} row(s), and each row alone with the row digests of "
        f"the calls that keep them. Common reasons: {_erased_said(events, salts)}the values "
        "differ from those the model was given; the call was logged to another store or "
        "run; a call logged before per-row digests is found only with its whole batch (pass "
        "the batch and row=)"
    )
    if isinstance(X, pd.Series):
        text += (
            "; a Series is hashed as one column, so a row taken with frame.iloc[i] is "
            "not the one-row frame predict was given: pass frame.iloc[[i]]"
        )
    return text


def _erased_said(events, salts):
    """The erased calls among ``events`` as a reason (none: not offered as one)."""
    erased = sum(1 for e in events if "input_commitment" in e["payload"] and e["seq"] not in salts)
    if not erased:
        return ""
    return (
        f"the call was erased ({erased} of those {len(events)} were, by an erasure "
        "request, and an erased call is found by nothing); "
    )
