"""Log times written with a UTC offset, across daylight saving changes.

The report's intervals are measured between instants: a gap across the night the
clocks change (Europe/Berlin, 26 October 2025 and 30 March 2025) is its true length in
seconds, computed here by hand, and every time the retention figures give is UTC,
whatever offset the same instant was written with. These guard the arithmetic (they
pass on the code as it is).
"""

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop.compliance._evidence import logged_use, longest_unlogged, parse_time
from sktraceprop.compliance._log_times import times_set_back


def test_a_gap_across_the_october_change_is_25_hours():
    # noon to noon in Berlin: +02:00 (summer time) to +01:00, 25 hours by hand
    times = ["2025-10-25T12:00:00+02:00", "2025-10-26T12:00:00+01:00"]
    gap = longest_unlogged([parse_time(t) for t in times])
    assert gap["longest_unlogged_days"] == round(25 * 3600 / 86400, 6)
    assert gap["longest_unlogged_from"] == "2025-10-25T10:00:00.000000+00:00"
    assert gap["longest_unlogged_to"] == "2025-10-26T11:00:00.000000+00:00"


def test_a_gap_across_the_march_change_is_23_hours():
    times = ["2025-03-29T12:00:00+01:00", "2025-03-30T12:00:00+02:00"]
    calls = [{"created_at": t} for t in times]
    use = logged_use(calls, parse_time("2025-03-31T12:00:00+02:00"))
    assert use["longest_unlogged_use_days"] == round(23 * 3600 / 86400, 6)
    assert use["days_unlogged_use_before_report"] == 1.0
    assert use["earliest_logged_use"] == "2025-03-29T11:00:00.000000+00:00"


def test_a_later_local_time_with_a_smaller_offset_is_not_set_back():
    # 02:30+02:00 then 02:10+01:00: the wall clock went back, the instant 40 minutes on
    events = [
        {"seq": 1, "created_at": "2025-10-26T02:30:00+02:00"},
        {"seq": 2, "created_at": "2025-10-26T02:10:00+01:00"},
    ]
    assert times_set_back(events) == []
    events[1]["created_at"] = "2025-10-26T02:10:00+02:00"  # 20 minutes back
    (back,) = times_set_back(events)
    assert back["seconds_back"] == 1200.0
    assert back["created_at"] == "2025-10-26T00:10:00.000000+00:00"


@settings(max_examples=60, deadline=None)
@given(
    seconds=st.lists(st.integers(0, 400 * 86400), min_size=2, max_size=8, unique=True),
    offsets=st.lists(st.integers(-14 * 60, 14 * 60), min_size=8, max_size=8),
)
def test_the_figures_do_not_depend_on_the_offset_a_time_is_written_with(seconds, offsets):
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    instants = [start + timedelta(seconds=s) for s in seconds]
    written = [
        t.astimezone(timezone(timedelta(minutes=m))).isoformat() for t, m in zip(instants, offsets)
    ]
    report_time = start + timedelta(days=401)
    in_utc = logged_use([{"created_at": t.isoformat()} for t in instants], report_time)
    shifted = logged_use([{"created_at": t} for t in written], report_time)
    assert shifted == in_utc
    # the truth: the largest difference between sorted instants, in seconds
    ordered = sorted(seconds)
    truth = max(b - a for a, b in zip(ordered, ordered[1:]))
    assert shifted["longest_unlogged_use_days"] == round(truth / 86400, 6)
    for key in ("earliest_logged_use", "latest_logged_use", "longest_unlogged_use_from"):
        assert shifted[key].endswith("+00:00")
