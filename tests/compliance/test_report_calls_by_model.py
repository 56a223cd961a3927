"""Each model's gaps in the prediction log, said per model in Art. 26(5) (format 17).

Two models log to one store: ``a`` logs no call from day 18 to day 51 and none after day
60, ``b`` is called every three days to day 90. Art. 26(5) said only how many calls the
log holds from the first to the last, so a report on either read as a log monitored
throughout. ``record_keeping/calls_by_model`` now measures each model's calls apart and
Art. 26(5) names each model's gaps of a week or more. The truth is the times the test's
clock gave each model's calls, the longest interval found by brute force over pairs.
"""

import json
from datetime import timedelta

import pytest

from sktraceprop.compliance import verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._report_formats import FORMAT_VERSION
from sktraceprop.compliance._sections import articles as statements
from sktraceprop.exceptions import ReportVerificationError
from tests.compliance._forged import forged
from tests.compliance.conftest import before_format_18

from .conftest import longest_interval_truth
from .test_report_model_use import START, _article, _report, _shared, _stamp

MONITORING = "26(5)"


def _truth(given, when):
    """What ``calls_by_model`` must say of calls made at ``given``, reported at ``when``."""
    start, end = longest_interval_truth(given)
    return {
        "n_calls": len(given),
        "earliest_logged_use": _stamp(min(given)),
        "latest_logged_use": _stamp(max(given)),
        "days_unlogged_use_before_report": round((when - max(given)).total_seconds() / 86400, 6),
        "longest_unlogged_use_from": _stamp(start),
        "longest_unlogged_use_to": _stamp(end),
        "longest_unlogged_use_days": round((end - start).total_seconds() / 86400, 6),
    }


def test_each_models_gaps_are_said_in_monitoring(hospitals, tmp_path, monkeypatch):
    store, runs, given = _shared(hospitals, tmp_path, monkeypatch)
    when = START + timedelta(days=92)
    truth = {name: _truth(given[name], when) for name in "ab"}
    assert truth["a"]["longest_unlogged_use_days"] == 33.0
    assert truth["b"]["longest_unlogged_use_days"] == 3.0

    report_b = _report(store, runs["b"], tmp_path / "b.json", when)
    data = report_b.to_dict()
    assert data["report"]["format_version"] == FORMAT_VERSION == 19
    by_model = data["record_keeping"]["calls_by_model"]
    # c logged no call: it is no model of the prediction log
    assert [e["run_id"] for e in by_model] == [runs["b"], runs["a"]]
    for entry in by_model:
        name = "a" if entry["run_id"] == runs["a"] else "b"
        assert {k: v for k, v in entry.items() if k != "run_id"} == truth[name]
    why = _article(report_b, MONITORING)["why"]
    a = truth["a"]
    assert (
        "The store also logs the calls of 1 other model, each measured apart" in why
        and f"run {runs['a']} ({a['n_calls']} calls): none between "
        f"{a['longest_unlogged_use_from']} and {a['longest_unlogged_use_to']} (33.0 days, "
        f"its longest such interval), none in the "
        f"{a['days_unlogged_use_before_report']:.1f} days from its latest to this report"
        in why
    )
    assert "This model's own calls, measured apart" not in why  # b has no such gap
    assert verify(tmp_path / "b.json", store=store) is True

    report_a = _report(store, runs["a"], tmp_path / "a.json", when)
    why = _article(report_a, MONITORING)["why"]
    assert (
        "This model's own calls, measured apart from the store's other events: none between "
        f"{a['longest_unlogged_use_from']} and {a['longest_unlogged_use_to']} (33.0 days" in why
    )
    assert "1 other model, each measured apart (one model's calls do not fill another's " in why
    assert "gaps): none has an interval of 7 days or more without a call." in why
    assert verify(tmp_path / "a.json", store=store) is True


def test_per_model_calls_edited_or_removed_are_refused(hospitals, tmp_path, monkeypatch):
    store, runs, given = _shared(hospitals, tmp_path, monkeypatch)
    path = tmp_path / "b.json"
    _report(store, runs["b"], path, START + timedelta(days=92))

    def no_gap(d):  # a's month without calls hidden, the statements rebuilt to match
        entry = next(e for e in d["record_keeping"]["calls_by_model"] if e["run_id"] == runs["a"])
        entry.update(longest_unlogged_use_days=3.0, days_unlogged_use_before_report=2.0)

    edited = forged(path, no_gap, tmp_path)
    assert f"run {runs['a']}" not in _article_of(edited)
    with pytest.raises(ReportVerificationError, match="/record_keeping/calls_by_model/1/"):
        verify(edited, store=store)
    # removed: a report of format 17 holds it (the schema says so, store or not)
    edited = forged(path, lambda d: d["record_keeping"].pop("calls_by_model"), tmp_path)
    with pytest.raises(ReportVerificationError, match="'calls_by_model' is a required"):
        verify(edited)


def _article_of(path):
    d = json.loads(path.read_text())
    return {a["article"]: a for a in d["articles"]}[MONITORING]["why"]


def test_a_report_of_format_16_is_still_read_against_its_store(hospitals, tmp_path, monkeypatch):
    store, runs, _ = _shared(hospitals, tmp_path, monkeypatch)
    path = tmp_path / "b.json"
    _report(store, runs["b"], path, START + timedelta(days=92))
    d = json.loads(path.read_text())
    d["report"]["format_version"] = 16
    del d["record_keeping"]["calls_by_model"]
    before_format_18(d)
    d["articles"] = statements(d)
    assert "other model" not in {a["article"]: a for a in d["articles"]}[MONITORING]["why"]
    d["integrity"] = seal(body_of(d))
    path.write_text(json.dumps(d))
    with pytest.warns(UserWarning, match="format 17: each model's logged calls in time"):
        assert verify(path, store=store) is True


def test_the_html_page_shows_each_models_calls(hospitals, tmp_path, monkeypatch):
    import html
    import re

    store, runs, given = _shared(hospitals, tmp_path, monkeypatch)
    when = START + timedelta(days=92)
    page = _report(store, runs["b"], tmp_path / "b.json", when).to_html()
    table = page.split("<h3>Logged calls by model</h3>", 1)[1].split("</table>", 1)[0]
    rows = [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell))
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr)
        ]
        for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1])
    ]
    # one row per model that logged calls, in the report's order, from the test's clock
    assert [r[0].split(" ")[0] for r in rows] == [runs["b"], runs["a"]]
    assert rows[0][0].endswith("(this model)") and not rows[1][0].endswith("(this model)")
    for row, name in zip(rows, "ba", strict=True):
        truth = _truth(given[name], when)
        assert row[1] == str(truth["n_calls"])
        assert row[2] == f"{truth['earliest_logged_use']} / {truth['latest_logged_use']}"
        assert row[3] == f"{truth['days_unlogged_use_before_report']:.1f}"
        assert row[4] == (
            f"{truth['longest_unlogged_use_days']:.1f} ({truth['longest_unlogged_use_from']} "
            f"to {truth['longest_unlogged_use_to']})"
        )
