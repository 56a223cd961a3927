"""The compliance report: every figure against the raw files and the store's events."""

import calendar
import hashlib
import json
import re
from datetime import datetime, timedelta, timezone

import jsonschema
import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from sktraceprop.compliance import ANNEX_III, ComplianceReport, compliance_report
from sktraceprop.compliance._evidence import months_before
from sktraceprop.compliance._jcs import jcs_bytes
from sktraceprop.exceptions import ComplianceError, UnknownRunError

from .conftest import (
    DEPLOYER,
    before_format_7,
    format_3_retention,
    logged_pipeline,
    traced_frames,
)

UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")


def _times(value, key=""):
    """Every string held under a key that names a time."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _times(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _times(v, key)
    elif isinstance(value, str) and (
        key.endswith(("_at", "_logged", "_on", "_use", "_report", "_time"))
        or key in ("first", "last")
        or re.match(r"\d{4}-\d\d-\d\d", value)
    ):
        yield value


def test_report_figures_come_from_the_files_and_the_log(fitted, hospitals, tmp_path):
    pipe, store, X, y = fitted
    path = tmp_path / "report.json"
    report = compliance_report(pipe, **DEPLOYER, output_path=path)
    data = json.loads(path.read_text())
    assert data == report.to_dict()
    jsonschema.validate(data, stp.compliance.report_schema())
    assert ComplianceReport.load(path, store=store).sha256 == report.sha256

    sources = {s["source_id"]: s for s in data["sources"]}
    assert sorted(sources) == ["hospital_a", "hospital_b"]
    for name, comment in (("hospital_a", None), ("hospital_b", "#")):
        raw = hospitals[name].read_bytes()
        plain = pd.read_csv(hospitals[name], comment=comment)  # pandas alone: the truth
        s = sources[name]
        assert s["sha256"] == hashlib.sha256(raw).hexdigest()
        assert s["uri"].endswith(f"/{name}.csv") and s["kind"] == "file"
        assert s["n_rows"] == len(plain) == s["training_rows"]
        assert [c["name"] for c in s["columns"]] == list(plain.columns)
        stats = s["statistics"]
        assert stats["recorded_at_fit"] and stats["rows_given_to_fit"] == len(plain)
        assert stats["target"] == "label"
        counts = plain["label"].value_counts()
        assert stats["labels"]["counts"] == {str(k): int(v) for k, v in counts.items()}
        columns = {c["name"]: c for c in s["columns"]}
        for col in ("age", "sex", "bp"):  # given to fit
            assert columns[col]["missing"] == int(plain[col].isna().sum())
            assert columns[col]["missing_rate"] == pytest.approx(plain[col].isna().mean())
        assert columns["note"]["missing"] is None  # not given to fit: not counted
        assert "logisticregression" in s["ops"]
    assert sources["hospital_b"]["statistics"]["labels"]["kind"] == "classes"
    assert any(c["missing"] for c in sources["hospital_b"]["columns"])

    model = data["model"]
    assert model["run_id"] == pipe.lineage_.run_id
    assert model["fingerprint"] == pipe.lineage_.model_fingerprint
    assert model["n_training_rows"] == len(X)
    assert model["versions"]["scikit-learn"] == sklearn.__version__
    assert model["final_estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert model["fitted_object_matches_run"] is True

    events = store.events()
    calls = [e for e in events if e["kind"] == "prediction"]
    logged = data["record_keeping"]["predictions"]
    assert logged["n_calls"] == len(calls) == 3
    assert logged["n_rows"] == 7 + 4 + 3
    assert logged["first"] == calls[0]["created_at"] and logged["last"] == calls[-1]["created_at"]
    assert logged["by_method"]["predict_proba"] == {"calls": 1, "rows": 4}
    assert sum(logged["predicted_classes"].values()) == 7
    # the chain holds the store's own events too: counted apart from the audit events
    chain = store.events(include_store_events=True)
    kept = [e for e in chain if e["kind"].startswith("store.")]
    counts = data["record_keeping"]["store"]
    assert counts["n_audit_events"] == len(events) == 3
    assert counts["n_store_events"] == len(kept) == 3  # two sources, one run
    assert counts["n_chain_events"] == len(chain) == 6
    assert counts["chain_head"]["hash"] == chain[-1]["hash"] == events[-1]["hash"]
    assert counts["checkpoints"]["signed"] is False
    # predictions are summarised, not copied; the events putting this run and its
    # sources under the chain are copied, for an auditor to check against the store
    assert data["events"] == kept
    assert [e["kind"] for e in data["events"]] == ["store.source", "store.source", "store.run"]
    assert data["events"][-1]["run_id"] == pipe.lineage_.run_id
    (records,) = [a for a in data["articles"] if a["article"] == "12"]
    assert "3 audit events, in a hash chain of 6 events with the 3 the store" in records["why"]

    times = list(_times({k: v for k, v in data.items() if k != "integrity"}))
    assert len(times) > 10 and [t for t in times if not UTC.match(t)] == []
    retention = data["retention"]
    # the times the store logged (every chained event), not the runs' own fit times
    earliest = min(datetime.fromisoformat(e["created_at"]) for e in chain)
    assert datetime.fromisoformat(retention["earliest_logged"]) == earliest
    assert retention["stored_logs_cover_six_months"] is False
    reached = datetime.fromisoformat(retention["six_months_reached_on"])
    assert reached == months_before(earliest, -6) and reached - earliest > timedelta(days=180)

    statuses = {a["article"]: a["status"] for a in data["articles"]}
    assert statuses == {
        "26(1)": "needs the deployer's input",
        "26(2)": "needs the deployer's input",
        "26(4)": "partly evidenced",
        "26(5)": "partly evidenced",
        "26(6), 19(1)": "partly evidenced",
        "12": "evidenced",
        "10": "partly evidenced",
    }
    assert "Loan officer on duty" in data["articles"][1]["why"]
    assert data["system"]["high_risk_category"]["annex_iii_point"] == "5(b)"


def test_logs_older_than_six_months_evidence_retention(hospitals, monkeypatch):
    import sys

    from sktraceprop.stores._base import make_event

    clock = sys.modules[make_event.__module__]  # where the store's events get their time
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    old = (datetime.now(timezone.utc) - timedelta(days=200)).isoformat()
    # logs kept since 200 days ago, their times in the order they were written (the
    # review stamped 200 days early but written after the fit is a set-back clock:
    # tests/compliance/test_report_clock.py)
    with monkeypatch.context() as m:
        m.setattr(clock, "utc_now", lambda: old)
        pipe = logged_pipeline(store, X, y)
        store.append_event("review", {"by": "internal audit"})
    pipe.predict(X.iloc[:2])
    report = compliance_report(pipe, **DEPLOYER)
    data = report.to_dict()
    assert data["retention"]["earliest_logged"] == datetime.fromisoformat(old).isoformat()
    assert data["retention"]["stored_logs_cover_six_months"] is True
    (retention,) = [a for a in data["articles"] if a["article"] == "26(6), 19(1)"]
    assert retention["status"] == "evidenced"
    assert data["retention"]["times_set_back"] == []
    assert data["retention"]["coverage_from"] == data["retention"]["earliest_logged"]
    # the store-level event (no run) is copied in full, after the events the store
    # wrote when it saved the run and its two sources
    assert [e["kind"] for e in data["events"]] == [
        "store.source",
        "store.source",
        "store.run",
        "review",
    ]


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2200, 12, 31),
        timezones=st.just(timezone.utc),
    ),
    st.integers(-30, 30),
)
def test_months_before_is_calendar_arithmetic(moment, months):
    shifted = months_before(moment, months)
    index = moment.year * 12 + moment.month - 1 - months
    assert (shifted.year, shifted.month) == (index // 12, index % 12 + 1)
    last = calendar.monthrange(shifted.year, shifted.month)[1]
    assert shifted.day == min(moment.day, last)
    assert shifted.time() == moment.time() and shifted.tzinfo == moment.tzinfo


def test_no_prediction_log_and_removals_with_certificates(hospitals):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    pipe = logged_pipeline(store, X, y, log=False)
    unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    unlearner.unlearn(source_id="hospital_b")
    event = unlearner.unlearning_log_[-1]
    # reported as recorded, from the store (the corrected model: see the next test)
    report = compliance_report(store=store, run_id=unlearner.run_id_, **DEPLOYER)
    data = report.to_dict()
    (removal,) = data["record_keeping"]["removals"]
    assert removal["certificate"] == event["certificate"]
    from_b = int((stp.row_lineage(X)["source_id"] == "hospital_b").sum())
    assert removal["n_removed"] == event["n_removed"] == from_b
    assert removal["sources"] == {"hospital_b": event["n_removed"]}
    # the removal, after the events the store wrote for the corrected run and its sources
    assert [e["kind"] for e in data["events"]] == [
        "store.source",
        "store.source",
        "store.run",
        "unlearning",
    ]
    assert {e["run_id"] for e in data["events"][2:]} == {unlearner.run_id_}
    assert data["model"]["fitted_object_matches_run"] is None
    statuses = {a["article"]: a["status"] for a in data["articles"]}
    assert statuses["26(5)"] == "needs the deployer's input"
    assert statuses["12"] == "partly evidenced"
    assert report.verify(store=store)
    html = report.to_html()
    assert str(event["certificate"]) in html and "not checked (the report was made" in html


def test_features_from_an_aggregate_over_both_files_are_named(hospitals):
    a, b, _, _ = traced_frames(hospitals)
    rows = pd.concat([a, b])
    means = stp.aggregate(rows, by="sex", bp_sex_mean=("bp", "mean"))
    joined = stp.merge(rows, means, on="sex", how="left")
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    X = joined[["age", "bp_sex_mean"]]
    pipe.fit(X, joined["label"])
    pipe.predict(X.iloc[:3])
    data = compliance_report(pipe, **DEPLOYER).to_dict()
    features = {f["feature"]: f for f in data["feature_lineage"]["features"]}
    (agg,) = features["bp_sex_mean"]["aggregates"]
    assert agg["computed_over"] == ["hospital_a", "hospital_b"]
    assert data["feature_lineage"]["aggregated_over_several_sources"] == ["bp_sex_mean"]
    assert features["age"]["aggregates"] == []  # each row's own file
    (input_data,) = [a for a in data["articles"] if a["article"] == "26(4)"]
    assert "1 model input come from aggregates computed over several" in input_data["why"]
    kinds = {s["source_id"]: s["kind"] for s in data["sources"]}
    assert sorted(kinds.values()) == ["aggregate", "file", "file", "merge"]
    html = stp.compliance.ComplianceReport(data).to_html()
    assert "come from aggregates computed over several sources" in html
    graph = stp.compliance.ComplianceReport(data).lineage_graph()
    derived = [n["label"] for n in graph["nodes"] if n["kind"] == "derived"]
    assert sorted(derived) == sorted(k for k, v in kinds.items() if v in ("merge", "aggregate"))
    edges = {(a.split(":")[0], b.split(":")[0]) for a, b in graph["edges"]}
    assert ("source", "source") in edges  # files -> the merge and the aggregate


def test_files_reached_through_a_merge_get_the_statistics_of_their_merged_rows(
    hospitals, tmp_path
):
    """Every training row is a merge of a hospital file's row and a lookup row: each
    file's label balance and missing values are those of the rows built from it
    (counted by pandas over the raw file), never a 0 for columns nobody counted."""
    a, b, _, _ = traced_frames(hospitals)
    lookup = stp.from_pandas(
        pd.DataFrame({"sex": ["F", "M"], "sex_rate": [0.4, np.nan]}), source_id="rates"
    )
    joined = stp.merge(pd.concat([a, b]), lookup, on="sex", how="left")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = logged_pipeline(store, joined[["age", "sex", "bp"]], joined["label"])
    pipe.predict(joined[["age", "sex", "bp"]].iloc[:4])
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert stp.compliance.verify(path, store=store)
    sources = {s["source_id"]: s for s in data["sources"]}
    for name, comment in (("hospital_a", None), ("hospital_b", "#")):
        plain = pd.read_csv(hospitals[name], comment=comment)  # pandas alone: the truth
        s = sources[name]
        assert s["training_rows"] == 0 and s["training_rows_through_merges"] == len(plain)
        stats = s["statistics"]
        assert stats["recorded_at_fit"] and stats["through_merges"]
        assert stats["rows_given_to_fit"] == len(plain)
        counts = plain["label"].value_counts()
        assert stats["labels"]["counts"] == {str(k): int(v) for k, v in counts.items()}
        columns = {c["name"]: c for c in s["columns"]}
        for col in ("age", "sex", "bp"):
            assert columns[col]["missing"] == int(plain[col].isna().sum())
        assert columns["note"]["missing"] is None  # not given to fit: not counted
    # the lookup's column was not given to fit: its NaN is not counted, and not a 0
    rates = {c["name"]: c["missing"] for c in sources["rates"]["columns"]}
    assert rates == {"sex": 0, "sex_rate": None}
    html = stp.compliance.ComplianceReport(data).to_html()
    n_a = sources["hospital_a"]["training_rows_through_merges"]
    assert f"{n_a} through merges" in html
    (input_data,) = [x for x in data["articles"] if x["article"] == "26(4)"]
    assert "through merges" in input_data["why"]


def test_a_source_no_training_row_was_built_from_counts_no_missing_values(hospitals):
    a, b, _, _ = traced_frames(hospitals)
    unused = stp.from_pandas(
        pd.DataFrame({"sex": ["X"], "extra": [np.nan]}), source_id="unmatched"
    )
    joined = stp.merge(pd.concat([a, b]), unused, on="sex", how="left")
    X = joined[["age", "sex", "bp"]]
    pipe = logged_pipeline(stp.stores.MemoryStore(), X, joined["label"])
    pipe.predict(X.iloc[:2])
    data = compliance_report(pipe, **DEPLOYER).to_dict()
    (s,) = [s for s in data["sources"] if s["source_id"] == "unmatched"]
    assert s["training_rows"] == 0 and "training_rows_through_merges" not in s
    assert not s["statistics"]["recorded_at_fit"]
    assert [c["missing"] for c in s["columns"]] == [None, None]


def test_bad_input_is_refused_and_nothing_is_written(fitted, tmp_path):
    pipe, store, X, y = fitted
    path = tmp_path / "r.json"
    before = store.events()
    with pytest.raises(ComplianceError) as info:
        compliance_report(pipe, **{**DEPLOYER, "high_risk_category": "credit"}, output_path=path)
    message = str(info.value)
    assert "'credit'" in message and all(key in message for key in ANNEX_III)
    for field in ("system_name", "deployer_name", "intended_purpose", "system_version"):
        with pytest.raises(ComplianceError, match=field):
            compliance_report(pipe, **{**DEPLOYER, field: "  "}, output_path=path)
    with pytest.raises(ComplianceError, match="human_oversight"):
        compliance_report(pipe, **{**DEPLOYER, "human_oversight": []}, output_path=path)
    with pytest.raises(ComplianceError, match="human_oversight"):
        compliance_report(pipe, **{**DEPLOYER, "human_oversight": "the bank"})
    with pytest.raises(TypeError, match="deployer_name"):
        kwargs = dict(DEPLOYER)
        del kwargs["deployer_name"]
        compliance_report(pipe, **kwargs)
    with pytest.raises(UnknownRunError, match="no run 'nope'"):
        compliance_report(store=store, run_id="nope", **DEPLOYER, output_path=path)
    assert not path.exists() and store.events() == before

    empty = stp.stores.MemoryStore()
    quiet = logged_pipeline(empty, X, y, log=False)
    with pytest.raises(ComplianceError, match="no audit events"):
        compliance_report(quiet, **DEPLOYER, output_path=path)
    with pytest.raises(ComplianceError, match="no store"):
        compliance_report(logged_pipeline(None, X, y, log=False), **DEPLOYER)
    with pytest.raises(ComplianceError, match="no recorded run"):
        compliance_report(LogisticRegression().fit(X[["age"]], y), **DEPLOYER)
    assert not path.exists()

    path.write_text("keep me")
    with pytest.raises(ComplianceError, match="never overwritten"):
        compliance_report(pipe, **DEPLOYER, output_path=path)
    report = compliance_report(pipe, **DEPLOYER)
    with pytest.raises(ComplianceError, match="never overwritten"):
        report.to_html(path)
    assert path.read_text() == "keep me"


def test_checkpoints_count_as_signed_only_when_their_signatures_are_checked(fitted, tmp_path):
    from sktraceprop import signing
    from sktraceprop.exceptions import CorruptStoreError

    pipe, store, X, _ = fitted

    def state(**kwargs):
        data = compliance_report(pipe, **DEPLOYER, **kwargs).to_dict()
        jsonschema.validate(data, stp.compliance.report_schema())
        (record,) = [a for a in data["articles"] if a["article"] == "12"]
        return data["record_keeping"]["store"]["checkpoints"], record["cannot_show"]

    checkpoints, cannot = state()
    assert checkpoints["signed"] is False and checkpoints["n_checkpoints"] == 0
    assert any("the chain is not shown signed" in c for c in cannot)

    key = signing.generate_key()
    signing.save_key(key.public_key(), tmp_path / "audit.pub.pem")
    made = store.checkpoint(key)
    # stored, but nothing says who signed it: not reported as signed
    checkpoints, cannot = state()
    assert checkpoints["n_checkpoints"] == 1 and checkpoints["latest"] == made
    assert checkpoints["signed"] is False and checkpoints["signatures_checked"] is False
    assert "signatures were not checked" in checkpoints["note"]
    assert any("the chain is not shown signed" in c for c in cannot)

    checkpoints, cannot = state(checkpoint_key=tmp_path / "audit.pub.pem")
    assert checkpoints["signed"] is True and checkpoints["signatures_checked"] is True
    assert checkpoints["signed_through"] == made["event_seq"] == store.check()["last_seq"]
    assert checkpoints["key_fingerprint"] == made["key_fingerprint"]
    assert "later event" not in checkpoints["note"]
    assert any(f"after event {made['event_seq']} (the last one signed)" in c for c in cannot)

    pipe.predict(X.iloc[:2])  # one more event, after the checkpoint
    checkpoints, _ = state(checkpoint_key=key.public_key())
    assert checkpoints["signed_through"] == made["event_seq"]
    assert "the 1 later event(s) are not signed yet" in checkpoints["note"]
    with pytest.raises(CorruptStoreError, match="signed by another key"):
        compliance_report(pipe, **DEPLOYER, checkpoint_key=signing.generate_key().public_key())


def _corrected(hospitals, tmp_path, removals=("hospital_b",)):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "unlearned.db")
    pipe = logged_pipeline(store, X, y)
    unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    for source in removals:
        unlearner.unlearn(source_id=source)
    unlearner.predict(X.iloc[:4])
    return unlearner, store, X


def test_a_model_an_unlearner_corrected_is_reported_with_its_removal(hospitals, tmp_path):
    unlearner, store, X = _corrected(hospitals, tmp_path)
    event = unlearner.unlearning_log_[-1]
    stored = [e for e in store.events() if e["kind"] == "unlearning"]
    # truth: the fingerprint of the model as it now answers, and the store's own event
    from sktraceprop._lineage._fingerprint import fingerprint

    assert stored[-1]["payload"]["model_fingerprint_after"] == fingerprint(unlearner.estimator_)
    # the corrected model's prediction events name that fingerprint
    (logged,) = [e for e in store.events() if e["kind"] == "prediction"][-1:]
    assert logged["payload"]["model_fingerprint"] == fingerprint(unlearner.estimator_)
    for passed in (unlearner, unlearner.estimator_):
        data = compliance_report(passed, **DEPLOYER).to_dict()
        model = data["model"]
        assert model["fitted_object_matches_run"] is False
        assert model["fitted_object_after_removal"] == {
            "seq": stored[-1]["seq"],
            "hash": stored[-1]["hash"],
            "fingerprint": fingerprint(unlearner.estimator_),
        }
        # the rest is the run as stored at fit, removals listed
        assert model["fingerprint"] == store.load_run(unlearner.run_id_).model_fingerprint
        assert model["n_training_rows"] == len(X)
        (removal,) = data["record_keeping"]["removals"]
        assert removal["seq"] == event["seq"]
        assert removal["model_fingerprint_after"] == fingerprint(unlearner.estimator_)
    report = compliance_report(unlearner, **DEPLOYER)
    assert report.verify(store=store)
    (data_article,) = [a for a in report.articles if a["article"] == "26(4)"]
    assert (
        f"after removal seq {event['seq']}: these figures describe the data as given to "
        f"fit, of which the 1 removal listed in the record-keeping section took out "
        f"{event['n_removed']} training rows"
    ) in data_article["why"]
    assert "after removal seq" in report.to_html()
    # a claim naming another event, or another fingerprint, is found by verify
    from sktraceprop.compliance._after_removal import after_removal_problems

    claim = report.to_dict()["model"]["fitted_object_after_removal"]
    events = store.events()
    assert after_removal_problems(claim, events, unlearner.run_id_) == []
    assert after_removal_problems({**claim, "seq": 0}, events, unlearner.run_id_)
    assert after_removal_problems({**claim, "fingerprint": "0" * 64}, events, unlearner.run_id_)
    # changed after the removal: no removal records this model
    unlearner.estimator_[-1].coef_ = unlearner.estimator_[-1].coef_ * 2
    with pytest.raises(ComplianceError, match="no removal of that run records"):
        compliance_report(unlearner.estimator_, **DEPLOYER)


def test_the_inputs_of_a_corrected_model_are_not_claimed_as_the_runs(tmp_path):
    """Art. 10 said "feature lineage for 4 model inputs" of a model an unlearner had
    left with 3: the category only the removed source had is the run's input, not the
    corrected model's. Truth: the corrected pipeline's own output features."""
    rng = np.random.default_rng(0)
    frames, ys = [], []
    for k, colours in enumerate([["red", "blue"], ["red", "blue", "teal"]]):
        part = pd.DataFrame({"x": rng.normal(size=30), "colour": rng.choice(colours, 30)})
        frames.append(stp.from_pandas(part, source_id=f"inputs_{k}"))
        ys.append(rng.integers(0, 2, 30))
    X, y = pd.concat(frames), np.concatenate(ys)
    store = stp.stores.MemoryStore()
    pre = stp.make_traced_column_transformer((OneHotEncoder(), ["colour"]), ("passthrough", ["x"]))
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    unlearner.unlearn(source_id="inputs_1")
    now = len(unlearner.estimator_[:-1].get_feature_names_out())
    report = compliance_report(unlearner, **DEPLOYER)
    assert report.to_dict()["feature_lineage"]["n_features"] == now + 1
    (article,) = [a for a in report.articles if a["article"] == "10"]
    seq = unlearner.unlearning_log_[-1]["seq"]
    assert (
        f"feature lineage for {now + 1} model inputs; these are the ops and inputs of "
        in (article["why"])
    )
    assert (
        f"the model as fitted, and the model reported is this run's model after removal seq {seq}"
        in (article["why"])
    )


def test_the_model_an_earlier_removal_left_is_refused(hospitals, tmp_path):
    import pickle

    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "two.db")
    pipe = logged_pipeline(store, X, y)
    unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    ids = stp.row_ids(X)
    unlearner.unlearn(sample_id=ids[:3])
    first = pickle.loads(pickle.dumps(unlearner.estimator_))  # as the first removal left it
    unlearner.unlearn(sample_id=ids[3:6])
    with pytest.raises(ComplianceError, match="later removal"):
        compliance_report(first, **DEPLOYER)
    data = compliance_report(unlearner, **DEPLOYER).to_dict()
    removals = [e for e in store.events() if e["kind"] == "unlearning"]
    assert len(removals) == 2
    assert data["model"]["fitted_object_after_removal"]["seq"] == removals[-1]["seq"]


def test_a_pipeline_changed_in_place_is_refused(fitted):
    import pickle

    pipe, _, X, y = fitted
    # a copy of the fitted model (saved and loaded) is the same model
    again = pickle.loads(pickle.dumps(pipe))
    assert compliance_report(again, **DEPLOYER).to_dict()["model"]["fitted_object_matches_run"]
    pipe[-1].coef_ = pipe[-1].coef_ * 2
    with pytest.raises(ComplianceError, match="logisticregression changed since fit"):
        compliance_report(pipe, **DEPLOYER)


def test_signed_report_names_its_key(fitted):
    from sktraceprop import signing

    pipe, store, *_ = fitted
    key = signing.generate_key()
    data = compliance_report(pipe, **DEPLOYER, private_key=key).to_dict()
    signature = data["integrity"]["signature"]
    assert signature["public_key_sha256"] == signing.fingerprint(key.public_key())
    body = {k: v for k, v in data.items() if k != "integrity"}
    canonical = jcs_bytes(body)  # RFC 8785 (test_jcs checks it against a browser's)
    assert hashlib.sha256(canonical).hexdigest() == data["integrity"]["sha256"]
    assert signing.verify(key.public_key(), canonical, signature["value"])


def test_summary_and_repr(fitted):
    pipe, *_ = fitted
    report = compliance_report(pipe, **DEPLOYER)
    summary = report.summary()
    assert list(summary["article"]) == [
        "26(1)",
        "26(2)",
        "26(4)",
        "26(5)",
        "26(6), 19(1)",
        "12",
        "10",
    ]
    assert "CreditScorer 1.0.0" in repr(report) and report.sha256[:12] in repr(report)
    assert np.all(summary["why"].str.len() > 80)


def test_compliance_imports_without_jsonschema_and_says_what_is_missing():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; sys.modules['jsonschema'] = None\n"
        "import sktraceprop.compliance as c\n"
        "try:\n    c.verify({'report': {}})\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    root = str(Path(stp.__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert "pip install 'sktraceprop[compliance]'" in out.stdout, out.stderr


def test_a_removal_with_a_caveat_and_a_note_reports_both():
    from sktraceprop.compliance._log_evidence import _removals

    event = {"seq": 3, "created_at": "2026-12-01T00:00:00+00:00", "hash": "h"}
    both = _removals([{**event, "payload": {"caveat": "kept X", "note": "merged Y"}}])
    assert both[0]["caveat"] == "kept X; merged Y"
    note = _removals([{**event, "payload": {"note": "merged Y"}}])
    assert note[0]["caveat"] == "merged Y"
    assert _removals([{**event, "payload": {}}])[0]["caveat"] is None


def test_inputs_made_from_columns_no_source_holds_are_named(hospitals, tmp_path):
    a, b, X, y = traced_frames(hospitals)
    X = X.assign(prev_age=X["age"].shift(1))  # computed outside, from the previous row
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:3])
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert stp.compliance.verify(path, store=store)
    lineage = data["feature_lineage"]
    # the one-hot and scaled inputs come from the files; none is made from prev_age
    # (the pipeline drops it), so nothing is named ...
    assert "from_columns_in_no_source" not in lineage
    # ... until a step uses it
    from sklearn.impute import SimpleImputer

    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["sex"]), (SimpleImputer(), ["age", "bp", "prev_age"])
    )
    used = stp.make_traced_pipeline(pre, LogisticRegression(), store=store, log_predictions=True)
    used.fit(X, y).predict(X.iloc[:2])
    data = compliance_report(used, **DEPLOYER).to_dict()
    assert data["feature_lineage"]["from_columns_in_no_source"] == ["simpleimputer__prev_age"]
    (governance,) = [x for x in data["articles"] if x["article"] == "10"]
    assert (
        "1 input (simpleimputer__prev_age) made from columns that no source holds"
        in (governance["why"])
    )
    html = stp.compliance.ComplianceReport(data).to_html()
    assert "made from input columns that no source holds" in html


def test_a_file_read_two_ways_shows_both_reads(hospitals, tmp_path):
    """A peek with nrows, then the whole file with another usecols: the report's rows
    come from the full read, so it lists both reads, never only the peek's 5 rows."""
    path = hospitals["hospital_a"]
    stp.read_csv(path, source_id="hospital_a", nrows=5, usecols=["age", "label"])
    a = stp.read_csv(path, source_id="hospital_a")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = logged_pipeline(store, a[["age", "sex", "bp"]], a["label"])
    pipe.predict(a[["age", "sex", "bp"]].iloc[:3])
    data = compliance_report(pipe, **DEPLOYER).to_dict()
    jsonschema.validate(data, stp.compliance.report_schema())
    (s,) = data["sources"]
    plain = pd.read_csv(path)  # pandas alone: the truth
    assert s["n_rows"] == 5 and s["training_rows"] == len(plain)
    assert [(r["n_rows"], r["columns"]) for r in s["other_reads"]] == [
        (len(plain), list(plain.columns))
    ]
    assert "2 ways" in s["reads_note"]
    # every column any read gave, counted where it was given to fit
    assert [c["name"] for c in s["columns"]] == ["age", "label"] + [
        c for c in plain.columns if c not in ("age", "label")
    ]
    missing = {c["name"]: c["missing"] for c in s["columns"]}
    assert missing["bp"] == int(plain["bp"].isna().sum())
    # columns only the second read gave (sex, bp) still come from the file
    assert {f["feature"]: f["sources"] for f in data["feature_lineage"]["features"]} == {
        f: ["hospital_a"] for f in pipe.lineage_.feature_lineage
    }
    html = compliance_report(pipe, **DEPLOYER).to_html()
    assert f"5 (first read; other reads: {len(plain)})" in html
    # which read gave the training rows, from the file's own lines
    raw = path.read_bytes().split(b"\n")
    lines = [k + 1 for k, text in enumerate(raw) if k > 0 and text]
    assert len(lines) == len(plain)
    assert [
        (r["n_rows"], r["first_line"], r["last_line"], r["rows_outside"])
        for r in s["rows_by_read"]
    ] == [
        (5, lines[0], lines[4], len(plain) - 5),
        (len(plain), lines[0], lines[-1], 0),
    ]
    note = s["rows_by_read_note"]
    assert f"{len(plain) - 5} of the {len(plain)} rows given to fit lie outside lines" in note
    assert "did not come from it" in note
    assert f"every row given to fit lies within the lines of the read of {len(plain)} rows" in (
        note
    )
    assert "Which read gave the rows" in html
    assert stp.compliance.verify(data, store=store)


def test_inputs_computed_from_the_target_and_constants_are_said(hospitals, tmp_path):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, TargetEncoder

    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pre = stp.make_traced_column_transformer(
        (TargetEncoder(), ["sex"]),
        (make_pipeline(SimpleImputer(), PolynomialFeatures(2)), ["age", "bp"]),
    )
    pipe = stp.make_traced_pipeline(
        pre, LogisticRegression(max_iter=2000), store=store, log_predictions=True
    )
    pipe.fit(X, y).predict(X.iloc[:3])
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert stp.compliance.verify(path, store=store)
    lineage = data["feature_lineage"]
    assert lineage["from_the_target"] == ["targetencoder__sex"]
    features = {f["feature"]: f for f in lineage["features"]}
    assert features["targetencoder__sex"]["columns"] == ["sex", "<target>"]
    # the constant depends on no input, which is known, not unknown
    assert features["pipeline__1"]["columns"] == [] and features["pipeline__1"]["sources"] == []
    assert lineage["known"] and lineage["unknown"] == []
    (governance,) = [x for x in data["articles"] if x["article"] == "10"]
    assert "1 input (targetencoder__sex) computed from the target" in governance["why"]
    html = stp.compliance.ComplianceReport(data).to_html()
    assert "computed from the target" in html and "none (a constant)" in html
    # a run without such inputs keeps its report as before (reports made then verify)
    plain = logged_pipeline(store, X, y)
    plain.predict(X.iloc[:2])
    assert (
        "from_the_target" not in compliance_report(plain, **DEPLOYER).to_dict()["feature_lineage"]
    )


# -- models trained through model selection ----------------------------------------------------


def _searched(tmp_path, n_jobs=1, **search_params):
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"x1": rng.normal(size=45), "x2": rng.normal(size=45)})
    frame["y"] = (frame["x1"] + rng.normal(size=45) > 0).astype(int)
    frame.to_csv(tmp_path / "rows.csv", index=False)
    read = stp.read_csv(tmp_path / "rows.csv", source_id="rows")
    X, y = read[["x1", "x2"]], read["y"]
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    )
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.1, 1.0]},
        cv=KFold(3),
        scoring="roc_auc",  # the splits' scoring calls predict_proba: logged, by their runs
        n_jobs=n_jobs,
        **search_params,
    ).fit(X, y)
    return search, store, X, y


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_report_on_a_search_is_the_report_on_its_refit(tmp_path, n_jobs):
    search, store, X, _ = _searched(tmp_path, n_jobs)
    search.predict(X.iloc[:7])
    search.best_estimator_.predict_proba(X.iloc[:2])
    on_search = compliance_report(search, **DEPLOYER).to_dict()
    on_best = compliance_report(search.best_estimator_, **DEPLOYER).to_dict()
    refit = search.best_estimator_.lineage_
    for report in (on_search, on_best):
        model = report["model"]
        assert model["run_id"] == refit.run_id
        assert model["purpose"] == "fit" and model["selection"]["role"] == "refit"
        assert model["selection"]["best_params"] == search.best_params_
        assert model["selection"]["best_index"] == search.best_index_
        assert "refit of sklearn.model_selection._search.GridSearchCV" in model["selection_note"]
    assert on_search["model"] == on_best["model"]
    assert on_search["record_keeping"]["runs"] == on_best["record_keeping"]["runs"]
    # record keeping against the store's own listing and events
    kept = on_search["record_keeping"]
    listed = store.list_runs()
    assert kept["store"]["n_runs"] == len(listed) == 7
    assert [
        (r["run_id"], r["purpose"], r["search_role"], r["search_id"]) for r in kept["runs"]
    ] == list(zip(listed["run_id"], listed["purpose"], listed["search_role"], listed["search_id"]))
    events = store.events()
    mine = [e for e in events if e["kind"] == "prediction" and e["run_id"] == refit.run_id]
    assert kept["predictions"]["n_calls"] == len(mine) == 2
    assert kept["predictions"]["n_rows"] == 9
    # the splits' scoring calls are logged too, each by its own split's run, none by the refit
    folds = set(store.list_runs(search_role="cv_fold")["run_id"])
    scoring = [e for e in events if e["kind"] == "prediction" and e["run_id"] in folds]
    assert len(scoring) == 6
    assert kept["removals"] == []
    assert stp.compliance.verify(on_search, store=store)


def test_report_on_a_search_without_refit_is_refused(tmp_path):
    search, store, X, _ = _searched(tmp_path, refit=False)
    with pytest.raises(ComplianceError, match=r"refit=False.*no model fitted on all its rows"):
        compliance_report(search, **DEPLOYER)


def test_report_on_a_split_model_says_it_is_one(tmp_path):
    from sklearn.model_selection import KFold, cross_validate

    search, store, X, y = _searched(tmp_path)
    split_model = cross_validate(search.estimator, X, y, cv=KFold(3), return_estimator=True)[
        "estimator"
    ][1]
    split_model.predict(X.iloc[:3])
    model = compliance_report(split_model, **DEPLOYER).to_dict()["model"]
    assert model["purpose"] == "cv_fold" and model["selection"]["role"] == "cv_fold"
    # cross_validate does not tell the fit which split it is: the record does not say
    assert model["selection"]["split_progress"] is None
    train = list(KFold(3).split(X))[1][0]
    run = store.load_run(model["run_id"])
    assert np.array_equal(run.row_ids, X.index.to_numpy()[train])
    assert model["n_training_rows"] == len(train)
    note = model["selection_note"]
    assert "a search puts its refit in use, not this fit" in note
    # cross_validate evaluates no candidate: the note claims no candidate's parameters
    assert "candidate" not in note and "sklearn.model_selection.cross_validate" in note
    assert f"{len(train)} training rows of one split" in note


def test_report_on_a_plain_fit_says_what_its_run_cannot_show(tmp_path):
    search, store, X, y = _searched(tmp_path)
    pipe = clone(search.estimator).fit(X, y)
    pipe.predict(X.iloc[:3])
    model = compliance_report(pipe, **DEPLOYER).to_dict()["model"]
    assert model["selection"] is None and model["purpose"] == "fit"
    assert (
        "does not record that scikit-learn's model selection made this fit"
        in (model["selection_note"])
    )


def test_selection_record_edited_in_a_resealed_report_is_found(tmp_path):
    from sktraceprop.compliance._integrity import body_of, seal

    search, store, X, _ = _searched(tmp_path)
    search.predict(X.iloc[:3])
    data = compliance_report(search, **DEPLOYER).to_dict()

    def resealed(change):
        d = json.loads(json.dumps(data))
        change(d)
        d["integrity"] = seal(body_of(d))
        return d

    def fold_as_fit(d):
        d["record_keeping"]["runs"][0]["purpose"] = "fit"
        d["record_keeping"]["runs"][0]["search_role"] = None

    with pytest.raises(stp.exceptions.ReportVerificationError, match=r"/record_keeping/runs/0"):
        stp.compliance.verify(resealed(fold_as_fit), store=store)

    def other_best(d):
        d["model"]["selection"]["best_index"] += 1

    with pytest.raises(stp.exceptions.ReportVerificationError, match=r"/model/selection"):
        stp.compliance.verify(resealed(other_best), store=store)

    # a report of format 2 (before runs said their purpose) still verifies against the store
    def format_2(d):
        d["report"]["format_version"] = 2
        before_format_7(d)
        for key in ("purpose", "selection", "selection_note"):
            del d["model"][key]
        for run in d["record_keeping"]["runs"]:
            for key in ("purpose", "search_role", "search_id"):
                del run[key]
        format_3_retention(d, store)  # the runs' times counted too

    assert stp.compliance.verify(resealed(format_2), store=store)


def test_html_report_names_each_runs_role(tmp_path):
    search, store, X, _ = _searched(tmp_path)
    search.predict(X.iloc[:3])
    report = compliance_report(search, **DEPLOYER)
    report.to_html(tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    search_id = search.best_estimator_.lineage_.selection["search_id"]
    assert page.count(f"cv_fold, one split of a cross-validation ({search_id})") == 6
    assert page.count(f"fit, the refit of a search ({search_id})") == 1
    assert "Why it was fitted" in page


def test_a_run_stored_while_the_report_is_made_does_not_break_it(hospitals, tmp_path, monkeypatch):
    """The report read the events, then the runs, in two reads: a run another process
    stored in between was listed past the report's chain head, and the report never
    verified against its store (n_runs, runs, latest_logged "differ from the store's
    log up to the chain head"). Truth: the runs whose store.run event is in the report's
    chain, read from the file by sqlite3."""
    import sqlite3

    import sktraceprop.compliance._compliance_report as made

    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:3])
    read = made.verified_chain_events  # (the report's one read of the events)

    def then_another_process_fits(s, run_id):
        events = read(s, run_id)
        logged_pipeline(stp.stores.SQLiteStore(store.path), X, y, log=False)  # its own handle
        monkeypatch.setattr(made, "verified_chain_events", read)
        return events

    monkeypatch.setattr(made, "verified_chain_events", then_another_process_fits)
    report = compliance_report(pipe, **DEPLOYER).to_dict()
    head = report["record_keeping"]["store"]["chain_head"]["seq"]
    con = sqlite3.connect(store.path)
    runs = [
        r
        for (r,) in con.execute(
            "SELECT run_id FROM events WHERE kind = 'store.run' AND seq <= ? ORDER BY seq", (head,)
        )
    ]
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2  # the other fit
    con.close()
    assert (
        [r["run_id"] for r in report["record_keeping"]["runs"]] == runs == [pipe.lineage_.run_id]
    )
    assert report["record_keeping"]["store"]["n_runs"] == 1
    assert stp.compliance.verify(report, store=store)


def test_a_report_built_from_edited_data_is_refused_not_rendered(fitted, tmp_path):
    """ComplianceReport(data) took any dict unchecked: a report edited after it was
    made rendered as a page stating the recorded SHA-256 next to the edited figures,
    and save() wrote it out; the caller's dict edited afterwards changed the report.
    Truth: the figures as made (the store's run)."""
    from sktraceprop.compliance import ComplianceReport
    from sktraceprop.exceptions import ReportVerificationError

    pipe, store, *_ = fitted
    data = compliance_report(pipe, **DEPLOYER).to_dict()
    rows = data["sources"][0]["n_rows"]
    edited = json.loads(json.dumps(data))
    edited["sources"][0]["n_rows"] = rows + 123456789
    with pytest.raises(ReportVerificationError, match="/sources/0/n_rows was changed"):
        ComplianceReport(edited)
    report = ComplianceReport(data)  # as made: accepted
    data["sources"][0]["n_rows"] = rows + 123456789  # the caller's dict, edited afterwards
    stored = store.load_run(pipe.lineage_.run_id).sources.values()
    named = data["sources"][0]["source_id"]
    assert report.to_dict()["sources"][0]["n_rows"] == rows
    assert rows == next(s.n_rows for s in stored if s.source_id == named)
    assert report.verify(store=store)
    page = report.to_html()
    assert f"{rows + 123456789}" not in page


def test_retention_counts_the_store_s_logged_times_not_a_run_s_own():
    """A run saved today with an old recorded time (copied from another store, or built
    with one) made a store created today claim six months of logs."""
    import dataclasses

    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(40, 2)), "retention_backdated")
    y = X["x0"] > 0
    run = stp.make_traced_pipeline(LogisticRegression()).fit(X, y).lineage_
    run = dataclasses.replace(run, created_at="2025-01-02T00:00:00.000000+00:00")
    store = stp.stores.MemoryStore()
    store.save_run(run)
    store.append_event("prediction", {"note": "one use today"}, run_id=run.run_id)
    report = compliance_report(store=store, run_id=run.run_id, **DEPLOYER).to_dict()
    retention = report["retention"]
    events = store.events(include_store_events=True)
    assert retention["earliest_logged"] == min(e["created_at"] for e in events)
    assert retention["earliest_logged"] > "2026"
    assert retention["stored_logs_cover_six_months"] is False
    assert stp.compliance.verify(report, store=store)


def test_an_input_attached_by_position_names_its_source(tmp_path):
    """A column holding another source's column by position (a .values copy): the
    feature lineage names that source for the input made from it, with how it was
    found, and the report still validates and verifies against its store."""
    rng = np.random.default_rng(51)
    pd.DataFrame({"a": rng.normal(size=60), "y": rng.integers(0, 2, 60)}).to_csv(
        tmp_path / "A.csv", index=False
    )
    pd.DataFrame({"v": rng.normal(size=60)}).to_csv(tmp_path / "B.csv", index=False)
    A = stp.read_csv(tmp_path / "A.csv", source_id="report_attached_A")
    B = stp.read_csv(tmp_path / "B.csv", source_id="report_attached_B")
    a = A.copy()
    a["x"] = B["v"].values
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    with pytest.warns(stp.exceptions.LineageWarning, match="x holds column v"):
        pipe.fit(a[["a", "x"]], a["y"])
    pipe.predict(a[["a", "x"]].iloc[:3])
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    jsonschema.validate(data, stp.compliance.report_schema())
    assert stp.compliance.verify(path, store=store)
    lineage = data["feature_lineage"]
    by_feature = {f["feature"]: f for f in lineage["features"]}
    assert by_feature["x"]["sources"] == ["report_attached_B"]
    assert by_feature["a"]["sources"] == ["report_attached_A"]
    (entry,) = lineage["attached_outside_pipeline"]
    assert entry["input_column"] == "x" and entry["column"] == "v"
    assert entry["source_id"] == "report_attached_B" and entry["features"] == ["x"]
    assert entry["rows_matched"] == entry["rows_compared"] == 60
    from sktraceprop._lineage._source import REGISTRY

    assert entry["sha256"] == REGISTRY.by_id("report_attached_B").sha256
    assert "from_columns_in_no_source" not in lineage
    (data_article,) = [x for x in data["articles"] if x["article"] == "26(4)"]
    assert "x holds column v of report_attached_B" in data_article["why"]
    # both sources counted: A's rows, B's data as a column attached, not rows
    assert data_article["why"].startswith(
        "2 sources are behind the 60 training rows: 1 source of their rows, and 1 source "
        "whose data reached them only as input columns attached by position, not as rows "
        "(report_attached_B: input column x;"
    )
    assert any("report_attached_B" in c for c in data_article["cannot_show"])
    html = stp.compliance.ComplianceReport(data).to_html()
    assert "Input column x holds column v of source report_attached_B" in html
    # a report without the key (no column attached) still validates: it is optional
    del lineage["attached_outside_pipeline"]
    jsonschema.validate(data, stp.compliance.report_schema())
