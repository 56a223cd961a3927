"""A model corrected by an unlearner, matched to the removal event that made it.

Each ``"unlearning"`` event records ``model_fingerprint_after``: the fingerprint of the
model the removal left. A report of such a model rests on the run as stored at fit (the
record an auditor can check against the store) and names the removal whose recorded
fingerprint the model has; the run's removals are listed in its record-keeping section.
"""

from .._lineage._fingerprint import SCHEME, fingerprint
from .._lineage._fingerprint_match import EARLIER
from ..exceptions import ComplianceError


def _removals(events, run_id):
    return [e for e in events if e["kind"] == "unlearning" and e["run_id"] == run_id]


def _recorded(event):
    payload = event["payload"] if isinstance(event["payload"], dict) else {}
    return payload.get("model_fingerprint_after")


def model_fingerprints(estimator):
    """``[(scheme, fingerprints)]`` of ``estimator`` and the model it wraps: in the current
    scheme, then in each earlier one (a value a scheme could not walk: none of it). Read
    under the model's lock; matched to the store's removals (:func:`fitted_after_removal`)
    with the lock let go."""
    models = [estimator]
    inner = getattr(estimator, "estimator_", None)
    if inner is not None:
        models.append(inner)
    found = [(SCHEME, {fingerprint(m) for m in models})]
    for earlier, made in EARLIER:
        old = set()
        for m in models:
            try:
                old.add(made(m))
            except Exception:  # a value the scheme could not walk: no record of it
                continue
        found.append((earlier, old))
    return found


def fitted_after_removal(prints, run_id, events, name):
    """``({"seq", "hash", "fingerprint"}, scheme)`` of the run's last removal when the
    model of ``name`` whose :func:`model_fingerprints` are ``prints`` is the model that
    removal left, else ``(None, None)``. ``scheme`` is the current one (6), or 5 to 1
    where only a fingerprint of that earlier scheme (a removal recorded before scheme 6
    to 2) matched: that scheme could not tell some models apart.

    Raises
    ------
    ComplianceError
        The model is what an earlier removal left, and later removals of the run are
        recorded: it is not the model the record describes last.
    """
    removals = _removals(events, run_id)
    if not removals:
        return None, None
    for scheme, mine in prints:
        found = _matched(removals, mine, run_id, name)
        if found is not None:
            return found, scheme
    return None, None


def _matched(removals, mine, run_id, name):
    last = removals[-1]
    if _recorded(last) in mine:
        return {"seq": int(last["seq"]), "hash": last["hash"], "fingerprint": _recorded(last)}
    earlier = [int(e["seq"]) for e in removals[:-1] if _recorded(e) in mine]
    if earlier:
        later = [int(e["seq"]) for e in removals if int(e["seq"]) > earlier[-1]]
        raise ComplianceError(
            f"the fitted {name} is the model removal seq {earlier[-1]} "
            f"of run {run_id} left, but later removal(s) of that run are recorded (seq "
            f"{', '.join(map(str, later))}): report the model the last removal left, or "
            "the run as stored with compliance_report(store=..., run_id=...)"
        )
    return None


def after_removal_problems(claimed, events, run_id):
    """What is wrong with a report's claim that its model is what a removal left
    (``model.fitted_object_after_removal``), checked against the store's events."""
    removals = _removals(events, run_id)
    match = [e for e in removals if int(e["seq"]) == claimed.get("seq")]
    if not match:
        return [
            "/model/fitted_object_after_removal: the store has no removal of run "
            f"{run_id} with seq {claimed.get('seq')}"
        ]
    (event,) = match
    problems = []
    if event is not removals[-1]:
        problems.append(
            "/model/fitted_object_after_removal names removal seq "
            f"{claimed.get('seq')}, but the run's last removal up to the report's chain "
            f"head is seq {removals[-1]['seq']}"
        )
    if event["hash"] != claimed.get("hash"):
        problems.append("/model/fitted_object_after_removal/hash differs from the store's event")
    if _recorded(event) != claimed.get("fingerprint"):
        problems.append(
            "/model/fitted_object_after_removal/fingerprint differs from the one the "
            "store's removal event records"
        )
    return problems


def removal_features(events, run_id, after):
    """``features_after`` of the run's removal ``after`` (``{"seq", ...}``) names, as its
    event records it: the model's inputs as that removal left them, where they differ
    from those of the run stored at fit; else None."""
    if not isinstance(after, dict):
        return None
    for event in _removals(events, run_id):
        if int(event["seq"]) == after.get("seq"):
            payload = event["payload"] if isinstance(event["payload"], dict) else {}
            changed = payload.get("features_after")
            return changed if isinstance(changed, dict) else None
    return None
