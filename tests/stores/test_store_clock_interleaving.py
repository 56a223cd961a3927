"""Writers whose clocks go back, and appends from two handles interleaved.

The truth is this test's own bookkeeping: the time each append's clock read (set
here), and the order in which the handles appended. A store keeps the order of its
appends as its ``seq`` numbers, whatever the clocks say; an event stamped earlier
than the one before it is said (a :class:`ClockWarning` when written, and
``times_set_back`` of ``check_integrity()``), never silently reordered or dropped.
"""

import sys
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import ClockWarning
from sktraceprop.stores._base import make_event
from tests.stores._store_helpers import new_schema

#: Where the store's events get their time.
CLOCK = sys.modules[make_event.__module__]
START = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def _stamp(moment):
    return moment.isoformat(timespec="microseconds")


def _handles(kind, tmp_path, request, n=2):
    """``n`` handles on one new store of ``kind`` (one shared object for memory)."""
    if kind == "memory":
        store = stp.stores.MemoryStore()
        return [store] * n
    if kind == "sqlite":
        path = tmp_path / f"{new_schema()}.db"
        return [stp.stores.SQLiteStore(path) for _ in range(n)]
    dsn, schema = request.getfixturevalue("pg_dsn"), new_schema()
    return [stp.stores.PostgresStore(dsn, schema=schema) for _ in range(n)]


def _set_back_truth(times):
    """Brute force: the 1-based positions whose time is before the one before them."""
    return [n for n in range(2, len(times) + 1) if times[n - 1] < times[n - 2]]


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_an_event_stamped_before_the_one_before_it_is_said_and_kept_in_order(
    kind, tmp_path, request, monkeypatch
):
    (store,) = _handles(kind, tmp_path, request, n=1)
    store.append_event("review", {"n": 1})
    early = _stamp(datetime.now(timezone.utc) - timedelta(days=200))
    monkeypatch.setattr(CLOCK, "utc_now", lambda: early)
    with pytest.warns(ClockWarning, match=r"event 2 is stamped .* earlier than event 1"):
        store.append_event("review", {"n": 2})
    monkeypatch.undo()
    store.append_event("review", {"n": 3})
    events = store.events()
    assert [e["payload"]["n"] for e in events] == [1, 2, 3]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[1]["created_at"] == early
    report = store.check_integrity()
    assert report["times_set_back"] == [2]
    assert store.verify() is True


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_clock_warning_turned_into_an_error_writes_nothing(kind, tmp_path, request, monkeypatch):
    (store,) = _handles(kind, tmp_path, request, n=1)
    store.append_event("review", {"n": 1})
    monkeypatch.setattr(CLOCK, "utc_now", lambda: "2020-01-01T00:00:00.000000+00:00")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClockWarning)
        with pytest.raises(ClockWarning):
            store.append_event("review", {"n": 2})
    monkeypatch.undo()
    assert [e["payload"]["n"] for e in store.events()] == [1]
    store.append_event("review", {"n": 3})
    assert [e["seq"] for e in store.events()] == [1, 2]
    assert store.verify() is True


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
@settings(
    deadline=None,
    max_examples=15,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 1), st.integers(-5_000_000, 5_000_000)), min_size=1, max_size=12
    )
)
@example(steps=[(0, 0), (1, -1), (0, 0), (1, 1)])
def test_appends_interleaved_from_two_handles_form_one_chain_in_append_order(
    kind, tmp_path, request, steps
):
    """Each step appends from handle ``h`` at the clock ``START + offset`` µs."""
    handles = _handles(kind, tmp_path, request, n=3)
    times = []
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        for n, (h, offset) in enumerate(steps):
            stamp = _stamp(START + timedelta(microseconds=offset))
            times.append(stamp)
            CLOCK.utc_now, saved = (lambda s=stamp: s), CLOCK.utc_now
            try:
                event = handles[h].append_event("step", {"n": n, "h": h})
            finally:
                CLOCK.utc_now = saved
            assert event["seq"] == n + 1
    reader = handles[2]  # (a third handle: reads what is stored, not what one wrote)
    events = reader.events()
    # one linear chain, in the order the appends were made (no fork, no reordering)
    assert [(e["payload"]["n"], e["payload"]["h"]) for e in events] == [
        (n, h) for n, (h, _) in enumerate(steps)
    ]
    assert [e["seq"] for e in events] == list(range(1, len(steps) + 1))
    assert [e["prev_hash"] for e in events[1:]] == [e["hash"] for e in events[:-1]]
    assert [e["created_at"] for e in events] == times
    truth = _set_back_truth([datetime.fromisoformat(t) for t in times])
    assert reader.check_integrity()["times_set_back"] == truth
    clock = [w for w in said if issubclass(w.category, ClockWarning)]
    assert len(clock) == len(truth)
    assert reader.verify() is True
