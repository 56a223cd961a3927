"""Stored times read to the nanosecond.

The truth is integer arithmetic on the text itself: the civil date counted in days
(Hinnant's days-from-civil), the clock time and offset in seconds, and the fractional
digits padded to nine, never ``datetime`` (which keeps six digits and cut ``.0000005``
to ``.000000``, so a clock set back by 500 ns went unseen).
"""

import pickle
import sys
import warnings

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._exact_time import ExactTime, iso_ns
from sktraceprop._lineage._source import utc_now
from sktraceprop.compliance._evidence import parse_time, six_months_after, six_months_before
from sktraceprop.compliance._log_times import times_set_back, uncontradicted_positions
from sktraceprop.compliance._report_time import time_problems
from sktraceprop.exceptions import ClockWarning
from sktraceprop.exporters._opentelemetry import utc_ns
from sktraceprop.exporters._removals import _in_time_order
from sktraceprop.stores._append import set_back
from sktraceprop.stores._base import make_event

CLOCK = sys.modules[make_event.__module__]


def _days(y, m, d):
    """Days from 1970-01-01 of a proleptic Gregorian date (integers only)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _truth(text):
    """Nanoseconds since the epoch of a time this test wrote, read from its text."""
    date, rest = text.split("T")
    y, m, d = (int(p) for p in date.split("-"))
    if rest.endswith("Z"):
        clock, offset = rest[:-1], 0
    else:
        clock, sign, zone = rest[:-6], rest[-6], rest[-5:]
        offset = (int(zone[:2]) * 3600 + int(zone[3:]) * 60) * (1 if sign == "+" else -1)
    whole, _, digits = clock.partition(".")
    h, mi, s = (int(p) for p in whole.split(":"))
    seconds = _days(y, m, d) * 86400 + h * 3600 + mi * 60 + s - offset
    return seconds * 10**9 + int(digits.ljust(9, "0") or 0)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@st.composite
def stored_times(draw, year_min=1971, year_max=2200):
    y = draw(st.integers(year_min, year_max))
    m = draw(st.integers(1, 12))
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    d = draw(st.integers(1, _MONTH_DAYS[m - 1] + (m == 2 and leap)))
    h, mi, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    n = draw(st.integers(0, 9))
    digits = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n, max_size=n)))
    offset = draw(
        st.one_of(
            st.sampled_from(["Z", "+00:00", "-00:00"]),
            st.builds(
                lambda sign, hh, mm: f"{sign}{hh:02d}:{mm:02d}",
                st.sampled_from("+-"),
                st.integers(0, 23),
                st.sampled_from([0, 15, 30, 45, 59]),
            ),
        )
    )
    frac = f".{digits}" if digits else ""
    return f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{offset}"


def _moved(text, ns):
    """``text``'s instant moved by ``ns`` nanoseconds, written with nine digits in UTC."""
    total = _truth(text) + ns
    seconds, frac = divmod(total, 10**9)
    days, secs = divmod(seconds, 86400)
    # civil from days (Hinnant), integers only
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    h, rem = divmod(secs, 3600)
    return f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{rem // 60:02d}:{rem % 60:02d}.{frac:09d}+00:00"


@settings(max_examples=400, deadline=None)
@given(stored_times())
@example("2026-01-01T00:00:00.0000005+00:00")
@example("2026-01-01T00:00:00.123456789-00:00")
@example("2026-01-01T00:00:00.999999999Z")
def test_iso_ns_is_the_texts_exact_instant(text):
    truth = _truth(text)
    assert iso_ns(text) == truth
    assert utc_ns(text) == truth
    moment = parse_time(text)
    assert moment.utcoffset().total_seconds() == 0
    assert getattr(moment, "nanosecond", 0) == truth % 1000
    assert isinstance(moment, ExactTime) == (truth % 1000 != 0)
    assert pickle.loads(pickle.dumps(moment)) == moment
    # what only holds microseconds writes the instant cut to its microsecond
    assert _truth(moment.isoformat(timespec="microseconds")) == truth // 1000 * 1000


@settings(max_examples=400, deadline=None)
@given(stored_times(), stored_times())
def test_times_compare_as_their_exact_instants(a, b):
    ta, tb = _truth(a), _truth(b)
    pa, pb = parse_time(a), parse_time(b)
    assert (pa < pb, pa <= pb, pa == pb, pa != pb, pa >= pb, pa > pb) == (
        ta < tb,
        ta <= tb,
        ta == tb,
        ta != tb,
        ta >= tb,
        ta > tb,
    )
    assert (pa == pb) <= (hash(pa) == hash(pb))
    assert set_back(a, b) == (tb < ta)
    assert [
        e["n"]
        for e in _in_time_order(
            [[{"n": 0, "hash": "a", "created_at": a}], [{"n": 1, "hash": "b", "created_at": b}]]
        )
    ] == ([1, 0] if tb < ta else [0, 1])


@settings(max_examples=300, deadline=None)
@given(stored_times(), st.integers(-2000, 2000))
@example("2026-01-01T00:00:00.000000+00:00", -1)
@example("2026-01-01T00:00:00.000000001+00:00", -1)
def test_a_clock_set_back_by_a_nanosecond_is_seen(text, ns):
    later = _moved(text, ns)
    assert set_back(text, later) == (ns < 0)
    times = [parse_time(text), parse_time(later)]
    events = [{"seq": 1}, {"seq": 2}]
    found = times_set_back(events, times)
    assert [e["seq"] for e in found] == ([2] if ns < 0 else [])
    for entry in found:  # its times as exact as stamped, and how far back (never 0)
        assert _truth(entry["created_at"]) == _truth(later)
        assert _truth(entry["after_created_at"]) == _truth(text)
        assert entry["seconds_back"] > 0
        if -ns < 500:
            assert entry["seconds_back"] == -ns / 1e9
    assert uncontradicted_positions(times) == ([] if ns < 0 else [0, 1])


def test_the_librarys_own_stamps_read_back_the_same():
    for _ in range(50):
        text = utc_now()
        assert iso_ns(text) == _truth(text)
        assert parse_time(text).isoformat(timespec="microseconds") == text


@settings(max_examples=300, deadline=None)
@given(stored_times(1971, 2100), stored_times(1971, 2100))
@example("2026-02-28T23:59:59.9999995+00:00", "2026-08-31T10:00:00+00:00")
def test_six_months_before_is_the_inverse_of_six_months_after_to_the_nanosecond(t, m):
    start, moment = parse_time(t), parse_time(m)
    assert (start <= six_months_before(moment)) == (six_months_after(start) <= moment)


def test_logs_500_ns_short_of_six_months_are_not_said_to_span_them():
    # logs from 1 March 10:00:00.0000005 span six months at 1 September 10:00:00.0000005
    start = parse_time("2026-03-01T10:00:00.0000005+00:00")
    assert not start <= six_months_before(parse_time("2026-09-01T10:00:00.000000+00:00"))
    assert start <= six_months_before(parse_time("2026-09-01T10:00:00.0000005+00:00"))


def test_a_report_time_a_nanosecond_before_its_chain_head_is_seen():
    head = "2026-06-01T12:00:00.000000001+00:00"
    made = "2026-06-01T12:00:00.000000+00:00"
    report = {
        "report": {"generated_at": made},
        "retention": {"report_time": made},
        "record_keeping": {
            "store": {"chain_verified_at": made, "chain_head": {"created_at": head}}
        },
    }
    assert any("earlier than the last event" in p for p in time_problems(report))
    report["record_keeping"]["store"]["chain_head"]["created_at"] = made
    assert time_problems(report) == []


def test_a_store_sees_its_clock_set_back_by_half_a_microsecond(monkeypatch):
    store = stp.stores.MemoryStore()
    stamps = iter(["2026-06-01T12:00:00.0000005+00:00", "2026-06-01T12:00:00.000000+00:00"])
    monkeypatch.setattr(CLOCK, "utc_now", lambda: next(stamps))
    store.append_event("review", {"n": 1})
    with pytest.warns(ClockWarning, match="event 2 is stamped"):
        store.append_event("review", {"n": 2})
    assert store.check_integrity()["times_set_back"] == [2]


def test_a_time_whose_nanoseconds_cannot_be_read_is_refused():
    for text in (
        "2026-06-01T12:00:00.0000000001+00:00",  # ten digits
        "2026-06-01 12:00:00.0000005+00:00",  # another form Python reads
        "2026-06-01T12:00:00+00:00:00.0000005",  # an offset's fraction
    ):
        with pytest.raises(ValueError, match="not read to the nanosecond"):
            iso_ns(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert set_back("2026-06-01T12:00:00+00:00", "2026-06-01T12:00:00.0000000001Z") is False


def test_a_report_names_a_call_stamped_a_nanosecond_early(tmp_path, monkeypatch):
    from sktraceprop.compliance import compliance_report, verify
    from tests.stores.test_erase_predictions import _X, _model
    from tests.stores.test_report_erasures import DEPLOYER

    store = stp.stores.MemoryStore()
    pipe = _model(store)
    last = store.events(include_store_events=True)[-1]["created_at"]
    late, early = _moved(last, 2_000), _moved(last, 1_999)
    with monkeypatch.context() as m:
        m.setattr(CLOCK, "utc_now", lambda: late)
        pipe.predict(_X.iloc[:2])
        m.setattr(CLOCK, "utc_now", lambda: early)
        with pytest.warns(ClockWarning):
            pipe.predict(_X.iloc[2:4])  # 1 ns before the call written before it
    second = [e["seq"] for e in store.events() if e["kind"] == "prediction"][1]
    path = tmp_path / "r.json"
    r = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()["retention"]
    assert [e["seq"] for e in r["times_set_back"]] == [second]
    (entry,) = r["times_set_back"]
    assert entry["created_at"] == early  # (its nine digits)
    assert _truth(entry["after_created_at"]) == _truth(late)
    assert entry["seconds_back"] == 1e-9
    assert verify(path, store=store) is True
