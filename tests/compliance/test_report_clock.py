"""A clock set back: events stamped earlier than an event written before them. The
report counts six months only from times the chain's order does not contradict, and
says which events are set back; checked against a brute-force statement of what the
order proves, in the report, its verification, the HTML and the CLI."""

import json
import sys
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._evidence import retention_section, six_months_before
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import ClockWarning, ReportVerificationError
from sktraceprop.stores._base import make_event
from tests.compliance._forged import forged

from .conftest import DEPLOYER, logged_pipeline, traced_frames

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def _brute(times, now):
    """What the chain's order proves, pair by pair: (set-back seqs, coverage start,
    covers six months, contradicted seqs)."""
    n = len(times)
    back = [i + 1 for i in range(n) if any(times[j] > times[i] for j in range(i))]
    bad = {
        i + 1
        for i in range(n)
        for j in range(n)
        if (j < i and times[j] > times[i]) or (j > i and times[j] < times[i])
    }
    good = [times[i] for i in range(n) if i + 1 not in bad]
    start = min(good) if good else None
    return back, start, start is not None and start <= six_months_before(now), bad


def _iso(moment):
    return moment.isoformat(timespec="microseconds")


def _events(times):
    return [
        {
            "seq": i + 1,
            "created_at": t.isoformat(),
            "run_id": "r" if i % 2 else None,
            "kind": "prediction" if i % 2 else "review",
        }
        for i, t in enumerate(times)
    ]


@settings(deadline=None, max_examples=150)
@given(st.lists(st.integers(-400, 0), min_size=1, max_size=12))
@example([-10, -200])  # the case: written after the fit, stamped 200 days early
@example([-300, -300, -400, -1])
@example([-200, -1, -250, -100])
def test_retention_counts_only_times_the_order_does_not_contradict(days):
    times = [NOW + timedelta(days=d) for d in days]
    events = _events(times)
    got = retention_section(None, SimpleNamespace(run_id="r"), events, NOW.isoformat())
    back, start, covers, bad = _brute(times, NOW)
    assert [e["seq"] for e in got["times_set_back"]] == back
    for entry in got["times_set_back"]:
        before = times[: entry["seq"] - 1]
        assert datetime.fromisoformat(entry["after_created_at"]) == max(before)
        assert entry["after_seq"] == before.index(max(before)) + 1
        assert entry["seconds_back"] == round(
            (max(before) - times[entry["seq"] - 1]).total_seconds(), 6
        )
    assert got["coverage_from"] == (None if start is None else _iso(start))
    assert got["stored_logs_cover_six_months"] is covers
    assert got["earliest_logged"] == _iso(min(times))  # as stamped, said as such
    assert (got["six_months_reached_on"] is None) is (covers or start is None)
    first_use = 2 if len(times) > 1 else None
    assert got["first_logged_use_contradicted"] is (first_use in bad)
    # never more than the older count from the earliest stamp claimed
    old = retention_section(
        None, SimpleNamespace(run_id="r"), events, NOW.isoformat(), chain_order=False
    )
    assert covers <= old["stored_logs_cover_six_months"]
    assert not back or ("times_set_back" not in old)


def _store(kind, tmp_path):
    if kind == "memory":
        return stp.stores.MemoryStore()
    return stp.stores.SQLiteStore(tmp_path / "audit.db")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_an_event_stamped_early_after_the_fit_claims_no_six_months(
    kind, hospitals, monkeypatch, tmp_path
):
    clock = sys.modules[make_event.__module__]  # where the store's events get their time
    _, _, X, y = traced_frames(hospitals)
    store = _store(kind, tmp_path)
    pipe = logged_pipeline(store, X, y)
    old = (datetime.now(timezone.utc) - timedelta(days=200)).isoformat()
    with monkeypatch.context() as m:
        m.setattr(clock, "utc_now", lambda: old)
        with pytest.warns(ClockWarning):
            store.append_event("review", {"by": "internal audit"})
    pipe.predict(X.iloc[:2])
    report = compliance_report(pipe, **DEPLOYER, output_path=tmp_path / "r.json")
    data = report.to_dict()
    r = data["retention"]
    seq = [e["seq"] for e in store.events(include_store_events=True) if e["kind"] == "review"]
    assert [e["seq"] for e in r["times_set_back"]] == seq
    assert r["times_set_back"][0]["seconds_back"] > 199 * 86400
    assert r["earliest_logged"] == datetime.fromisoformat(old).isoformat()
    assert r["stored_logs_cover_six_months"] is False  # was True: silently wrong
    assert r["coverage_from"] > r["earliest_logged"]
    assert r["first_logged_use_contradicted"] is False
    articles = {a["article"]: a for a in data["articles"]}
    for article in ("26(6), 19(1)", "12"):
        assert articles[article]["status"] == "partly evidenced"
        assert f"event {seq[0]} stamped" in articles[article]["why"]
        assert "days before event" in articles[article]["why"]
    assert "which of the contradicting times is right" in articles["26(6), 19(1)"]["cannot_show"]
    assert store.check_integrity()["times_set_back"] == seq
    # verify rebuilds it; an edited value (re-sealed) fails against the store
    path = tmp_path / "r.json"
    assert verify(path, store=store) is True
    edits = {
        "times_set_back": lambda d: d["retention"].update(times_set_back=[]),
        "coverage_from": lambda d: d["retention"].update(coverage_from=r["earliest_logged"]),
        "stored_logs_cover_six_months": lambda d: d["retention"].update(
            stored_logs_cover_six_months=True, six_months_reached_on=None
        ),
        "times_set_back is missing": lambda d: d["retention"].pop("times_set_back"),
    }
    for name, edit in edits.items():
        edited = forged(path, edit, tmp_path)  # a forgery consistent on its own
        with pytest.warns(UserWarning, match="only the report's own content"):
            assert verify(edited) is True  # consistent on its own
        with pytest.raises(ReportVerificationError, match=name):
            verify(edited, store=store)
    html = tmp_path / "r.html"
    report.to_html(html)
    text = html.read_text()
    assert "Times set back" in text and f"event {seq[0]} stamped" in text
    assert "not shown (times set back)" in text


def test_a_format_16_report_without_the_account_verifies_where_no_time_is_set_back(
    hospitals, tmp_path
):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:2])
    path = tmp_path / "r.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    d = json.loads(path.read_text())
    for key in ("times_set_back", "coverage_from", "first_logged_use_contradicted"):
        del d["retention"][key]
    d["integrity"] = seal(body_of(d))
    path.write_text(json.dumps(d))
    assert verify(path, store=store) is True


def test_check_prints_times_set_back(tmp_path, monkeypatch, capsys):
    clock = sys.modules[make_event.__module__]
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    store.append_event("review", {"by": "a"})
    with monkeypatch.context() as m:
        m.setattr(clock, "utc_now", lambda: "2020-01-01T00:00:00+00:00")
        with pytest.warns(ClockWarning):
            store.append_event("review", {"by": "b"})
    store.close()
    assert main(["check", str(tmp_path / "audit.db")]) == 0
    out = capsys.readouterr().out
    assert "times_set_back: 1 event(s)" in out and "(2)" in out
