"""verify(): every kind of alteration is detected and named; an intact report passes."""

import copy
import json
import sqlite3
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.frozen import FrozenEstimator

import sktraceprop as stp
from sktraceprop import signing
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, event_hash, seal
from sktraceprop.exceptions import CorruptStoreError, ReportVerificationError
from sktraceprop.stores._base import GENESIS, make_event

from .conftest import DEPLOYER, as_javascript_writes, before_format_7

pytestmark = pytest.mark.filterwarnings("ignore:the report is signed:UserWarning")


@pytest.fixture
def made(fitted, tmp_path):
    """A signed report whose events include explanations and a store-level event."""
    pipe, store, X, y = fitted
    store.append_event("review", {"by": "internal audit", "finding": "none"})
    explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X, y)
    explainer.explain(X.iloc[:2], top_k=3, log=True)
    explainer.explain(X.iloc[2:4], top_k=3, log=True)
    pipe.predict(X.iloc[:1])
    key = signing.generate_key()
    path = tmp_path / "report.json"
    compliance_report(pipe, **DEPLOYER, output_path=path, private_key=key)
    return path, store, key


def _edit(path, change, tmp_path, name="edited.json"):
    data = json.loads(path.read_text())
    change(data)
    out = tmp_path / name
    out.write_text(json.dumps(data, indent=2))
    return out


def _fails(path, match, **kwargs):
    with pytest.raises(ReportVerificationError, match=match) as info:
        verify(path, **kwargs)
    return info.value


def test_an_intact_report_verifies_alone_with_its_store_and_its_key(made):
    path, store, key = made
    data = json.loads(path.read_text())
    # the store's own events for the run and its sources come first (store.source for
    # each new source, then store.run), then the audit events
    assert [e["kind"] for e in data["events"]] == [
        "store.source",
        "store.source",
        "store.run",
        "review",
        "explanation",
        "explanation",
    ]
    before = store.events()
    assert verify(path, store=store, public_key=key.public_key()) is True
    # the report's own event hash is the store's, computed independently of its code
    for e in store.events():
        record = {k: e[k] for k in ("seq", "run_id", "created_at", "kind", "payload")}
        assert event_hash(e["prev_hash"], record) == e["hash"]
    with pytest.warns(UserWarning, match="pass public_key"):
        assert verify(path) is True
    store.append_event("review", {"by": "auditor"})  # the log goes on: still verifies
    stp.compliance.ComplianceReport.load(path, store=store, public_key=key.public_key())
    assert store.events()[: len(before)] == before


def test_an_edited_field_is_named(made, tmp_path):
    path, _, _ = made

    def more_rows(d):
        d["sources"][0]["n_rows"] += 1

    error = _fails(_edit(path, more_rows, tmp_path), r"/sources/0/n_rows was changed")
    assert len(error.problems) == 1
    renamed = _edit(path, lambda d: d["system"].update(name="Other"), tmp_path, "b.json")
    _fails(renamed, r"/system/name was changed")
    status = _edit(path, lambda d: d["articles"][4].update(status="evidenced"), tmp_path, "c.json")
    _fails(status, r"/articles/4/status was changed")
    added = _edit(path, lambda d: d["model"].update(extra="x"), tmp_path, "d.json")
    _fails(added, "schema")  # not a field of the format at all


def test_removed_reordered_and_altered_events(made, tmp_path):
    path, _, _ = made
    data = json.loads(path.read_text())
    seqs = [e["seq"] for e in data["events"]]
    first, second = [i for i, e in enumerate(data["events"]) if e["kind"] == "explanation"]
    for i in (1, first):  # a store.source event, an explanation
        name = f"a{i}.json"
        removed = _edit(path, lambda d, i=i: d["events"].pop(i), tmp_path, name)
        error = _fails(removed, rf"event seq {seqs[i]} was removed from the report's events")
        # named once, as removed: the events after it are not said to have changed
        assert error.problems == [f"event seq {seqs[i]} was removed from the report's events"]
    swapped = _edit(path, lambda d: d["events"].reverse(), tmp_path, "b.json")
    _fails(swapped, r"listed after event seq .*reordered")

    def payload(d):
        event = d["events"][second]
        event["payload"]["top_k"] = 99
        if "payload_json" in event:  # (a payload holding 1.0: format 5 keeps its text)
            stored = json.loads(event["payload_json"])
            stored["top_k"] = 99
            event["payload_json"] = json.dumps(stored, sort_keys=True, separators=(",", ":"))

    kept = "payload_json" in data["events"][second]
    fields = f"/events/{second}/payload" + (f", /events/{second}/payload_json" if kept else "")
    error = _fails(_edit(path, payload, tmp_path, "c.json"), rf"event seq {seqs[second]} ")
    assert error.problems == [
        f"event seq {seqs[second]} (explanation, /events/{second}) was changed after the "
        f"report was made: {fields}; it no longer matches its hash"
    ]

    def rehashed(d):
        payload(d)
        event = d["events"][second]
        record = {k: event[k] for k in ("seq", "run_id", "created_at", "kind")}
        record["payload"] = json.loads(event.get("payload_json", json.dumps(event["payload"])))
        event["hash"] = event_hash(event["prev_hash"], record)

    error = _fails(_edit(path, rehashed, tmp_path, "d.json"), "was changed after the report")
    assert error.problems[0].endswith(f": /events/{second}/hash, {fields}")


def test_missing_required_field_and_not_a_report(made, tmp_path):
    path, _, _ = made
    gone = _edit(path, lambda d: d["sources"][0].pop("sha256"), tmp_path)
    error = _fails(gone, "does not follow the compliance report schema")
    assert any(
        "/sources/0" in p and "'sha256' is a required property" in p for p in error.problems
    )
    no_time = _edit(path, lambda d: d["report"].update(generated_at="yesterday"), tmp_path, "t")
    _fails(no_time, r"at /report/generated_at: 'yesterday' does not match")
    (tmp_path / "x.json").write_text("{not json")
    _fails(tmp_path / "x.json", "is not JSON")
    (tmp_path / "y.json").write_text("[1, 2]")
    _fails(tmp_path / "y.json", "not a report")
    with pytest.raises(FileNotFoundError, match="no report at"):
        verify(tmp_path / "missing.json")


def test_integrity_members_altered(made, tmp_path):
    path, _, _ = made

    def sha(d):
        d["integrity"]["sha256"] = "0" * 64

    _fails(_edit(path, sha, tmp_path), r"integrity.sha256 itself was altered")

    def digest(d):
        d["integrity"]["digests"]["/system"] = "0" * 64

    _fails(_edit(path, digest, tmp_path, "b.json"), r"integrity.digests was altered")


def _reseal(change, private_key=None):
    def edit(d):
        change(d)
        d["integrity"] = seal(body_of(d), private_key)

    return edit


def test_a_rehashed_forgery_is_caught_by_the_signature_and_the_store(made, tmp_path):
    path, store, key = made

    def fewer(d):
        d["sources"][0]["statistics"]["labels"]["counts"]["1"] -= 1

    forged = _edit(path, _reseal(fewer), tmp_path)
    assert verify(forged) is True  # unsigned now, and consistent on its own
    _fails(forged, "not signed, but a public key", public_key=key.public_key())
    _fails(forged, r"/sources/0/statistics/labels/counts/1 differs from the store", store=store)
    other = signing.generate_key()  # re-signed by someone else's key
    resigned = _edit(path, _reseal(fewer, other), tmp_path, "b.json")
    _fails(resigned, "signed by key", public_key=key.public_key())
    # the signature covers the content: a re-hash keeping the old signature fails
    data = json.loads(path.read_text())
    signature = data["integrity"]["signature"]

    def keep_signature(d):
        fewer(d)
        d["integrity"] = {**seal(body_of(d)), "signature": signature}

    kept = _edit(path, keep_signature, tmp_path, "c.json")
    _fails(kept, "signature does not match", public_key=key.public_key())


def _copy(store, path):
    """A copy of a SQLite store (the backup API also copies what is still in the WAL)."""
    source, target = sqlite3.connect(store.path), sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    return stp.stores.SQLiteStore(path)


def _raw(store):
    con = sqlite3.connect(store.path)
    con.execute("DROP TRIGGER IF EXISTS events_append_only_update")
    con.execute("DROP TRIGGER IF EXISTS events_append_only_delete")
    return con


def test_a_store_whose_chain_no_longer_matches(made, tmp_path):
    path, store, _ = made
    events = store.events()
    # 1. an event edited in place: the store's own chain breaks
    copy_db = tmp_path / "edited.db"
    con = _raw(_copy(store, copy_db))
    con.execute("UPDATE events SET payload = ? WHERE seq = 1", (json.dumps({"n_rows": 0}),))
    con.commit()
    con.close()
    _fails(path, "the store's hash chain is broken", store=stp.stores.SQLiteStore(copy_db))

    # 2. truncated, then a new chain recomputed from the event before: it verifies alone,
    # but no longer holds what the report saw
    forged_db = tmp_path / "forged.db"
    con = _raw(_copy(store, forged_db))
    cut = events[-3]["seq"]
    con.execute("DELETE FROM events WHERE seq >= ?", (cut,))
    prev = events[-4]["hash"] if len(events) > 3 else GENESIS
    for event in events[-3:]:
        new = make_event(
            prev, event["kind"], {**event["payload"], "n": 1}, event["run_id"], event["seq"]
        )
        con.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                new["seq"],
                new["run_id"],
                new["created_at"],
                new["kind"],
                json.dumps(new["payload"], sort_keys=True),
                new["prev_hash"],
                new["hash"],
            ),
        )
        prev = new["hash"]
    con.commit()
    con.close()
    rewritten = stp.stores.SQLiteStore(forged_db)
    assert rewritten.verify()
    error = _fails(path, "the log was rewritten", store=rewritten)
    assert any("differs between the report and the store" in p for p in error.problems)

    # 3. truncated: the report's chain head is gone
    short_db = tmp_path / "short.db"
    con = _raw(_copy(store, short_db))
    con.execute("DELETE FROM events WHERE seq >= ?", (events[-2]["seq"],))
    con.commit()
    # the salts of the calls cut off are left beside the chain: the store alone sees it
    with pytest.raises(CorruptStoreError, match="no salted prediction or explanation event"):
        stp.stores.SQLiteStore(short_db).verify()
    con.execute("DELETE FROM prediction_salts WHERE seq >= ?", (events[-2]["seq"],))
    con.commit()
    con.close()
    short = stp.stores.SQLiteStore(short_db)
    assert short.verify()  # truncated with its salts: only the report can tell
    _fails(path, "the log was truncated or replaced", store=short)


def test_a_report_of_another_store_or_run_does_not_match(made, fitted, tmp_path):
    path, store, _ = made
    other = stp.stores.MemoryStore()
    other.append_event("review", {})
    error = _fails(path, "no longer matches", store=other)
    assert any("cannot be loaded from the store" in p for p in error.problems)
    # the store need not have been altered: the message says it may be another one
    assert any("or this is another store" in p for p in error.problems)


def test_verify_leaves_the_store_unchanged(made):
    path, store, key = made
    before = (store.events(), store.list_runs().to_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verify(path, store=store)
        data = json.loads(path.read_text())
        broken = copy.deepcopy(data)
        broken["system"]["name"] = "x"
        with pytest.raises(ReportVerificationError):
            verify(broken, store=store)
    assert (store.events(), store.list_runs().to_dict()) == before


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    else:
        yield path, value


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return "x"  # None


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    from sktraceprop._lineage import REGISTRY
    from tests.conftest import write_hospitals

    from .conftest import logged_pipeline, traced_frames

    REGISTRY.clear()
    _, _, X, y = traced_frames(write_hospitals(tmp_path_factory.mktemp("h")))
    store = stp.stores.MemoryStore()
    pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:3])
    store.append_event("review", {"by": "audit", "notes": ["a", "b"], "ok": True})
    data = compliance_report(pipe, **DEPLOYER).to_dict()
    return data, [p for p, _ in _leaves(body_of(data))]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_any_edited_leaf_is_found_and_named(sealed, data):
    report, leaves = sealed
    path = data.draw(st.sampled_from(leaves))
    edited = copy.deepcopy(report)
    target = edited
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = _changed(target[path[-1]])
    with pytest.raises(ReportVerificationError) as info:
        verify(edited)
    named = "/" + "/".join(str(p) for p in path[:3])
    assert any(named in p for p in info.value.problems), (named, info.value.problems)


def test_a_report_reformatted_verifies_and_one_with_a_number_changed_is_named(fitted, tmp_path):
    """What a re-save may change and what it may not, as doc/compliance.rst says:
    indentation, key order, \\u escapes and how a number is written (0.0 as 0, as
    JavaScript's JSON.stringify writes it: RFC 8785 from format 5) are not content, for
    the content hash as for the events'; a number's value is."""
    import random

    pipe, store, *_ = fitted
    data = compliance_report(pipe, **{**DEPLOYER, "intended_purpose": "Crédit à la consommation"})
    data = data.to_dict()

    def shuffled(value, rng):
        if isinstance(value, dict):
            items = list(value.items())
            rng.shuffle(items)
            return {k: shuffled(v, rng) for k, v in items}
        if isinstance(value, list):
            return [shuffled(v, rng) for v in value]
        return value

    path = tmp_path / "reformatted.json"
    path.write_text(json.dumps(shuffled(data, random.Random(0)), indent=7, ensure_ascii=True))
    assert "\\u00e9" in path.read_text() and verify(path, store=store)

    rewritten = as_javascript_writes(data)
    text = json.dumps(rewritten)
    assert json.dumps(data) != text  # there were integral floats (0.0 missing rates...)
    path = tmp_path / "rewritten.json"
    path.write_text(text)
    assert verify(path, store=store)
    rates = [
        (i, j)
        for i, s in enumerate(data["sources"])
        for j, c in enumerate(s["columns"])
        if isinstance(c["missing_rate"], float) and c["missing_rate"].is_integer()
    ]
    assert rates  # 0.0: the columns without missing values
    i, j = rates[0]
    rewritten["sources"][i]["columns"][j]["missing_rate"] = 0.5
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(rewritten))
    with pytest.raises(ReportVerificationError, match=f"/sources/{i}/columns was changed"):
        verify(path)


def test_a_report_lowered_to_an_older_format_is_said_to_be_unprovable(made, tmp_path):
    """A report of format 7 lowered to format 6 (what format 7 added removed, the hash
    recomputed) verified alone and against its store, with no word that the evidence
    format 7 adds (whether each source's values were compared with what was loaded)
    is gone: the downgrade nothing but the signature can show."""
    path, store, key = made
    body = body_of(json.loads(path.read_text()))
    body["report"]["format_version"] = 6
    before_format_7(body)
    lowered = tmp_path / "lowered.json"
    lowered.write_text(json.dumps({**body, "integrity": seal(body)}))
    said = r"is of format 6.*format 7: whether each source's values .*changes_after_loading"
    for kwargs in ({}, {"store": store}):
        with pytest.warns(UserWarning, match=said) as caught:
            assert verify(lowered, **kwargs)
        assert "cannot be told from one an older sktraceprop wrote" in str(caught[-1].message)
    # its signature checked, the format is the signer's: nothing to say
    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps({**body, "integrity": seal(body, key)}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert verify(signed, store=store, public_key=key.public_key())
        assert verify(path, store=store, public_key=key.public_key())  # format 7 itself
    # the original's signature kept on the lowered report: it no longer matches
    original = json.loads(path.read_text())["integrity"]["signature"]
    lowered.write_text(json.dumps({**body, "integrity": {**seal(body), "signature": original}}))
    with pytest.raises(ReportVerificationError, match="signature does not match"):
        verify(lowered, public_key=key.public_key())


def test_an_unsigned_report_checked_alone_says_an_edit_re_hashed_passes(fitted, tmp_path):
    """Checked with neither its key nor its store, True means only that the report
    agrees with itself: an edit followed by a new integrity seal passes that check, so
    verify() says so (a warning), and the store check finds the edit."""
    pipe, store, _, _ = fitted
    path = tmp_path / "unsigned.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    with pytest.warns(UserWarning, match="only the report's own content was checked"):
        assert verify(path) is True
    body = body_of(json.loads(path.read_text()))
    body["sources"][0]["n_rows"] += 1  # a count the store records
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**body, "integrity": seal(body)}))
    with pytest.warns(UserWarning, match="edited and then re-hashed"):
        assert verify(forged) is True  # what the warning is there for
    with pytest.raises(ReportVerificationError, match="n_rows"):
        verify(forged, store=store)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert verify(path, store=store) is True  # checked against its store: no warning


def test_a_store_given_as_the_report_is_not_verified_and_named(made, capsys):
    """``sktraceprop verify audit.db`` said only "not UTF-8 text": the store is named as
    one, with the commands that check it and a report made from it."""
    from sktraceprop.cli import main

    _, store, _ = made
    with pytest.raises(ReportVerificationError, match="is an SQLite database") as caught:
        verify(store.path)
    assert "sktraceprop check STORE" in str(caught.value)
    assert main(["verify", str(store.path)]) == 1  # (not verified)
    assert "is an SQLite database (a store?), not a compliance report" in capsys.readouterr().err
