"""One instant, however its UTC offset is spelled, compares as that instant.

The rule (report64): sktraceprop writes every time it makes as ``+00:00``
(``utc_now``, the report's figures); it reads ``Z``, ``+00:00``, ``-00:00`` and any
other offset by what instant they name, never by their text (``"...Z" < "...+00:00"``
as strings whatever the instants). Checked where times are compared: the chain walk's
set-back check (``store.verify()``), the report's own three times (``verify``) and the
time a report is made against its chain head. Truth: ``datetime`` comparisons.
"""

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop._lineage._source import utc_now
from sktraceprop.compliance._evidence import parse_time
from sktraceprop.compliance._report_time import time_problems
from sktraceprop.stores._append import set_back

_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
_INSTANTS = st.integers(0, 400 * 86400 * 10**6).map(lambda us: _START + timedelta(microseconds=us))
_OFFSETS = st.one_of(st.sampled_from(["Z", "+00:00", "-00:00"]), st.integers(-14 * 60, 14 * 60))


def _spelled(moment, offset):
    """``moment`` written with ``offset`` (a spelling of UTC, or minutes east)."""
    if isinstance(offset, str):
        text = moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
        return text + offset
    return moment.astimezone(timezone(timedelta(minutes=offset))).isoformat()


@settings(max_examples=200, deadline=None)
@given(_INSTANTS, _OFFSETS, _INSTANTS, _OFFSETS)
def test_compared_as_instants(a, a_offset, b, b_offset):
    text_a, text_b = _spelled(a, a_offset), _spelled(b, b_offset)
    assert parse_time(text_a) == a and parse_time(text_b) == b
    assert parse_time(text_a).utcoffset() == timedelta(0)
    assert set_back(text_a, text_b) == (b < a)
    report = {
        "report": {"generated_at": text_a},
        "retention": {"report_time": text_b},
        "record_keeping": {
            "store": {"chain_verified_at": text_a, "chain_head": {"created_at": text_b}}
        },
    }
    said = " ".join(time_problems(report, now=max(a, b) + timedelta(days=1)))
    assert ("differs from /report/generated_at" in said) == (a != b)
    assert ("is earlier than the last event" in said) == (a < b)


def test_sktraceprop_writes_one_spelling():
    now = utc_now()
    assert now.endswith("+00:00") and parse_time(now).utcoffset() == timedelta(0)
