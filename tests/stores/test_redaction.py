"""Erasing what a stored run holds of its training data, with the hash chain kept whole.

The truth is what the store holds after the erasure: the bytes of the SQLite file and
its write-ahead log, every row of every PostgreSQL table, the pickle of a MemoryStore.
"""

import json
import pickle
import shutil
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError, StoreError, UnknownRunError

#: The category only the removed source's rows have: what must leave the store.
MARK = "Zyxwvq"
DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _files(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    pd.DataFrame(
        {"city": ["Aa", "Bb", "Aa", "Cc", "Bb", "Aa"] * 5, "x": np.arange(30.0), "y": [0, 1] * 15}
    ).to_csv(tmp_path / "main.csv", index=False)
    pd.DataFrame({"city": [MARK, "Aa", MARK], "x": [5.0, 6.0, 7.0], "y": [1, 0, 1]}).to_csv(
        tmp_path / "extra.csv", index=False
    )
    main = stp.read_csv(tmp_path / "main.csv")
    extra = stp.read_csv(tmp_path / "extra.csv")
    df = pd.concat([main, extra])
    return df[["city", "x"]], df["y"]


def _pipeline(store, **kwargs):
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), ("passthrough", ["x"])
    )
    return stp.make_traced_pipeline(pre, LogisticRegression(), store=store, **kwargs)


def _same_but_erased(before, after, erased):
    """Names as the fit recorded them, each erased one by its placeholder (records
    are stored as canonical JSON: their objects come back with keys sorted)."""
    placeholders = [n for n in after if n.startswith("<redacted name ")]
    assert sorted(n for n in after if n not in placeholders) == sorted(
        n for n in before if n not in erased
    )
    assert len(placeholders) == sum(1 for n in set(before) if n in erased)


def _fit(store, tmp_path):
    X, y = _files(tmp_path / "data")
    return _pipeline(store).fit(X, y, logisticregression__sample_weight=np.ones(len(y)))


def _held(backend, store):
    """Everything the store holds, as bytes."""
    if backend.kind == "memory":
        return pickle.dumps(store)
    if backend.kind == "sqlite":
        store.close()
        return b"".join(p.read_bytes() for p in backend.path.parent.glob(backend.path.name + "*"))
    tables = ["stp_meta", "sources", "runs", "events", "checkpoints", "run_leaves"]
    tables += ["prediction_salts"]
    rows = [backend.sql(f"SELECT * FROM {t}", fetch=True) for t in tables]
    return repr(rows).encode()


ERASE = {
    "features": [f"onehotencoder__city_{MARK}"],
    "sources": ["extra"],
    "fit_params": ["logisticregression__sample_weight"],
}


def test_erased_values_leave_the_store_and_the_chain_still_verifies(backend, tmp_path):
    store = backend.make()
    pipe = _fit(store, tmp_path)
    run_id = pipe.lineage_.run_id
    assert MARK.encode() in _held(backend, store)
    n_events = len(store.events(include_store_events=True))
    summary = store.redact(run_id, **ERASE, reason="GDPR Art. 17 request 118")
    assert summary["run_id"] == run_id and summary["erased"] >= 4
    assert MARK.encode() not in _held(backend, store)
    store = backend.make()  # a new handle reads what was written
    assert store.verify() and store.check()
    events = store.events(include_store_events=True)
    assert len(events) == n_events + 1
    event = events[-1]
    assert event["kind"] == "store.redaction" and event["seq"] == summary["event_seq"]
    assert event["payload"]["reason"] == "GDPR Art. 17 request 118"
    assert event["payload"]["erased"]["source_statistics"] == 1
    # what is left is what the fit recorded, the erased values said to be erased
    before, after = pipe.lineage_, store.load_run(run_id)
    by = {"event_seq": event["seq"], "reason": "GDPR Art. 17 request 118"}
    assert np.array_equal(before.row_ids, after.row_ids)
    erased = {f"onehotencoder__city_{MARK}", f"city_{MARK}"}
    _same_but_erased(before.feature_lineage, after.feature_lineage, erased)
    for op, kept in zip(before.ops, after.ops, strict=True):
        for old, new in zip(op.features_out, kept.features_out, strict=True):
            assert new == old if old not in erased else new.startswith("<redacted name ")
    stats = {s["source_id"]: s for s in after.source_stats["sources"]}
    assert stats["extra"] == {"code": stats["extra"]["code"], "source_id": "extra", "redacted": by}
    original = {s["source_id"]: s for s in before.source_stats["sources"]}
    assert stats["main"] == original["main"]
    assert after.fit_params == {"logisticregression__sample_weight": {"redacted": by}}
    assert before.notes == after.notes  # no note named the category


def test_requests_that_cannot_be_honoured_change_nothing(backend, tmp_path):
    store = backend.make()
    run_id = _fit(store, tmp_path).lineage_.run_id
    held = _held(backend, store)
    store = backend.make()
    bad = [
        (UnknownRunError, "no run", dict(run_id="nope", features=["x"], reason="r")),
        (ValueError, "holds no features 'city_Nowhere'", dict(features=["city_Nowhere"])),
        (ValueError, "holds no sources 'elsewhere'", dict(sources=["elsewhere"])),
        (ValueError, "holds no fit_params 'w'", dict(fit_params=["w"])),
        (ValueError, "name what to erase", dict()),
        (ValueError, "reason must say why", dict(features=ERASE["features"], reason=" ")),
        (TypeError, "features must be strings", dict(features=[3])),
    ]
    for error, match, kwargs in bad:
        kwargs = {"run_id": run_id, "reason": "r", **kwargs}
        with pytest.raises(error, match=match):
            store.redact(kwargs.pop("run_id"), **kwargs)
    assert _held(backend, store) == held
    store = backend.make()
    store.redact(run_id, features=ERASE["features"], reason="once")
    with pytest.raises(ValueError, match="never there, or erased already"):
        store.redact(run_id, features=ERASE["features"], reason="twice")
    assert store.verify()


def _leaf_rows(backend, run_id):
    return backend.sql(
        "SELECT leaf, value, salt FROM run_leaves WHERE run_id = ? ORDER BY leaf",
        (run_id,),
        fetch=True,
    )


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_values_deleted_edited_or_put_back_outside_sktraceprop_are_named(kind, request, tmp_path):
    from tests.stores._store_helpers import Backend

    backend = Backend(kind, tmp_path, request)
    store = backend.make()
    run_id = _fit(store, tmp_path).lineage_.run_id
    rows = _leaf_rows(backend, run_id)
    leaf, value, salt = next(r for r in rows if MARK in r[1])

    def fails(match):
        fresh = backend.make()
        with pytest.raises(CorruptStoreError, match=match):
            fresh.verify()
        with pytest.raises(CorruptStoreError, match=match):
            backend.make().load_run(run_id)

    # deleted without a redaction event (the guards let deletes through: that is how
    # values are erased; an erasure sktraceprop did not make is found by its absence)
    backend.sql("DELETE FROM run_leaves WHERE run_id = ? AND leaf = ?", (run_id, leaf))
    fails(f"leaf {leaf} is gone without a store.redaction event")
    # put back with another value
    backend.sql("INSERT INTO run_leaves VALUES (?, ?, ?, ?)", (run_id, leaf, '"city_Other"', salt))
    fails(f"leaf {leaf} does not match its commitment")
    # the right value again: the store checks out
    backend.sql("DELETE FROM run_leaves WHERE run_id = ? AND leaf = ?", (run_id, leaf))
    backend.sql("INSERT INTO run_leaves VALUES (?, ?, ?, ?)", (run_id, leaf, value, salt))
    assert backend.make().verify()
    # erased, then written back by someone who kept a copy
    backend.make().redact(run_id, features=ERASE["features"], reason="erasure")
    backend.sql("INSERT INTO run_leaves VALUES (?, ?, ?, ?)", (run_id, leaf, value, salt))
    fails(f"leaf {leaf} was erased by audit event .* but is held again")


def test_erased_values_put_back_under_another_run_id_are_named(backend, tmp_path):
    # Found by a tamper hunt: a run's values were only read with its record, so the
    # values a redaction erased, put back in run_leaves under a run id the store does
    # not hold, were in the file again while verify() and check() with the key passed.
    store = backend.make()
    run_id = _fit(store, tmp_path).lineage_.run_id
    if backend.kind == "memory":
        held = dict(store._leaves[run_id])
    else:
        held = {leaf: (value, salt) for leaf, value, salt in _leaf_rows(backend, run_id)}
    key = stp.signing.generate_key()
    store.redact(run_id, features=ERASE["features"], reason="erasure")
    store.checkpoint(key)
    assert store.verify(key.public_key())
    erased = {n: v for n, v in held.items() if MARK in v[0]}
    assert erased and MARK.encode() not in _held(backend, store)
    other = run_id[:-1] + ("0" if run_id[-1] != "0" else "1")
    if backend.kind == "memory":
        store._leaves[other] = erased
    else:
        for leaf, (value, salt) in erased.items():
            backend.sql("INSERT INTO run_leaves VALUES (?, ?, ?, ?)", (other, leaf, value, salt))
    fresh = backend.make()
    assert MARK.encode() in _held(backend, backend.make())  # the erased value is back
    named = (
        f"run {other} has {len(erased)} value\\(s\\) in the table of run values "
        r"\(run_leaves\), but no such run is stored"
    )
    with pytest.raises(CorruptStoreError, match=named) as info:
        fresh.verify(key.public_key())
    assert len(info.value.problems) == 1  # the run itself still loads and checks out
    assert backend.make().load_run(run_id).run_id == run_id


def test_an_update_of_a_value_is_refused_by_the_guards(backend, tmp_path):
    if backend.kind == "memory":
        pytest.skip("no guards in a process")
    store = backend.make()
    run_id = _fit(store, tmp_path).lineage_.run_id
    if backend.kind == "sqlite":
        con = sqlite3.connect(backend.path)
        with pytest.raises(sqlite3.DatabaseError, match="erased, never updated"):
            con.execute("UPDATE run_leaves SET value = '\"x\"' WHERE run_id = ?", (run_id,))
        con.close()
    assert backend.make().check()  # the guards are as installed


def test_a_schema_2_store_is_read_as_before_and_its_runs_cannot_be_erased(tmp_path):
    """A store written before runs were sealed (made by sktraceprop with schema 2, kept in
    tests/stores/data): it opens, verifies, takes new runs (unsealed), and refuses an
    erasure, which would break its chain."""
    path = tmp_path / "schema2.db"
    shutil.copyfile(DATA / "schema2.db", path)
    store = stp.stores.SQLiteStore(path)
    assert store.schema_version == 2 and store.verify()
    (old,) = store.list_runs()["run_id"]
    run = store.load_run(old)
    assert "onehotencoder__city_Zed" in run.feature_lineage
    pipe = _fit(store, tmp_path)
    raw = sqlite3.connect(path).execute(
        "SELECT record FROM runs WHERE run_id = ?", (pipe.lineage_.run_id,)
    )
    assert "sealed" not in json.loads(raw.fetchone()[0])
    assert store.load_run(pipe.lineage_.run_id) == pipe.lineage_ and store.verify()
    for run_id in (old, pipe.lineage_.run_id):
        with pytest.raises(StoreError, match="schema version 2"):
            store.redact(run_id, features=["onehotencoder__city_Zed"], reason="r")
    X, y = _files(tmp_path / "again")
    unlearner = stp.GradientCorrectionUnlearner(_pipeline(store), preprocessing="refit")
    unlearner.fit(X, y)
    before = len(store.events(include_store_events=True))
    with pytest.raises(StoreError, match="schema version 2.*Nothing was changed"):
        unlearner.unlearn(source_id="extra", redact="request 118")
    assert unlearner.unlearning_log_ == [] and unlearner.retained_mask_.all()
    assert len(store.events(include_store_events=True)) == before


def test_unlearn_redact_erases_what_the_caveat_lists(tmp_path):
    from sktraceprop.compliance import compliance_report, verify

    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    X, y = _files(tmp_path / "data")
    unlearner = stp.GradientCorrectionUnlearner(
        _pipeline(store, log_predictions=True), preprocessing="refit"
    ).fit(X, y, sample_weight=np.ones(len(y)))
    unlearner.predict(X.iloc[:3])
    # other runs of the store given the removed rows: cross-validation folds
    from sklearn.model_selection import KFold, cross_validate

    cross_validate(_pipeline(store), X, y, cv=KFold(3, shuffle=True, random_state=0))
    folds = [r for r in store.list_runs()["run_id"] if r != unlearner.run_id_]
    assert len(folds) >= 3
    for bad in ("", 3):
        with pytest.raises(ValueError, match="redact must be the reason"):
            unlearner.unlearn(source_id="extra", redact=bad)
    unlearner.unlearn(source_id="extra", redact="GDPR Art. 17 request 118")
    event = unlearner.unlearning_log_[-1]
    assert "redact= erases these values from it, in a store.redaction event" in event["caveat"]
    (erasure,) = store.events(unlearner.run_id_, kind="store.redaction", include_store_events=True)
    for fold in folds:  # each fold's statistics of the source counted removed rows
        stats = {s["source_id"]: s for s in store.load_run(fold).source_stats["sources"]}
        assert stats["extra"]["redacted"]["reason"] == erasure["payload"]["reason"]
        assert "redacted" not in stats["main"]
    assert erasure["payload"]["reason"] == (
        f"GDPR Art. 17 request 118 (unlearning event {event['seq']})"
    )
    assert (
        erasure["payload"]["erased"]
        == {
            "names": 1,
            "source_statistics": 1,
            "fit_params": 1,
            "notes": 0,
        }
        or erasure["payload"]["erased"]["names"] >= 1
    )
    store.close()
    held = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert MARK.encode() not in held and b"city_Aa" in held
    kwargs = {
        "system_name": "CreditScorer",
        "system_version": "1",
        "deployer_name": "Bank",
        "high_risk_category": "creditworthiness",
        "intended_purpose": "loans",
        "human_oversight": ["officer"],
    }
    report = compliance_report(unlearner, **kwargs, output_path=tmp_path / "r.json")
    statistics = {s["source_id"]: s["statistics"] for s in report.to_dict()["sources"]}
    assert statistics["extra"]["erased"]["event_seq"] == erasure["seq"]
    assert statistics["main"]["recorded_at_fit"]
    assert verify(tmp_path / "r.json", store=store)
    report.to_html(tmp_path / "r.html")
    assert MARK not in (tmp_path / "r.json").read_text() + (tmp_path / "r.html").read_text()


_PRISTINE = {}


def _pristine(tmp_path_factory):
    if "store" not in _PRISTINE:
        store = stp.stores.MemoryStore()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe = _fit(store, tmp_path_factory.mktemp("pristine"))
        _PRISTINE.update(store=store, run=pipe.lineage_)
    return _PRISTINE["store"].copy(), _PRISTINE["run"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_sequence_of_erasures_keeps_every_other_value_and_the_chain(tmp_path_factory, data):
    store, run = _pristine(tmp_path_factory)
    names = sorted({n for op in run.ops for n in op.features_out} | set(run.feature_lineage))
    sources = sorted(s["source_id"] for s in run.source_stats["sources"])
    erased = set()
    for _ in range(data.draw(st.integers(1, 3))):
        features = data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
        chosen = data.draw(st.lists(st.sampled_from(sources), max_size=2, unique=True))
        wanted = set(features) | {("stats", s) for s in chosen}
        if not wanted or wanted & erased:
            with pytest.raises(ValueError):
                store.redact(run.run_id, features=features, sources=chosen, reason="r")
            continue
        store.redact(run.run_id, features=features, sources=chosen, reason="r")
        erased |= wanted
        for name in features:  # (and the name it had before the ColumnTransformer)
            parts = name.split("__")
            erased |= {"__".join(parts[i:]) for i in range(1, len(parts))}
        assert store.verify()
    after = store.load_run(run.run_id)
    for op, kept in zip(run.ops, after.ops, strict=True):
        for old, new in zip(
            op.features_in + op.features_out, kept.features_in + kept.features_out
        ):
            assert new == old if old not in erased else new.startswith("<redacted name ")
    _same_but_erased(run.feature_lineage, after.feature_lineage, erased)
    for old, new in zip(run.source_stats["sources"], after.source_stats["sources"], strict=True):
        gone = ("stats", old["source_id"]) in erased
        assert ("redacted" in new) == gone and (gone or new == old)
