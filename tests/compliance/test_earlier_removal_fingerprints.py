"""A removal event recorded with a fingerprint of scheme 1 (before scheme 2).

The corrected model's fingerprint in an ``"unlearning"`` event written by an earlier
sktraceprop is scheme 1's. The model it left must still be reported as that removal's
(no false alarm), and the report must say the match rests on scheme 1. The earlier
writer is the unlearner of this version with its fingerprint replaced by the frozen
scheme-1 walker (``_fingerprint_v1``, checked against a store written at 775ad56 in
``tests/stores/test_earlier_fingerprints.py``).
"""

import sktraceprop as stp
import sktraceprop.unlearning._record as unlearning_record
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop._lineage._fingerprint_match import OLD_SCHEME_NOTE
from sktraceprop._lineage._fingerprint_v1 import fingerprint_v1
from sktraceprop.compliance import compliance_report
from tests.compliance.conftest import DEPLOYER, logged_pipeline, traced_frames


def test_a_removal_recorded_by_scheme_1_is_matched_and_said_so(hospitals, tmp_path, monkeypatch):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "unlearned.db")
    pipe = logged_pipeline(store, X, y)
    unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    with monkeypatch.context() as m:
        # the event's model_fingerprint_after, as the earlier version wrote it
        m.setattr(unlearning_record, "fingerprint", fingerprint_v1)
        unlearner._fingerprint_now = fingerprint_v1(unlearner.estimator_)  # fitted then
        unlearner.unlearn(source_id="hospital_b")
    (stored,) = [e for e in store.events() if e["kind"] == "unlearning"]
    recorded = stored["payload"]["model_fingerprint_after"]
    assert recorded == fingerprint_v1(unlearner.estimator_)
    assert recorded != fingerprint(unlearner.estimator_)
    report = compliance_report(unlearner, **DEPLOYER)
    model = report.to_dict()["model"]
    assert model["fitted_object_matches_run"] is False
    assert model["fitted_object_after_removal"]["seq"] == stored["seq"]
    assert model["fitted_object_match_caveat"] == (
        f"removal seq {stored['seq']}: {OLD_SCHEME_NOTE}"
    )
    assert report.verify(store=store)
