"""A report's time cannot be moved forward without verify() noticing.

Art. 26(6)/19(1)'s verdict is made from the report's time: logs kept since six months
before it. A report re-hashed with its time moved seven months ahead (the retention
section and the articles rebuilt as sktraceprop would write them) claimed six months of
retention, *evidenced*, for logs a few seconds old, and verified alone and against its
store. A report made in the future of the verifying clock, or later than an event the
store logged after the report's chain head, was not made then.
"""

import json
from datetime import timedelta

import pytest

from sktraceprop.compliance import _report_time as report_time
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._evidence import months_before, parse_time, six_months_after
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER


def _moved(path, when, tmp_path, name="moved.json"):
    """The report at ``path`` as made at ``when``, every figure rebuilt to match and
    re-hashed: only the times say it was not."""
    data = json.loads(path.read_text())
    stamp = when.isoformat(timespec="microseconds")
    data["report"]["generated_at"] = stamp
    data["record_keeping"]["store"]["chain_verified_at"] = stamp
    kept = data["retention"]
    earliest = parse_time(kept["earliest_logged"])
    limit = months_before(when, 6)
    kept.update(
        report_time=stamp,
        six_months_before_report=limit.isoformat(timespec="microseconds"),
        stored_logs_cover_six_months=earliest <= limit,
        six_months_reached_on=None
        if earliest <= limit
        else months_before(earliest, -6).isoformat(timespec="microseconds"),
    )
    mine = parse_time(kept["model_logs_from"])  # (this model's own logs, counted alike)
    kept.update(
        model_logs_cover_six_months=mine <= limit,
        model_six_months_reached_on=None
        if mine <= limit
        else six_months_after(mine).isoformat(timespec="microseconds"),
    )
    data["articles"] = articles(body_of(data))
    data["integrity"] = seal(body_of(data))
    out = tmp_path / name
    out.write_text(json.dumps(data, indent=2))
    return out, data


@pytest.fixture
def made(fitted, tmp_path):
    pipe, store, X, y = fitted
    path = tmp_path / "report.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    return path, store, pipe, X


def test_a_report_dated_months_ahead_fails(made, tmp_path):
    path, store, _, _ = made
    made_at = parse_time(json.loads(path.read_text())["report"]["generated_at"])
    moved, data = _moved(path, made_at + timedelta(days=213), tmp_path)
    retention = [a for a in data["articles"] if a["article"] == "26(6), 19(1)"][0]
    assert retention["status"] == "evidenced"  # what the moved report claims
    with pytest.raises(ReportVerificationError, match=r"/report/generated_at .* later than"):
        verify(moved)
    with pytest.raises(ReportVerificationError, match=r"/retention/report_time .* later than"):
        verify(moved, store=store)


def test_a_report_dated_after_a_later_event_of_its_store_fails(made, tmp_path, monkeypatch):
    path, store, pipe, X = made
    pipe.predict(X.iloc[:2])  # logged after the report's chain head
    after = [e for e in store.events() if e["kind"] == "prediction"][-1]
    logged = parse_time(after["created_at"])
    # dated just after that event: not in the future of this clock
    monkeypatch.setattr(report_time, "CONCURRENT_WRITE", timedelta(0))
    moved, _ = _moved(path, logged + timedelta(microseconds=1), tmp_path)
    assert verify(moved) is True  # the time alone cannot show it
    with pytest.raises(ReportVerificationError, match=r"event seq \d+ .* logged at"):
        verify(moved, store=store)
    # the report as made verifies, events logged after it or not
    assert verify(path, store=store) is True


def test_the_three_times_of_a_report_are_one(made, tmp_path):
    path, _, _, _ = made
    data = json.loads(path.read_text())
    assert (
        data["report"]["generated_at"]
        == data["retention"]["report_time"]
        == data["record_keeping"]["store"]["chain_verified_at"]
    )
    data["retention"]["report_time"] = data["record_keeping"]["store"]["chain_head"]["created_at"]
    data["integrity"] = seal(body_of(data))
    out = tmp_path / "split.json"
    out.write_text(json.dumps(data))
    with pytest.raises(ReportVerificationError, match=r"/retention/report_time differs"):
        verify(out)


def test_a_report_dated_before_its_last_event_fails(made, tmp_path):
    path, _, _, _ = made
    head = json.loads(path.read_text())["record_keeping"]["store"]["chain_head"]
    moved, _ = _moved(path, parse_time(head["created_at"]) - timedelta(days=1), tmp_path)
    with pytest.raises(ReportVerificationError, match=r"earlier than the last event"):
        verify(moved)
