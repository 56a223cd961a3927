"""A stretch with no logged event inside the logged period.

A three-week stretch with no event showed in the report only as a low monthly count:
retention now keeps the longest interval between consecutive logged times with no event
stamped (``longest_unlogged_from``, ``_to``, ``_days``) and Art. 26(6) says, from a week,
that the record does not show whether the system went unused then or its logs are
missing. Each store is written under a test clock; the truth is the longest interval
between the times that clock gave, sorted (a clock set back gives no negative interval).
"""

import json
import sys
import warnings
from datetime import datetime, timedelta, timezone

import pytest

import sktraceprop as stp
import sktraceprop.compliance._compliance_report as report_clock
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles as statements
from sktraceprop.exceptions import ClockWarning, ReportVerificationError
from sktraceprop.stores._base import make_event
from tests.compliance._forged import forged

from .conftest import DEPLOYER, logged_pipeline, longest_interval_truth, traced_frames

START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
RETENTION = "26(6), 19(1)"
KEYS = ("longest_unlogged_from", "longest_unlogged_to", "longest_unlogged_days")


def _stamp(moment):
    return moment.isoformat(timespec="microseconds")


def _build(hospitals, tmp_path, monkeypatch, skip=None, back_at=None):
    """A SQLite store logging a call every 3 days for 90 days, none in ``skip`` (days
    after START, a half-open range), the clock set back 10 days from day ``back_at``:
    ``(store, run_id, every time the clock gave an event)``."""
    given, clock = [], [START]

    def now():
        given.append(clock[0])
        return _stamp(clock[0])

    monkeypatch.setattr(sys.modules[make_event.__module__], "utc_now", now)
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = logged_pipeline(store, X, y)
    for day in range(0, 90, 3):
        if skip is not None and skip[0] <= day < skip[1]:
            continue
        shift = timedelta(days=10) if back_at is not None and day >= back_at else timedelta()
        clock[0] = START + timedelta(days=day, hours=1) - shift
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ClockWarning)
            pipe.predict(X.iloc[:2])
    monkeypatch.undo()
    return store, store.list_runs()["run_id"].iloc[0], given


def _report(store, run_id, path, when):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(report_clock, "utc_now", lambda: _stamp(when))
        return compliance_report(store=store, run_id=run_id, output_path=path, **DEPLOYER)


def _why(report):
    return {a["article"]: a for a in report.to_dict()["articles"]}[RETENTION]["why"]


@pytest.mark.parametrize(
    "skip, back_at, said",
    [
        ((30, 51), None, True),  # three weeks without a call: days 27 to 51
        (None, None, False),  # a call every 3 days: no stretch of a week
        ((30, 51), 75, True),  # the gap, and a clock set back 10 days later on
        (None, 45, False),  # a clock set back 10 days: no negative interval
    ],
)
def test_the_longest_stretch_without_a_logged_event_is_reported(
    hospitals, tmp_path, monkeypatch, skip, back_at, said
):
    store, run_id, given = _build(hospitals, tmp_path, monkeypatch, skip, back_at)
    start, end = longest_interval_truth(given)
    report = _report(store, run_id, tmp_path / "r.json", max(given) + timedelta(days=2))
    r = report.to_dict()["retention"]
    days = round((end - start).total_seconds() / 86400, 6)
    assert (r["longest_unlogged_from"], r["longest_unlogged_to"]) == (
        _stamp(start),
        _stamp(end),
    )
    assert r["longest_unlogged_days"] == days > 0
    assert bool(r["times_set_back"]) == (back_at is not None)
    if skip is not None:  # the one built: from the call of day 27 to that of day 51
        assert (start, end) == (
            START + timedelta(days=27, hours=1),
            START + timedelta(days=51, hours=1),
        )
    else:
        assert days <= 3
    why = _why(report)
    sentence = f"Between {_stamp(start)} and {_stamp(end)} no event is stamped ({days:.1f} days"
    assert (sentence in why) == said
    if said:
        assert "went unused then or the logs written then are missing" in why
        assert ("Times are set back in this log" in why) == (back_at is not None)
    assert verify(tmp_path / "r.json", store=store) is True
    report.to_html(tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert f"no event stamped</th><td>{days:.1f} days, from {_stamp(start)}" in html


def test_an_edited_or_dropped_gap_is_found_against_the_store(hospitals, tmp_path, monkeypatch):
    store, run_id, given = _build(hospitals, tmp_path, monkeypatch, skip=(30, 51))
    path = tmp_path / "r.json"
    _report(store, run_id, path, max(given) + timedelta(days=2))
    edited = forged(  # a forgery consistent on its own
        path, lambda d: d["retention"].update(longest_unlogged_days=3.0), tmp_path
    )
    with pytest.raises(ReportVerificationError, match="longest_unlogged_days"):
        verify(edited, store=store)
    # removed and re-sealed (Art. 26(6) then names no gap): refused, naming each key
    d = json.loads(path.read_text())
    values = {key: d["retention"].pop(key) for key in KEYS}
    d["articles"] = statements(d)
    assert (
        "no event is stamped (" not in ({a["article"]: a for a in d["articles"]}[RETENTION]["why"])
    )
    d["integrity"] = seal(body_of(d))
    path.write_text(json.dumps(d))
    with pytest.raises(ReportVerificationError) as info:
        verify(path, store=store)
    assert [p.split(": a report")[0] for p in info.value.problems] == [
        f"/retention/{key} is missing; by the store's log up to the chain head it is {v!r}"
        for key, v in values.items()
    ]
    assert values["longest_unlogged_days"] == 24.0
    with pytest.warns(UserWarning, match="lacks /retention/" + ", /retention/".join(KEYS)):
        assert verify(path) is True


def test_a_clock_set_back_is_said_after_each_longest_interval(hospitals, tmp_path, monkeypatch):
    """Times set back 10 days after a three-week stretch without a call: Art. 26(6)
    says, after the store's longest interval and after this model's, that a clock set
    wrong may stamp events (calls) outside it; the same store without the set-back
    says neither."""
    for back_at, said in ((75, True), (None, False)):
        folder = tmp_path / str(back_at)
        folder.mkdir()
        with pytest.MonkeyPatch.context() as m:
            store, run_id, given = _build(hospitals, folder, m, (30, 51), back_at)
        shift = timedelta(days=10)
        calls = [  # the schedule of _build's calls, as the clock stamped them
            START + timedelta(days=day, hours=1) - (shift if said and day >= 75 else timedelta())
            for day in range(0, 90, 3)
            if not 30 <= day < 51
        ]
        report = _report(store, run_id, folder / "r.json", max(given) + timedelta(days=2))
        why = _why(report)
        events = longest_interval_truth(given)
        mine = longest_interval_truth(calls)
        assert mine == events == (calls[9], calls[10])  # days 27 and 51
        for (start, end), what, done in (
            (events, "event is stamped", "events"),
            (mine, "call of this model is logged", "calls"),
        ):
            days = (end - start).total_seconds() / 86400
            assert days == 24.0
            gap = f"Between {_stamp(start)} and {_stamp(end)} no {what} ({days:.1f} days, "
            assert gap in why
            after = why[why.index(gap) :]
            sentence = (
                " (Times are set back in this log, see Art. 12: a clock set wrong may also "
                f"stamp {done} outside the interval they were "
                f"{'written' if done == 'events' else 'made'} in.)"
            )
            end_of_gap = after.index("are missing.") + len("are missing.")
            assert after[end_of_gap:].startswith(sentence) == said
        assert ("Times are set back in this log" in why) == said
