"""The library's own stamps read at ``datetime``'s speed, and as exactly as any time.

:func:`~sktraceprop._exact_time.exact_time` reads a stored time in UTC with at most six
fractional digits (the library's own stamps, ``utc_now``: ``...SS.ffffff+00:00``) with
``datetime.fromisoformat`` alone, and :func:`~sktraceprop._exact_time.own_stamps` a list
of the library's stamps at once; a time with another offset and at most six digits has
no digit below the microsecond looked for. The truths: the reading with no fast path
(``_general``: the digits below the microsecond read with regular expressions, the
offset applied), and integer arithmetic on the text (``_truth`` of
tests/test_exact_time.py).
"""

import re
from datetime import datetime, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop._exact_time as exact
from sktraceprop._exact_time import ExactTime, exact_time, exact_times, iso_ns, own_stamps
from sktraceprop._lineage._source import utc_now
from sktraceprop.compliance._evidence import check_stamped
from sktraceprop.exceptions import ComplianceError
from sktraceprop.stores._append import set_back
from tests.test_exact_time import _moved, _truth, stored_times

#: Stamps as the library writes them (``utc_now``), from year 1 to year 9999.
own = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999_999)).map(
    lambda d: d.replace(tzinfo=timezone.utc).isoformat(timespec="microseconds")
)
#: Characters a stored time is written with, and some it is not.
_CHARS = "0123456789-+:.,TZWt \u0662"


def _held(moment):
    """A time read: its value, type, nanoseconds, zone and text."""
    ns = getattr(moment, "nanosecond", 0)
    return moment, type(moment), ns, moment.tzinfo, moment.isoformat()


def _outcome(read, text):
    """What reading ``text`` gives: the time (:func:`_held`) or the kind of error."""
    try:
        return _held(read(text))
    except (TypeError, ValueError, OverflowError) as exc:
        # (a time out of datetime's range in UTC: Python's OverflowError, which the
        # library's TimeOutOfRange also is)
        return OverflowError if isinstance(exc, OverflowError) else type(exc)


def _general(text):
    """The reading with no fast path (session 64's): the offset applied, and the digits
    below the microsecond read with regular expressions from a time in the stored form
    (one with more than six digits in another is refused)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    if re.search(r"[.,]\d{7}", text) is None:
        return moment
    found = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{1,9})(?:Z|[+-]\d\d:\d\d)", text)
    if found is None:
        raise ValueError(f"{text!r}: not read to the nanosecond")
    ns = int(found.group(1)[6:].ljust(3, "0"))
    return ExactTime.of(moment, ns) if ns else moment


@settings(max_examples=500, deadline=None)
@given(stored_times(1, 9999))
@example("2024-02-29T23:59:59.999999+00:00")  # a leap day
@example("2000-02-29T00:00:00.000001Z")
@example("2100-02-29T00:00:00.000000+00:00")  # no leap day: not a time
@example("0001-01-01T00:00:00.000000+00:00")  # the first instant datetime holds
@example("9999-12-31T23:59:59.999999+00:00")  # and its last
@example("9999-12-31T23:59:59.9999999+00:00")  # below its last microsecond
@example("0001-01-01T00:00:00.0000005+01:00")  # in UTC before year 1
@example("9999-12-31T23:59:59.999999999+00:00")
@example("2026-06-01T12:00:00.+00:00")
@example("2026-06-01T12:00:00Z")
def test_a_stored_time_is_read_as_with_no_fast_path(text):
    if not isinstance(_outcome(datetime.fromisoformat, text), type):
        # (an instant before year 1 in UTC too: datetime cannot move it there)
        assert iso_ns(text) == _truth(text)
        for ns in (-1, 1):  # (where the time 1 ns away has a year of four digits)
            near = _moved(text, ns)
            if not isinstance(_outcome(datetime.fromisoformat, near), type):
                assert (set_back(text, near), set_back(near, text)) == (ns < 0, ns > 0)
    found = _outcome(exact_time, text)
    assert found == _outcome(_general, text)
    assert found == _outcome(lambda t: exact._read_exact(t, True), text)
    if isinstance(found, type):
        assert own_stamps([text]) is None
        return
    assert found[3] is timezone.utc
    assert [_held(m) for m in exact_times([text, text])] == [found, found]
    stamps = own_stamps([text])
    assert stamps is None or [_held(m) for m in stamps] == [found]


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(own, stored_times(1, 9999)),
    st.lists(st.tuples(st.integers(0, 33), st.sampled_from(_CHARS), st.integers(0, 2))),
)
@example("2026-06-01T12:00:00.123456+00:00", [(19, ",", 0)])
@example("2026-06-01T12:00:00.123456+00:00", [(10, " ", 0)])
@example("2026-06-01T12:00:00.123456+00:00", [(26, "-", 0)])
@example("2026-06-01T12:00:00.123456+00:00", [(25, "7", 2)])  # a seventh digit
@example("2026-06-01T12:00:00.123456+00:00", [(5, "W", 0)])  # an ISO week date
def test_a_text_near_the_stored_form_is_read_as_with_no_fast_path(text, edits):
    # each edit replaces (0), inserts (1) or deletes (2) a character: whatever the fast
    # paths take is read as with none, or refused alike
    for at, char, how in edits:
        at = min(at, len(text))
        text = text[:at] + (char if how < 2 else "") + text[at + (how != 1) :]
    found = _outcome(exact_time, text)
    assert found == _outcome(_general, text)
    assert found == _outcome(lambda t: exact._read_exact(t, True), text)
    stamps = own_stamps([text, text])
    if stamps is not None:
        assert [_held(m) for m in stamps] == [found, found]
    if isinstance(found, type):
        with pytest.raises(found):
            exact_times([text])
    else:
        assert [_held(m) for m in exact_times([text])] == [found]


@settings(max_examples=100, deadline=None)
@given(st.lists(own, min_size=1, max_size=50))
def test_the_librarys_own_stamps_are_read_at_once_exactly(texts):
    stamps = own_stamps(texts)
    assert stamps is not None
    assert [exact._micros(m) * 1000 for m in stamps] == [_truth(t) for t in texts]
    assert [_held(m) for m in stamps] == [_outcome(_general, t) for t in texts]
    events = [{"seq": i, "kind": "prediction", "created_at": t} for i, t in enumerate(texts)]
    assert check_stamped(events, "store") == stamps


@pytest.mark.parametrize(
    "odd",
    [
        "2026-06-01T12:00:00.123456Z",  # another writer's UTC: read one at a time
        "2026-06-01T12:00:00.1234567+00:00",  # below the microsecond
        "2026-06-01T12:00:00.123456+01:00",
        "2026-06-01T12:00:00+00:00",
    ],
)
def test_a_list_with_another_form_is_read_one_at_a_time(odd):
    texts = [utc_now(), odd, utc_now()]
    assert own_stamps(texts) is None
    assert exact_times(texts) == [_general(t) for t in texts]
    assert [iso_ns(t) for t in texts] == [_truth(t) for t in texts]


@pytest.mark.parametrize(
    "bad",
    [
        "2026-13-01T12:00:00.123456+00:00",  # the layout, but no month 13
        "2100-02-29T12:00:00.123456+00:00",  # 2100 has no leap day
        "2026-06-01T24:00:00.123456+00:00",
        "2026-06-01T12:00:00.12345x+00:00",
        "\u0662026-06-01T12:00:00.123456+00:00",  # a digit, but not an ASCII one
    ],
)
def test_a_stamp_laid_out_as_the_librarys_that_is_no_time_is_refused(bad):
    texts = [utc_now(), bad]
    assert own_stamps(texts) is None
    with pytest.raises(ValueError):
        exact_time(bad)
    with pytest.raises(ValueError):
        exact_times(texts)
    assert set_back(utc_now(), bad) is False and set_back(bad, utc_now()) is False
    events = [{"seq": i, "kind": "prediction", "created_at": t} for i, t in enumerate(texts)]
    with pytest.raises(
        ComplianceError,
        match=re.escape(f"audit event 1 (prediction) in 'store' is stamped {bad!r}"),
    ):
        check_stamped(events, "store")


def test_what_is_not_a_text_is_refused_as_before():
    assert own_stamps([utc_now(), None]) is None
    assert own_stamps([utc_now(), b"2026-06-01T12:00:00.123456+00:00"]) is None
    for value in (None, 5, b"2026-06-01T12:00:00.123456+00:00"):
        with pytest.raises(TypeError):
            exact_time(value)
        assert set_back(utc_now(), value) is False
    with pytest.raises(ComplianceError, match="audit event 0"):
        check_stamped([{"seq": 0, "kind": "review", "created_at": None}], "store")


def test_the_librarys_own_stamps_are_read_by_datetime_alone(monkeypatch):
    # neither the general reading nor a reading one at a time: what made a report read
    # 200,000 stamps in about three times as long as datetime.fromisoformat does
    def refuse(*args, **kwargs):
        raise AssertionError("read by the general reading")

    texts = [utc_now() for _ in range(5)]
    expected = [datetime.fromisoformat(t) for t in texts]
    monkeypatch.setattr(exact, "_read_exact", refuse)
    monkeypatch.setattr(exact, "_below_microsecond", refuse)
    assert [exact_time(t) for t in texts] == expected
    assert exact_time(texts[0][:-6] + "Z") == expected[0]
    assert set_back(texts[1], texts[0]) is (expected[0] < expected[1])
    monkeypatch.setattr(exact, "exact_time", refuse)
    assert exact_times(texts) == expected
    events = [{"seq": i, "kind": "prediction", "created_at": t} for i, t in enumerate(texts)]
    assert check_stamped(events, "store") == expected


def test_times_datetime_cannot_hold_in_utc_are_compared_to_the_nanosecond():
    # 0001-01-01T00:30+01:00 is 0000-12-31T23:30 in UTC, before datetime's first year:
    # compared by their nanoseconds since the epoch (exact_time cannot move them)
    early, earlier = "0001-01-01T00:30:00+01:00", "0001-01-01T00:29:59.999999999+01:00"
    late = "9999-12-31T23:30:00.0000001-01:00"
    with pytest.raises(OverflowError):
        exact_time(early)
    with pytest.raises(ValueError, match="outside the years 1 to 9999 once moved to UTC"):
        exact_time(late)
    assert iso_ns(early) - iso_ns(earlier) == 1
    assert (set_back(early, earlier), set_back(earlier, early)) == (True, False)
    assert set_back(late, early) is True and set_back(early, late) is False
    assert set_back("0001-01-01T00:00:00+00:00", early) is True
    assert set_back("0001-01-01T00:00:00.0000001+00:00", early) is True


def test_a_time_out_of_range_in_utc_is_a_time_problem_not_a_crash():
    """An event time no datetime holds in UTC (a store written by another writer, or
    edited) raised Python's OverflowError out of the report's time checks, which catch
    the ValueError of a time they cannot read: it is now such a ValueError."""
    from sktraceprop.compliance._report_time import store_time_problems, time_problems

    made = "2026-06-01T12:00:00.000000+00:00"
    report = {
        "report": {"generated_at": made},
        "retention": {"report_time": made},
        "record_keeping": {
            "store": {
                "chain_verified_at": made,
                "chain_head": {"created_at": "0001-01-01T00:30:00+01:00"},
            }
        },
    }
    assert time_problems(report, now=exact_time(made)) == []
    events = [
        {"seq": 2, "kind": "prediction", "created_at": "0001-01-01T00:30:00+01:00"},
        {"seq": 3, "kind": "prediction", "created_at": "2026-06-01T11:00:00.000000+00:00"},
    ]
    assert "event seq 3" in store_time_problems(report, events, head_seq=1)[0]
