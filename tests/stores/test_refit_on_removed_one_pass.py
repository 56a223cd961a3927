"""A fit on group statistics, writing to a store that records a removal, reads what
each removal event needs once: the events' runs once each, one pass over the events.

Before, the check of the fit's rows and the check of the rows its statistics were
computed over each went over the store's events, reading each event's run again (and
each walked the merges of the training rows). Truth for the warning: the files'
physical lines, as tests/stores/test_refit_on_removed_aggregates_store.py checks them.
"""

import re
import warnings

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import _removed_in_store, _removed_rows
from sktraceprop.exceptions import RefitOnRemovedWarning
from tests.unlearning.test_refit_on_removed_aggregates import REMOVED_PIDS, _files, _line_of


@pytest.mark.parametrize("how", ["unlearn", "erase"])
def test_statistics_over_removed_rows_read_each_run_once(tmp_path, monkeypatch, how):
    people, salaries = _files(tmp_path, "onepass")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    mask = salaries["pid"].isin(REMOVED_PIDS).to_numpy()
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()), store=store
    ).fit(salaries[["salary"]], salaries["late"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "unlearn":
            unl.unlearn(mask=mask)
        else:
            store.erase_rows(sample_id=salaries.index[mask].to_numpy(), reason="art. 17")
    _removed_rows.clear()  # the store alone says it
    mean = stp.aggregate(salaries, by="pid", salary_mean=("salary", "mean"))
    X = stp.merge(people, mean, on="pid")
    X.loc[X["pid"] == REMOVED_PIDS[0], "age"] = 70  # (a training row removed itself too)
    y = (X["age"].to_numpy() > 45).astype(int)
    runs_read = []
    read = _removed_in_store._Run.__init__

    def counted(self, store, run_id):
        runs_read.append(run_id)
        read(self, store, run_id)

    monkeypatch.setattr(_removed_in_store._Run, "__init__", counted)
    passes = []
    check = _removed_in_store.removed_in_store

    def counted_pass(*args, **kwargs):
        passes.append(None)
        return check(*args, **kwargs)

    monkeypatch.setattr(_removed_in_store, "removed_in_store", counted_pass)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pipe.fit(X[["age", "salary_mean"]], y)
    assert len(passes) == 1
    # (an erasure names rows by source and line: no run to read for a file's rows)
    assert len(runs_read) == len(set(runs_read)) == (how == "unlearn"), runs_read
    said = [str(w.message) for w in record if issubclass(w.category, RefitOnRemovedWarning)]
    (said,) = [s for s in said if "group statistics" in s]
    assert f"trains on {len(REMOVED_PIDS)} row(s) that hold group statistics" in said
    for pid in REMOVED_PIDS:
        for nth in (0, 1):
            line = _line_of(tmp_path, "salaries.csv", pid, nth)
            assert re.search(rf"onepass_salaries line {line}\b", said), (line, said)
