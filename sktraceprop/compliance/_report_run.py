"""The run a compliance report describes: a fitted estimator (a search's best model, an
unlearner's, a model corrected by a removal) resolved to its run as stored, checked to be
the one fitted; or a stored run named by its id.

A search's ``best_estimator_`` (or an unlearner's model) is read without a lock of the
search: scikit-learn's search assigns a new clone there when it is refitted. Before, a
refit in another thread while the report was made had it describe the old model's run
next to a record that already held the new one's, with no error. The model read is
held (its own lock, see :mod:`sktraceprop._model_lock`) and, once the report's record
is read, checked to be the one the search still holds (:func:`check_in_use`).

A model refitted in place (a traced pipeline's own ``fit``, an unlearner's correction)
is held, its lock shared, while its steps are matched to its run; the store (the run as
stored, the removals, the chain verified, the events) is read with the lock let go, and
the lock's generation read again under it once that is done
(:func:`~sktraceprop.compliance._compliance_report._read_for`). A refit no longer
waits for the chain's verification; a report whose model was refitted or corrected
while its record was read is made again, of the new run: a report is of one model, the
one in use when it is dated. Before the lock was held to the end (a refit waited for
the whole report), and before that it was let go once the steps were matched with
nothing checked after: a refit before the record was read left a report of the old
run, saying the fitted steps match it, dated after they had been refitted on other
rows. Logged calls run beside it throughout. Before, the run as stored and the removals
were also read under the lock: a refit waited for a slow store's reads, and the logged
calls behind the waiting refit with it.
"""

from .._lineage._current import old_note, step_matches, unchecked_steps
from .._lineage._fingerprint import SCHEME
from .._lineage._fingerprint_match import UNCHECKED_NOTE
from .._lineage._search_features import unrefitted_search
from .._model_lock import generation, shared
from .._prediction_log import _replaced_parts
from ..exceptions import ComplianceError, UnknownRunError
from ..utils._prefit import is_fitted
from ._after_removal import fitted_after_removal, model_fingerprints, removal_features


def _removal_events(store):
    """The store's ``"unlearning"`` events, all a model's removals are read from
    (selected by the store's database: its calls are not read)."""
    return store.events(kind="unlearning")


def _searched_model(estimator):
    """A fitted search's ``best_estimator_`` (the model its ``predict`` uses)."""
    if hasattr(estimator, "lineage_") or not hasattr(estimator, "cv_results_"):
        search = unrefitted_search(estimator)
        if search is not None:  # (a pipeline whose model is such a search)
            raise ComplianceError(
                f"the model of {type(estimator).__name__} is a {type(search).__name__} "
                f"fitted with refit={search.refit!r}: no model was fitted on all its rows, "
                "only one per split (stored with purpose 'cv_fold': store.list_runs("
                "search_role='cv_fold')), and nothing of it predicts. Report on the model "
                "put in use, or on a stored run with store= and run_id="
            )
        return estimator
    if not hasattr(estimator, "best_estimator_"):
        raise ComplianceError(
            f"{type(estimator).__name__} was fitted with refit={estimator.refit!r}: it "
            "holds no model fitted on all its rows, only fits of its splits (stored "
            "with purpose 'cv_fold': store.list_runs(search_role='cv_fold')). Report on "
            "the model put in use, or on a stored run with store= and run_id="
        )
    return estimator.best_estimator_


def _model_of(estimator):
    """The fitted model a report of ``estimator`` describes (read once)."""
    model = _searched_model(estimator)
    if not hasattr(model, "lineage_") and hasattr(model, "unlearning_log_"):
        model = getattr(model, "estimator_", model)  # an unlearner: its model
    return model


def check_in_use(estimator, model, run):
    """Refuse the report of ``model`` (of ``run``) once ``estimator`` holds another
    model: a search (or unlearner) refitted in another thread while the report was made."""
    if estimator is None or estimator is model:
        return
    try:
        now = _model_of(estimator)
    except ComplianceError:
        now = None
    if now is not model:
        raise ComplianceError(
            f"{type(estimator).__name__} was refitted while the report was made: it now "
            f"holds another model than the one of run {run.run_id} the report "
            "describes, and the report would mix the facts of the two. Make the report "
            "again once it is not being refitted."
        )


def _check_fitted_in(estimator, model):
    """Refuse a search's ``best_estimator_`` that is not fitted (read under its lock: a
    fit under way was waited for): scikit-learn puts a new clone there before it fits
    it, so a search being refitted in another thread holds one for a while."""
    if model is estimator or not hasattr(estimator, "cv_results_") or is_fitted(model):
        return
    raise ComplianceError(
        f"the best_estimator_ of this {type(estimator).__name__} is not fitted: the "
        "search is being refitted (in another thread: scikit-learn puts a new clone there "
        "before it fits it), or it was set by hand. Make the report once the refit is done"
    )


def _resolve(estimator, store, run_id):
    """``(run as stored, store, whether the fitted object matches it, the removal that
    left it when it is a corrected model, what a match rests on when it is only by
    fingerprint scheme 1, else None, the model read, its lock's generation)``.

    What is read of the model (its run, its steps matched to it, its fingerprints) is
    read under its lock (shared), with the lock's :func:`~sktraceprop._model_lock.generation`;
    the store is read with the lock let go: a refit waiting for the lock would otherwise
    wait for a slow store, and logged calls (writers first) behind it. The caller reads
    the generation again once the store's record is read: a refit in between is seen."""
    if estimator is None:
        if store is None or run_id is None:
            raise ComplianceError(
                "give a fitted traced estimator, or both store= and run_id= to report on "
                "a stored run"
            )
        return _load(store, run_id), store, None, None, None, None, None
    for _ in range(_TRIES):
        model = _model_of(estimator)
        # its run read and its steps matched to it with no refit or correction in between
        # (in another thread, see _model_lock)
        with shared(model):
            _check_fitted_in(estimator, model)
            facts = _model_facts(model, store, run_id)
            check_in_use(estimator, model, facts["run"])
            seen = generation(model)
        try:
            return (*_stored(facts), model, seen)
        except ComplianceError:
            with shared(model):
                if generation(model) == seen:
                    raise
            # refitted or corrected while the store was read: the store may hold what the
            # new model is, not the old one read (a later removal): read both again
    raise ComplianceError(
        f"{type(estimator).__name__} was refitted (or corrected in place) {_TRIES} times "
        "while its run was read from the store, each time making what was read of the "
        "model and of the store disagree. Make the report once it is not being refitted; "
        "nothing was written."
    )


#: How many times the model and its run as stored are read again when the model was
#: refitted (or corrected in place) in between and they disagree.
_TRIES = 3


def _model_facts(estimator, store, run_id):
    """What the report needs of the fitted ``estimator`` (read under its lock): its run,
    the store its run is in, the steps that differ from it, and, where some do, what
    is said of them and the model's fingerprints."""
    run = getattr(estimator, "lineage_", None)
    if run is None:
        raise ComplianceError(
            f"{type(estimator).__name__} has no recorded run (lineage_): fit a traced "
            "estimator (TracedPipeline, TracedEstimator) with a store first"
        )
    if run_id is not None and run_id != run.run_id:
        raise ComplianceError(
            f"run_id {run_id!r} is not the estimator's run ({run.run_id}); pass one or the other"
        )
    store = store if store is not None else getattr(estimator, "store", None)
    if store is None:
        raise ComplianceError(
            f"{type(estimator).__name__} has no store: the report rests on the store's runs "
            "and hash-chained events, so fit it with store=SQLiteStore(path)"
        )
    # Steps first: an unlearner that corrected them also rewrote its copy of the run.
    changed, old_scheme, schemes = step_matches(estimator, run)
    # (steps swapped for others are changed: only those of step_matches may be unchecked)
    unchecked = unchecked_steps(estimator, changed, run)
    changed = changed or _replaced_parts(estimator)
    facts = {"run": run, "store": store, "old_scheme": old_scheme, "schemes": schemes}
    if changed:
        facts["mismatch"] = _mismatch(estimator, run, changed, unchecked)
        facts["prints"] = model_fingerprints(estimator)
        facts["name"] = type(estimator).__name__
    return facts


def _stored(facts):
    """``(run as stored, store, matches, after, caveat)`` of the model whose
    :func:`_model_facts` are ``facts``, read from its store (no lock held)."""
    run, store = facts["run"], facts["store"]
    if "mismatch" in facts:
        after, scheme = fitted_after_removal(
            facts["prints"], run.run_id, _removal_events(store), facts["name"]
        )
        if after is not None:
            # the run as stored at fit, and the removal whose recorded fingerprint the
            # model has (the unlearner's copy of the run is not in the store)
            caveat = None
            if scheme < SCHEME:
                caveat = f"removal seq {after['seq']}: {old_note([scheme])}"
            return _load(store, run.run_id), store, False, after, caveat
        raise ComplianceError(
            f"{facts['mismatch']}, and no removal of that run "
            "records its fingerprint (a model an unlearner corrected is reported when its last "
            "removal event does). Refit it (a new run), or report on the run as recorded "
            "with compliance_report(store=..., run_id=...), which lists its removals."
        )
    stored = _load(store, run.run_id)
    if stored != run and stored != store._as_stored(run):  # (values erased since: redact)
        raise ComplianceError(
            f"run {run.run_id} in {store!r} differs from the estimator's lineage_: the "
            "store's copy was altered, or the estimator's"
        )
    caveat = None
    if facts["old_scheme"]:
        caveat = f"step(s) {', '.join(facts['old_scheme'])}: {old_note(facts['schemes'])}"
    return stored, store, True, None, caveat


def _mismatch(estimator, run, changed, unchecked):
    """What the fitted ``estimator``'s ``changed`` steps are to its ``run``: changed, or
    not checkable (``unchecked``: a run of a form that did not see them, see
    :func:`~sktraceprop._lineage._current.unchecked_steps`)."""
    changed = [name for name in changed if name not in unchecked]
    said = []
    if changed:
        said.append(
            f"the fitted {type(estimator).__name__} differs from its recorded run "
            f"{run.run_id}: step(s) {', '.join(changed)} changed since fit (refitted, "
            "replaced or modified in place)"
        )
    if unchecked:
        said.append(
            f"the fitted {type(estimator).__name__} cannot be checked against its "
            f"recorded run {run.run_id}: step(s) {', '.join(unchecked)}: {UNCHECKED_NOTE}"
        )
    return "; and ".join(said)


def _inputs_after(store, run, after):
    """``(seq, features_after)`` of the removal ``after`` when it changed the model's
    inputs from the fit's, else None."""
    changed = removal_features(_removal_events(store), run.run_id, after) if after else None
    return None if changed is None else (after["seq"], changed)


def _load(store, run_id):
    try:
        return store.load_run(run_id)
    except UnknownRunError as exc:
        stored = store.list_runs()
        listed = ", ".join(stored["run_id"].tolist()[-5:]) or "none"
        raise UnknownRunError(
            f"{exc}; the store holds {len(stored)} run(s) (latest: {listed})"
        ) from None
