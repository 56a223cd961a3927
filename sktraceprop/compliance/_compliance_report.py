"""``compliance_report``: EU AI Act evidence for one model, from its run and its store."""

import contextlib

from .. import __version__
from .._erased_held import warn_erased_held
from .._lineage._source import utc_now
from .._model_lock import generation, shared
from ..exceptions import ComplianceError
from ..utils._exact_ints import exact_view
from ._categories import REGULATION, annex_iii_category
from ._chain_read import verified_chain_events
from ._evidence import (
    audit_events,
    check_stamped,
    parse_time,
    retention_section,
    sources_section,
)
from ._feature_evidence import features_section
from ._integrity import seal
from ._log_evidence import record_keeping
from ._model_evidence import model_section
from ._report import ComplianceReport
from ._report_files import check_new_file
from ._report_formats import FORMAT_VERSION
from ._report_run import _inputs_after, _resolve, check_in_use
from ._schema import schema_problems
from ._sections import articles


def _check_text_fields(**fields):
    bad = [k for k, value in fields.items() if not isinstance(value, str) or not value.strip()]
    if bad:
        raise ComplianceError(
            f"required field(s) missing or empty: {', '.join(bad)} (each a non-empty string)"
        )


def _check_oversight(human_oversight):
    if isinstance(human_oversight, str) or not isinstance(human_oversight, list | tuple):
        raise ComplianceError(
            "human_oversight must be a list of the people or roles assigned to oversee the "
            f"system (Art. 26(2)), got {type(human_oversight).__name__}"
        )
    people = [p.strip() for p in human_oversight if isinstance(p, str) and p.strip()]
    if not people or len(people) != len(human_oversight):
        raise ComplianceError(
            "human_oversight must name at least one person or role, each a non-empty "
            f"string; got {human_oversight!r}"
        )
    return people


def _check_after_head(now, head):
    """Refuse a report this clock would date before the store's last event: verify()
    takes such a report for one whose time was altered (a report is made after the
    events it holds), and its retention would count from a time the store contradicts."""
    if parse_time(now) < parse_time(head["created_at"]):
        raise ComplianceError(
            f"this computer's clock reads {now}, earlier than the store's last event "
            f"({head['seq']}, {head['kind']}, stamped {head['created_at']}): a report dated "
            "before the events it holds is refused by verify() as altered. This clock is "
            "behind, or the clock that stamped the event was ahead (writers whose clocks "
            "differ share the store): set the clocks right, or make the report once this "
            "clock has passed that time; nothing was written."
        )


def _read_record(store, run, checkpoint_key):
    """``(time, record keeping, events copied, retention, events)`` of the store, read in
    one snapshot after it verifies.

    One snapshot: a run another process stores between two reads (the events, then the
    runs) would be listed in the report past its chain head, and the report would then
    never verify against the store ("differs from the store's log").
    """
    with store._snapshot():
        # (read once: the events as store.verify() checks them)
        events, calls = verified_chain_events(store, run.run_id)
        times = check_stamped(events, store)  # (each event's time parsed once, here)
        if not audit_events(events):
            raise ComplianceError(
                f"{store!r} has no audit events (only the {len(events)} bookkeeping "
                "event(s) the store wrote for its runs and sources): record-keeping (Art. "
                "12) and log retention (Art. 26(6)) rest on the events logged while the "
                "system is used. Log the model's use (log_predictions=True) before making "
                "a report."
            )
        now = utc_now()
        _check_after_head(now, events[-1])
        kept, copied = record_keeping(store, run, events, now, checkpoint_key, calls, times)
        retention = retention_section(store, run, events, now, times=times)
        return now, kept, copied, retention, events


#: How many times a report is made again when its model was refitted (or corrected in
#: place) while its record was read, before it gives up.
_TRIES = 3


def _read_for(estimator, store, run_id, checkpoint_key):
    """``(run, store, matches, after, caveat, model, now, kept, copied, retention)``: the
    model matched to its run under its lock (shared), the store's run and record read
    with the lock let go (a refit need not wait for the chain's verification), and the model
    found unchanged since, under its lock again (:func:`~sktraceprop._model_lock.generation`:
    no fit or in-place change came in between, so the report is of one model, the one
    in use at its time). A model refitted meanwhile is reported again, on its new run."""
    for _ in range(_TRIES):
        run, store_, matches, after, caveat, model, seen = _resolve(estimator, store, run_id)
        record = _read_record(store_, run, checkpoint_key)
        with contextlib.ExitStack() as held:
            if model is not None:
                held.enter_context(shared(model))
                if generation(model) != seen:
                    continue  # refitted or corrected while the record was read: again
                # a model pickled before an erasure this store records still holds the
                # erased rows: found in the events just read (its calls held without
                # payloads)
                warn_erased_held(model, store_, events=record[-1])
            # a search refitted meanwhile: its new run may be in the record just read
            check_in_use(estimator, model, run)
        return (run, store_, matches, after, caveat, model, *record[:-1])
    raise ComplianceError(
        f"{type(estimator).__name__} was refitted (or corrected in place) {_TRIES} times "
        "while its report was made, each time after its run was matched and before the "
        "store's record was read to the end: the report would mix the facts of two "
        "models. Make the report once it is not being refitted; nothing was written."
    )


def _sealed(estimator, store, run_id, checkpoint_key, private_key, system, people):
    """The report, sealed (see :func:`compliance_report`)."""
    run, store, matches, after, caveat, _, now, kept, copied, retention = _read_for(
        estimator, store, run_id, checkpoint_key
    )
    body = {
        "report": {
            "format": "sktraceprop-compliance-report",
            "format_version": FORMAT_VERSION,
            "generated_at": now,
            "generator": f"sktraceprop {__version__}",
            "regulation": REGULATION,
        },
        "system": system,
        "human_oversight": {"assigned": people},
        "model": model_section(run, matches, after, caveat),
        "sources": sources_section(run),
        "feature_lineage": features_section(run, _inputs_after(store, run, after)),
    }
    body["record_keeping"], body["events"], body["retention"] = kept, copied, retention
    # no JSON reader rounds a figure of the report: no integer beyond 2**53 as a number
    body = exact_view(body)
    body["articles"] = articles(body)
    report = ComplianceReport._made({**body, "integrity": seal(body, private_key)})
    problems = schema_problems(report._data)
    if problems:  # a defect of this library, never of the caller's input
        raise ComplianceError(
            "the report does not follow its own schema:\n  - " + "\n  - ".join(problems)
        )
    return report


def compliance_report(
    estimator=None,
    *,
    system_name,
    system_version,
    deployer_name,
    high_risk_category,
    intended_purpose,
    human_oversight,
    store=None,
    run_id=None,
    output_path=None,
    private_key=None,
    checkpoint_key=None,
):
    """Evidence for the EU AI Act about one model: per article, what the record proves.

    The report maps what sktraceprop recorded (the run of the model's fit, and the
    store's hash-chained audit events: predictions, explanations, removals) to the
    deployer's obligations of Art. 26(1), 26(2), 26(4), 26(5), 26(6) with Art. 19(1),
    and to Art. 12 and Art. 10. Each article says whether it is *evidenced* by the
    record, *partly evidenced*, or *needs the deployer's input*, and why. Input data is
    described per source (URI, SHA-256, rows, columns and dtypes, label balance and
    missing values counted at fit time, the ops its rows went through, when it was
    loaded); the model by class, parameters, fingerprint, library versions and run;
    feature lineage names inputs computed from several sources. All times are UTC.
    Integers beyond 2**53 - 1 (row ids, mostly) are written as decimal strings, which
    JavaScript and other readers of JSON numbers as doubles cannot round to another
    row's id; see the ``payload`` and ``payload_json`` of events in the JSON Schema.

    Nothing is written or changed until every input is checked: the deployer's fields,
    the Annex III category, the run (in the store, unchanged since fit), the store's
    hash chain, and that the store has audit events.

    Parameters
    ----------
    estimator : fitted traced estimator, default=None
        A ``TracedPipeline`` or ``TracedEstimator`` fitted with a store. Its fitted
        steps must still match the recorded run, or be the model the run's last
        removal left (a ``GradientCorrectionUnlearner``, or the model it corrected: the
        report then describes the run as stored at fit and names that removal, whose
        event records the corrected model's fingerprint, in
        ``model.fitted_object_after_removal``). A fitted ``GridSearchCV`` (any
        scikit-learn search) is reported by its ``best_estimator_``, the model its
        ``predict`` uses; a search fitted with ``refit=False`` holds none and is
        refused.
    system_name, system_version, deployer_name : str
        Stated by the deployer; required, non-empty.
    high_risk_category : str
        One of the keys of ``sktraceprop.compliance.ANNEX_III`` (e.g.
        ``"creditworthiness"``, Annex III point 5(b)).
    intended_purpose : str
        Stated by the deployer; required, non-empty.
    human_oversight : list of str
        The people or roles assigned to human oversight (Art. 26(2)); at least one.
    store : BaseStore, default=None
        The store; defaults to ``estimator.store``.
    run_id : str, default=None
        Report on this stored run (with ``store``, without ``estimator``).
    output_path : str or path-like, default=None
        Write the JSON report there (refused if the file exists).
    private_key : Ed25519PrivateKey or path, default=None
        Sign the report (the same keys as store checkpoints, see
        :mod:`sktraceprop.signing`).
    checkpoint_key : Ed25519PublicKey or path, default=None
        The key the store's checkpoints are signed with (see
        :meth:`BaseStore.checkpoint <sktraceprop.stores.BaseStore.checkpoint>`): the
        report then records through which event the chain is signed. Without it the
        checkpoints are counted but their signatures not checked, and the chain is
        reported as unsigned.

    Returns
    -------
    report : ComplianceReport

    Raises
    ------
    ComplianceError
        A required field is missing, the category is not an Annex III area, the
        estimator has no run or store or changed since fit, the store has no audit
        events (besides the ``store.run`` and ``store.source`` events it writes itself
        when it saves a run), ``output_path`` exists, or this computer's clock reads
        earlier than the store's last event (a report dated before the events it holds
        is refused by :func:`verify` as altered).
    UnknownRunError
        ``run_id`` names no stored run.
    CorruptStoreError
        The store's hash chain does not verify, or (with ``checkpoint_key``) no
        checkpoint is signed by that key.
    """
    _check_text_fields(
        system_name=system_name,
        system_version=system_version,
        deployer_name=deployer_name,
        intended_purpose=intended_purpose,
    )
    category = annex_iii_category(high_risk_category)
    people = _check_oversight(human_oversight)
    check_new_file(output_path, "output_path")
    report = _sealed(
        estimator,
        store,
        run_id,
        checkpoint_key,
        private_key,
        {
            "name": system_name.strip(),
            "version": system_version.strip(),
            "deployer": deployer_name.strip(),
            "intended_purpose": intended_purpose.strip(),
            "high_risk_category": category,
        },
        people,
    )
    if output_path is not None:
        report.save(output_path)
    return report
