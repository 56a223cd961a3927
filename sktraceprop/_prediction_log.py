"""The prediction log: one hash-chained audit event per use of a traced model.

``TracedPipeline(..., log_predictions=True)`` (and ``TracedEstimator``) append a
``"prediction"`` event to their store for every ``predict``, ``predict_proba``,
``predict_log_proba`` and ``decision_function`` call: the run (model) that answered,
the number of rows, a salted commitment to the SHA-256 of the input rows (the salt is
kept beside the chain, and erasable: see :mod:`.stores._prediction_salts`; a store of
schema version 2 or 3 keeps the SHA-256 itself), and the outputs. Beside the salt, a
salted call keeps a keyed digest of each input row (:mod:`._row_digests`), so that a
person scored inside a batch is found, and erased, from their own row. The event's time
is the store's wall-clock UTC time. ``InfluenceExplainer.explain(..., log=True)``
appends an ``"explanation"`` event the same way.
"""

import contextvars

import numpy as np
from sklearn.utils.metaestimators import available_if

from ._call_hashes import start_call_hashes, start_salt_hashes
from ._erased_use import warn_erased_use
from ._lineage._current import step_matches, unchecked_steps
from ._lineage._fingerprint import class_path, fingerprint
from ._lineage._fingerprint_match import may_hold_unseen_form
from ._model_lock import shared
from ._prediction_outputs import encode_array, encode_outputs
from ._row_digests import NoRowRecord, warm_up
from ._row_hash import hash_rows
from .stores._chain import blob_payload_text, payload_text
from .stores._prediction_salts import new_salt, salt_payload
from .utils._sklearn_compat import num_samples

#: True while a logged call runs: a traced estimator inside another one does not log the
#: same call twice.
_LOGGING = contextvars.ContextVar("sktraceprop_prediction_logging", default=False)

#: The methods whose calls are logged.
LOGGED_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")


def event_store(estimator):
    """The store an estimator logs to, or a clear error."""
    store = getattr(estimator, "store", None)
    if store is None:
        raise ValueError(
            f"{type(estimator).__name__} has log_predictions=True but no store: pass "
            "store=SQLiteStore(path) (or MemoryStore()) so that the calls can be logged."
        )
    return store


def check_log_predictions(estimator):
    """Validate ``log_predictions`` (and that a store is there) before anything is fitted."""
    value = getattr(estimator, "log_predictions", False)
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"log_predictions must be True or False, got {value!r}")
    if value:
        event_store(estimator)


def _parts(estimator):
    """The fitted objects that answer calls (top-level steps, or the wrapped estimator)."""
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        return tuple((name, step) for name, step in steps)
    return (("estimator_", getattr(estimator, "estimator_", None)),)


def remember_answering_parts(estimator, y=None):
    """Record which objects answer calls after this fit (to notice replacements), and
    how many target columns the fit's ``y`` had (their scores are per target, not per
    class: see :func:`encode_outputs`)."""
    estimator._answering_parts = _parts(estimator)
    estimator._fit_target_columns = target_columns(y)
    if getattr(estimator, "log_predictions", False):
        warm_up()  # the row digests' kernels, off the first call's path


def target_columns(y):
    """Columns of a target: 1 for one value per row (a column vector too), else k."""
    if y is None:
        return 1
    # (np.shape would ask an array-like's __array_function__, which may refuse)
    shape = getattr(y, "shape", None)
    shape = np.asarray(y).shape if shape is None else tuple(shape)
    return int(shape[1]) if len(shape) == 2 else 1


class _Replaced:
    """Stands, among the parts remembered at fit, for one replaced since: the log still
    says it was replaced, and the old object (with what it learnt) is not kept alive."""

    __slots__ = ()


def release_replaced_parts(estimator):
    """Stop referencing the parts replaced since fit (an unlearner's corrected steps:
    the old ones hold what the model learnt from removed rows)."""
    fitted = getattr(estimator, "_answering_parts", None)
    if fitted is None:
        return
    now = dict(_parts(estimator))
    estimator._answering_parts = tuple(
        (name, part if now.get(name) is part else _Replaced()) for name, part in fitted
    )


def _replaced_parts(estimator):
    fitted = getattr(estimator, "_answering_parts", None)
    if fitted is None:
        return None
    now = _parts(estimator)
    if len(now) != len(fitted):
        return [name for name, _ in now]
    return [name for (name, a), (_, b) in zip(now, fitted) if a is not b]


def start_salt(store, X):
    """What a call about to be answered keeps beside the chain: a fresh salt and the
    keyed digests of ``X``'s rows (:mod:`._row_digests`), taken now, before a step may
    modify ``X`` in place (a callable returning that text's
    :class:`~.stores._prediction_salts.SaltHashes`, hashed while the model predicts; or
    the salt alone where ``X`` has no per-row record); None where the store does not
    salt (schema 2 or 3).

    Only input without a per-row record (:class:`._row_digests.NoRowRecord`: not 1-D
    or 2-D, or ragged) falls back to the salt alone (the call is found by its batch,
    and find_predictions says so of it). Any other error is raised, here, before the
    model answers: the call is then neither answered nor logged, rather than logged
    without the row lookup its person is owed (as an error of ``hash_rows`` fails the
    call)."""
    if not store._salting():
        return None
    salt = new_salt()
    try:
        return start_salt_hashes(X, salt)
    except NoRowRecord:
        return salt


def _salt_now(salt):
    """:func:`start_salt`'s salt text, or its ``SaltHashes`` (computed by now)."""
    return salt() if callable(salt) else salt


def _commit_input(payload, input_sha256, salt):
    """Put what an event holds of its input rows into ``payload``; return the salt text
    to keep beside the chain (None where :func:`start_salt` drew none: a store of schema
    2 or 3, unsalted).

    A commitment under the call's fresh salt (:func:`start_salt`'s, with the rows'
    digests): erasing the salt makes the event unfindable from the rows (see
    stores/_prediction_salts.py)."""
    if salt is None:
        payload["input_sha256"] = input_sha256
        return None
    salt = _salt_now(salt)
    salt_payload(payload, input_sha256, salt)
    return salt if isinstance(salt, str) else salt.text


def _says_unchecked(unchecked, changed, run):
    """Whether a call's event holds ``unchecked_since_fit`` (see
    :data:`~._lineage._fingerprint_match.UNCHECKED_NOTE`): where a step cannot be checked,
    and, empty, where steps are named changed of a run of fingerprint scheme 1 or none.
    Events logged before it was said named such steps in ``changed_since_fit``: the key,
    even empty, says that the steps named there were told apart from those that cannot
    be checked (a report counts the calls of an event without it apart, as changed or
    unchecked)."""
    return bool(unchecked) or (bool(changed) and may_hold_unseen_form(run.fingerprint_scheme))


def log_call(estimator, method, X, outputs, input_sha256=None, salt=None, store=None):
    """Append the ``"prediction"`` event of one call; return it.

    ``input_sha256`` is :func:`hash_rows` of ``X`` when already known (or a callable
    returning it, from :func:`start_hash_rows`); ``salt``, :func:`start_salt`'s (else
    drawn, with the rows' digests, now); ``store``, the one ``salt`` was drawn for
    (else the estimator's now).
    """
    store = event_store(estimator) if store is None else store
    run = getattr(estimator, "lineage_", None)
    if run is None:
        raise ValueError(
            f"this {type(estimator).__name__} was fitted inside another traced estimator, "
            "which holds the run: log the predictions of the outer one"
        )
    if input_sha256 is None:
        input_sha256 = hash_rows(X)
    shape = getattr(X, "shape", None)
    shape = tuple(shape) if shape is not None else ()
    payload = {
        "method": method,
        # the shape where there is one (sklearn's count asks a frame much more)
        "n_rows": int(shape[0]) if len(shape) >= 1 else int(num_samples(X)),
        "n_features": int(shape[1]) if len(shape) == 2 else None,
        "model_fingerprint": run.model_fingerprint,
        "estimator": class_path(estimator),
        "outputs": encode_outputs(
            method,
            outputs,
            getattr(estimator, "classes_", None),
            raw=True,
            n_targets=getattr(estimator, "_fit_target_columns", 1),
        ),
    }
    # what the call's parts are, asked before its hashes: time for the helper to finish
    replaced = _replaced_parts(estimator)
    changed, old_scheme, schemes = step_matches(estimator, run)
    # steps a run of scheme 1 (or none) recorded by a form that did not see what they
    # learnt: whether they changed cannot be told, so they are not said to have
    unchecked = unchecked_steps(estimator, changed, run)
    changed = [name for name in changed if name not in unchecked]
    now = fingerprint(estimator) if changed or unchecked else None
    input_sha256 = input_sha256() if callable(input_sha256) else input_sha256
    if salt is None:
        salt = start_salt(store, X)
    salt = _commit_input(payload, input_sha256, salt)
    if replaced:
        # The run no longer describes every part that answered (an unlearner corrected
        # a step in place, or a step was swapped): said in the event, never hidden.
        payload["replaced_since_fit"] = replaced
    if old_scheme:
        # a run recorded before fingerprint scheme 5 (or 4, 3, 2): these steps match it only
        # as far as those schemes could tell (see _fingerprint_match.OLD_SCHEME_NOTES);
        # events without the schemes are from before scheme 3, of scheme 1
        payload["matched_by_old_fingerprint_scheme"] = old_scheme
        payload["old_fingerprint_schemes"] = schemes
    if changed:
        # Refitted or modified in place (partial_fit, a warm start): the run's
        # fingerprint above is not the answering model's; the event says so, and names
        # the model that answered by its own fingerprint.
        payload["changed_since_fit"] = changed
    if _says_unchecked(unchecked, changed, run):
        payload["unchecked_since_fit"] = unchecked
    if now is not None:
        payload["model_fingerprint_now"] = now
    blobs = [("outputs", key) for key in ("labels", "values") if key in payload["outputs"]]
    blobs = [path for path in blobs if isinstance(payload["outputs"][path[1]].get("data"), bytes)]
    # built here, of JSON values only, and held by nothing else: serialised once
    text, payload = blob_payload_text(payload, blobs, copy=False)
    return store._append_event_text("prediction", payload, text, run.run_id, salt)


def _next_has(name):
    def check(self):
        return hasattr(super(PredictionLogMixin, self), name)

    return check


class PredictionLogMixin:
    """Log ``predict``-like calls of a fitted traced estimator when ``log_predictions``."""

    def _logged(self, method, X, params):
        if _LOGGING.get():
            return getattr(super(), method)(X, **params)
        logged = getattr(self, "log_predictions", False)
        if not logged:
            # a model fitted or pickled before an erasure of its rows holds them: said
            # at its first call (then one lookup a call), logged or not
            warn_erased_use(self, getattr(self, "store", None))
            return self._answer(method, X, params)
        # answered and logged by one model: no fit of it in another thread in between
        with shared(self):
            # The store read once, here: read before the lock, a set_params(store=...)
            # while the call waited had the event appended to the new store with the
            # old one's salting (a plain SHA-256 of the rows, never erasable, in a
            # store that salts).
            store = event_store(self)
            # refused before anything is said or computed: a store that cannot take the
            # event (an unpickled MemoryStore, a read-only handle) would otherwise warn
            # of its erasures, have the model answer, and only then raise
            store._check_writable()
            # a model pickled before an erasure the store records still holds its rows
            warn_erased_use(self, store)
            # the input rows as given, hashed while the model predicts
            input_sha256, salt = start_call_hashes(store, X)
            outputs = self._answer(method, X, params)
            log_call(self, method, X, outputs, input_sha256, salt, store=store)
        return outputs

    def _answer(self, method, X, params):
        token = _LOGGING.set(True)
        try:
            return getattr(super(), method)(X, **params)
        finally:
            _LOGGING.reset(token)

    @available_if(_next_has("predict"))
    def predict(self, X, **params):
        """Predict; with ``log_predictions``, the call is appended to the store."""
        return self._logged("predict", X, params)

    @available_if(_next_has("predict_proba"))
    def predict_proba(self, X, **params):
        """Class probabilities; with ``log_predictions``, the call is logged."""
        return self._logged("predict_proba", X, params)

    @available_if(_next_has("predict_log_proba"))
    def predict_log_proba(self, X, **params):
        """Log class probabilities; with ``log_predictions``, the call is logged."""
        return self._logged("predict_log_proba", X, params)

    @available_if(_next_has("decision_function"))
    def decision_function(self, X, **params):
        """Decision function; with ``log_predictions``, the call is logged."""
        return self._logged("decision_function", X, params)


def log_explanation(explainer, X, explanation, input_sha256=None, salt=None, store=None):
    """Append the ``"explanation"`` event of one ``explain(..., log=True)`` call.

    ``input_sha256``: :func:`start_hash_rows` of ``X`` taken before it was explained
    (the rows as given), else ``X`` is hashed now; ``salt``: :func:`start_salt`'s, taken
    then too, else drawn now; ``store``: the one ``salt`` was drawn for (else the
    explained estimator's now).
    """
    if input_sha256 is None:
        input_sha256 = hash_rows(X)
    elif callable(input_sha256):
        input_sha256 = input_sha256()
    store = explanation_store(explainer) if store is None else store
    lineage = getattr(explainer, "_lineage", None)
    ids = explainer.train_row_ids_
    # (read as held: the explanation was just made, by this fit)
    top_indices, bottom_indices = explanation._top_indices, explanation._bottom_indices
    top = np.where(top_indices >= 0, ids[top_indices], -1)
    bottom = np.where(bottom_indices >= 0, ids[bottom_indices], -1)
    sources = explanation._source_scores
    payload = {
        "n_rows": int(explanation.n_test),
        "explainer": class_path(explainer),
        "model_fingerprint": None if lineage is None else lineage.model_fingerprint,
        "damping": float(explainer.damping_),
        "top_k": int(top_indices.shape[1]),
        "explained": None
        if explanation._y is None
        else encode_outputs(
            "predict", explanation._y, getattr(explainer.model_, "classes_", None)
        ),
        "top_row_ids": encode_array(top.astype(np.int64)),
        "top_scores": encode_array(explanation._top_scores.astype(np.float64)),
        "bottom_row_ids": encode_array(bottom.astype(np.int64)),
        "bottom_scores": encode_array(explanation._bottom_scores.astype(np.float64)),
        "source_scores": {
            "sources": [str(c) for c in sources.columns],
            "sums": encode_array(sources.to_numpy(dtype=np.float64)),
        },
    }
    run_id = None if lineage is None else lineage.run_id
    if salt is None:
        salt = start_salt(store, X)
    salt = _commit_input(payload, input_sha256, salt)
    text, payload = payload_text(payload)
    return store._append_event_text("explanation", payload, text, run_id, salt)


def explanation_store(explainer):
    """The store ``explain(..., log=True)`` appends to, or a clear error."""
    store = getattr(getattr(explainer, "estimator_", None), "store", None)
    if store is None:
        store = getattr(getattr(explainer, "estimator", None), "store", None)
    if store is None:
        # the traced model whose run the explainer reads, inside a wrapper without a
        # store of its own (an unlearner given store=None)
        from .influence._fitted import run_holder

        store = getattr(run_holder(getattr(explainer, "estimator_", None)), "store", None)
    if store is None:
        raise ValueError(
            "explain(log=True) needs a store: the explained estimator has none. Fit a "
            "TracedPipeline(..., store=SQLiteStore(path)) and explain that."
        )
    return store
