"""Six months of log retention counted over this model's own logs.

Art. 26(6) is about the logs of this system. Retention counted six months from the
store's first event, so a model fitted 22 days before the report, in a store holding
another model's logs since seven months, had six months of retention evidenced. The
report now also counts them from the first event of this model's run
(``model_logs_from``), and says where they do not span six months. The truth is the
test clock's times, with six months counted by hand.
"""

import json
import sys
import warnings
from datetime import datetime, timedelta, timezone

import pytest

import sktraceprop as stp
import sktraceprop.compliance._compliance_report as report_clock
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles as statements
from sktraceprop.exceptions import ClockWarning, ReportVerificationError
from sktraceprop.stores._base import make_event
from tests.compliance._forged import forged

from .conftest import DEPLOYER, logged_pipeline, traced_frames

START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
RETENTION = "26(6), 19(1)"
MODEL_KEYS = ("model_logs_from", "model_logs_cover_six_months", "model_six_months_reached_on")


def _stamp(moment):
    return moment.isoformat(timespec="microseconds")


def _shared(hospitals, tmp_path, monkeypatch, second_fit_day=200, last_day=220):
    """Model ``a`` fitted at START and called every 5 days; model ``b`` fitted on day
    ``second_fit_day`` (an hour in) and called instead of ``a`` after it, to day
    ``last_day``."""
    clock = [START]
    monkeypatch.setattr(sys.modules[make_event.__module__], "utc_now", lambda: _stamp(clock[0]))
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipes = {"a": logged_pipeline(store, X, y)}
    for day in range(0, last_day + 1, 5):
        clock[0] = START + timedelta(days=day, hours=1)
        if day == second_fit_day:
            pipes["b"] = logged_pipeline(store, X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ClockWarning)
            pipes["b" if day > second_fit_day else "a"].predict(X.iloc[:2])
    monkeypatch.undo()
    return store, {name: pipe.lineage_.run_id for name, pipe in pipes.items()}


def _report(store, run_id, path, when):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(report_clock, "utc_now", lambda: _stamp(when))
        return compliance_report(store=store, run_id=run_id, output_path=path, **DEPLOYER)


def _retention(report):
    return {a["article"]: a for a in report.to_dict()["articles"]}[RETENTION]


def test_a_model_fitted_weeks_ago_in_an_older_store_is_not_said_to_keep_six_months(
    hospitals, tmp_path, monkeypatch
):
    store, runs = _shared(hospitals, tmp_path, monkeypatch)
    when = START + timedelta(days=222)  # 2025-10-11 09:00
    assert _stamp(when) == "2025-10-11T09:00:00.000000+00:00"
    report_b = _report(store, runs["b"], tmp_path / "b.json", when)
    r = report_b.to_dict()["retention"]
    # the store's logs (a's, since 3 March) span six months: 11 April 09:00 is six
    # months before the report
    assert r["six_months_before_report"] == "2025-04-11T09:00:00.000000+00:00"
    assert r["earliest_logged"] <= "2025-03-03T09:00:00.000000+00:00"
    assert r["stored_logs_cover_six_months"] is True
    # b's own: from its fit on day 200 (19 September, 10:00); six months on 19 March
    assert r["model_logs_from"] == "2025-09-19T10:00:00.000000+00:00"
    assert r["model_logs_cover_six_months"] is False
    assert r["model_six_months_reached_on"] == "2026-03-19T10:00:00.000000+00:00"
    article = _retention(report_b)
    assert article["status"] == "partly evidenced"
    assert (
        " This model's own logs (the events of its run: its fit, calls, explanations, "
        "removals) begin at 2025-09-19T10:00:00.000000+00:00: the store's earlier events "
        "are another model's, an earlier fit's or the store's own, which show how long the "
        "store keeps logs, not that this model's are kept six months; that can be shown "
        "only from 2026-03-19T10:00:00.000000+00:00." in article["why"]
    )
    assert (
        "that this model's logs are kept six months (they are not shown to span them)"
        in (article["cannot_show"])
    )
    assert verify(tmp_path / "b.json", store=store) is True
    report_b.to_html(tmp_path / "b.html")
    html = (tmp_path / "b.html").read_text()
    assert "This model&#x27;s logs cover six months</th><td>not yet, reached on 2026-03-19" in (
        html
    )
    # a, fitted at START, keeps six months of its own logs: evidenced, nothing added
    report_a = _report(store, runs["a"], tmp_path / "a.json", when)
    ra = report_a.to_dict()["retention"]
    assert (ra["model_logs_from"], ra["model_logs_cover_six_months"]) == (_stamp(START), True)
    assert ra["model_six_months_reached_on"] is None
    assert _retention(report_a)["status"] == "evidenced"
    assert "This model's own logs" not in _retention(report_a)["why"]
    assert verify(tmp_path / "a.json", store=store) is True


def test_the_model_logs_edited_or_dropped_are_found_against_the_store(
    hospitals, tmp_path, monkeypatch
):
    store, runs = _shared(hospitals, tmp_path, monkeypatch)
    path = tmp_path / "b.json"
    _report(store, runs["b"], path, START + timedelta(days=222))
    edited = forged(  # evidenced again, consistent on its own
        path,
        lambda d: d["retention"].update(
            model_logs_cover_six_months=True, model_six_months_reached_on=None
        ),
        tmp_path,
    )
    assert _retention_status(edited) == "evidenced"
    with pytest.raises(ReportVerificationError, match="model_logs_cover_six_months"):
        verify(edited, store=store)
    d = json.loads(path.read_text())
    values = {key: d["retention"].pop(key) for key in MODEL_KEYS}
    d["articles"] = statements(d)
    d["integrity"] = seal(body_of(d))
    path.write_text(json.dumps(d))
    assert _retention_status(path) == "evidenced"
    with pytest.raises(ReportVerificationError) as info:
        verify(path, store=store)
    assert [p.split(": a report")[0] for p in info.value.problems] == [
        f"/retention/{key} is missing; by the store's log up to the chain head it is {v!r}"
        for key, v in values.items()
    ]


def _retention_status(path):
    d = json.loads(path.read_text())
    return {a["article"]: a for a in d["articles"]}[RETENTION]["status"]


def test_a_model_alone_in_its_store_is_counted_from_its_fit(hospitals, tmp_path, monkeypatch):
    """One model: its run's first event comes just after its sources' records, so no
    sentence is added, and six months are reached six months after its fit."""
    store, runs = _shared(hospitals, tmp_path, monkeypatch, second_fit_day=999, last_day=90)
    report = _report(store, runs["a"], tmp_path / "a.json", START + timedelta(days=100))
    r = report.to_dict()["retention"]
    assert r["stored_logs_cover_six_months"] is r["model_logs_cover_six_months"] is False
    assert r["model_logs_from"] == _stamp(START)
    assert r["model_six_months_reached_on"] == "2025-09-03T09:00:00.000000+00:00"
    why = _retention(report)["why"]
    assert "This model's own logs" not in why
    assert "six months of retention can only be shown from 2025-09-03T09:00" in why
    assert verify(tmp_path / "a.json", store=store) is True
