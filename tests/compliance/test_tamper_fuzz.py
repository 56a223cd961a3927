"""Tamper evidence of a report, fuzzed: every edit of the JSON is found and named.

The record: a logged pipeline on two CSV files in a SQLite store, with predictions, an
explanation and a removal, a signed checkpoint and a signed report. Any node of the
report's JSON tree (the integrity member included) is changed, removed, or added to;
``verify`` must fail and name where. A report re-sealed after an edit (new hash and
digests, no signature) must still fail against the store wherever the store records
what was edited.
"""

import copy
import json
import uuid
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.compliance import verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import ReportVerificationError
from tests.compliance.conftest import DEPLOYER
from tests.stores._tamper_record import build_record, copy_store, rechain, settle

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _nodes(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nodes(item, (*path, i))


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    folder = tmp_path_factory.mktemp("record")
    store, key, report, _ = build_record(folder)
    data = json.loads(report.read_text())
    removal = json.loads((folder / "removal_report.json").read_text())
    assert removal["record_keeping"]["removals"][0]["certificate"] is not None
    public = folder / "public.pem"
    stp.signing.save_key(key.public_key(), public)
    return {
        "store": store,
        "key": key,
        "report": data,
        "reports": [data, removal],
        "nodes": [p for p, _ in _nodes(data) if p],
        "all_nodes": [(i, p) for i, d in enumerate((data, removal)) for p, _ in _nodes(d) if p],
        "public": public,
    }


def _edited(report, path, how):
    """A copy of ``report`` with the node at ``path`` changed in one way (None: no way)."""
    out = copy.deepcopy(report)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    value = parent[path[-1]]
    if how == "remove":
        if isinstance(parent, list):
            del parent[path[-1]]
        else:
            del parent[path[-1]]
    elif how == "add":
        if isinstance(value, dict):
            value["added"] = 1
        elif isinstance(value, list):
            value.append(copy.deepcopy(value[0]) if value else "added")
        else:
            return None
    elif how == "reorder":
        if not isinstance(value, list) or value == value[::-1]:
            return None
        value.reverse()
    elif isinstance(value, bool):
        parent[path[-1]] = not value
    elif isinstance(value, int | float):
        parent[path[-1]] = value + 1
    elif isinstance(value, str):
        parent[path[-1]] = value + "x" if value else "x"
    elif value is None:
        parent[path[-1]] = "x"
    else:
        return None
    return out


def _pointer(path, depth=3):
    return "/" + "/".join(str(p) for p in path[:depth])


def _named(problems, path):
    """Whether the problems say where the edit is: its pointer, its event, its field."""
    text = "\n".join(problems)
    if path == ("integrity",):  # the whole member removed, or one added to it: the schema
        return "'integrity'" in text or "at /integrity:" in text
    if path[0] == "integrity":
        return f"integrity.{path[1]}" in text or "signature" in text or "/" in text
    if path[0] == "events" and "event seq" in text:
        return True
    if any(_pointer(path, depth) in text for depth in range(1, 4)):
        return True
    # the schema names the member that holds it, and what is wrong there
    parent = "/" + "/".join(str(p) for p in path[:-1])
    return f"at {parent}" in text and repr(path[-1]) in text or f"at {parent}:" in text


def _write(tmp_path, data):
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(data, indent=1))
    return path


@FUZZ
@given(data=st.data(), how=st.sampled_from(["change", "remove", "add", "reorder"]))
def test_any_node_of_the_report_edited_is_found_and_named(record, tmp_path, data, how):
    which, path = data.draw(st.sampled_from(record["all_nodes"]), label="path")
    edited = _edited(record["reports"][which], path, how)
    if edited is None:
        return
    report = _write(tmp_path, edited)
    with pytest.raises(ReportVerificationError) as info:
        verify(report, store=record["store"], public_key=record["key"].public_key())
    assert _named(info.value.problems, path), (path, how, info.value.problems)
    if path[:3] != ("integrity", "signature", "value") or how == "change":
        # the content alone shows it; a signature replaced by another well-formed one
        # (reordered, base64 re-cased) is only seen with the key
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ReportVerificationError):
                verify(report)
    code = main(["verify", str(report), "--db", str(record["store"].path)])
    assert code == 1


# What the store records: a re-sealed report (hash and digests recomputed, unsigned)
# edited there is found against the store. What the deployer typed (system, human
# oversight) and what was seen when the report was made are only under the signature.
_STORED = (
    "model",
    "sources",
    "feature_lineage",
    "events",
    "record_keeping",
    "retention",
    "articles",
)
_AS_MADE = (
    ("model", "fitted_object_matches_run"),
    ("record_keeping", "store", "type"),
    ("record_keeping", "store", "location"),
    ("record_keeping", "store", "chain_verified_at"),
    ("record_keeping", "store", "checkpoints", "note"),
    ("record_keeping", "store", "checkpoints", "signed"),
    ("record_keeping", "store", "checkpoints", "signatures_checked"),
    ("record_keeping", "store", "checkpoints", "signed_through"),
    ("record_keeping", "store", "checkpoints", "key_fingerprint"),
    ("retention", "report_time"),
)


@FUZZ
@given(data=st.data())
def test_a_resealed_edit_of_what_the_store_records_is_found_against_it(record, tmp_path, data):
    nodes = [
        (i, p)
        for i, p in record["all_nodes"]
        if p[0] in _STORED and not any(p[: len(a)] == a for a in _AS_MADE)
    ]
    which, path = data.draw(st.sampled_from(nodes), label="path")
    how = data.draw(st.sampled_from(["change", "add"]), label="how")
    edited = _edited(record["reports"][which], path, how)
    if edited is None:
        return
    edited["integrity"] = seal(body_of(edited))
    report = _write(tmp_path, edited)
    with pytest.raises(ReportVerificationError) as info:
        verify(report, store=record["store"])
    assert _named(info.value.problems, path), (path, info.value.problems)
    with pytest.raises(ReportVerificationError):  # unsigned now (or broken)
        verify(report, public_key=record["key"].public_key())


def test_the_canonicalization_edited_is_named(record, tmp_path):
    # Found by this fuzz: integrity.canonicalization (any non-empty text in the schema)
    # could be rewritten and every check passed.
    edited = copy.deepcopy(record["report"])
    edited["integrity"]["canonicalization"] = "JSON with keys in file order"
    with pytest.raises(ReportVerificationError, match="integrity.canonicalization was altered"):
        verify(_write(tmp_path, edited), public_key=record["key"].public_key())


def test_resealed_model_params_and_ops_are_found_against_the_store(record, tmp_path):
    # Found by this fuzz: against the store, only four /model fields were compared, so
    # a re-sealed report could change the model's parameters, ops, versions and notes.
    edited = copy.deepcopy(record["report"])
    edited["model"]["ops"][-1]["class"] = "sklearn.tree.DecisionTreeClassifier"
    edited["model"]["params"]["log_predictions"] = False
    edited["integrity"] = seal(body_of(edited))
    with pytest.raises(ReportVerificationError) as info:
        verify(_write(tmp_path, edited), store=record["store"])
    last = len(edited["model"]["ops"]) - 1
    assert f"/model/ops/{last}/class differs from the store's run record" in info.value.problems
    assert "/model/params/log_predictions differs from the store's run record" in (
        info.value.problems
    )


def test_the_intact_report_verifies_everywhere(record, tmp_path):
    report = _write(tmp_path, record["report"])
    assert verify(report, store=record["store"], public_key=record["key"].public_key())
    code = main(
        [
            "verify",
            str(report),
            "--db",
            str(record["store"].path),
            "--public-key",
            str(record["public"]),
        ]
    )
    assert code == 0


def test_resealed_prediction_counts_and_removals_are_found_against_the_store(record, tmp_path):
    # Found by this fuzz: against the store, record_keeping was only checked for the
    # prediction log's digest and the events included; its counts, explanations,
    # removals (certificates) and runs could be changed in a re-sealed report.
    edited = copy.deepcopy(record["report"])
    kept = edited["record_keeping"]
    kept["predictions"]["n_rows"] += 100
    kept["store"]["n_runs"] -= 1
    kept["explanations"]["n_rows"] = 0
    edited["integrity"] = seal(body_of(edited))
    removal = copy.deepcopy(record["reports"][1])
    removal["record_keeping"]["removals"][0]["certificate"] += 1.0
    removal["integrity"] = seal(body_of(removal))
    with pytest.raises(ReportVerificationError, match="/record_keeping/removals/0/certificate"):
        verify(_write(tmp_path, removal), store=record["store"])
    with pytest.raises(ReportVerificationError) as info:
        verify(_write(tmp_path, edited), store=record["store"])
    for pointer in (
        "/record_keeping/predictions/n_rows",
        "/record_keeping/store/n_runs",
        "/record_keeping/explanations/n_rows",
    ):
        assert f"{pointer} differs from the store's log up to the chain head" in (
            info.value.problems
        )


def test_resealed_retention_articles_and_event_fields_are_found(record, tmp_path):
    # Found by this fuzz: a re-sealed report could claim six months of logs, change an
    # article's status, add a field to an event, or change the checkpoint it names,
    # and pass verify(store=...).
    edited = copy.deepcopy(record["report"])
    edited["retention"]["stored_logs_cover_six_months"] = True
    edited["articles"][5]["status"] = "partly evidenced"
    edited["events"][0]["reviewed_by"] = "auditor"
    edited["record_keeping"]["store"]["checkpoints"]["latest"]["event_seq"] -= 1
    edited["integrity"] = seal(body_of(edited))
    with pytest.raises(ReportVerificationError) as info:
        verify(_write(tmp_path, edited), store=record["store"])
    problems = info.value.problems
    assert (
        "/retention/stored_logs_cover_six_months differs from the store's log up to the "
        "chain head" in problems
    )
    assert any(p.startswith("/articles/5/status does not follow") for p in problems)
    assert any("event seq 1 (/events/0) has field(s) reviewed_by" in p for p in problems)
    assert (
        "/record_keeping/store/checkpoints/latest/event_seq differs from the store's "
        "checkpoint 1" in problems
    )
    # the articles and the event's fields are checked without the store too
    with pytest.raises(ReportVerificationError) as info:
        verify(_write(tmp_path, edited))
    assert any(p.startswith("/articles/") for p in info.value.problems)


def test_a_resealed_regulation_or_annex_area_is_found_without_the_store(record, tmp_path):
    # Found by this fuzz: the regulation's name and the Annex III area and point (both
    # fixed by the category's key) could be rewritten in a re-sealed report.
    edited = copy.deepcopy(record["report"])
    edited["report"]["regulation"] = "Regulation (EU) 2016/679"
    edited["system"]["high_risk_category"]["area"] = "Minimal-risk spam filter"
    edited["integrity"] = seal(body_of(edited))
    with pytest.raises(ReportVerificationError) as info:
        verify(_write(tmp_path, edited))
    problems = info.value.problems
    assert any(p.startswith("/report/regulation was altered") for p in problems)
    assert (
        "/system/high_risk_category/area is not what Annex III says for 'creditworthiness'"
        in problems
    )


def test_a_signature_that_is_not_one_is_found_without_the_key(record, tmp_path):
    # Found by this fuzz: without public_key=, a signature value edited into text that
    # is no Ed25519 signature passed with only a warning to give the key.
    edited = copy.deepcopy(record["report"])
    edited["integrity"]["signature"]["value"] += "x"
    with pytest.raises(ReportVerificationError, match="is not an Ed25519 signature"):
        verify(_write(tmp_path, edited))


@pytest.mark.parametrize("field", ["seq", "hash", "fingerprint"])
def test_a_resealed_claim_of_the_removal_that_left_the_model_is_found(record, tmp_path, field):
    # The report of a corrected model names the removal whose event records its
    # fingerprint; a re-sealed report naming another event or fingerprint is found.
    removal = record["reports"][1]
    claim = removal["model"]["fitted_object_after_removal"]
    assert removal["model"]["fitted_object_matches_run"] is False
    verify(_write(tmp_path, removal), store=record["store"])
    for how in ("change", "add"):
        edited = _edited(removal, ("model", "fitted_object_after_removal", field), how)
        if edited is None:
            continue
        edited["integrity"] = seal(body_of(edited))
        with pytest.raises(ReportVerificationError) as info:
            verify(_write(tmp_path, edited), store=record["store"])
        assert "/model/fitted_object_after_removal" in "\n".join(info.value.problems)
    assert set(claim) == {"seq", "hash", "fingerprint"}


def test_a_member_twice_in_the_report_file_is_refused(record, tmp_path):
    # Found by an audit: the hash is over the report as Python reads it (the last of
    # two equal members), so a member added before the real one verified, while a
    # reader keeping the first member reads the added one.
    text = json.dumps(record["report"], indent=1)
    forged = text.replace('"system": {', '"system": {\n  "name": "Another system",', 1)
    first = json.loads(forged, object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    assert first["system"]["name"] == "Another system"  # what a first-wins reader sees
    assert json.loads(forged) == record["report"]  # what Python sees
    path = tmp_path / "forged.json"
    path.write_text(forged)
    with pytest.raises(ReportVerificationError, match="member 'name' appears twice"):
        verify(path, store=record["store"], public_key=record["key"].public_key())
    assert main(["verify", str(path), "--db", str(record["store"].path)]) == 1


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_in_the_report_is_named(record, tmp_path, constant):
    # Found by an audit: a number of the report (here a removal's certificate) edited
    # into NaN passed the schema, then verify raised ValueError computing the hash.
    removal = record["reports"][1]
    certificate = removal["record_keeping"]["removals"][0]["certificate"]
    text = json.dumps(removal, indent=1)
    edited = text.replace(f'"certificate": {certificate!r}', f'"certificate": {constant}')
    assert edited.count(constant) == text.count(constant) + 2  # (in two places)
    path = tmp_path / "edited.json"
    path.write_text(edited)
    with pytest.raises(ReportVerificationError, match=f"{constant} is not a JSON number"):
        verify(path, store=record["store"], public_key=record["key"].public_key())
    assert main(["verify", str(path)]) == 1
    data = copy.deepcopy(removal)
    data["record_keeping"]["removals"][0]["certificate"] = float(constant.lower())
    with pytest.raises(ReportVerificationError) as info:
        verify(data, store=record["store"])
    assert info.value.problems == [
        f"/record_keeping/removals/0/certificate: {float(constant.lower())!r} is not a JSON number"
    ]


def test_a_lone_surrogate_in_the_report_is_named(record, tmp_path):
    # Found by an audit: "\ud800" (valid JSON, not Unicode text) in any string of a
    # report made verify raise UnicodeEncodeError computing the hash.
    name = record["report"]["system"]["name"]
    text = json.dumps(record["report"], indent=1)
    edited = text.replace(f'"name": "{name}"', f'"name": "\\ud800{name}"', 1)
    assert edited != text
    path = tmp_path / "edited.json"
    path.write_text(edited)
    with pytest.raises(ReportVerificationError) as info:
        verify(path, store=record["store"], public_key=record["key"].public_key())
    assert info.value.problems == ["/system/name: holds a lone surrogate: not Unicode text"]
    assert main(["verify", str(path), "--db", str(record["store"].path)]) == 1


def test_a_resealed_boolean_turned_into_a_number_is_found_against_the_store(record, tmp_path):
    # Found by an audit (re-sealed reports with values of other types): the report's
    # sections were compared with the store's by Python's ==, where false == 0 and
    # true == 1, so a parameter false in the run record passed as 0.
    edited = copy.deepcopy(record["report"])
    steps = edited["model"]["params"]["steps"]
    (i, name, value) = next(
        (i, k, v)
        for i, step in enumerate(steps)
        for k, v in step[1]["params"].items()
        if isinstance(v, bool)
    )
    steps[i][1]["params"][name] = int(value)
    sources = edited["sources"][0]
    sources["n_rows"] = float(sources["n_rows"])  # the same JSON number: not a change
    edited["integrity"] = seal(body_of(edited))
    with pytest.raises(ReportVerificationError) as info:
        verify(_write(tmp_path, edited), store=record["store"])
    assert info.value.problems == [
        f"/model/params/steps/{i}/1/params/{name} differs from the store's run record"
    ]


@pytest.mark.parametrize(("field", "value"), [("n_rows", [3]), ("n_rows", "x"), ("outputs", "x")])
def test_a_rechained_prediction_of_another_shape_is_named_not_a_crash(
    record, tmp_path, field, value
):
    # Found by an audit: with the chain re-computed (no key needed, stored checkpoints
    # deleted) after a prediction's n_rows or outputs was given another type, the
    # store verifies, and compliance_report raised TypeError or AttributeError (a bare
    # ValueError for "x"); verify(report, store=...) the same.
    settle(record["store"].path)  # (its write-ahead log folded into the file copied)
    path = copy_store(Path(record["store"].path), tmp_path)
    (event,) = [e for e in record["store"].events() if e["seq"] == 4]
    assert event["kind"] == "prediction"
    assert rechain(path, 4, {**event["payload"], field: value})
    store = stp.stores.SQLiteStore(path, mode="ro")
    assert store.verify()  # what the chain alone cannot show
    run_id = record["report"]["model"]["run_id"]
    with pytest.raises(stp.exceptions.ComplianceError, match="audit event 4 \\(prediction\\)"):
        stp.compliance_report(store=store, run_id=run_id, **DEPLOYER)
    with pytest.raises(ReportVerificationError) as info:
        verify(_write(tmp_path, record["report"]), store=store)
    assert any("audit event 4 (prediction) holds a payload" in p for p in info.value.problems)


def test_the_latest_checkpoint_removed_is_named(record, tmp_path):
    """Found by the fuzz above: ``checkpoints/latest`` is optional in the schema, and
    removing it made verify raise KeyError while composing the checkpoints' note."""
    path = ("record_keeping", "store", "checkpoints", "latest")
    checked = 0
    for report in record["reports"]:
        if "latest" not in report["record_keeping"]["store"]["checkpoints"]:
            continue
        edited = _write(tmp_path, _edited(report, path, "remove"))
        with pytest.raises(ReportVerificationError) as info:
            verify(edited, store=record["store"], public_key=record["key"].public_key())
        assert any("checkpoints/latest is missing" in p for p in info.value.problems)
        checked += 1
    assert checked


def test_an_html_page_is_said_to_be_unverified_and_how_to_check_it(record, tmp_path):
    # Found by a tamper hunt (session 66): verify(page.html) failed as "not JSON as a
    # report is written: Expecting value", not saying that a page is never verified
    # nor how to check one; an edited figure in the page is only found so.
    kept = _write(tmp_path, record["report"])
    page = tmp_path / "report.html"
    stp.compliance.ComplianceReport.load(kept).to_html(page)
    original = page.read_text(encoding="utf-8")
    n_rows = record["report"]["sources"][0]["n_rows"]
    edited = original.replace(f">{n_rows}<", f">{n_rows + 1}<", 1)
    assert edited != original
    page.write_text(edited, encoding="utf-8")
    said = f"{page} is an HTML page, which is not verified: verify the JSON report"
    with pytest.raises(ReportVerificationError, match=said):
        verify(page, store=record["store"], public_key=record["key"].public_key())
    assert main(["verify", str(page)]) == 1
    # the check the message gives: the page rendered again from the verified JSON
    rendered = stp.compliance.ComplianceReport.load(
        kept, public_key=record["key"].public_key()
    ).to_html()
    assert rendered == original != page.read_text(encoding="utf-8")
