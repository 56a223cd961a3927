"""One suite over MemoryStore, SQLiteStore and PostgresStore (see conftest.py)."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import signing
from sktraceprop.exceptions import CorruptStoreError, StoreError, UnknownRunError
from sktraceprop.stores._audit import FORK
from tests.stores._store_helpers import fit_run, rechained


def test_save_load_list(store):
    first = fit_run(store, seed=0)
    second = fit_run(store, seed=1, n=40)
    assert store.load_run(first.run_id) == first
    assert store.load_run(second.run_id) == second
    runs = store.list_runs()
    assert runs["run_id"].tolist() == [first.run_id, second.run_id]
    assert runs["n_samples"].tolist() == [60, 40]
    assert runs["sources"].tolist() == [["s0"], ["s1"]]
    assert runs["model"].tolist() == ["sklearn.linear_model._logistic.LogisticRegression"] * 2
    assert runs["purpose"].tolist() == ["fit", "fit"]
    with pytest.raises(UnknownRunError, match="no run 'nope'"):
        store.load_run("nope")


def test_runs_are_append_only(store):
    run = fit_run(store)
    with pytest.raises(StoreError, match="append-only"):
        store.save_run(run)
    assert len(store.list_runs()) == 1
    assert store.verify()


def test_merge_parents_survive_the_store(store):
    left = stp.from_pandas(pd.DataFrame({"k": [1, 2, 3], "a": [0.1, 0.5, 0.9]}), "left")
    right = stp.from_pandas(pd.DataFrame({"k": [2, 3, 1], "b": [1.0, 2.0, 3.0]}), "right")
    merged = stp.merge(left, right, on="k")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    pipe.fit(merged[["a", "b"]], [0, 1, 0])
    loaded = store.load_run(pipe.lineage_.run_id)
    assert loaded == pipe.lineage_
    rows = loaded.rows()
    assert sorted(rows["source_id"].unique()) == ["left", "right"]
    assert len(rows) == 6
    assert store.verify()
    assert len(store.list_runs(source="left")) == 1


def test_runs_of_one_file_read_two_ways_in_two_processes_load(store, tmp_path):
    """Another process stored the full read of a file; this one peeked with nrows first,
    so its run's record is the 5-row read (listing the full one): both runs load and
    verify, each with the record of the process that fitted it."""
    from sktraceprop._lineage import REGISTRY

    path = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=30), "y": np.arange(30) % 2}).to_csv(path, index=False)

    def fit(df):
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        return pipe.fit(df[["a"]], df["y"]).lineage_

    first = fit(stp.read_csv(path, source_id="d"))
    REGISTRY.clear()  # a new process
    stp.read_csv(path, source_id="d", nrows=5)
    second = fit(stp.read_csv(path, source_id="d"))
    (record,) = second.sources.values()
    assert [r["n_rows"] for r in record.reads()] == [5, 30]
    assert store.load_run(first.run_id) == first
    assert store.load_run(second.run_id) == second
    assert store.verify()


def test_loaded_run_is_a_copy(store):
    run = fit_run(store)
    loaded = store.load_run(run.run_id)
    try:
        loaded.row_ids[0] = 12345
    except ValueError:  # MemoryStore hands out read-only arrays
        pass
    loaded.notes.append("edited")
    run.notes.append("edited too")
    assert store.load_run(run.run_id).notes == []
    assert store.load_run(run.run_id).row_ids[0] != 12345
    assert store.verify()


def test_event_hash_chain(store):
    run_id = fit_run(store).run_id
    e1 = store.append_event("unlearn", {"rows": [1, 2]}, run_id=run_id)
    e2 = store.append_event("explain", {"n": 3})
    assert e2["prev_hash"] == e1["hash"]
    assert [e["seq"] for e in store.events()] == [e1["seq"], e1["seq"] + 1]
    assert store.events(run_id=run_id)[0]["payload"] == {"rows": [1, 2]}
    assert [e["kind"] for e in store.events(kind="explain")] == ["explain"]
    assert store.verify()


def test_events_about_a_run_the_store_does_not_hold_are_refused(store):
    before = store.events(include_store_events=True)
    with pytest.raises(UnknownRunError, match="no run 'elsewhere'.*nothing was written"):
        store.append_event("unlearning", {"rows": [1]}, run_id="elsewhere")
    assert store.events(include_store_events=True) == before
    run_id = fit_run(store).run_id
    # the same handle accepts it once the run is stored
    assert store.append_event("review", {}, run_id=run_id)["run_id"] == run_id
    assert store.verify()


def test_event_payloads_are_copied(store):
    payload = {"rows": [1, 2], "nested": {"k": "v"}}
    event = store.append_event("unlearn", payload)
    payload["rows"].append(3)
    payload["nested"]["k"] = "rewritten"
    event["payload"]["rows"].append(4)
    listed = store.events()
    assert listed[0]["payload"] == {"rows": [1, 2], "nested": {"k": "v"}}
    listed[0]["payload"]["rows"].append(5)
    assert store.events()[0]["payload"] == {"rows": [1, 2], "nested": {"k": "v"}}
    assert store.verify()


def test_bad_events_are_refused_and_nothing_is_appended(store):
    with pytest.raises(ValueError, match="written by the store itself"):
        store.append_event("store.run", {"digest": "0" * 64})
    with pytest.raises(TypeError, match="JSON-serialisable"):
        store.append_event("review", {"when": object()})
    with pytest.raises(ValueError, match="non-empty string"):
        store.append_event("", {})
    # JSON has no NaN or infinity: other readers of the log (and reports) could not read it
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(TypeError, match=r"payload\['scores'\]\[1\] is not a finite"):
            store.append_event("review", {"scores": [0.5, bad], "note": "NaN in a string"})
    assert store.events(include_store_events=True) == []
    store.append_event("review", {"note": "NaN and Infinity in text are text"})
    assert store.events()[0]["payload"] == {"note": "NaN and Infinity in text are text"}


def test_every_run_and_source_is_under_the_chain(store):
    run = fit_run(store)
    events = store.events(include_store_events=True)
    assert [e["kind"] for e in events] == ["store.source", "store.run"]
    assert events[1]["run_id"] == run.run_id
    # the digest, computed here from its definition (independently of the store): over
    # the record as stored, sealed (its erasable values replaced by tokens and committed)
    record = store._raw_run(run.run_id)[0]
    sealed = json.loads(record)
    assert record == json.dumps(sealed, sort_keys=True, separators=(",", ":"))
    leaves = store._raw_leaves(run.run_id)
    for n, digest in enumerate(sealed.pop("sealed")["commitments"]):
        value, salt = leaves[n]
        body = f"sktraceprop-leaf-1\n{salt}\n{value}"
        assert hashlib.sha256(body.encode()).hexdigest() == digest
    assert _restored(sealed, leaves) == json.loads(json.dumps(run.to_dict()))
    ids = hashlib.sha256(run.row_ids.astype("<i8").tobytes()).hexdigest()
    body = f"sktraceprop-run-2\n{record}\n{ids}\n-"
    assert events[1]["payload"]["digest"] == hashlib.sha256(body.encode()).hexdigest()
    assert events[1]["payload"]["n_samples"] == 60
    source = run.sources[next(iter(run.sources))]
    text = json.dumps(source.to_dict(), sort_keys=True, separators=(",", ":"))
    body = f"sktraceprop-source-2\n{text}\n-"
    assert events[0]["payload"]["digest"] == hashlib.sha256(body.encode()).hexdigest()
    # a second run of the same source adds no second source event
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(60, 3)), "s0")
    stp.make_traced_pipeline(Ridge(), store=store).fit(X, X["x1"])
    kinds = [e["kind"] for e in store.events(include_store_events=True)]
    assert kinds == ["store.source", "store.run", "store.run"]


def _restored(value, leaves):
    """A sealed record with every token replaced by its leaf's value (written here from
    the format's definition, not with the store's code)."""

    def leaf(token):
        return json.loads(leaves[int(token[len("\x00stp-leaf:") :])][0])

    def is_token(v):
        return isinstance(v, str) and v.startswith("\x00stp-leaf:")

    if is_token(value):
        return leaf(value)
    if isinstance(value, list):
        return [_restored(v, leaves) for v in value]
    if isinstance(value, dict):
        out = {(leaf(k) if is_token(k) else k): _restored(v, leaves) for k, v in value.items()}
        if is_token(value.get("leaf")):  # a source's statistics
            return {**{k: v for k, v in out.items() if k != "leaf"}, **leaf(value["leaf"])}
        return out
    return value


def test_search_runs_are_listed_by_role_and_search(store):
    from sklearn.model_selection import GridSearchCV, KFold

    rng = np.random.default_rng(2)
    X = stp.from_numpy(rng.normal(size=(30, 2)), "grid_src")
    y = (X["x0"] > 0).astype(int)
    plain = fit_run(store, seed=0)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.5, 2.0]}, cv=KFold(3)).fit(X, y)
    refit = search.best_estimator_.lineage_
    runs = store.list_runs()
    assert (
        runs["run_id"].tolist()[0] == plain.run_id and runs["run_id"].tolist()[-1] == refit.run_id
    )
    assert runs["search_role"].tolist() == [None] + ["cv_fold"] * 6 + ["refit"]
    assert runs["purpose"].tolist() == ["fit"] + ["cv_fold"] * 6 + ["fit"]
    search_id = refit.selection["search_id"]
    assert runs["search_id"].tolist() == [None] + [search_id] * 7
    assert store.list_runs(search_role="refit")["run_id"].tolist() == [refit.run_id]
    assert len(store.list_runs(search_id=search_id, search_role="cv_fold")) == 6
    assert store.list_runs(search_id="another").empty
    # the record is under the chain: what load_run returns is what was fitted
    folds = store.list_runs(search_role="cv_fold")["run_id"]
    ids = X.index.to_numpy()
    for run_id in folds:
        run = store.load_run(run_id)
        k = run.selection["split_progress"][0]
        train = list(KFold(3).split(X))[k][0]
        assert np.array_equal(run.row_ids, ids[train])
    assert store.load_run(refit.run_id) == refit
    assert store.verify()


def test_list_runs_filters(store):
    base = fit_run(store, seed=0)
    with stp.run_context(name="retrain", tags={"ticket": "AUD-7", "q": 3}):
        tagged = fit_run(store, seed=1)
    with stp.run_context(purpose="backfill", parent_run_id=base.run_id):
        child = fit_run(store, seed=0)
    rng = np.random.default_rng(5)
    X = stp.from_numpy(rng.normal(size=(30, 2)), "ridge_src")
    ridge = stp.TracedEstimator(Ridge(), store=store).fit(X, X["x0"]).lineage_

    def ids(**kw):
        return store.list_runs(**kw)["run_id"].tolist()

    assert ids(source="s0") == [base.run_id, child.run_id]
    s0 = base.sources[next(iter(base.sources))]
    assert ids(source=s0) == [base.run_id, child.run_id]
    assert ids(source=("s0", s0.sha256)) == [base.run_id, child.run_id]
    assert ids(source=("s0", "0" * 64)) == []
    assert ids(estimator="Ridge") == [ridge.run_id]
    assert ids(estimator=Ridge) == [ridge.run_id]
    assert ids(estimator=Ridge(alpha=3.0)) == [ridge.run_id]
    assert ids(estimator="sktraceprop.wrappers.TracedEstimator") == [ridge.run_id]
    assert ids(estimator=LogisticRegression) == [base.run_id, tagged.run_id, child.run_id]
    assert ids(purpose="backfill") == [child.run_id]
    assert ids(purpose=["fit"]) == [base.run_id, tagged.run_id, ridge.run_id]
    assert ids(tags={"ticket": "AUD-7"}) == [tagged.run_id]
    assert ids(tags={"ticket": "AUD-7", "q": 4}) == []
    assert ids(parent_run_id=base.run_id) == [child.run_id]
    assert ids(source="s1", tags={"q": 3}) == [tagged.run_id]
    row = store.list_runs(tags={"q": 3}).iloc[0]
    assert (row["name"], row["tags"]) == ("retrain", {"ticket": "AUD-7", "q": 3})
    assert store.load_run(tagged.run_id).name == "retrain"
    assert store.load_run(child.run_id).parent_run_id == base.run_id


# -- tampering: every run, source and event is covered ------------------------------------------


def _with_uri(text, uri="file:///forged.csv"):
    record = json.loads(text)
    if "sources" in record:
        record["sources"][0]["uri"] = uri
    else:
        record["uri"] = uri
    return json.dumps(record)


def _problems(store, **kwargs):
    with pytest.raises(CorruptStoreError) as info:
        store.verify(**kwargs)
    return [
        (p["check"], p.get("run_id") or p.get("source_id") or p.get("seq"))
        for p in info.value.problems
    ]


def test_an_edited_run_record_is_found_and_named(backend, store):
    runs = [fit_run(store, seed=k) for k in range(3)]
    backend.edit_run_record(store, runs[1].run_id, _with_uri)
    store = backend.reopen(store)
    assert store.load_run(runs[0].run_id) == runs[0]
    with pytest.raises(CorruptStoreError, match=f"run {runs[1].run_id} was altered"):
        store.load_run(runs[1].run_id)
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError) as info:
        store.check(full=True)
    assert [p.get("run_id") for p in info.value.problems] == [runs[1].run_id]
    store = backend.reopen(store)
    assert _problems(store) == [("runs", runs[1].run_id)]
    with pytest.raises(CorruptStoreError, match="refuses writes"):
        fit_run(store, seed=9)


@pytest.fixture(scope="module")
def stored_run():
    store = stp.stores.MemoryStore()
    return store, fit_run(store)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_edit_of_a_stored_run_is_found(stored_run, data):
    original, run = stored_run
    store = original.copy()
    record, n, n_input, ids, inputs, seq = store._runs[run.run_id]
    if data.draw(st.booleans(), label="edit the record"):
        at = data.draw(st.integers(0, len(record) - 1), label="position")
        char = data.draw(st.characters(codec="utf-8").filter(lambda c: c != record[at]))
        record = record[:at] + char + record[at + 1 :]
    else:
        ids = ids.copy()
        at = data.draw(st.integers(0, ids.size - 1), label="row")
        ids[at] += data.draw(st.integers(-(2**40), 2**40).filter(bool), label="change")
    store._runs[run.run_id] = (record, n, n_input, ids, inputs, seq)
    with pytest.raises(CorruptStoreError) as info:
        store.verify()
    assert [p.get("run_id") for p in info.value.problems] == [run.run_id]


def test_edited_row_ids_are_found(backend, store):
    run = fit_run(store)
    ids = run.row_ids.copy()
    ids[[3, 7]] = ids[[7, 3]]  # swap two rows: same set, same count
    backend.edit_row_ids(store, run.run_id, ids)
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError, match="altered"):
        store.load_run(run.run_id)
    assert _problems(backend.reopen(store)) == [("runs", run.run_id)]


def test_a_deleted_run_is_found(backend, store):
    runs = [fit_run(store, seed=k) for k in range(2)]
    backend.delete_run(store, runs[0].run_id)
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError, match="was deleted") as info:
        store.verify()
    assert [p.get("run_id") for p in info.value.problems] == [runs[0].run_id]


def test_an_edited_or_deleted_source_is_found(backend, store):
    run = fit_run(store, seed=0)
    backend.edit_source_record(store, "s0", _with_uri)
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError, match="source 's0'"):
        store.load_run(run.run_id)
    store = backend.reopen(store)
    assert _problems(store) == [("sources", "s0")]
    backend.delete_source(store, "s0")
    store = backend.reopen(store)
    checks = _problems(store)
    assert ("sources", "s0") in checks and ("runs", run.run_id) in checks


def test_edited_and_deleted_events_are_found(backend, store):
    for k in range(4):
        store.append_event("review", {"k": k})
    rows = backend.events(store)
    edited = list(rows)
    edited[1] = (*rows[1][:4], json.dumps({"k": 99}), *rows[1][5:])
    backend.replace_events(store, edited)
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError, match="audit event 2") as info:
        store.verify()
    assert [p["seq"] for p in info.value.problems] == [2]
    backend.replace_events(store, [rows[0], *rows[2:]])
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError, match="missing") as info:
        store.verify()
    assert [p["seq"] for p in info.value.problems] == [3, 3]  # a gap, and a broken link


def test_an_event_text_rewritten_to_the_same_python_value_is_found(backend, store):
    """The hash is over the payload as Python reads it: a stored text rewritten to the
    same value (digits a double does not hold, which PostgreSQL's jsonb keeps) verified
    in every store."""
    store.append_event("review", {"score": 0.1})
    store.append_event("review", {"k": 1})
    rows = backend.events(store)
    assert rows[0][4] == '{"score":0.1}'
    for text in ('{"score":0.10000000000000000001}', '{"score":0.1 }', '{"sc\\u006fre":0.1}'):
        assert json.loads(text) == {"score": 0.1}
        backend.replace_events(store, [(*rows[0][:4], text, *rows[0][5:]), rows[1]])
        store = backend.reopen(store)
        with pytest.raises(
            CorruptStoreError, match="audit event 1 payload is not JSON as"
        ) as info:
            store.verify()
        assert [p["seq"] for p in info.value.problems] == [1]
    # as sktraceprop 0.1 wrote payloads (keys sorted, Python's default separators): read
    backend.replace_events(store, [(*rows[0][:4], '{"score": 0.1}', *rows[0][5:]), rows[1]])
    assert backend.reopen(store).verify()


def test_a_recomputed_chain_without_a_run_event_is_found(backend, store):
    run = fit_run(store)
    rows = [r for r in backend.events(store) if r[3] != "store.run"]
    backend.replace_events(store, rechained(rows))
    store = backend.reopen(store)
    # the chain itself is consistent again; the run has lost its event
    with pytest.raises(CorruptStoreError, match="not in the hash chain") as info:
        store.verify()
    assert [p.get("run_id") for p in info.value.problems] == [run.run_id]


# -- signed checkpoints -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key():
    return signing.generate_key()


def test_checkpoint_signs_the_head_and_is_exportable(store, key, tmp_path):
    fit_run(store)
    store.append_event("review", {"ok": True})
    path = tmp_path / "checkpoint.json"
    cp = store.checkpoint(key, path=path)
    assert cp["event_seq"] == 3 and cp["chain_head"] == store.events()[-1]["hash"]
    assert cp["store_id"] == store.store_id
    assert cp["key_fingerprint"] == signing.fingerprint(key.public_key())
    assert json.loads(path.read_text()) == cp == store.checkpoints()[0]
    assert store.verify(key.public_key(), checkpoint=path)
    with pytest.raises(FileExistsError):
        store.checkpoint(key, path=path)
    # the signature is over the fields, checkable by anyone with the public key
    body = {k: v for k, v in cp.items() if k != "signature"}
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert signing.verify(key.public_key(), message, cp["signature"])


def test_unsigned_tail_needs_a_new_checkpoint(store, key):
    store.append_event("review", {"k": 0})
    store.checkpoint(key)
    assert store.verify(key.public_key())
    store.append_event("review", {"k": 1})
    assert store.verify()  # the chain is fine...
    with pytest.raises(CorruptStoreError, match=r"event\(s\) 2 are not covered"):
        store.verify(key.public_key())  # ...but event 2 is not signed
    assert store.verify(key.public_key(), allow_unsigned_tail=True)
    store.checkpoint(key)
    assert store.verify(key.public_key())
    other = signing.generate_key()
    with pytest.raises(CorruptStoreError, match="another key"):
        store.verify(other.public_key())


def test_forged_appends_are_found(backend, store, key):
    fit_run(store)
    store.checkpoint(key)
    rows = backend.events(store)
    forged = rechained([*rows, (0, None, rows[-1][2], "unlearning", '{"n_removed": 0}', "", "")])
    backend.replace_events(store, forged)
    store = backend.reopen(store)
    assert store.verify()  # a valid chain: only the signature can tell
    with pytest.raises(CorruptStoreError, match=r"event\(s\) 3 are not covered"):
        store.verify(key.public_key())
    # a checkpoint forged with another key to cover it
    forger = signing.generate_key()
    from sktraceprop.stores._checkpoint import make_checkpoint

    fake = make_checkpoint(forger, store.store_id, 2, 3, forged[-1][6])
    backend.insert_checkpoint(store, 2, json.dumps(fake))
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError, match="another key"):
        store.verify(key.public_key())


def test_recomputed_chain_is_found_by_the_stored_checkpoint(backend, store, key):
    for k in range(3):
        store.append_event("review", {"k": k})
    store.checkpoint(key)
    rows = backend.events(store)
    edited = [rows[0], (*rows[1][:4], json.dumps({"k": 99}), *rows[1][5:]), rows[2]]
    backend.replace_events(store, rechained(edited))
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError, match="re-computed") as info:
        store.verify()  # even without the key: the signed head no longer matches
    assert [p["check"] for p in info.value.problems] == ["checkpoints"]
    # the attacker also rewrites the checkpoint's head: its signature then fails
    cp = store.checkpoints()[0]
    backend.delete_checkpoints(store)
    backend.insert_checkpoint(store, 1, json.dumps({**cp, "chain_head": rechained(edited)[-1][6]}))
    store = backend.reopen(store)
    assert store.verify()
    with pytest.raises(CorruptStoreError, match="does not verify"):
        store.verify(key.public_key())


def test_truncation_is_found_by_a_checkpoint_kept_elsewhere(backend, store, key, tmp_path):
    first = fit_run(store, seed=0)
    store.checkpoint(key)
    second = fit_run(store, seed=1)
    kept = store.checkpoint(key, path=tmp_path / "kept.json")
    # cut the second run from the end: its run, its events and the checkpoints after it
    backend.delete_run(store, second.run_id)
    backend.delete_source(store, "s1")
    backend.replace_events(store, backend.events(store)[:2])
    stored = store.checkpoints()
    backend.delete_checkpoints(store)
    backend.insert_checkpoint(store, 1, json.dumps(stored[0]))
    store = backend.reopen(store)
    assert store.verify(key.public_key())  # a consistent, signed, shorter store...
    assert store.list_runs()["run_id"].tolist() == [first.run_id]
    with pytest.raises(CorruptStoreError, match="removed after event 2: from its end"):
        store.verify(key.public_key(), checkpoint=kept)  # ...that was longer
    with pytest.raises(CorruptStoreError, match="removed after event 2: from its end"):
        store.verify(key.public_key(), checkpoint=tmp_path / "kept.json")
    with pytest.raises(ValueError, match="needs public_key"):
        store.verify(checkpoint=kept)


def test_what_a_check_cannot_show_is_said_in_its_report(backend, store, key, tmp_path):
    """A store put back to an older copy of itself (events cut from the end with the
    checkpoints that signed them) passes every check without a checkpoint kept
    elsewhere: the report says so (``not_shown``) rather than let True read as proof."""
    fit_run(store, seed=0)
    store.checkpoint(key)
    second = fit_run(store, seed=1)
    kept = store.checkpoint(key, path=tmp_path / "kept.json")
    report = store.check_integrity(key.public_key(), checkpoint=kept)
    assert report["not_shown"] == [
        f"events after event {kept['event_seq']} (the latest checkpoint kept elsewhere), cut "
        "from the end of the log together with the stored checkpoints that signed them, are "
        "not shown: only a later checkpoint kept outside the store shows them",
        FORK,  # (said by every check: a copy written apart is never shown)
    ]
    # the older copy: the second run, its events and the checkpoint after it gone
    backend.delete_run(store, second.run_id)
    backend.delete_source(store, "s1")
    backend.replace_events(store, backend.events(store)[:2])
    first = store.checkpoints()[0]
    backend.delete_checkpoints(store)
    backend.insert_checkpoint(store, 1, json.dumps(first))
    store = backend.reopen(store)
    unkeyed = store.check_integrity()["not_shown"]
    assert len(unkeyed) == 3 and unkeyed[2] == FORK
    assert all(s.startswith("signatures not checked") for s in unkeyed[:2])
    assert "events cut from the end of the log" in unkeyed[0]
    assert "a chain re-computed after an edit" in unkeyed[1]
    keyed, fork = store.check_integrity(key.public_key())["not_shown"]
    assert fork == FORK
    assert "an older copy of the store put back" in keyed and "(checkpoint=)" in keyed
    with pytest.raises(CorruptStoreError, match="removed after event 2: from its end"):
        store.check_integrity(key.public_key(), checkpoint=kept)


def test_a_checkpoint_of_another_store_is_refused(store, key, tmp_path):
    other = stp.stores.MemoryStore()
    cp = other.checkpoint(key)
    with pytest.raises(CorruptStoreError, match="another store"):
        store.verify(key.public_key(), checkpoint=cp)


def test_writes_are_refused_after_a_failed_check(backend, store):
    store.append_event("review", {"k": 0})
    store.append_event("review", {"k": 1})
    rows = backend.events(store)
    backend.replace_events(store, [(*rows[0][:4], '{"k": 5}', *rows[0][5:]), rows[1]])
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError):
        store.verify()
    with pytest.raises(CorruptStoreError, match="refuses writes"):
        store.append_event("review", {"k": 2})
    assert len(backend.events(store)) == 2


def test_an_altered_last_event_refuses_the_next_write(backend, store):
    store.append_event("review", {"k": 0})
    rows = backend.events(store)
    backend.replace_events(store, [(*rows[0][:4], '{"k": 5}', *rows[0][5:])])
    store = backend.reopen(store)
    with pytest.raises(CorruptStoreError, match="last audit event"):
        store.append_event("review", {"k": 1})
    assert len(backend.events(store)) == 1
