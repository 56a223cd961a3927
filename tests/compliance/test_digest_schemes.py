"""What a source's sha256 names, in the report (format 9).

``tests/stores/data/frame_digest1.db`` was written by sktraceprop at commit 775ad56, when
a frame's "sha256" was a SHA-256 over pandas' 64-bit ``hash_pandas_object`` row hashes:
not a digest of the data, and one that different frames share. Reports of format 8 showed
it as "SHA-256 of the content", which an auditor takes for a digest naming the data
exactly. The truth here: the old recipe, run again on the fixture's frame and on a frame
that differs from it, gives both the stored value; a file's digest is the SHA-256 of its
raw bytes.
"""

import copy
import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.compliance import ComplianceReport, compliance_report, verify
from sktraceprop.compliance._digest_schemes import NOTES
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ReportVerificationError
from tests.stores._frame_digest1 import fixture_frames, frame_1_digest

from ._browser import load_page
from .conftest import DEPLOYER, before_format_9

STORES = Path(__file__).parents[1] / "stores" / "data"
FORMAT8 = Path(__file__).parent / "data" / "format8"


def _fixture_store(tmp_path):
    path = tmp_path / "frame_digest1.db"
    shutil.copyfile(STORES / "frame_digest1.db", path)
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {"by": "auditor"})  # an audit event: a report needs one
    return store


def _run_of(store, source_id):
    (run_id,) = store.list_runs(source=source_id)["run_id"]
    return run_id


def _resealed(data, path):
    body = body_of(data)
    data = {**body, "integrity": seal(body)}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _article(data, number):
    (article,) = [a for a in data["articles"] if a["article"] == number]
    return article


def test_the_old_frame_digest_is_named_as_not_naming_the_data(tmp_path):
    store = _fixture_store(tmp_path)
    patients, _, _ = fixture_frames()
    stored = store.load_run(_run_of(store, "patients")).sources
    (source,) = stored.values()
    # the independent truth: the old recipe gives the stored value for the fixture's
    # frame, and the same value for a frame whose site codes are text (object cells
    # "1" for 1)
    assert frame_1_digest(patients) == source.sha256
    edited = patients.assign(site=patients["site"].astype(str).astype(object))
    assert edited["site"].tolist() != patients["site"].tolist()
    assert frame_1_digest(edited) == source.sha256

    data = compliance_report(store=store, run_id=_run_of(store, "patients"), **DEPLOYER)
    data = data.to_dict()
    assert data["report"]["format_version"] >= 9
    (entry,) = data["sources"]
    assert entry["sha256"] == source.sha256
    assert entry["digest_scheme"] == "frame-1"
    assert entry["digest_note"].startswith("not a SHA-256 of the data")
    assert "hash_pandas_object" in entry["digest_note"]
    article = _article(data, "26(4)")
    assert "The digest of 1 source (patients: frame-1)" in article["why"]
    assert "SHA-256 of its bytes" not in article["why"]
    assert any("(patients: frame-1)" in c for c in article["cannot_show"])
    assert verify(data, store=store)


def test_the_old_array_digest_says_its_labels_are_not_part_of_it(tmp_path):
    store = _fixture_store(tmp_path)
    _, measures, labels = fixture_frames()
    run_id = _run_of(store, "measures")
    (source,) = store.load_run(run_id).sources.values()
    # truth: dtype, shape and bytes only; the labels are not fed
    h = hashlib.sha256(f"{measures.dtype.str}{measures.shape}".encode())
    h.update(np.ascontiguousarray(measures).reshape(-1).view(np.uint8))
    assert h.hexdigest() == source.sha256 and list(source.columns) == labels
    data = compliance_report(store=store, run_id=run_id, **DEPLOYER).to_dict()
    (entry,) = data["sources"]
    assert entry["digest_scheme"] == "array-bytes-1"
    assert "column labels listed are not part of it" in entry["digest_note"]
    assert "(measures: array-bytes-1)" in _article(data, "26(4)")["why"]


def test_fresh_sources_name_their_scheme_and_claim_no_more(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "loans.csv"
    pd.DataFrame({"a": rng.normal(size=30).round(3), "y": np.arange(30) % 2}).to_csv(
        path, index=False
    )
    frame = pd.DataFrame({"b": rng.normal(size=30).round(3), "site": ["1", 2, 3] * 10})
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    f = stp.read_csv(path, source_id="loans")
    g = stp.from_pandas(frame, "branches")
    est = stp.TracedEstimator(LogisticRegression(), store=store, log_predictions=True)
    est.fit(f[["a"]], f["y"])
    est.predict(f[["a"]].iloc[:3])
    m = stp.from_numpy(rng.normal(size=(30, 2)), "plain")
    other = stp.TracedEstimator(LogisticRegression(), store=store, log_predictions=True)
    other.fit(m, f["y"].to_numpy())
    other.predict(m.iloc[:2])
    frame_est = stp.TracedEstimator(LogisticRegression(), store=store, log_predictions=True)
    frame_est.fit(g[["b"]], f["y"].to_numpy())
    frame_est.predict(g[["b"]].iloc[:2])
    schemes = {}
    for model in (est, other, frame_est):
        data = compliance_report(model, **DEPLOYER).to_dict()
        for s in data["sources"]:
            schemes[s["source_id"]] = s
            assert s["digest_note"] == NOTES[s["digest_scheme"]]
        assert "is of a scheme of an earlier sktraceprop" not in _article(data, "26(4)")["why"]
        assert verify(data, store=store)
    assert schemes["loans"]["digest_scheme"] == "file-bytes"
    assert schemes["loans"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert schemes["plain"]["digest_scheme"] == "array-bytes"
    assert schemes["branches"]["digest_scheme"] == "frame-2"
    assert schemes["branches"]["digest_note"].startswith("SHA-256 of the frame's column labels")
    graph = compliance_report(est, **DEPLOYER).lineage_graph()
    assert any(n["detail"].startswith("file, 30 rows, sha256 ") for n in graph["nodes"])


def test_a_format_9_report_edited_in_its_scheme_fails_and_a_format_8_one_verifies(tmp_path):
    store = _fixture_store(tmp_path)
    data = compliance_report(store=store, run_id=_run_of(store, "patients"), **DEPLOYER)
    data = data.to_dict()
    # dropped, not re-hashed: the content hash names it
    dropped = copy.deepcopy(data)
    del dropped["sources"][0]["digest_scheme"]
    with pytest.raises(ReportVerificationError, match="/sources/0/digest_scheme was removed"):
        verify(dropped)
    # dropped and re-hashed: a source of format 9 without its scheme is refused as is
    with pytest.raises(ReportVerificationError, match="/sources/0 has no digest_scheme"):
        verify(_resealed(dropped, tmp_path / "dropped.json"))
    # claimed exact, note and articles made to agree, re-hashed: the store tells
    claimed = copy.deepcopy(data)
    claimed["sources"][0]["digest_scheme"] = "frame-2"
    claimed["sources"][0]["digest_note"] = NOTES["frame-2"]
    claimed["articles"] = articles(claimed)
    claimed = _resealed(claimed, tmp_path / "claimed.json")
    with pytest.warns(UserWarning, match="only the report's own content"):
        assert verify(claimed)  # (a re-hash alone: caught by the store, or a signature)
    with pytest.raises(ReportVerificationError) as info:
        verify(claimed, store=store)
    assert "/sources/0/digest_scheme differs from the store's run record" in info.value.problems
    # a note changed alone (re-hashed) does not follow from its scheme
    worded = copy.deepcopy(data)
    worded["sources"][0]["digest_note"] = NOTES["frame-2"]
    with pytest.raises(ReportVerificationError, match="digest_note is not what scheme"):
        verify(_resealed(worded, tmp_path / "worded.json"))
    # the same report lowered to format 8 (as an older sktraceprop wrote it) verifies
    old = copy.deepcopy(data)
    before_format_9(old)
    old["report"]["format_version"] = 8
    old["articles"] = articles(old)
    assert "SHA-256 of its bytes" in _article(old, "26(4)")["why"]
    with pytest.warns(UserWarning, match="format 9: what each source's sha256 names"):
        assert verify(_resealed(old, tmp_path / "old.json"), store=store)
    # but a report of format 9 that lost the keys is not one of format 8
    lost = copy.deepcopy(data)
    before_format_9(lost)
    # (format 18's count stays, as the report's format says: only format 9's keys are lost)
    lost["record_keeping"]["predictions"] = copy.deepcopy(data["record_keeping"]["predictions"])
    lost["articles"] = articles(lost)
    with pytest.raises(ReportVerificationError, match="/sources/0 has no digest_scheme"):
        verify(_resealed(lost, tmp_path / "lost.json"), store=store)


def test_a_format_8_report_written_by_an_earlier_sktraceprop_still_verifies(tmp_path):
    """``data/format8``: a signed report and its store, written at commit 245d9b9."""
    shutil.copyfile(FORMAT8 / "audit.db", tmp_path / "audit.db")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    written = json.loads((FORMAT8 / "report.json").read_text(encoding="utf-8"))
    assert written["report"]["format_version"] == 8
    assert "digest_scheme" not in written["sources"][0]
    # it verifies; checked against its store, what its sha256 is is said (a warning)
    with pytest.warns(
        UserWarning,
        match=r"the digest of patients \(sha256 88fba451e65a\.\.\.: "
        r"frame-1, not a SHA-256 of the data",
    ):
        assert verify(FORMAT8 / "report.json", store=store, public_key=FORMAT8 / "public.pem")
    page = ComplianceReport.load(FORMAT8 / "report.json").to_html()
    assert "SHA-256 of the content" in page and "What the digest names" not in page
    # the same run reported now says what that sha256 is
    now = compliance_report(store=store, run_id=written["model"]["run_id"], **DEPLOYER)
    assert now.to_dict()["sources"][0]["digest_scheme"] == "frame-1"
    assert now.to_dict()["sources"][0]["sha256"] == written["sources"][0]["sha256"]


def test_the_page_flags_a_digest_that_does_not_name_the_data(browser, tmp_path):
    store = _fixture_store(tmp_path)
    report = compliance_report(store=store, run_id=_run_of(store, "patients"), **DEPLOYER)
    path = tmp_path / "report.html"
    report.to_html(path)
    text, _, problems, requests = load_page(path)
    assert problems == []
    assert len(requests) == 1
    assert "What the digest names" in text
    assert "Does not name the data exactly. frame-1: not a SHA-256 of the data" in text
    assert "The digest of 1 source (patients: frame-1)" in text
    assert report.to_dict()["sources"][0]["sha256"] in text
    # the lineage graph's box names the scheme where "sha256" would mislead
    (node,) = [n for n in report.lineage_graph()["nodes"] if n["kind"] == "source"]
    assert (
        node["detail"]
        == f"frame, 24 rows, frame-1 {report.to_dict()['sources'][0]['sha256'][:10]}"
    )
    assert "frame, 24 rows, frame-1 " in text


def test_every_scheme_has_a_note_and_each_kind_its_schemes():
    from sktraceprop.compliance._digest_schemes import KINDS

    assert {s for schemes in KINDS.values() for s in schemes} == set(NOTES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = json.loads(
            (Path(stp.__file__).parent / "compliance" / "report.schema.json").read_text()
        )
    described = schema["properties"]["sources"]["items"]["properties"]["digest_scheme"]
    for name in NOTES:
        assert name in described["description"]


def test_every_scheme_the_library_writes_is_named_in_words():
    from sktraceprop._lineage import _frame_digest, _polars_digest

    for scheme in (_frame_digest.SCHEME, _polars_digest.SCHEME):
        assert scheme in NOTES


def test_a_polars_source_names_its_scheme(tmp_path):
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(5)
    frame = pl.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30)})
    y = (frame["a"].to_numpy() > 0).astype(int)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    named = stp.TracedEstimator(LogisticRegression(), store=store, log_predictions=True)
    named.fit(stp.from_polars(frame, "branches"), y)
    named.predict(stp.from_polars(frame, "branches").iloc[:2])
    untraced = stp.TracedEstimator(LogisticRegression(), store=store, log_predictions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        untraced.fit(frame, y)
    untraced.predict(frame[:2])
    for model in (named, untraced):
        data = compliance_report(model, **DEPLOYER).to_dict()
        (source,) = data["sources"]
        assert source["digest_scheme"] == "polars-1"
        assert source["digest_note"] == NOTES["polars-1"]
        assert "is of a scheme of an earlier sktraceprop" not in _article(data, "26(4)")["why"]
        assert verify(data, store=store)
