"""Row ids beyond 2**53 in a report: read exactly by readers that hold numbers as doubles."""

import json

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import ReportVerificationError

from ._browser import load_page
from .conftest import (
    DEPLOYER,
    before_format_7,
    format_3_retention,
    logged_pipeline,
    traced_frames,
)

pytestmark = pytest.mark.filterwarnings("ignore:the estimator parameter is a fitted model")


def _as_javascript(text):
    """The report as JSON.parse reads it: every number a double."""
    return json.loads(text, parse_int=float)


@pytest.fixture
def removed(hospitals, tmp_path):
    """A report on a run with two removals of rows whose ids are beyond 2**53: one asked
    at fit (``forget=``, its sample ids in the event's request), one after."""
    _, _, X, y = traced_frames(hospitals)
    ids = stp.row_lineage(X)["row_id"].to_numpy(np.int64)
    # (the test is void unless neighbouring ids are beyond what a double holds exactly)
    assert ids.min() > 2**53 and len({float(i) for i in ids[:6]}) < 6
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = logged_pipeline(store, X, y, log=False)
    unlearner = stp.GradientCorrectionUnlearner(pipe, forget=[int(ids[0])]).fit(X, y)
    unlearner.unlearn(sample_id=ids[3:6])
    path = tmp_path / "report.json"
    report = compliance_report(store=store, run_id=unlearner.run_id_, output_path=path, **DEPLOYER)
    return path, store, unlearner, report, int(ids[0])


def test_a_float_reader_reads_every_row_id_exactly(removed):
    path, store, unlearner, report, forget = removed
    text = path.read_text(encoding="utf-8")
    read = _as_javascript(text)
    # every number of the report reads alike as a double and exactly
    assert read == json.loads(text)
    removals = [e for e in read["events"] if e["kind"] == "unlearning"]
    assert [[int(i) for i in e["payload"]["row_ids"]] for e in removals] == [
        np.asarray(event["row_ids"]).tolist() for event in unlearner.unlearning_log_
    ]
    assert [int(i) for i in removals[0]["payload"]["request"]["forget"]] == [forget]
    # the payload kept as stored is the store's, exactly, and what the hash covers
    stored = {e["seq"]: e["payload"] for e in store.events(kind="unlearning")}
    for event in removals:
        assert json.loads(event["payload_json"]) == stored[event["seq"]]
    assert verify(path, store=store) and report.verify(store=store)


def test_javascript_json_parse_in_a_browser_reads_every_row_id(browser, removed, tmp_path):
    path, _, unlearner, _, _ = removed
    text = path.read_text(encoding="utf-8").replace("</", "<\\/")
    page = tmp_path / "read.html"
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>ids</title></head><body>'
        f'<script type="application/json" id="report">{text}</script><script>'
        "const r = JSON.parse(document.getElementById('report').textContent);"
        "document.body.innerText = r.events.filter(e => e.kind === 'unlearning')"
        ".flatMap(e => e.payload.row_ids.map(x => BigInt(x).toString())).join(' ');"
        "</script></body></html>",
        encoding="utf-8",
    )
    shown, _, problems, _ = load_page(page)
    assert problems == []
    expected = [i for event in unlearner.unlearning_log_ for i in np.asarray(event["row_ids"])]
    assert shown.split() == [str(i) for i in expected]


def _edited(path, tmp_path, change, name):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    data["integrity"] = seal(body_of(data))  # re-hashed, as a forger would
    out = tmp_path / name
    out.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return out


def _removal(data):
    return next(e for e in data["events"] if e["kind"] == "unlearning")


def test_a_payload_altered_beside_its_stored_copy_is_named(removed, tmp_path):
    path, store, _, _, _ = removed

    def swap(data):  # the ids a reader reads, not the ones the hash covers
        ids = _removal(data)["payload"]["row_ids"]
        ids[0] = str(int(ids[0]) + 1)

    forged = _edited(path, tmp_path, swap, "swapped.json")
    for kwargs in ({}, {"store": store}):
        with pytest.raises(ReportVerificationError, match="payload differs from the payload as"):
            verify(forged, **kwargs)


def test_ids_written_as_numbers_again_are_named(removed, tmp_path):
    path, _, _, _, _ = removed

    def as_numbers(data):  # what a version 1 report wrote, under version 2
        event = _removal(data)
        event["payload"] = json.loads(event.pop("payload_json"))

    forged = _edited(path, tmp_path, as_numbers, "numbers.json")
    with pytest.raises(ReportVerificationError, match="row_ids/0 holds the integer .* number"):
        verify(forged)

    def not_canonical(data):
        event = _removal(data)
        event["payload_json"] = json.dumps(json.loads(event["payload_json"]), indent=1)

    forged = _edited(path, tmp_path, not_canonical, "spaced.json")
    with pytest.raises(ReportVerificationError, match="payload_json is not the canonical JSON"):
        verify(forged)


def test_a_version_1_report_still_verifies(removed, tmp_path):
    path, store, _, _, _ = removed

    def version_1(data):
        data["report"]["format_version"] = 1
        before_format_7(data)  # (nor had it each source's changes_after_loading)
        for event in data["events"]:
            if "payload_json" in event:
                event["payload"] = json.loads(event.pop("payload_json"))
        # nor had it the purposes and model selection that format 3 added
        for key in ("purpose", "selection", "selection_note"):
            data["model"].pop(key, None)
        for run in data["record_keeping"]["runs"]:
            for key in ("purpose", "search_role", "search_id"):
                run.pop(key, None)
        # and its retention counted the runs' own times too (format 4 counts events only)
        format_3_retention(data, store)

    old = _edited(path, tmp_path, version_1, "v1.json")
    assert max(_removal(json.loads(old.read_text()))["payload"]["row_ids"]) > 2**53
    assert verify(old) and verify(old, store=store)


def _keep(X, offset=0):
    return X


def test_a_parameter_beyond_2_53_is_written_exactly_and_checked(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer

    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(40, 2)), "numbers")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    big = 2**60 + 1
    step = FunctionTransformer(_keep, kw_args={"offset": big})
    pipe = stp.make_traced_pipeline(step, LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X, X["x0"] > 0).predict(X.iloc[:3])
    text = compliance_report(pipe, **DEPLOYER).to_json()
    assert _as_javascript(text) == json.loads(text)
    assert f'"offset": "{big}"' in text and str(float(big)) not in text
    # the rebuilt model section is written alike: the check against the store passes
    assert verify(json.loads(text), store=store)
