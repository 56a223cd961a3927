"""A report reads each event's time once, not once per figure.

Every figure of a report's retention (the span, times set back, the times the chain's
order does not contradict, the longest interval, this model's own calls, each model's
calls) parsed each event's ``created_at`` again: 14 times per event for a report (a
store of 20,000 logged calls, benchmarks/bench_report_memory.py's). The times are now
parsed once, where they are checked (``check_stamped``), and handed to each figure.
The figures themselves are checked against hand-computed truths by the retention tests
(test_report_clock*.py, test_report_log_gap.py, test_report_model_use.py ...).
"""

import sys
import warnings

import sktraceprop as stp
import sktraceprop.compliance._evidence as evidence
from sktraceprop.compliance import compliance_report

from .conftest import DEPLOYER, logged_pipeline, traced_frames


def test_each_events_time_is_parsed_at_most_twice(hospitals, tmp_path, monkeypatch):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipes = [logged_pipeline(store, X, y) for _ in range(2)]
    for i in range(40):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipes[i % 2].predict(X.iloc[i % 5 : i % 5 + 2])
    n_events = len(store.events(include_store_events=True))
    parsed = []
    original = evidence.parse_time

    def spy(text):
        parsed.append(text)
        return original(text)

    # every compliance module that holds parse_time by name
    for name, module in list(sys.modules.items()):
        if name.startswith("sktraceprop.compliance") and getattr(module, "parse_time", None):
            if module.parse_time is original:
                monkeypatch.setattr(module, "parse_time", spy)
    report = compliance_report(pipes[0], **DEPLOYER).to_dict()
    assert report["record_keeping"]["predictions"]["n_calls"] == 20
    # once where checked, once more for the month of each of this model's calls, and a
    # few of the report's own time and the chain head's: 14 per event before
    assert len(parsed) <= n_events + 20 + 10, len(parsed) / n_events
