"""Runs record which scheme made their fingerprints (``Lineage.fingerprint_scheme``).

A report made from a stored run alone (``store=``, ``run_id=``, no fitted model) must say
which scheme its fingerprint is. New runs record it in their record, under the hash
chain, in every store; runs stored before hold none and are read as "not recorded"
where the scheme is not certain: the real stores written before scheme 2
(``data/frame_digest1.db``, commit 775ad56) and after it (``parquet_f5988b3/store.db``,
commit f5988b3) hold records that nothing tells apart.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import SCHEME, fingerprint
from sktraceprop._lineage._fingerprint_schemes import NOT_RECORDED, NOTES
from sktraceprop._lineage._fingerprint_v1 import fingerprint_v1
from sktraceprop._lineage._run import Lineage
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import CorruptStoreError
from tests.exporters._runs import runs
from tests.stores._store_helpers import DEPLOYER, fit_run

DATA = Path(__file__).parent / "data"
BEFORE_SCHEME_2 = DATA / "frame_digest1.db"  # 775ad56: fingerprint scheme 1
AFTER_SCHEME_2 = Path(__file__).parents[1] / "exporters" / "data" / "parquet_f5988b3"


def _record(backend, store, run_id):
    if backend.kind == "memory":
        return json.loads(store._runs[run_id][0])
    (text,) = backend.sql("SELECT record FROM runs WHERE run_id = ?", (run_id,), fetch=True)[0]
    return json.loads(text)


def test_a_new_run_records_its_scheme_and_an_edit_of_it_fails_verify(backend):
    store = backend.make()
    est = stp.TracedEstimator(LogisticRegression(), store=store)
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(40, 2)), "scheme_x")
    est.fit(X, (X["x0"] > 0).astype(int))
    run = est.lineage_
    # the independent truth: the model's fingerprints are the current scheme's, not
    # scheme 1's
    model = est.estimator_
    assert run.ops[-1].fingerprint == fingerprint(model) != fingerprint_v1(model)
    assert run.fingerprint_scheme == SCHEME == 6
    assert _record(backend, store, run.run_id)["fingerprint_scheme"] == SCHEME
    assert store.load_run(run.run_id).fingerprint_scheme == SCHEME
    assert store.verify()
    store.append_event("review", {"by": "auditor"})  # a report needs the system's use
    report = compliance_report(store=store, run_id=run.run_id, **DEPLOYER).to_dict()
    assert report["model"]["fingerprint_scheme"] == SCHEME
    assert report["model"]["fingerprint_scheme_note"] == NOTES[SCHEME]
    html = compliance_report(store=store, run_id=run.run_id, **DEPLOYER).to_html()
    assert NOTES[SCHEME].split(":")[0] in html

    for edit in (
        lambda r: r.update(fingerprint_scheme=1),  # said to be a weaker scheme
        lambda r: r.update(fingerprint_scheme=2),
        lambda r: r.update(fingerprint_scheme=3),
        lambda r: r.pop("fingerprint_scheme"),  # said to be not recorded
    ):
        text = json.dumps(_record(backend, store, run.run_id), separators=(",", ":"))

        def edited(current, edit=edit):
            record = json.loads(current)
            edit(record)
            return json.dumps(record, separators=(",", ":"), sort_keys=True)

        # control: the record rewritten unchanged still verifies (only the edit fails)
        backend.edit_run_record(store, run.run_id, lambda current: edited(current, lambda r: None))
        assert backend.reopen(store).verify()
        backend.edit_run_record(store, run.run_id, edited)
        reopened = backend.reopen(store)
        with pytest.raises(CorruptStoreError):
            reopened.verify()
        with pytest.raises(CorruptStoreError):
            reopened.load_run(run.run_id)
        backend.edit_run_record(store, run.run_id, lambda _, text=text: text)
        assert backend.reopen(store).verify()


@pytest.mark.parametrize(
    "path",
    [BEFORE_SCHEME_2, AFTER_SCHEME_2 / "store.db", DATA / "ops_without_keys.db"],
    ids=["775ad56", "f5988b3", "bba435d"],
)
def test_runs_stored_before_say_not_recorded_and_still_verify(tmp_path, path):
    copy = tmp_path / "old.db"
    shutil.copyfile(path, copy)
    before = copy.read_bytes()
    store = stp.stores.SQLiteStore(copy)
    assert store.verify()
    ids = list(store.list_runs()["run_id"])
    assert ids
    for run_id in ids:
        run = store.load_run(run_id)
        assert run.fingerprint_scheme is None
        assert "fingerprint_scheme" not in run.to_dict()
    store.close()
    assert copy.read_bytes() == before  # loading and verifying wrote nothing
    store = stp.stores.SQLiteStore(copy)
    store.append_event("review", {"by": "auditor"})  # a report needs the system's use
    for run_id in ids:
        report = compliance_report(store=store, run_id=run_id, **DEPLOYER)
        model = report.to_dict()["model"]
        assert model["fingerprint_scheme"] is None
        assert model["fingerprint_scheme_note"] == NOT_RECORDED
        assert report.verify(store=store)
        assert NOT_RECORDED.split(":")[0] in report.to_html()
    assert store.verify()


def test_nothing_in_a_stored_record_tells_scheme_1_from_scheme_2(tmp_path):
    """Why runs stored before are "not recorded", not scheme 1: a run of 775ad56
    (scheme 1, shown in test_earlier_fingerprints.py) and runs of f5988b3 (scheme 2)
    hold records of the same fields and the same library version."""
    shapes = {}
    for name, path in (("775ad56", BEFORE_SCHEME_2), ("f5988b3", AFTER_SCHEME_2 / "store.db")):
        shutil.copyfile(path, tmp_path / f"{name}.db")
        store = stp.stores.SQLiteStore(tmp_path / f"{name}.db")
        for run_id in store.list_runs()["run_id"]:
            run = store.load_run(run_id)
            record = run.to_dict()
            shapes.setdefault(name, set()).add(
                (
                    frozenset(k for k in record if k not in ("selection", "fit_params")),
                    run.versions["sktraceprop"],
                    store.schema_version,
                )
            )
    assert shapes["775ad56"] & shapes["f5988b3"]


def test_a_new_run_in_an_old_store_records_its_scheme_beside_those_that_do_not(tmp_path):
    shutil.copyfile(BEFORE_SCHEME_2, tmp_path / "old.db")
    store = stp.stores.SQLiteStore(tmp_path / "old.db")
    old = list(store.list_runs()["run_id"])
    run = fit_run(store)
    assert store.verify()
    assert store.load_run(run.run_id).fingerprint_scheme == SCHEME
    assert {store.load_run(r).fingerprint_scheme for r in old} == {None}


def test_a_pickled_run_from_before_the_field_reads_as_not_recorded():
    import pickle

    run = fit_run(None)
    state = dict(run.__dict__)
    del state["fingerprint_scheme"]  # as a run pickled by an earlier sktraceprop
    blank = Lineage.__new__(Lineage)
    blank.__setstate__(state)
    assert blank.fingerprint_scheme is None
    assert pickle.loads(pickle.dumps(run)).fingerprint_scheme == SCHEME


@pytest.mark.parametrize("value", [0, -1, True, "2", 2.0, [2]])
def test_a_record_holding_no_scheme_number_is_refused(value):
    run = fit_run(None)
    record = run.to_dict()
    record["fingerprint_scheme"] = value
    with pytest.raises(ValueError, match="not a scheme number"):
        Lineage.from_dict(record, run.row_ids, run.input_row_ids, sources=run.sources)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs(), st.one_of(st.none(), st.integers(1, 2**31)))
def test_the_scheme_round_trips_through_records_and_stores(run, scheme):
    run.fingerprint_scheme = scheme
    record = json.loads(json.dumps(run.to_dict()))
    assert ("fingerprint_scheme" in record) is (scheme is not None)
    back = Lineage.from_dict(record, run.row_ids, run.input_row_ids, sources=run.sources)
    assert back.fingerprint_scheme == scheme and back == run
    store = stp.stores.MemoryStore()
    store.save_run(run)
    assert store.load_run(run.run_id).fingerprint_scheme == scheme
    assert store.verify()
