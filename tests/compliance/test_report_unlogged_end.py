"""Logs that end well before the report: a store put back from an older copy.

An older copy of a store (a backup restored) holds an intact chain that ends where the
copy was taken: the logs written after it are gone, and nothing in the copy says so.
The report must not say that no log of the six months before it was removed; it says
how many days before it no event is stamped (``days_unlogged_before_report``), checked
against the times the test's clock gave the events.
"""

import json
import sqlite3
import sys
from datetime import datetime, timedelta, timezone

import pytest

import sktraceprop as stp
import sktraceprop.compliance._compliance_report as report_clock
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles as statements
from sktraceprop.exceptions import ClockWarning, ComplianceError, ReportVerificationError
from sktraceprop.stores._base import make_event
from tests.compliance._forged import forged

from .conftest import DEPLOYER, logged_pipeline, traced_frames

START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
REPORT = datetime(2025, 11, 3, 12, 0, tzinfo=timezone.utc)
RETENTION = "26(6), 19(1)"


def _stamp(moment):
    return moment.isoformat(timespec="microseconds")


def _copy(source, target):
    """An online backup of the SQLite file, as ``sqlite3``'s backup API takes it."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _report(store, run_id, path, when=REPORT):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(report_clock, "utc_now", lambda: _stamp(when))
        return compliance_report(store=store, run_id=run_id, output_path=path, **DEPLOYER)


def _why(report):
    return {a["article"]: a for a in report.to_dict()["articles"]}[RETENTION]["why"]


@pytest.fixture
def seven_months(hospitals, tmp_path, monkeypatch):
    """A store logging a call every 5 days for 7 months (a 3-week gap in July), an
    older copy taken on 1 September; ``(store, run_id, copy, truth)``: truth is the
    time of the last event in each."""
    clock = [START]
    monkeypatch.setattr(sys.modules[make_event.__module__], "utc_now", lambda: _stamp(clock[0]))
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = logged_pipeline(store, X, y)
    copy, at_copy = tmp_path / "older-copy.db", None
    moment = START + timedelta(hours=1)
    while moment < datetime(2025, 10, 1, tzinfo=timezone.utc):
        if (
            not datetime(2025, 7, 5, tzinfo=timezone.utc)
            <= moment
            < datetime(2025, 7, 26, tzinfo=timezone.utc)
        ):
            clock[0] = moment
            pipe.predict(X.iloc[:2])
            last = moment
        if at_copy is None and moment >= datetime(2025, 9, 1, tzinfo=timezone.utc):
            _copy(tmp_path / "audit.db", copy)
            at_copy = last
        moment += timedelta(days=5)
    monkeypatch.undo()
    return store, store.list_runs()["run_id"].iloc[0], copy, {"full": last, "copy": at_copy}


def test_a_store_put_back_from_an_older_copy_says_how_long_nothing_is_logged(
    seven_months, tmp_path
):
    store, run_id, copy, truth = seven_months
    older = stp.stores.SQLiteStore(copy)
    for name, s in (("full", store), ("copy", older)):
        report = _report(s, run_id, tmp_path / f"{name}.json")
        r = report.to_dict()["retention"]
        assert r["latest_logged"] == _stamp(truth[name])
        days = (REPORT - truth[name]).total_seconds() / 86400
        assert r["days_unlogged_before_report"] == round(days, 6)
        assert r["stored_logs_cover_six_months"] is True  # logs since March
        why = _why(report)
        # the intact chain shows nothing removed between its ends, not in six months
        assert "no log of the last six months has been removed" not in why
        assert f"no log between the first event and the last ({_stamp(truth[name])})" in why
        assert f"No event is stamped in the {days:.1f} days from the latest" in why
        assert verify(tmp_path / f"{name}.json", store=s) is True
        report.to_html(tmp_path / f"{name}.html")
        html = (tmp_path / f"{name}.html").read_text()
        assert f"no event stamped</th><td>{days:.1f}</td>" in html
    assert (REPORT - truth["copy"]).days == 60  # the copy lacks the calls after 4 September


def test_a_report_made_just_after_its_last_event_says_no_unlogged_days(seven_months, tmp_path):
    store, run_id, _, truth = seven_months
    report = _report(store, run_id, tmp_path / "r.json", truth["full"] + timedelta(hours=3))
    r = report.to_dict()["retention"]
    assert r["days_unlogged_before_report"] == 0.125
    assert "No event is stamped in the" not in _why(report)


def test_days_unlogged_edited_or_missing_is_found_against_the_store(seven_months, tmp_path):
    store, run_id, copy, _ = seven_months
    older = stp.stores.SQLiteStore(copy)
    path = tmp_path / "r.json"
    _report(older, run_id, path)
    for name, edit in {
        "days_unlogged_before_report": lambda d: d["retention"].update(
            days_unlogged_before_report=0.5
        ),
        "latest_logged": lambda d: d["retention"].update(
            latest_logged="2025-11-01T09:00:00.000000+00:00", days_unlogged_before_report=2.125
        ),
    }.items():
        edited = forged(path, edit, tmp_path)  # a forgery consistent on its own
        with pytest.raises(ReportVerificationError, match=name):
            verify(edited, store=older)
    # removed and re-sealed, Art. 26(6) claims no log of the last six months was
    # removed, where the store ends 60 days before the report: refused, naming the key
    d = json.loads(path.read_text())
    days = d["retention"].pop("days_unlogged_before_report")
    d["articles"] = statements(d)
    assert (
        "no log of the last six months has been removed"
        in ({a["article"]: a for a in d["articles"]}[RETENTION]["why"])
    )
    d["integrity"] = seal(body_of(d))
    path.write_text(json.dumps(d))
    with pytest.raises(ReportVerificationError) as info:
        verify(path, store=older)
    assert info.value.problems == [
        f"/retention/days_unlogged_before_report is missing; by the store's log up to the "
        f"chain head it is {days!r}: a report of format 16 holds it, so it was removed "
        "after the report was made (or the report was made by a development snapshot of "
        "sktraceprop from before it was kept, which says less than its store shows)"
    ]
    # without the store, it cannot be checked: a warning names it
    with pytest.warns(UserWarning, match="lacks /retention/days_unlogged_before_report, "):
        assert verify(path) is True


def test_a_time_set_back_between_uncontradicted_ends_keeps_the_stamped_span(
    hospitals, tmp_path, monkeypatch
):
    """An hour set back mid-log contradicts two times, not the span's ends: the stamped
    span is the one the record shows, and the report must not say it rests on
    contradicted times."""
    clock = sys.modules[make_event.__module__]
    times = [START, START + timedelta(days=30), START + timedelta(days=29, hours=23)]
    times.append(START + timedelta(days=200))
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    monkeypatch.setattr(clock, "utc_now", lambda: _stamp(times[0]))
    pipe = logged_pipeline(store, X, y)
    for moment in times[1:]:
        monkeypatch.setattr(clock, "utc_now", lambda m=moment: _stamp(m))
        with pytest.warns(ClockWarning) if moment == times[2] else _nothing():
            pipe.predict(X.iloc[:2])
    monkeypatch.undo()
    report = _report(
        store,
        store.list_runs()["run_id"].iloc[0],
        tmp_path / "r.json",
        times[-1] + timedelta(days=1),
    )
    r = report.to_dict()["retention"]
    assert [e["created_at"] for e in r["times_set_back"]] == [_stamp(times[2])]
    assert (r["coverage_from"], r["latest_uncontradicted"]) == (
        r["earliest_logged"],
        r["latest_logged"],
    )
    why = _why(report)
    assert "rests on contradicted times" not in why
    assert "the stamped span, whose first and last times no event contradicts" in why
    report.to_html(tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert f"{r['span_days']:.1f} days (its two ends are not contradicted)" in html
    assert verify(tmp_path / "r.json", store=store) is True


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_report_this_clock_would_date_before_the_last_event_is_refused(
    kind, hospitals, tmp_path, monkeypatch
):
    """A writer whose clock ran two hours ahead stamped the store's last event: a report
    made now would be dated before it, and verify() would take it for one altered."""
    _, _, X, y = traced_frames(hospitals)
    store = (
        stp.stores.MemoryStore()
        if kind == "memory"
        else stp.stores.SQLiteStore(tmp_path / "audit.db")
    )
    pipe = logged_pipeline(store, X, y)
    ahead = datetime.now(timezone.utc) + timedelta(hours=2)
    monkeypatch.setattr(sys.modules[make_event.__module__], "utc_now", lambda: _stamp(ahead))
    pipe.predict(X.iloc[:2])
    monkeypatch.undo()
    head = store.events(include_store_events=True)[-1]
    assert head["created_at"] == _stamp(ahead)
    path = tmp_path / "r.json"
    with pytest.raises(
        ComplianceError, match=rf"earlier than the store's last event \({head['seq']}"
    ):
        compliance_report(pipe, output_path=path, **DEPLOYER)
    assert not path.exists()
    # once an event is stamped by a clock that is right, the report is made and verifies
    with pytest.warns(ClockWarning, match="earlier than event"):
        pipe.predict(X.iloc[:1])
    with pytest.warns(UserWarning, match="only the report's own content"):
        compliance_report(pipe, output_path=path, **DEPLOYER)
        assert verify(path) is True


@pytest.mark.parametrize("late", [10, 2])
def test_the_monitoring_range_says_where_a_call_is_stamped_outside_it(
    late, hospitals, tmp_path, monkeypatch
):
    """Calls stamped day 0, day ``late``, then day 5 (a clock set back): "from the first
    to the last call" names day 0 to day 5, and with late=10 a call is stamped after
    that; Art. 26(5) must say the range is of the calls written, not of their times."""
    clock = sys.modules[make_event.__module__]
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    monkeypatch.setattr(clock, "utc_now", lambda: _stamp(START))
    pipe = logged_pipeline(store, X, y)
    days = [0, late, 5]
    for day in days:
        monkeypatch.setattr(clock, "utc_now", lambda d=day: _stamp(START + timedelta(days=d)))
        with pytest.warns(ClockWarning) if day < max(days[: days.index(day) + 1]) else _nothing():
            pipe.predict(X.iloc[:2])
    monkeypatch.undo()
    path = tmp_path / "r.json"
    report = _report(store, store.list_runs()["run_id"].iloc[0], path, START + timedelta(days=11))
    predictions = report.to_dict()["record_keeping"]["predictions"]
    assert (predictions["first"], predictions["last"]) == (
        _stamp(START),
        _stamp(START + timedelta(days=5)),
    )
    stamped_after_last = any(d > 5 for d in days)
    why = {a["article"]: a for a in report.to_dict()["articles"]}["26(5)"]["why"]
    assert ("calls may be stamped outside this range" in why) is stamped_after_last
    assert verify(path, store=store) is True
