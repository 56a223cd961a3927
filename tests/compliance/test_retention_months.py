"""Six months of log retention at a month's end, against the rule for periods of months
(Regulation 1182/71, Art. 3(2)(c)) written out independently."""

import calendar
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop.compliance._evidence import (
    retention_section,
    six_months_after,
    six_months_before,
)

UTC = timezone.utc


def _end_of_six_months(start):
    """When six months counted from ``start`` end: the same day and time six months
    later or, where that month is shorter, at the end of its last day."""
    year, month = start.year + (start.month + 5) // 12, (start.month + 5) % 12 + 1
    if start.day <= calendar.monthrange(year, month)[1]:
        return start.replace(year=year, month=month)
    return datetime(year, month, calendar.monthrange(year, month)[1], tzinfo=UTC) + timedelta(
        days=1
    )


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC)
)


@settings(deadline=None, max_examples=400)
@given(earliest=moments, report=moments)
@example(
    earliest=datetime(2025, 8, 31, 12, tzinfo=UTC), report=datetime(2026, 2, 28, 13, tzinfo=UTC)
)
@example(
    earliest=datetime(2026, 2, 28, 12, tzinfo=UTC), report=datetime(2026, 8, 30, 10, tzinfo=UTC)
)
@example(
    earliest=datetime(2027, 8, 29, 12, tzinfo=UTC), report=datetime(2028, 2, 29, 11, tzinfo=UTC)
)
def test_logs_span_six_months_exactly_when_the_period_has_ended(earliest, report):
    spans = _end_of_six_months(earliest) <= report
    assert (earliest <= six_months_before(report)) is spans
    assert (six_months_after(earliest) <= report) is spans
    # the first moment they do, and the last start that does
    reached = six_months_after(earliest)
    assert _end_of_six_months(earliest) == reached
    assert earliest <= six_months_before(reached)
    assert not earliest <= six_months_before(reached - timedelta(microseconds=1))
    limit = six_months_before(report)
    assert _end_of_six_months(limit) <= report
    assert not _end_of_six_months(limit + timedelta(microseconds=1)) <= report


def _section(earliest, report, **kwargs):
    events = [{"seq": 1, "created_at": earliest, "run_id": "r", "kind": "store.run"}]
    return retention_section(None, SimpleNamespace(run_id="r"), events, report, **kwargs)


def test_the_report_names_the_day_six_months_are_reached_at_a_months_end():
    # logs since 31 August: six months are reached on 1 March, not on 28 February
    section = _section("2025-08-31T12:00:00+00:00", "2026-02-28T13:00:00+00:00")
    assert section["stored_logs_cover_six_months"] is False
    assert section["six_months_reached_on"] == "2026-03-01T00:00:00.000000+00:00"
    assert section["six_months_before_report"] == "2025-08-28T13:00:00.000000+00:00"
    section = _section("2025-08-31T12:00:00+00:00", "2026-03-01T00:00:00+00:00")
    assert section["stored_logs_cover_six_months"] is True
    # logs since 28 February at noon span six months on 30 August at ten
    section = _section("2026-02-28T12:00:00+00:00", "2026-08-30T10:00:00+00:00")
    assert section["stored_logs_cover_six_months"] is True
    assert section["six_months_before_report"] == "2026-02-28T23:59:59.999999+00:00"
    # reports of format 15 and earlier were written, and are checked, as then counted
    old = _section("2025-08-31T12:00:00+00:00", "2026-02-28T13:00:00+00:00", clamped=True)
    assert old["six_months_reached_on"] == "2026-02-28T12:00:00.000000+00:00"
    old = _section("2026-02-28T12:00:00+00:00", "2026-08-30T10:00:00+00:00", clamped=True)
    assert old["stored_logs_cover_six_months"] is False
