"""A report reads each event's time once, not once per figure.

Every figure of a report's retention (the span, times set back, the times the chain's
order does not contradict, the longest interval, this model's own calls, each model's
calls) parsed each event's ``created_at`` again: 14 times per event for a report (a
store of 20,000 logged calls, benchmarks/bench_report_memory.py's). The times are now
parsed once, where they are checked (``check_stamped``: the library's own stamps all at
once, other times one at a time), and handed to each figure.
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

    def spy(original, one):
        def read(texts, **kwargs):
            texts = [texts] if one else list(texts)
            parsed.extend(texts)
            return original(texts[0] if one else texts, **kwargs)

        return read

    # every compliance module that holds a reader of times by name: one time at a time,
    # or many at once (the library's own stamps read together)
    readers = {name: getattr(evidence, name) for name in ("parse_time", "exact_times")}
    readers["own_stamps"] = evidence.own_stamps
    for name, module in list(sys.modules.items()):
        if name.startswith("sktraceprop.compliance"):
            for reader, original in readers.items():
                if getattr(module, reader, None) is original:
                    one = reader == "parse_time"
                    monkeypatch.setattr(module, reader, spy(original, one))
    report = compliance_report(pipes[0], **DEPLOYER).to_dict()
    assert report["record_keeping"]["predictions"]["n_calls"] == 20
    # once where checked, once more for the month of each of this model's calls, and a
    # few of the report's own time and the chain head's: 14 per event before
    assert len(parsed) <= n_events + 20 + 10, len(parsed) / n_events
