"""A compliance report accounts for the logged calls erased at request.

Before: after ``store.erase_predictions`` a report still said the prediction log held
"the outputs of every call and the SHA-256 of its input rows", and counted no erased
call; log retention said the stored logs covered the period for every call. Now
``record_keeping/prediction_erasures`` gives the erasures (time, reason), the calls,
rows and explanations of the model erased and when those calls were logged; Art. 12,
26(5) and 26(6) say so, and ``verify(report, store=...)`` rebuilds the figures.

The independent truth: this test's own bookkeeping of which calls were given which rows
(a call is erased when it was given a row of an erasure request), not the store's.
"""

import json
import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ReportVerificationError
from tests.compliance._browser import chromium, load_page
from tests.stores._store_helpers import DEPLOYER
from tests.stores.test_erase_predictions import _X, _Y, _model

_OLD_WORDS = "with the outputs of every call and the SHA-256 of its input rows"


class Log:
    """The calls made, as this test made them: ``{seq: row positions given}``."""

    def __init__(self, store, model):
        self.store, self.model, self.calls = store, model, {}

    def predict(self, rows):
        self.model.predict(_X.iloc[list(rows)])
        seq = self.store.events(kind="prediction")[-1]["seq"]
        self.calls[seq] = list(rows)

    def erased_by(self, people):
        return {seq for seq, rows in self.calls.items() if set(rows) & set(people)}


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return call()


def _erase(store, people, reason):
    return _quiet(lambda: store.erase_predictions(_X.iloc[list(people)], reason=reason))


def _report(model, path):
    return _quiet(lambda: compliance_report(model, **DEPLOYER, output_path=path)).to_dict()


def _truth(log, erased):
    """What the report must say of ``erased`` (seqs), from the bookkeeping and the
    events' times (the chain's, which the store wrote when each call was logged)."""
    times = {e["seq"]: e["created_at"] for e in log.store.events(kind="prediction")}
    calls = sorted(erased)
    return {
        "n_calls_erased": len(calls),
        "n_rows_erased": sum(len(log.calls[s]) for s in calls),
        "first_erased_call": times[calls[0]] if calls else None,
        "last_erased_call": times[calls[-1]] if calls else None,
    }


def _article(data, number):
    return next(a for a in data["articles"] if a["article"] == number)


def _resealed(data, path):
    data["articles"] = articles(data)
    data["integrity"] = seal(body_of(data))
    path.write_text(json.dumps(data))
    return path


def test_erased_calls_are_counted_said_and_verified(backend, tmp_path):
    store = backend.make()
    log = Log(store, _model(store))
    for i in range(6):
        log.predict([i])
    log.predict([0, 1, 2])  # a batch: erased whole with a row of it
    log.predict([4, 5])
    first = _erase(store, [0], "request A-1")
    again = _erase(store, [0], "request A-1")  # erased twice: nothing left, no event
    assert again["event_seq"] is None
    second = _erase(store, [4], "request B-2")
    path = tmp_path / "report.json"
    data = _report(log.model, path)
    pe = data["record_keeping"]["prediction_erasures"]
    erased = log.erased_by([0, 4])
    assert erased == set(first["calls"]) | set(second["calls"])  # (the bookkeeping's)
    assert {k: pe[k] for k in _truth(log, erased)} == _truth(log, erased)
    assert pe["n_calls_erased"] == 4 and pe["n_rows_erased"] == 1 + 3 + 1 + 2
    assert pe["n_calls_erased_in_window"] == 4 and pe["n_calls_unsalted"] == 0
    assert [(e["seq"], e["reason"]) for e in pe["erasures"]] == [
        (first["event_seq"], "request A-1"),
        (second["event_seq"], "request B-2"),
    ]
    monitoring = _article(data, "26(5)")["why"]
    assert _OLD_WORDS not in monitoring
    assert "4 calls (7 rows" in monitoring and "erased at request" in monitoring
    record = _article(data, "12")["why"]
    assert "2 prediction erasures" in record and "'request B-2'" in record
    assert "4 prediction calls of this model (7 rows" in record
    retention = _article(data, "26(6), 19(1)")
    assert retention["status"] == "partly evidenced"
    assert "4 of them were logged after" in retention["why"]
    assert "/record_keeping/prediction_erasures" in retention["evidence"]
    assert verify(path, store=store) is True
    # an erased count edited (the statements rebuilt, the report resealed) is found
    for field, change in (("n_calls_erased", -1), ("n_rows_erased", 1)):
        edited = json.loads(path.read_text())
        edited["record_keeping"]["prediction_erasures"][field] += change
        with pytest.raises(ReportVerificationError) as info:
            verify(_resealed(edited, tmp_path / f"{field}.json"), store=store)
        assert any(f"prediction_erasures/{field}" in p for p in info.value.problems)
    # the account removed from a format 16 report: named
    edited = json.loads(path.read_text())
    del edited["record_keeping"]["prediction_erasures"]
    with pytest.raises(ReportVerificationError, match="does not account for them"):
        verify(_resealed(edited, tmp_path / "gone.json"), store=store)


def test_erase_nothing_and_everything(backend, tmp_path):
    store = backend.make()
    log = Log(store, _model(store))
    for rows in ([0, 1], [2], [3, 4, 5]):
        log.predict(rows)
    done = _erase(store, [], "request none")  # no row: nothing erased, no event
    assert done["calls"] == [] and done["event_seq"] is None
    data = _report(log.model, tmp_path / "none.json")
    pe = data["record_keeping"]["prediction_erasures"]
    assert pe["n_erasures"] == 0 and pe["erasures"] == []
    assert pe["n_calls_erased"] == pe["n_rows_erased"] == pe["n_explanations_erased"] == 0
    assert _OLD_WORDS in _article(data, "26(5)")["why"]  # (nothing erased: as before)
    assert "erasure" not in _article(data, "12")["why"]
    _erase(store, range(6), "request all")
    path = tmp_path / "all.json"
    data = _report(log.model, path)
    pe = data["record_keeping"]["prediction_erasures"]
    assert {k: pe[k] for k in _truth(log, log.calls)} == _truth(log, log.calls)
    assert pe["n_calls_erased"] == data["record_keeping"]["predictions"]["n_calls"] == 3
    assert "of 0 calls it also holds" in _article(data, "26(5)")["why"]
    assert verify(path, store=store) is True


def test_a_later_erasure_leaves_the_counts_checked_as_bounds(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    log = Log(store, _model(store))
    for i in range(4):
        log.predict([i])
    _erase(store, [1], "request 1")
    path = tmp_path / "report.json"
    data = _report(log.model, path)
    assert data["record_keeping"]["prediction_erasures"]["n_calls_erased"] == 1
    _erase(store, [2], "request 2")  # after the report
    with pytest.warns(UserWarning, match="erased from the store after this report"):
        assert verify(path, store=store) is True
    edited = json.loads(path.read_text())
    edited["record_keeping"]["prediction_erasures"]["n_calls_erased"] = 3  # more than now
    with pytest.raises(ReportVerificationError, match="n_calls_erased says 3, more than"):
        with pytest.warns(UserWarning):
            verify(_resealed(edited, tmp_path / "more.json"), store=store)


def test_a_store_of_schema_version_2_counts_its_calls_unsalted(tmp_path):
    path = tmp_path / "v2.db"
    shutil.copy(Path(__file__).parent / "data" / "schema2.db", path)
    store = stp.stores.SQLiteStore(path)
    log = Log(store, _quiet(lambda: _model(store)))
    _quiet(lambda: log.predict([0]))
    _quiet(lambda: log.predict([1, 2]))
    assert _erase(store, [0], "request 7")["calls"] == []  # (unsalted: cannot be)
    report = tmp_path / "report.json"
    data = _report(log.model, report)
    pe = data["record_keeping"]["prediction_erasures"]
    assert pe["n_calls_erased"] == 0 and pe["n_erasures"] == 0
    assert pe["n_calls_unsalted"] == data["record_keeping"]["predictions"]["n_calls"] == 2
    assert _OLD_WORDS in _article(data, "26(5)")["why"]  # (true of unsalted calls)
    assert verify(report, store=store) is True


def test_older_reports_still_verify_after_an_erasure(tmp_path):
    from tests.compliance.conftest import before_format_16

    store = stp.stores.MemoryStore()
    log = Log(store, _model(store))
    log.predict([0])
    path = tmp_path / "report.json"
    made = _report(log.model, path)
    # a format 16 report made before the account was added: nothing erased, it verifies
    del made["record_keeping"]["prediction_erasures"]
    assert verify(_resealed(made, tmp_path / "before.json"), store=store) is True
    log.predict([1])
    _erase(store, [0], "request 3")
    data = _report(log.model, tmp_path / "after.json")
    before_format_16(data)
    data["report"]["format_version"] = 15
    with pytest.warns(UserWarning, match="format 15"):
        assert verify(_resealed(data, tmp_path / "f15.json"), store=store) is True


def test_the_html_page_shows_the_erasures(tmp_path):
    store = stp.stores.MemoryStore()
    log = Log(store, _model(store))
    log.predict([0, 1])
    log.predict([2])
    _erase(store, [1], "request <9>")
    report = _quiet(lambda: compliance_report(log.model, **DEPLOYER))
    page = tmp_path / "report.html"
    report.to_html(page)
    html = page.read_text()
    assert "request &lt;9&gt;" in html and "request <9>" not in html
    if chromium() is None:
        if os.environ.get("STP_REQUIRE_BROWSER"):
            pytest.fail("STP_REQUIRE_BROWSER is set but Chromium is not installed")
        text = re.sub(r"<[^>]+>", " ", html).replace("&lt;", "<").replace("&gt;", ">")
    else:  # as a person reads it: rendered in a real browser
        text, _, problems, _ = load_page(page)
        assert problems == []
    text = re.sub(r"\s+", " ", text)
    assert "Calls erased at request 1 call(s), 2 row(s), logged from" in text
    assert "Erasures recorded in the store event" in text and "request <9>" in text
    assert "1 prediction erasure in the store" in text  # (Art. 12, as the page states it)
    assert "Stored logs cover six months not yet, except for 1 call(s) of this model" in text


@settings(
    deadline=None,
    max_examples=12,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    batches=st.lists(st.sets(st.integers(0, 5), min_size=1), min_size=1, max_size=6),
    requests=st.lists(st.sets(st.integers(0, 5), max_size=3), max_size=3),
)
@example(batches=[{0}, {0, 1}], requests=[{0}, {0}])
def test_the_counts_match_the_bookkeeping(tmp_path_factory, batches, requests):
    store = stp.stores.MemoryStore()
    log = Log(store, _model(store))
    for rows in batches:
        log.predict(sorted(rows))
    people = set()
    for i, rows in enumerate(requests):
        if rows:
            _erase(store, sorted(rows), f"request {i}")
        people |= rows
    path = tmp_path_factory.mktemp("report") / "report.json"
    data = _report(log.model, path)
    pe = data["record_keeping"]["prediction_erasures"]
    erased = log.erased_by(people)
    assert {k: pe[k] for k in _truth(log, erased)} == _truth(log, erased)
    assert pe["n_erasures"] == len(
        store.events(kind="store.prediction_erasure", include_store_events=True)
    )
    assert verify(path, store=store) is True


def test_erased_explanations_are_counted_apart(tmp_path):
    from sklearn.frozen import FrozenEstimator

    store = stp.stores.MemoryStore()
    log = Log(store, _model(store))
    explainer = stp.InfluenceExplainer(FrozenEstimator(log.model)).fit(_X, _Y)
    log.predict([2])
    explainer.explain(_X.iloc[[2]], top_k=2, log=True)
    explainer.explain(_X.iloc[[4]], top_k=2, log=True)  # another person: kept
    _erase(store, [2], "request 5")
    path = tmp_path / "report.json"
    data = _report(log.model, path)
    pe = data["record_keeping"]["prediction_erasures"]
    assert (pe["n_calls_erased"], pe["n_explanations_erased"]) == (1, 1)
    assert data["record_keeping"]["explanations"]["n_calls"] == 2
    assert "1 prediction call of this model (1 row, logged" in _article(data, "12")["why"]
    assert ") and 1 logged explanation were erased" in _article(data, "12")["why"]
    assert verify(path, store=store) is True


def _leaves(value, pointer=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*pointer, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*pointer, i))
    else:
        yield pointer, value


def _changed(value):
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str) and value.startswith("20"):  # a time: a year later
        return str(int(value[:4]) + 1) + value[4:]
    return f"{value}x"


def test_every_figure_of_the_account_edited_is_found(tmp_path):
    store = stp.stores.MemoryStore()
    log = Log(store, _model(store))
    for i in range(3):
        log.predict([i])
    _erase(store, [0], "request 1")
    _erase(store, [2], "request 2")
    path = tmp_path / "report.json"
    made = _report(log.model, path)
    leaves = list(_leaves(made["record_keeping"]["prediction_erasures"]))
    assert len(leaves) == 8 + 2 * 3
    for n, (pointer, value) in enumerate(leaves):
        data = json.loads(path.read_text())
        node = data["record_keeping"]["prediction_erasures"]
        for key in pointer[:-1]:
            node = node[key]
        node[pointer[-1]] = _changed(value)
        with pytest.raises(ReportVerificationError) as info:
            verify(_resealed(data, tmp_path / f"{n}.json"), store=store)
        where = "/".join(map(str, pointer))
        assert any(f"prediction_erasures/{where}" in p for p in info.value.problems), where


def test_a_later_erasure_warning_counts_every_erasure_not_only_the_first_ten(tmp_path):
    # the warning named the first ten erasure events with no count: twelve read as ten
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    model = _model(store)
    people = pd.DataFrame({"age": np.arange(12) + 20.0, "income": np.arange(12) / 4 + 1})
    for i in range(12):
        model.predict(people.iloc[[i]])
    path = tmp_path / "report.json"
    _report(model, path)
    for i in range(12):
        _erase_one = lambda i=i: store.erase_predictions(people.iloc[[i]], reason=f"r {i}")  # noqa: E731
        _quiet(_erase_one)
    with pytest.warns(UserWarning, match="erased from the store after") as caught:
        assert verify(path, store=store) is True
    said = [str(w.message) for w in caught if "erased from the store after" in str(w.message)]
    assert len(said) == 1 and "and 2 more, 12 in all" in said[0]
