"""Art. 10 (provider): data and data governance. The provenance and preparation the
record holds (sources, ops, feature lineage), and the governance practices it cannot
show."""

from ._article import PARTLY, _article, _plural
from ._section_input_data import _attached_said


def _data_governance(report):
    features = report["feature_lineage"]
    ops = report["model"]["ops"]
    why = (
        f"Provenance and preparation are recorded: {_plural(len(report['sources']), 'source')} "
        f"with SHA-256 hashes and load times, {_plural(len(ops), 'op')} (class, parameters, "
        "fingerprint of the fitted state) and feature lineage for "
        f"{features['n_features']} model inputs"
    )
    if features["unknown"]:
        why += f" ({_plural(len(features['unknown']), 'input')} of unknown lineage)"
    outside = features.get("from_columns_in_no_source", [])
    if outside:
        why += (
            f"; {_plural(len(outside), 'input')} ({', '.join(outside)}) made from columns "
            "that no source holds, computed outside the pipeline from what the record "
            "does not say"
        )
    attached = features.get("attached_outside_pipeline", [])
    if attached:
        why += "; " + _attached_said(attached)[:-1]
    target = features.get("from_the_target", [])
    if target:
        why += (
            f"; {_plural(len(target), 'input')} ({', '.join(target)}) computed from the "
            "target of every training row (a target encoding or a supervised feature "
            "selection), so labelling errors reach them too"
        )
    after = report["model"].get("fitted_object_after_removal")
    if after is not None:
        why += (
            f"; these are the ops and inputs of the model as fitted, and the model reported "
            f"is this run's model after removal seq {after['seq']}: its refitted steps have "
            "other fitted states, and inputs that only removed rows produced (a category "
            "of theirs, say) are no longer among its inputs (each removal's note says how "
            "many it dropped)"
        )
        changed = features.get("after_removal")
        if changed:
            added = changed["added"]
            why += (
                f"; that removal left it {_plural(changed['n_features'], 'input')}, "
                f"{len(added)} of them not among the fit's"
                + (f" ({', '.join(added)})" if added else "")
                + f" and {changed['n_dropped']} of the fit's no longer among them "
                "(/feature_lineage/after_removal)"
            )
    why += (
        ". Design choices, data collection, labelling, and the examination for possible "
        "biases are governance practices the record cannot show."
    )
    return _article(
        "10",
        "Data and data governance (provider)",
        "Training data is subject to data governance and management practices: "
        "provenance, preparation, examination for biases, relevance and representativeness.",
        PARTLY,
        why,
        ["/sources", "/model/ops", "/feature_lineage"],
        [
            "design choices and data collection processes",
            "labelling quality",
            "the examination for possible biases",
        ],
    )
