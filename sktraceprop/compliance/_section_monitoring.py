"""Art. 26(5): monitoring of operation, from the prediction log (its calls, their span,
the models that answered them and the fingerprint schemes they matched by)."""

from ._article import DEPLOYER, PARTLY, _article, _plural
from ._erasure_evidence import monitoring_words
from ._model_calls import gap_words
from ._section_logs import GAP_DAYS


def _calls_set_back(report):
    """Where the first and last calls written may not hold the earliest and latest
    stamps: a later call stamped before the first, or the last stamped before an event
    written before it (said in reports since days_unlogged_before_report was kept)."""
    r, p = report["retention"], report["record_keeping"]["predictions"]
    if "days_unlogged_before_report" not in r:
        return ""
    seqs = [e["seq"] for e in r.get("times_set_back") or []]
    if not any(p["first_seq"] < seq <= p["last_seq"] for seq in seqs):
        return ""
    return (
        " (the times of the first and last calls written: the chain's order contradicts "
        "times among them, see Art. 12, so calls may be stamped outside this range)"
    )


def _monitoring(report):
    predictions = report["record_keeping"]["predictions"]
    if not predictions["n_calls"]:
        return _article(
            "26(5)",
            "Monitoring of operation",
            "Deployers monitor the operation of the system on the basis of the "
            "instructions for use and inform the provider and authorities of risks and "
            "serious incidents.",
            DEPLOYER,
            "No use of this model is logged in the store (no prediction events): there is "
            "nothing in the record to monitor. Fit the model with log_predictions=True so "
            "that every call is recorded." + gap_words(report, GAP_DAYS),
            ["/record_keeping/predictions"],
            ["the monitoring itself", "reports to the provider or authorities"],
        )
    flagged = predictions["calls_by_a_model_changed_since_fit"]
    why = (
        f"The prediction log holds {_plural(predictions['n_calls'], 'call')} "
        f"({predictions['n_rows']} rows) from {predictions['first']} to "
        f"{predictions['last']}{_calls_set_back(report)}, by month and method, "
        + monitoring_words(predictions, report["record_keeping"].get("prediction_erasures"))
        + gap_words(report, GAP_DAYS)
    )
    if flagged:
        why += (
            f" {_plural(flagged, 'call')} came from a model changed since its run was "
            "recorded (a step replaced after fit, e.g. by an unlearner)."
        )
    unchecked = predictions.get("calls_by_a_model_unchecked_since_fit")
    if unchecked:
        why += (
            f" {_plural(unchecked, 'call')} came from a model whose steps cannot be checked "
            "against its run (recorded with fingerprint scheme 1 or none, whose form did "
            "not see what a tree, a KNN model or a histogram boosting model learnt): "
            "whether the run's model answered them cannot be told."
        )
    untold = predictions.get("calls_by_a_model_changed_or_unchecked_since_fit")
    if untold:
        why += (
            f" {_plural(untold, 'call')} came from a model changed since its run, or whose "
            "steps cannot be checked against it (logged before the two were told apart, "
            "for a run recorded with fingerprint scheme 1 or none): which is not known, "
            "and they are not counted as changed."
        )
    old_scheme = predictions.get("calls_matched_by_old_fingerprint_scheme")
    if old_scheme:
        why += (
            f" {_plural(old_scheme, 'call')} came from a model that matched its run only by "
            "fingerprint scheme 1 (the run was recorded before scheme 2), which some "
            "different models share: that the run's model answered them is shown only as "
            "far as that scheme can tell."
        )
    scheme_2 = predictions.get("calls_matched_by_fingerprint_scheme_2")
    if scheme_2:
        why += (
            f" {_plural(scheme_2, 'call')} came from a model that matched its run only by "
            "fingerprint scheme 2 (the run was recorded before scheme 3), which named "
            "functions and classes by name only, so models that differ in their code "
            "share it: that the run's model answered them is shown only as far as that "
            "scheme can tell."
        )
    scheme_3 = predictions.get("calls_matched_by_fingerprint_scheme_3")
    if scheme_3:
        why += (
            f" {_plural(scheme_3, 'call')} came from a model that matched its run only by "
            "fingerprint scheme 3 (the run was recorded before scheme 4), which named the "
            "attributes of user classes other than functions (a class constant) and "
            "packages installed from a folder, so models that differ only there share "
            "it: that the run's model answered them is shown only as far as that scheme "
            "can tell."
        )
    scheme_4 = predictions.get("calls_matched_by_fingerprint_scheme_4")
    if scheme_4:
        why += (
            f" {_plural(scheme_4, 'call')} came from a model that matched its run only by "
            "fingerprint scheme 4 (the run was recorded before scheme 5), which named the "
            "code of packages installed from a package index and took a user module named "
            "like a standard library one for the standard library, so models that differ "
            "only there share it: that the run's model answered them is shown only as far "
            "as that scheme can tell."
        )
    scheme_5 = predictions.get("calls_matched_by_fingerprint_scheme_5")
    if scheme_5:
        why += (
            f" {_plural(scheme_5, 'call')} came from a model that matched its run only by "
            "fingerprint scheme 5 (the run was recorded before scheme 6), which named a "
            "module a user function holds and not the helpers it calls through it "
            "(mymod.helper), so models that differ only in such a helper share it: that "
            "the run's model answered them is shown only as far as that scheme can tell."
        )
    why += (
        " Monitoring itself, and informing the provider or authorities of risks and "
        "serious incidents, are actions the record cannot show."
    )
    return _article(
        "26(5)",
        "Monitoring of operation",
        "Deployers monitor the operation of the system on the basis of the instructions "
        "for use and inform the provider and authorities of risks and serious incidents.",
        PARTLY,
        why,
        ["/record_keeping/predictions"],
        ["the monitoring itself", "reports to the provider or authorities"],
    )
