"""The report's log retention: ``latest_logged`` (and ``earliest_logged``) are the
latest (earliest) time of every kind of event the store logged (predictions,
explanations, removals, erasures of rows and of calls), in UTC, whatever order the
clock gave them, and stay so after an erasure of the last prediction. The truth:
the times of the store's events read directly, parsed here."""

import sys
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop.compliance import compliance_report
from sktraceprop.stores._base import make_event
from tests.stores._store_helpers import DEPLOYER
from tests.stores.test_erase_explanations import _X, _explained

CLOCK = sys.modules[make_event.__module__]
START = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
STEPS = ("fit", "predict", "explain", "erase_rows", "erase_predictions")


def _utc(text):
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None  # every store writes its zone
    return moment.astimezone(timezone.utc)


def _report(kind, tmp_path, stamps):
    """Fit, predict, explain, erase the rows, erase the calls, each stamped as given;
    the report's retention section and the store's events."""
    from sktraceprop import stores

    store = stores.MemoryStore() if kind == "memory" else stores.SQLiteStore(tmp_path / "s.db")
    clock = {}
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (clocks set back, the erasures' caveats)
        patch.setattr(CLOCK, "utc_now", lambda: clock["now"])
        clock["now"] = stamps[0]
        pipe, explainer = _explained(store)
        clock["now"] = stamps[1]
        pipe.predict(_X.iloc[[2]])
        clock["now"] = stamps[2]
        explainer.explain(_X.iloc[[2]], top_k=2, log=True)
        clock["now"] = stamps[3]
        store.erase_rows(sample_id=pipe.lineage_.row_ids[:1], reason="request 1")
        clock["now"] = stamps[4]
        assert store.erase_predictions(_X.iloc[[2]], reason="request 2")["calls"]
        report = compliance_report(pipe, output_path=tmp_path / "r.json", **DEPLOYER)
    return report.to_dict()["retention"], store.events(include_store_events=True)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(deadline=None, max_examples=6)
@given(minutes=st.lists(st.integers(-3000, 3000), min_size=len(STEPS), max_size=len(STEPS)))
@example(minutes=[0, 10, 20, 30, 40])  # latest: the erasure of the calls
@example(minutes=[0, 500, 20, 30, 40])  # latest: the call it erased
@example(minutes=[0, 10, 20, 900, 40])  # latest: the erasure of rows
def test_latest_logged_is_the_latest_time_of_every_event(kind, tmp_path_factory, minutes):
    stamps = [(START + timedelta(minutes=m)).isoformat(timespec="microseconds") for m in minutes]
    retention, events = _report(kind, tmp_path_factory.mktemp("latest"), stamps)
    kinds = {e["kind"] for e in events}
    assert {"prediction", "explanation", "store.erasure", "store.prediction_erasure"} <= kinds
    logged = [_utc(e["created_at"]) for e in events]
    assert _utc(retention["latest_logged"]) == max(logged)
    assert _utc(retention["earliest_logged"]) == min(logged)
    assert retention["latest_logged"].endswith("+00:00")  # said in UTC
