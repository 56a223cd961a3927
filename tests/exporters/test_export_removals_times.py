"""Removals gathered from several stores are exported in the order of their recorded
times as instants (UTC), whatever zone offset each store's clock wrote, and each
store's own events keep their order (seq) even where its clock was set back. The
truth: a merge of each store's events, read with sqlite3, done here by hand."""

import sys
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop.exceptions import LineageError
from sktraceprop.exporters import to_openlineage, to_parquet
from sktraceprop.stores._base import make_event
from tests.exporters.test_export_removals import _events_read_with_sqlite, _spans
from tests.exporters.test_export_removals_stores import _exported, _two_stores, _unlearn

pytest.importorskip("pyarrow.parquet")
pytest.importorskip("opentelemetry.sdk.trace")

CLOCK = sys.modules[make_event.__module__]
START = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def _truth(run, stores):
    """The run's unlearning hashes: each store's in seq order, merged by UTC instant
    (ties to the store listed first), brute force."""
    queues = [
        [
            (datetime.fromisoformat(event[0]["created_at"]), event[1])
            for event in _unlearnings(run, store)
        ]
        for store in stores
    ]
    out = []
    while any(queues):
        best = min((q for q in queues if q), key=lambda q: q[0][0])
        out.append(best.pop(0)[1])
    return out


def _unlearnings(run, store):
    rows = _events_read_with_sqlite(store.path, run.run_id)
    times = {e["hash"]: e for e in store.events(run.run_id, kind="unlearning")}
    return [(times[digest], digest) for _, digest, kind, _ in rows if kind == "unlearning"]


@settings(deadline=None, max_examples=8)
@given(
    made=st.lists(
        st.tuples(st.sampled_from("ab"), st.integers(-600, 600), st.integers(-11, 12)),
        min_size=2,
        max_size=4,
        unique_by=lambda m: m[1],
    )
)
@example(made=[("a", 0, 2), ("b", 60, 0)])  # a's 14:00+02:00 is before b's 13:00+00:00
@example(made=[("a", 0, 0), ("a", -300, 0), ("b", -100, 0)])  # a's clock set back
def test_removals_of_several_stores_are_exported_by_instant(tmp_path_factory, made):
    tmp_path = tmp_path_factory.mktemp("times")
    a, b, unl, run = _two_stores(tmp_path)
    stores = {"a": a, "b": b}
    for i, (name, minutes, offset) in enumerate(made):
        zone = timezone(timedelta(hours=offset))
        stamp = (START + timedelta(minutes=minutes)).astimezone(zone)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(CLOCK, "utc_now", lambda s=stamp: s.isoformat(timespec="microseconds"))
            _unlearn(unl, stores[name], run.row_ids[2 * i : 2 * i + 1])
    order = _truth(run, [b, a])  # this process lists b first (see _two_stores)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exported = _exported(run, tmp_path)
    for checked, _, events, _ in exported:
        assert checked is True and list(events) == order


@pytest.mark.parametrize("naive_in", ["a", "b"])
@pytest.mark.parametrize("export", ["openlineage", "parquet", "otel"])
def test_a_removal_stamped_with_no_offset_is_refused_not_read_as_utc(tmp_path, naive_in, export):
    # Another writer's time with no zone offset names no instant: read as UTC, it put an
    # unlearning of one store before or after the other's by a guess, the exports named
    # the model the guessed-last unlearning left as the current one, and the facet's
    # createdAt was no RFC 3339 date-time.
    a, b, unl, run = _two_stores(tmp_path)
    stores = {"a": a, "b": b}
    for i, name in enumerate("ab"):
        stamp = START + timedelta(minutes=i)
        text = stamp.replace(tzinfo=None) if name == naive_in else stamp
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(CLOCK, "utc_now", lambda t=text: t.isoformat(timespec="microseconds"))
            _unlearn(unl, stores[name], run.row_ids[2 * i : 2 * i + 1])
    (naive,) = [e for e in stores[naive_in].events(run.run_id, kind="unlearning")]
    folder = tmp_path / "pq"
    calls = {
        "openlineage": lambda: to_openlineage(run),
        "parquet": lambda: to_parquet(run, folder),
        "otel": lambda: _spans(run),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(LineageError) as info:
            calls[export]()
    assert f"removal event {naive['seq']} (unlearning)" in str(info.value)
    assert repr(naive["created_at"]) in str(info.value) and "with a UTC offset" in str(info.value)
    assert not folder.exists()  # nothing exported
