"""``compliance_report``: EU AI Act evidence for one model, from its run and its store."""

import copy
import json
import os
from pathlib import Path

from .. import __version__
from .._lineage._current import old_note, step_matches
from .._lineage._fingerprint import SCHEME
from .._lineage._source import utc_now
from .._prediction_log import _replaced_parts
from ..exceptions import ComplianceError, UnknownRunError
from ..utils._exact_ints import exact_view
from ._after_removal import fitted_after_removal, removal_features
from ._categories import REGULATION, annex_iii_category
from ._evidence import all_events, audit_events, retention_section, sources_section
from ._feature_evidence import features_section
from ._graph import lineage_graph
from ._html import render_html
from ._integrity import seal
from ._log_evidence import record_keeping
from ._model_evidence import model_section
from ._read_report import read_report
from ._report_formats import FORMAT_VERSION
from ._schema import schema_problems
from ._sections import articles
from ._verify import checked_report, verify_report


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


def check_new_file(path, what):
    """Refuse, before anything is made or written, a path a new report file cannot take:
    an existing file (a link included) or one in a folder that does not exist."""
    if path is None:
        return
    path = Path(os.fspath(path))
    if os.path.lexists(path):
        raise ComplianceError(f"{what} {path} exists; reports are never overwritten")
    if not path.parent.is_dir():
        raise ComplianceError(
            f"{what} {path} cannot be written: folder {path.parent} does not exist. Nothing "
            "was written."
        )


def _write_new(path, text):
    with open(os.fspath(path), "x", encoding="utf-8") as f:
        f.write(text)


def _searched_model(estimator):
    """A fitted search's ``best_estimator_`` (the model its ``predict`` uses)."""
    if hasattr(estimator, "lineage_") or not hasattr(estimator, "cv_results_"):
        return estimator
    if not hasattr(estimator, "best_estimator_"):
        raise ComplianceError(
            f"{type(estimator).__name__} was fitted with refit={estimator.refit!r}: it "
            "holds no model fitted on all its rows, only fits of its splits (stored "
            "with purpose 'cv_fold': store.list_runs(search_role='cv_fold')). Report on "
            "the model put in use, or on a stored run with store= and run_id="
        )
    return estimator.best_estimator_


def _resolve(estimator, store, run_id):
    """``(run as stored, store, whether the fitted object matches it, the removal that
    left it when it is a corrected model, what a match rests on when it is only by
    fingerprint scheme 1, else None)``."""
    if estimator is None:
        if store is None or run_id is None:
            raise ComplianceError(
                "give a fitted traced estimator, or both store= and run_id= to report on "
                "a stored run"
            )
        return _load(store, run_id), store, None, None, None
    estimator = _searched_model(estimator)
    if not hasattr(estimator, "lineage_") and hasattr(estimator, "unlearning_log_"):
        estimator = getattr(estimator, "estimator_", estimator)  # an unlearner: its model
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
    changed = changed or _replaced_parts(estimator)
    if changed:
        after, scheme = fitted_after_removal(estimator, run.run_id, all_events(store))
        if after is not None:
            # the run as stored at fit, and the removal whose recorded fingerprint the
            # model has (the unlearner's copy of the run is not in the store)
            caveat = None
            if scheme < SCHEME:
                caveat = f"removal seq {after['seq']}: {old_note([scheme])}"
            return _load(store, run.run_id), store, False, after, caveat
        raise ComplianceError(
            f"the fitted {type(estimator).__name__} differs from its recorded run "
            f"{run.run_id}: step(s) {', '.join(changed)} changed since fit (refitted, "
            "replaced or modified in place), and no removal of that run records its "
            "fingerprint (a model an unlearner corrected is reported when its last "
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
    if old_scheme:
        caveat = f"step(s) {', '.join(old_scheme)}: {old_note(schemes)}"
    return stored, store, True, None, caveat


def _inputs_after(store, run, after):
    """``(seq, features_after)`` of the removal ``after`` when it changed the model's
    inputs from the fit's, else None."""
    changed = removal_features(all_events(store), run.run_id, after) if after else None
    return None if changed is None else (after["seq"], changed)


def _read_record(store, run, checkpoint_key):
    """``(time, record keeping, events copied, retention)`` of the store, read in one
    snapshot after it verifies.

    One snapshot: a run another process stores between two reads (the events, then the
    runs) would be listed in the report past its chain head, and the report would then
    never verify against the store ("differs from the store's log").
    """
    with store._snapshot():
        store.verify()
        events = all_events(store)
        if not audit_events(events):
            raise ComplianceError(
                f"{store!r} has no audit events (only the {len(events)} bookkeeping "
                "event(s) the store wrote for its runs and sources): record-keeping (Art. "
                "12) and log retention (Art. 26(6)) rest on the events logged while the "
                "system is used. Log the model's use (log_predictions=True) before making "
                "a report."
            )
        now = utc_now()
        kept, copied = record_keeping(store, run, events, now, checkpoint_key)
        return now, kept, copied, retention_section(store, run, events, now)


def _load(store, run_id):
    try:
        return store.load_run(run_id)
    except UnknownRunError as exc:
        stored = store.list_runs()
        listed = ", ".join(stored["run_id"].tolist()[-5:]) or "none"
        raise UnknownRunError(
            f"{exc}; the store holds {len(stored)} run(s) (latest: {listed})"
        ) from None


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
    system_name, system_version, deployer_name, intended_purpose : str
        Stated by the deployer; required, non-empty.
    high_risk_category : str
        One of the keys of ``sktraceprop.compliance.ANNEX_III`` (e.g.
        ``"creditworthiness"``, Annex III point 5(b)).
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
        when it saves a run), or ``output_path`` exists.
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
    run, store, matches, after, caveat = _resolve(estimator, store, run_id)
    now, kept, copied, retention = _read_record(store, run, checkpoint_key)
    body = {
        "report": {
            "format": "sktraceprop-compliance-report",
            "format_version": FORMAT_VERSION,
            "generated_at": now,
            "generator": f"sktraceprop {__version__}",
            "regulation": REGULATION,
        },
        "system": {
            "name": system_name.strip(),
            "version": system_version.strip(),
            "deployer": deployer_name.strip(),
            "intended_purpose": intended_purpose.strip(),
            "high_risk_category": category,
        },
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
    if output_path is not None:
        report.save(output_path)
    return report


class ComplianceReport:
    """A compliance report: the JSON document, its HTML page, and its verification.

    Made by :func:`compliance_report`, or read back with :meth:`load`.

    Parameters
    ----------
    data : dict
        The report as JSON data. It is copied, and checked as
        :func:`~sktraceprop.compliance.verify` checks a report given neither its store
        nor a key: a report edited after it was made raises
        :class:`~sktraceprop.exceptions.ReportVerificationError`, never renders.
    """

    def __init__(self, data):
        # what the page and the file show is what was checked: a copy, so that the
        # caller's dict edited later changes neither
        data = copy.deepcopy(data)
        # a signature is checked where a key is given: verify() or load()
        checked_report(data, unkeyed_notes=False)
        self._data = data

    @classmethod
    def _made(cls, data):
        """A report just made (sealed and checked against its schema here)."""
        report = cls.__new__(cls)
        report._data = data
        return report

    @classmethod
    def load(cls, path, *, store=None, public_key=None):
        """Read a report, verified first (see :func:`sktraceprop.compliance.verify`)."""
        data, _ = read_report(path)
        verify_report(data, store=store, public_key=public_key)
        return cls._made(data)

    def to_dict(self):
        """A deep copy of the report's JSON data."""
        return copy.deepcopy(self._data)

    def to_json(self):
        """The report as JSON text (indented; its hash is over the canonical form)."""
        return json.dumps(self._data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def save(self, path):
        """Write the JSON report to a new file (an existing file is never overwritten)."""
        check_new_file(path, "report file")
        _write_new(path, self.to_json())
        return os.fspath(path)

    def to_html(self, path=None):
        """The report as one self-contained HTML page; written to ``path`` if given.

        Parameters
        ----------
        path : str or path-like, default=None
            A new file (an existing one is never overwritten).

        Returns
        -------
        html : str
        """
        html = render_html(self._data)
        if path is not None:
            check_new_file(path, "HTML file")
            _write_new(path, html)
        return html

    def verify(self, *, store=None, public_key=None):
        """Check this report (see :func:`sktraceprop.compliance.verify`)."""
        return verify_report(self._data, store=store, public_key=public_key)

    def lineage_graph(self):
        """Nodes and edges of the lineage (source files -> ops -> model), laid out."""
        return lineage_graph(self._data)

    @property
    def sha256(self):
        """SHA-256 of the report's canonical form."""
        return self._data["integrity"]["sha256"]

    @property
    def articles(self):
        """Per article: ``article``, ``title``, ``status``, ``why``, ``cannot_show``."""
        return copy.deepcopy(self._data["articles"])

    def summary(self):
        """A DataFrame with one row per article: its status and why."""
        import pandas as pd

        return pd.DataFrame(
            [(a["article"], a["title"], a["status"], a["why"]) for a in self._data["articles"]],
            columns=["article", "title", "status", "why"],
        )

    def __repr__(self):
        s = self._data["system"]
        statuses = "; ".join(f"{a['article']}: {a['status']}" for a in self._data["articles"])
        return (
            f"<ComplianceReport {s['name']} {s['version']}, run "
            f"{self._data['model']['run_id']}, sha256 {self.sha256[:12]}: {statuses}>"
        )
