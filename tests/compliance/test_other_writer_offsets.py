"""Events another writer appends with a UTC offset other than +00:00.

The store's schema is documented, so another process or tool may append events to the
chain; ISO 8601 lets it stamp them in its own zone (``+01:00``). Such a store is valid:
its report copies the event's time as stored (its hash covers it) and measures every
figure between instants, in UTC. A time with no offset names no instant and is refused
by name, before anything is written. (The hypothesis test guards the six-month
arithmetic between instants, which was already right; the report tests fail without the
schema's ``stored_time``.)
"""

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._evidence import parse_time, retention_section
from sktraceprop.exceptions import ComplianceError
from sktraceprop.stores import SQLiteStore
from sktraceprop.stores._chain import event_hash

from .conftest import DEPLOYER


def _append_as_another_writer(path, kind, payload, moment_text):
    """Append one event to the SQLite store at ``path`` as another process following the
    documented schema does: next seq, the chain's hash over the canonical record."""
    with sqlite3.connect(path) as con:
        seq, prev = con.execute("SELECT seq, hash FROM events ORDER BY seq DESC").fetchone()
        record = {
            "seq": seq + 1,
            "run_id": None,
            "created_at": moment_text,
            "kind": kind,
            "payload": payload,
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        digest = event_hash(prev, record)
        con.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq + 1, None, moment_text, kind, text, prev, digest),
        )
    return seq + 1


def _last_instant(path):
    with sqlite3.connect(path) as con:
        (text,) = con.execute("SELECT created_at FROM events ORDER BY seq DESC").fetchone()
    return parse_time(text)


@pytest.mark.parametrize("hours, minutes", [(1, 0), (-5, 0), (5, 45), (-9, -30)])
def test_an_event_stamped_with_another_offset_is_reported_and_verifies(
    fitted, hours, minutes, tmp_path
):
    pipe, store, _, _ = fitted
    # a millisecond after the last event, written in the other writer's zone: the
    # instant is later (not set back), the local text may read hours earlier or later
    instant = _last_instant(store.path) + timedelta(milliseconds=1)
    zone = timezone(timedelta(hours=hours, minutes=minutes))
    text = instant.astimezone(zone).isoformat(timespec="microseconds")
    seq = _append_as_another_writer(store.path, "review", {"by": "auditor"}, text)
    reopened = SQLiteStore(store.path)

    report = compliance_report(
        pipe, store=reopened, output_path=tmp_path / "r.json", **DEPLOYER
    ).to_dict()

    (copied,) = [e for e in report["events"] if e["seq"] == seq]
    assert copied["created_at"] == text  # as stored: the event's hash covers it
    head = report["record_keeping"]["store"]["chain_head"]
    assert (head["seq"], head["created_at"]) == (seq, text)
    retention = report["retention"]
    # the figures are of the instant, in UTC, whatever the text's offset
    assert retention["latest_logged"] == instant.isoformat(timespec="microseconds")
    assert retention["times_set_back"] == []
    assert verify(tmp_path / "r.json", store=reopened) is True


def test_an_event_stamped_without_an_offset_is_refused_by_name(fitted, tmp_path):
    pipe, store, _, _ = fitted
    naive = (_last_instant(store.path) + timedelta(milliseconds=1)).replace(tzinfo=None)
    seq = _append_as_another_writer(store.path, "review", {"by": "x"}, naive.isoformat())
    reopened = SQLiteStore(store.path)
    assert reopened.verify()  # the chain itself is intact

    with pytest.raises(
        ComplianceError, match=rf"event {seq} \(review\) .* not an ISO 8601 time with a UTC offset"
    ):
        compliance_report(pipe, store=reopened, output_path=tmp_path / "r.json", **DEPLOYER)
    assert not (tmp_path / "r.json").exists()


def _six_months_reached(instant):
    """When logs kept since ``instant`` (UTC) span six calendar months, by the rule of
    Regulation 1182/71 Art. 3(2)(c), computed with dateutil: the same day six months on,
    or (no such day) the start of the day after the shorter month's last."""
    later = instant + relativedelta(months=6)
    if later.day == instant.day:
        return later
    return (later + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


# report times on the days European clocks change, and at month ends
_REPORT_TIMES = [
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc),
    datetime(2026, 10, 25, 0, 59, 59, tzinfo=timezone.utc),
    datetime(2026, 8, 31, 23, 0, tzinfo=timezone.utc),
    datetime(2027, 3, 1, 0, 0, tzinfo=timezone.utc),
]


@settings(max_examples=80, deadline=None)
@given(
    report_time=st.sampled_from(_REPORT_TIMES),
    # seconds from the six-month boundary of the first event: either side, near it
    shift=st.integers(-3 * 3600, 3 * 3600),
    later=st.lists(st.integers(1, 40 * 86400), min_size=1, max_size=5),
    offsets=st.lists(st.integers(-14 * 4, 14 * 4), min_size=6, max_size=6),
)
def test_six_months_are_counted_between_instants_whatever_the_offset(
    report_time, shift, later, offsets
):
    run = SimpleNamespace(run_id="r")
    first = report_time - relativedelta(months=6) + timedelta(seconds=shift)
    instants = [first] + [first + timedelta(seconds=s) for s in sorted(later)]
    instants = [min(t, report_time) for t in instants]

    def events(written):
        return [
            {"seq": i, "run_id": "r", "kind": "prediction", "created_at": t}
            for i, t in enumerate(written, 1)
        ]

    # offsets in quarter hours, as zones have them (+05:45, -09:30)
    zones = [timezone(timedelta(minutes=15 * m)) for m in offsets]
    in_zones = [t.astimezone(z).isoformat() for t, z in zip(instants, zones)]
    in_utc = [t.isoformat() for t in instants]
    now = report_time.isoformat(timespec="microseconds")
    shifted = retention_section(None, run, events(in_zones), now)
    assert shifted == retention_section(None, run, events(in_utc), now)
    truth = _six_months_reached(first) <= report_time
    assert shifted["stored_logs_cover_six_months"] is truth
    assert shifted["model_logs_cover_six_months"] is truth
    assert shifted["earliest_logged"] == first.isoformat(timespec="microseconds")
