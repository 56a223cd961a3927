"""The report's span of the logs where the chain's order contradicts their times.

``earliest_logged``, ``latest_logged`` and ``span_days`` are the times stamped; where a
clock was set back (or forward, then back) the chain's order contradicts some of them,
and the span the record shows runs between the times no event contradicts
(``coverage_from`` to ``latest_uncontradicted``). The truth is pair by pair: an event's
time is contradicted where an earlier event (in seq order) is stamped later, or a later
one earlier.
"""

import json
import sys
import warnings
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._evidence import retention_section
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import ReportVerificationError
from sktraceprop.stores._base import make_event
from tests.compliance._forged import forged

from .conftest import DEPLOYER, logged_pipeline, traced_frames
from .test_report_clock import NOW, _events, _iso


def _shown(times):
    """``(start, end)`` of the times no other time contradicts, pair by pair."""
    n = len(times)
    good = [
        times[i]
        for i in range(n)
        if not any(
            (j < i and times[j] > times[i]) or (j > i and times[j] < times[i]) for j in range(n)
        )
    ]
    return (min(good), max(good)) if good else (None, None)


@settings(deadline=None, max_examples=150)
@given(st.lists(st.integers(-400, 400), min_size=1, max_size=12))
@example([-10, 300, -5, -1])  # a clock set forward, then back: the latest stamp is wrong
@example([-200, -1, -250, -100])
def test_the_span_shown_is_between_uncontradicted_times(days):
    times = [NOW + timedelta(days=d) for d in days]
    got = retention_section(None, SimpleNamespace(run_id="r"), _events(times), NOW.isoformat())
    start, end = _shown(times)
    assert got["latest_logged"] == _iso(max(times))  # stamped, said as such
    assert got["coverage_from"] == (None if start is None else _iso(start))
    assert got["latest_uncontradicted"] == (None if end is None else _iso(end))
    if start is None:
        assert got["span_days_uncontradicted"] is None
    else:
        assert got["span_days_uncontradicted"] == round((end - start).total_seconds() / 86400, 6)
        assert got["span_days_uncontradicted"] <= got["span_days"]
    if not got["times_set_back"]:  # nothing contradicted: the stamped span is the one shown
        assert got["span_days_uncontradicted"] == got["span_days"]


def _report_with_clock_forward(hospitals, tmp_path):
    clock = sys.modules[make_event.__module__]  # where the store's events get their time
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    pipe = logged_pipeline(store, X, y)
    ahead = (datetime.now(timezone.utc) + timedelta(days=90)).isoformat()
    clock_now = clock.utc_now
    clock.utc_now = lambda: ahead  # a clock 90 days ahead, then put right
    try:
        store.append_event("review", {"by": "internal audit"})
    finally:
        clock.utc_now = clock_now
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.predict(X.iloc[:2])
        report = compliance_report(pipe, **DEPLOYER, output_path=tmp_path / "r.json")
    return store, report, ahead


def test_a_clock_set_forward_states_no_span_it_cannot_know(hospitals, tmp_path):
    store, report, ahead = _report_with_clock_forward(hospitals, tmp_path)
    r = report.to_dict()["retention"]
    assert r["latest_logged"] == datetime.fromisoformat(ahead).isoformat()
    assert r["times_set_back"]
    assert r["latest_uncontradicted"] < r["latest_logged"]
    assert r["span_days"] > 89 > r["span_days_uncontradicted"]
    why = {a["article"]: a for a in report.to_dict()["articles"]}["26(6), 19(1)"]["why"]
    shown = f"{r['coverage_from']} to {r['latest_uncontradicted']}"
    assert shown in why and f"({r['span_days_uncontradicted']:.1f} days): the span" in why
    assert "rests on contradicted times" in why
    html = tmp_path / "r.html"
    report.to_html(html)
    text = html.read_text()
    assert "Span of stamped times" in text and "Span the record shows" in text
    assert f"{r['span_days']:.1f} days</td>" not in text
    # verify rebuilds them from the store; an edit (re-sealed) or a removal fails
    path = tmp_path / "r.json"
    assert verify(path, store=store) is True
    edits = {
        "span_days_uncontradicted": lambda d: d["retention"].update(
            span_days_uncontradicted=r["span_days"]
        ),
        "latest_uncontradicted": lambda d: d["retention"].update(
            latest_uncontradicted=r["latest_logged"]
        ),
        "latest_uncontradicted is missing": lambda d: (
            d["retention"].pop("latest_uncontradicted"),
            d["retention"].pop("span_days_uncontradicted"),
        ),
    }
    for name, edit in edits.items():
        edited = forged(path, edit, tmp_path)  # a forgery consistent on its own
        with pytest.raises(ReportVerificationError, match=name):
            verify(edited, store=store)


def test_a_format_16_report_without_the_span_verifies_where_no_time_is_set_back(
    hospitals, tmp_path
):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:2])
    path = tmp_path / "r.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    d = json.loads(path.read_text())
    assert d["retention"]["span_days_uncontradicted"] == d["retention"]["span_days"]
    for key in ("latest_uncontradicted", "span_days_uncontradicted"):
        del d["retention"][key]
    d["integrity"] = seal(body_of(d))
    path.write_text(json.dumps(d))
    assert verify(path, store=store) is True
