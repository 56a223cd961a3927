"""The gaps of one model's own logged calls, in a store shared with other models.

The report's gaps (``days_unlogged_before_report``, ``longest_unlogged_*``) count every
event of the store: a second model logging every three days filled them, so a model
that logged no call for a month showed none, and the earliest logged event was a fit
(no use at all). Retention now also measures this model's own prediction events
(``earliest_logged_use``, ``latest_logged_use``, ``days_unlogged_use_before_report``,
``longest_unlogged_use_*``) and Art. 26(6) says them. The truth is the times the test's
clock gave each model's calls, the longest interval found by brute force over pairs.
"""

import json
import re
import sqlite3
import sys
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import sktraceprop as stp
import sktraceprop.compliance._compliance_report as report_clock
from sktraceprop import signing
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles as statements
from sktraceprop.exceptions import ClockWarning, CorruptStoreError, ReportVerificationError
from sktraceprop.stores._base import make_event
from tests.compliance._forged import forged

from ._browser import load_page
from .conftest import DEPLOYER, USE_KEYS, logged_pipeline, longest_interval_truth, traced_frames

START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
RETENTION, RECORDS = "26(6), 19(1)", "12"


def _stamp(moment):
    return moment.isoformat(timespec="microseconds")


def _shared(hospitals, tmp_path, monkeypatch, quiet=(21, 51), first_call=0):
    """Three models fitted at START in one SQLite store: ``a`` called every 3 days from
    day ``first_call`` to day 60, none in ``quiet`` (half-open); ``b`` every 3 days for
    90 days; ``c`` never. Returns ``(store, {name: run_id}, {name: call times})``."""
    clock = [START]
    monkeypatch.setattr(sys.modules[make_event.__module__], "utc_now", lambda: _stamp(clock[0]))
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipes = {name: logged_pipeline(store, X, y) for name in "abc"}
    given = {name: [] for name in "abc"}
    for day in range(0, 91, 3):
        callers = ["b"]
        if first_call <= day <= 60 and not quiet[0] <= day < quiet[1]:
            callers.append("a")
        for k, name in enumerate(callers):
            clock[0] = START + timedelta(days=day, hours=1, minutes=k)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ClockWarning)
                pipes[name].predict(X.iloc[:2])
            given[name].append(clock[0])
    monkeypatch.undo()
    runs = {name: pipe.lineage_.run_id for name, pipe in pipes.items()}
    assert len(set(runs.values())) == 3
    return store, runs, given


def _report(store, run_id, path, when):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(report_clock, "utc_now", lambda: _stamp(when))
        return compliance_report(store=store, run_id=run_id, output_path=path, **DEPLOYER)


def _article(report, number):
    return {a["article"]: a for a in report.to_dict()["articles"]}[number]


def test_a_model_silent_for_a_month_in_a_shared_store_shows_its_own_gap(
    hospitals, tmp_path, monkeypatch
):
    store, runs, given = _shared(hospitals, tmp_path, monkeypatch)
    when = START + timedelta(days=92)
    report = _report(store, runs["a"], tmp_path / "a.json", when)
    r = report.to_dict()["retention"]
    # the store-wide figures: b filled the month a logged nothing
    assert r["longest_unlogged_days"] <= 3
    # this model's own: from its call of day 18 to that of day 51
    start, end = longest_interval_truth(given["a"])
    one = timedelta(hours=1, minutes=1)  # a's calls, a minute after b's
    assert (start, end) == (START + timedelta(days=18) + one, START + timedelta(days=51) + one)
    days = round((end - start).total_seconds() / 86400, 6)
    assert (r["longest_unlogged_use_from"], r["longest_unlogged_use_to"]) == (
        _stamp(start),
        _stamp(end),
    )
    assert r["longest_unlogged_use_days"] == days == 33.0
    last = max(given["a"])
    assert r["earliest_logged_use"] == r["first_logged_use"] == _stamp(min(given["a"]))
    assert r["latest_logged_use"] == _stamp(last)
    idle = round((when - last).total_seconds() / 86400, 6)
    assert r["days_unlogged_use_before_report"] == idle > 30
    why = _article(report, RETENTION)["why"]
    assert (
        f"Between {_stamp(start)} and {_stamp(end)} no call of this model is logged "
        f"({days:.1f} days" in why
    )
    assert f"No call of this model is logged in the {idle:.1f} days from its latest" in why
    assert "no event is stamped (" not in why  # the store-wide gap is under a week
    assert verify(tmp_path / "a.json", store=store) is True
    report.to_html(tmp_path / "a.html")
    html = (tmp_path / "a.html").read_text()
    assert f"no call of this model logged</th><td>{days:.1f} days, from {_stamp(start)}" in html
    assert f"no call of this model logged</th><td>{idle:.1f}</td>" in html

    # b, called every 3 days to the end, has no gap said of its own
    report_b = _report(store, runs["b"], tmp_path / "b.json", when)
    rb = report_b.to_dict()["retention"]
    b_start, b_end = longest_interval_truth(given["b"])
    assert rb["longest_unlogged_use_days"] == (b_end - b_start).total_seconds() / 86400 == 3.0
    assert "no call of this model is logged (" not in _article(report_b, RETENTION)["why"]
    assert "No call of this model is logged in the" not in _article(report_b, RETENTION)["why"]


def test_the_earliest_logged_use_is_a_call_not_a_fit(hospitals, tmp_path, monkeypatch):
    """a's first call is on day 30, its fit on day 0: the store's earliest logged event
    is the fit, which is no use; c is never called."""
    store, runs, given = _shared(hospitals, tmp_path, monkeypatch, quiet=(0, 0), first_call=30)
    when = START + timedelta(days=92)
    report = _report(store, runs["a"], tmp_path / "a.json", when)
    r = report.to_dict()["retention"]
    assert r["earliest_logged"] <= _stamp(START)  # the fits (and sources) at START
    assert (
        r["earliest_logged_use"]
        == _stamp(min(given["a"]))
        == _stamp(START + timedelta(days=30, hours=1, minutes=1))
    )
    why = _article(report, RETENTION)["why"]
    assert "This model's own calls (its prediction events" in why
    assert f"are stamped from {_stamp(min(given['a']))} to {_stamp(max(given['a']))}" in why
    assert f"The store's earliest logged event ({r['earliest_logged']}) is no call" in why
    report_c = _report(store, runs["c"], tmp_path / "c.json", when)
    rc = report_c.to_dict()["retention"]
    assert {k: rc[k] for k in USE_KEYS} == dict.fromkeys(USE_KEYS)
    assert (
        "No call of this model is logged (no prediction event"
        in (_article(report_c, RETENTION)["why"])
    )
    assert verify(tmp_path / "c.json", store=store) is True


def test_an_edited_or_dropped_use_gap_is_found_against_the_store(hospitals, tmp_path, monkeypatch):
    store, runs, given = _shared(hospitals, tmp_path, monkeypatch)
    path = tmp_path / "r.json"
    _report(store, runs["a"], path, START + timedelta(days=92))
    for key, value in (
        ("longest_unlogged_use_days", 3.0),
        ("days_unlogged_use_before_report", 2.0),
    ):
        edited = forged(path, lambda d, k=key, v=value: d["retention"].update({k: v}), tmp_path)
        with pytest.raises(ReportVerificationError, match=key):
            verify(edited, store=store)
    # all removed and re-sealed (their words gone, and the restored backup from what
    # Art. 12 cannot show): refused, naming each with the store's value
    d = json.loads(path.read_text())
    values = {key: d["retention"].pop(key) for key in USE_KEYS}
    d["articles"] = statements(d)
    said = {a["article"]: a for a in d["articles"]}
    assert "call of this model" not in said[RETENTION]["why"]
    assert not any("older copy of the store put back" in c for c in said[RECORDS]["cannot_show"])
    d["integrity"] = seal(body_of(d))
    path.write_text(json.dumps(d))
    with pytest.raises(ReportVerificationError) as info:
        verify(path, store=store)
    assert [p.split(": a report")[0] for p in info.value.problems] == [
        f"/retention/{key} is missing; by the store's log up to the chain head it is {v!r}"
        for key, v in values.items()
    ]
    with pytest.warns(UserWarning, match="lacks /retention/" + ", /retention/".join(USE_KEYS)):
        assert verify(path) is True


def test_a_backup_put_back_after_an_erasure_is_named_and_an_outside_checkpoint_finds_it(
    fitted, tmp_path
):
    """The store copied, then a call erased and a checkpoint kept outside: the copy put
    back holds the erased call's salt and no erasure, and its report counts no call
    erased. The report names that among what it cannot show; the checkpoint finds it."""
    pipe, store, X, _ = fitted
    key = signing.generate_key()
    backup, path = tmp_path / "backup.db", Path(store.path)
    with sqlite3.connect(path) as src, sqlite3.connect(backup) as dst:
        src.backup(dst)
    with pytest.warns(UserWarning, match="inside a larger batch"):
        erased = store.erase_predictions(X.iloc[:7], reason="request 17")
    assert erased
    kept = store.checkpoint(key, path=tmp_path / "kept.json")
    after = compliance_report(  # a report made after the erasure, kept
        store=store, run_id=pipe.lineage_.run_id, output_path=tmp_path / "after.json", **DEPLOYER
    )
    (erasure,) = after.to_dict()["record_keeping"]["prediction_erasures"]["erasures"]
    store.close()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    backup.replace(path)  # the backup restored
    restored = stp.stores.SQLiteStore(path)
    report = compliance_report(store=restored, run_id=pipe.lineage_.run_id, **DEPLOYER)
    data = report.to_dict()
    assert data["record_keeping"]["prediction_erasures"]["n_calls_erased"] == 0
    for number in (RECORDS, RETENTION):
        cannot = " ".join(_article(report, number)["cannot_show"])
        assert "an older copy of the store put back" in cannot
        assert "holds the salts of calls erased after it was taken" in cannot
        assert "checkpoint kept outside the store" in cannot
    assert restored.verify() is not None  # intact on its own...
    with pytest.raises(CorruptStoreError, match="log ends at event"):
        restored.verify(key.public_key(), checkpoint=kept)  # ...not against the checkpoint
    # the report kept from after the erasure names the erasure the store lost
    with pytest.raises(ReportVerificationError) as info:
        verify(tmp_path / "after.json", store=restored)
    (lost,) = [p for p in info.value.problems if "erasure(s) at request" in p]
    assert f"records 1 erasure(s) at request (event(s) {erasure['seq']}" in lost
    assert "holds the salts of the calls they erased again" in lost


def test_the_use_rows_render_in_a_browser(browser, hospitals, tmp_path, monkeypatch):
    store, runs, given = _shared(hospitals, tmp_path, monkeypatch)
    report = _report(store, runs["a"], tmp_path / "a.json", START + timedelta(days=92))
    page = tmp_path / "a.html"
    report.to_html(page)
    text, _, problems, _ = load_page(page)
    assert problems == []
    flat = re.sub(r"\s+", " ", text)
    start, end = longest_interval_truth(given["a"])
    assert (
        f"Longest interval with no call of this model logged 33.0 days, from {_stamp(start)} "
        f"to {_stamp(end)}"
    ) in flat
    assert "Calls of this model stamped (UTC)" in flat
