"""Steps logged as changed before the steps that cannot be checked were told apart.

Until pickle62 a logged call named in ``changed_since_fit`` every step that did not
match its run, a step of a run of fingerprint scheme 1 (or none) that cannot be checked
too: a tree, a KNN model or a histogram boosting model, whose learnt state the form of
scheme 1 before 1 December 2026 did not see, so that an unchanged tree read as changed
(:data:`~sktraceprop._lineage._fingerprint_match.UNCHECKED_NOTE`). Events logged since
hold ``unchecked_since_fit`` wherever such a run has a step named changed (empty where
each was checked). An event without the key, not even empty, naming changed steps of a
run of scheme 1 or none was logged before the two were told apart: its steps are
"changed or unchecked", never "changed". A run of a later scheme checked every step, so
its changed steps are changed, then as now.

One rule, read by the report (:class:`~._log_evidence.PredictionFigures`, format 18:
``calls_by_a_model_changed_or_unchecked_since_fit``), by
:func:`~sktraceprop.compliance.find_predictions` and by ``sktraceprop predictions``.
"""

from .._lineage._fingerprint_match import may_hold_unseen_form
from ..exceptions import UnknownRunError

__all__ = [
    "UNTOLD_WORDS",
    "logged_before_told_apart",
    "may_be_unchecked",
    "run_schemes",
    "step_columns",
]

#: How the steps of such an event are named to a person (the CLI, the docs).
UNTOLD_WORDS = "changed or unchecked (logged before these were told apart)"

#: A run whose scheme is not known (not in the store): its steps cannot be told either.
_UNKNOWN = object()


def logged_before_told_apart(payload):
    """Whether a ``"prediction"`` event's ``payload`` names changed steps
    (``changed_since_fit``) and holds no ``unchecked_since_fit``, not even empty:
    logged before the steps that cannot be checked were told apart from the changed."""
    return bool(payload.get("changed_since_fit")) and "unchecked_since_fit" not in payload


def may_be_unchecked(fingerprint_scheme):
    """Whether a run recorded with ``fingerprint_scheme`` (None: not recorded) may hold a
    fingerprint of the form that did not see a tree: scheme 1 or none, as the events are
    written (:func:`~sktraceprop._lineage._fingerprint_match.may_hold_unseen_form`).
    ``_UNKNOWN`` (a run the store does not hold) may too."""
    return fingerprint_scheme is _UNKNOWN or may_hold_unseen_form(fingerprint_scheme)


def run_schemes(store, events):
    """``{run_id: fingerprint_scheme}`` of the runs of ``events`` that the rule needs:
    those of an event :func:`logged_before_told_apart` (a run the store does not hold:
    not known, so its steps are not told apart either)."""
    schemes = {}
    for event in events:
        run_id = event["run_id"]
        if run_id not in schemes and logged_before_told_apart(event["payload"]):
            schemes[run_id] = _scheme_of(store, run_id)
    return schemes


def _scheme_of(store, run_id):
    if run_id is None:
        return _UNKNOWN
    try:
        # (the scheme alone, checked as load_run checks it: not the run's sources)
        return store._fingerprint_scheme(run_id)
    except UnknownRunError:
        return _UNKNOWN


def step_columns(event, schemes):
    """The steps an event names, as ``changed_since_fit``, ``unchecked_since_fit`` and
    ``changed_or_unchecked_since_fit`` (each None where none): the changed steps of an
    event logged before the two were told apart, of a run of scheme 1 or none (in
    ``schemes``, from :func:`run_schemes`), move to the last."""
    payload = event["payload"]
    changed = payload.get("changed_since_fit")
    untold = None
    if logged_before_told_apart(payload) and may_be_unchecked(schemes[event["run_id"]]):
        changed, untold = None, changed
    return {
        "changed_since_fit": changed,
        "unchecked_since_fit": payload.get("unchecked_since_fit"),
        "changed_or_unchecked_since_fit": untold,
    }
