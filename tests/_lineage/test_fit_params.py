"""A traced fit records what it was given besides X and y (sample weights above all)."""

import hashlib
import json
import pickle
import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores import SQLiteStore

MARKER = 123456.789


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    y = (df["a"] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return stp.from_pandas(df, source_id=f"weights_{seed}"), y


def _pipe(**kw):
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), **kw)


def test_routed_sample_weight_recorded_by_digest_and_counts():
    X, y = _data()
    w = np.ones(len(y))
    w[:7] = 0.0
    w[7] = MARKER
    pipe = _pipe().fit(X, y, logisticregression__sample_weight=w)
    entry = pipe.lineage_.fit_params["logisticregression__sample_weight"]
    assert entry["kind"] == "array" and entry["shape"] == [len(y)] and entry["dtype"] == "float64"
    weights = entry["weights"]
    # independent truth: counted here in Python, not with the library's code
    assert weights["n"] == len(y)
    assert weights["n_zero"] == sum(1 for v in w.tolist() if v == 0.0) == 7
    assert weights["n_negative"] == 0 and weights["n_not_finite"] == 0
    assert weights["sum"] == pytest.approx(sum(w.tolist()), rel=1e-12)
    assert weights["all_equal"] is False
    # the values themselves are not kept (only aggregates): no row's weight is recorded
    assert str(MARKER) not in json.dumps(pipe.lineage_.to_dict())
    (note,) = [n for n in pipe.lineage_.notes if "sample_weight" in n]
    assert "7 row(s) of weight 0" in note and entry["sha256"][:12] in note


def test_digest_follows_the_values():
    X, y = _data()
    w = np.linspace(0.5, 2.0, len(y))
    first = _pipe().fit(X, y, logisticregression__sample_weight=w).lineage_.fit_params
    same = _pipe().fit(X, y, logisticregression__sample_weight=w.copy()).lineage_.fit_params
    w2 = w.copy()
    w2[30] = np.nextafter(w2[30], 3.0)  # one ulp on one row
    other = _pipe().fit(X, y, logisticregression__sample_weight=w2).lineage_.fit_params
    key = "logisticregression__sample_weight"
    assert first[key]["sha256"] == same[key]["sha256"]
    assert first[key]["sha256"] != other[key]["sha256"]


def test_no_params_no_record_and_unit_weights_no_note():
    X, y = _data()
    plain = _pipe().fit(X, y).lineage_
    assert plain.fit_params == {} and "fit_params" not in plain.to_dict()
    ones = _pipe().fit(X, y, logisticregression__sample_weight=np.ones(len(y))).lineage_
    assert ones.fit_params["logisticregression__sample_weight"]["weights"]["all_equal"]
    assert not [n for n in ones.notes if "sample_weight" in n]


def test_equal_weights_other_than_one_are_noted():
    """Equal weights of 2 scale the loss against the penalty: the fitted model is not the
    unweighted one (checked here against the unweighted fit), so the run says so."""
    X, y = _data()
    w = np.full(len(y), 2.0)
    twos = _pipe().fit(X, y, logisticregression__sample_weight=w)
    plain = _pipe().fit(X, y)
    assert not np.allclose(twos[-1].coef_, plain[-1].coef_, rtol=1e-3)
    assert [n for n in twos.lineage_.notes if "sample_weight" in n]


def test_traced_estimator_records_its_sample_weight_and_values():
    X, y = _data()
    w = pd.Series(np.r_[np.zeros(3), np.ones(len(y) - 3)], index=X.index)
    est = stp.TracedEstimator(LogisticRegression()).fit(X, y, sample_weight=w)
    assert est.lineage_.fit_params["sample_weight"]["weights"]["n_zero"] == 3


def test_pickle_store_round_trip_and_tamper(tmp_path):
    X, y = _data()
    w = np.r_[np.zeros(5), np.full(len(y) - 5, 1.5)]
    store = SQLiteStore(tmp_path / "w.db")
    pipe = _pipe(store=store).fit(X, y, logisticregression__sample_weight=w)
    run = pipe.lineage_
    assert pickle.loads(pickle.dumps(run)).fit_params == run.fit_params
    loaded = store.load_run(run.run_id)
    assert loaded.fit_params == run.fit_params
    assert store.verify()
    store.close()
    # edit the stored record: the weights' zero count, as someone hiding them would (the
    # run is sealed: its fit parameters' record is a value kept beside it, committed in
    # the record by a salted SHA-256)
    con = sqlite3.connect(tmp_path / "w.db")
    (record,) = con.execute("SELECT record FROM runs").fetchone()
    token = json.loads(record)["fit_params"]["logisticregression__sample_weight"]
    leaf = int(token.rsplit(":", 1)[1])
    (value,) = con.execute("SELECT value FROM run_leaves WHERE leaf = ?", (leaf,)).fetchone()
    d = json.loads(value)
    assert d["weights"]["n_zero"] == 5
    d["weights"]["n_zero"] = 0
    triggers = con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for (name,) in triggers:  # an attacker with write access drops the append-only guards
        con.execute(f"DROP TRIGGER {name}")
    con.execute("UPDATE run_leaves SET value = ? WHERE leaf = ?", (json.dumps(d), leaf))
    con.commit()
    con.close()
    with pytest.raises(CorruptStoreError, match=f"leaf {leaf} does not match its commitment"):
        SQLiteStore(tmp_path / "w.db").verify()


def test_old_pickles_without_the_field_load():
    X, y = _data()
    run = _pipe().fit(X, y).lineage_
    state = dict(run.__dict__)
    del state["fit_params"]
    clone = object.__new__(type(run))
    clone.__setstate__(state)
    assert clone.fit_params == {}


def test_report_carries_fit_params_and_verify_catches_an_edit(tmp_path):
    X, y = _data()
    w = np.r_[np.zeros(4), np.ones(len(y) - 4)]
    store = SQLiteStore(tmp_path / "r.db")
    pipe = _pipe(store=store, log_predictions=True)
    pipe.fit(X, y, logisticregression__sample_weight=w)
    pipe.predict(X)
    path = tmp_path / "report.json"
    stp.compliance_report(
        pipe,
        system_name="S",
        system_version="1",
        deployer_name="D",
        high_risk_category="creditworthiness",
        intended_purpose="scoring",
        human_oversight=["an analyst"],
        output_path=path,
    )
    assert stp.compliance.verify(path)
    d = json.loads(path.read_text())
    assert d["report"]["format_version"] >= 5
    weights = d["model"]["fit_params"]["logisticregression__sample_weight"]["weights"]
    assert weights["n_zero"] == 4
    weights["n_zero"] = 0
    path.write_text(json.dumps(d))
    with pytest.raises(stp.exceptions.ReportVerificationError, match="fit_params"):
        stp.compliance.verify(path)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just(0.0),
            st.floats(-5, 5, allow_nan=False),
            st.sampled_from([float("nan"), float("inf")]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_weight_counts_match_a_count_in_python(values):
    from sktraceprop._lineage._fit_params import fit_params_record

    w = np.array(values)
    rec = fit_params_record({"sample_weight": w, "classes": [0, 1]})
    weights = rec["sample_weight"]["weights"]
    finite = [v for v in values if v == v and abs(v) != float("inf")]
    assert weights["n"] == len(values)
    assert weights["n_zero"] == sum(1 for v in values if v == 0.0)
    assert weights["n_negative"] == sum(1 for v in values if v < 0)
    assert weights["n_not_finite"] == len(values) - len(finite)
    if len(finite) == len(values):
        assert weights["sum"] == pytest.approx(sum(values), abs=1e-9)
    else:
        assert "sum" not in weights
    digest = hashlib.sha256(b"fit-param")
    assert len(rec["sample_weight"]["sha256"]) == len(digest.hexdigest())
    assert rec["classes"]["kind"] == "array"


def test_odd_fit_params_are_recorded_not_a_crash():
    from sktraceprop._lineage._fit_params import fit_params_record

    X = pd.DataFrame(np.ones((5, 2)))
    rec = fit_params_record(
        {
            "eval_set": [(X, np.ones(5)), (X.iloc[:2], np.ones(2))],  # ragged pairs
            "callbacks": [print],
            "verbose": False,
            "scale": np.float64(2.0),
            "sample_weight": [1, 0, 2],
            "other__sample_weight": np.array(["a", "b"]),
            "unused": None,
        }
    )
    assert rec["eval_set"]["shape"] == [2] and len(rec["eval_set"]["sha256"]) == 64
    assert rec["verbose"] == {"kind": "value", "value": False}
    assert rec["scale"] == {"kind": "value", "value": 2.0}
    assert rec["sample_weight"]["weights"]["n_zero"] == 1
    assert "weights" not in rec["other__sample_weight"]  # not numeric: digest only
    assert "unused" not in rec
    json.dumps(rec)
