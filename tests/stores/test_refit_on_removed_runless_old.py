"""An unlearning event of an unlearner that stored no run, recorded before such events
named their sources (no ``row_sources``, no ``rows_behind``): its row ids are packed
with the codes of the process that made it, which nothing records.

Before, a fit writing to the store read such an event as naming no source and trained
on the rows it removed without a word (a process reading the store took them as never
removed). Now the fit is told, naming the event's seq and the source and lines it
counts. The old event is written as its payload was: the new one less those fields.
Truth: the lines of the raw CSV bytes.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop.exceptions import LineageWarning, RefitOnRemovedWarning

REMOVED_PIDS = [3, 11]


def _write(folder):
    rng = np.random.default_rng(3)
    people = ["pid,age,label", *(f"{p},{rng.integers(10, 90)},{p % 2}" for p in range(20))]
    other = ["pid,age,label", *(f"{p},{rng.integers(10, 90)},{p % 2}" for p in range(20, 36))]
    paths = {}
    for name, lines in (("people", people), ("other", other)):
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text("\n".join(lines) + "\n")
    return paths


def _line_of_pid(path):
    """``{pid: physical line}`` from the file's bytes."""
    out = {}
    for n, raw in enumerate(path.read_bytes().decode().split("\n"), start=1):
        head = raw.split(",")[0]
        if head.isdigit():
            out[int(head)] = n
    return out


def _xy(frame):
    return frame[["age"]], frame["label"].to_numpy()


def _old_store(paths, old):
    """A store holding the event of a run-less removal of REMOVED_PIDS from people,
    as an earlier release wrote it (``old``) or as now."""
    people = stp.read_csv(paths["people"], source_id="people")
    X, y = _xy(people)
    scratch = stp.stores.MemoryStore()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(LogisticRegression(), store=scratch).fit(X, y)
        unl.unlearn(sample_id=X.index[people["pid"].isin(REMOVED_PIDS).to_numpy()].to_numpy())
    assert unl.run_id_ is None
    payload = unl.unlearning_log_[-1].payload()
    assert "row_sources" in payload  # (what the old payload lacks)
    for field in ("seq", "event_hash", *(("row_sources", "rows_behind") if old else ())):
        payload.pop(field, None)
    store = stp.stores.MemoryStore()
    store.append_event("unlearning", payload, run_id=None)
    return store


def _caught(fit):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit()
    return record


@pytest.mark.parametrize("old", [True, False])
def test_an_old_runless_unlearning_event_is_said_not_read_as_nothing(tmp_path, old):
    paths = _write(tmp_path)
    _removed_rows.clear()
    try:
        store = _old_store(paths, old)
        _removed_rows.clear()  # as in another process: the store alone says it
        people = stp.read_csv(paths["people"], source_id="people")
        X, y = _xy(people)
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        record = _caught(lambda: pipe.fit(X, y))
        lines = _line_of_pid(paths["people"])
        refit = [str(w.message) for w in record if w.category is RefitOnRemovedWarning]
        unread = [str(w.message) for w in record if "were not checked" in str(w.message)]
        if not old:  # the event read: the rows named by their lines
            (message,) = refit
            for pid in REMOVED_PIDS:
                assert re.search(rf"\bpeople line {lines[pid]}\b", message)
            assert not unread
            return
        assert not refit  # (never read through this process's codes)
        (message,) = unread
        assert re.search(r"unlearning event 1 in ", message)
        span = sorted(lines[p] for p in REMOVED_PIDS)
        # the count and the first and last line, never a range read as every line in it
        # (before, "people lines 5-13": nine lines for two rows)
        assert (
            f"{len(REMOVED_PIDS)} row(s) of people, the first at line {span[0]} and the "
            f"last at line {span[-1]} (which lines between them is not recorded)"
        ) in message
        assert not re.search(r"lines \d+-\d+", message)
        assert all(w.category is LineageWarning for w in record if "were not checked" in str(w))
        # a fit on a source the event does not count its rows under is not concerned
        other = stp.read_csv(paths["other"], source_id="other")
        record = _caught(lambda: pipe.fit(*_xy(other)))
        assert not [w for w in record if "unlearning event" in str(w.message)]
    finally:
        _removed_rows.clear()
