"""A model pickled with its MemoryStore carries a copy of the store frozen at pickling:
its trace() checked that copy and said ``erased`` False, "erasures checked in
MemoryStore", for rows an erasure request named in the store itself after the pickle.
Rows the copy records no request of are not known (<NA>), never False. The truth: the
data's keys of the rows requested before and after the pickle. A request made in this
process is known here whatever the copy holds (True, naming it); the copy's own words
are those another process, which made none, reads."""

import pickle

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop import _removed_rows
from tests.stores.test_trace_erasures import _caught, _data, _erased_by_key, _fit

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("before, after", [({1003}, {1014, 1029}), (set(), {1007})])
def test_a_pickled_memory_store_marks_what_it_holds_and_says_the_rest_is_not_known(
    tmp_path, before, after, monkeypatch
):
    store = stp.stores.MemoryStore()
    df, visits = _data(tmp_path / "data")
    pipe = _fit(store, df)
    if before:
        _erased_by_key(store, visits, before, "art. 17")
    blob = pickle.dumps(pipe)
    _erased_by_key(store, visits, after, "art. 17")  # (in the store itself, after)
    loaded = pickle.loads(blob)
    n = len(df)
    keys = df["key"].to_numpy()

    # this process made the requests: it knows their rows, whatever the copy holds
    frame, _ = _caught(lambda: loaded.trace(np.arange(n)))
    at = keys[frame["train_index"].to_numpy()]
    erased = np.isin(at, sorted(before | after))
    np.testing.assert_array_equal(frame["erased"].fillna(False).to_numpy(bool), erased)
    assert frame["erased"][~erased].isna().all()
    # as a process that made none reads the copy (its record of requests empty)
    monkeypatch.setattr(_removed_rows, "_REQUESTS", [])
    frame, _ = _caught(lambda: loaded.trace(np.arange(n)))
    at = keys[frame["train_index"].to_numpy()]
    marks = frame["erased"]
    assert marks.dtype == "boolean"
    # erased before the pickle: True; every other row: not known, never False
    np.testing.assert_array_equal(marks.fillna(False).to_numpy(bool), np.isin(at, sorted(before)))
    assert marks[~np.isin(at, sorted(before))].isna().all()
    assert frame.attrs["erasures_checked"] is False
    assert "unpickled MemoryStore" in frame.attrs["erasures_note"]

    # the store itself, given: every request seen, True or False
    frame, _ = _caught(lambda: loaded.lineage_.trace(np.arange(n), store=store))
    at = keys[frame["train_index"].to_numpy()]
    np.testing.assert_array_equal(
        frame["erased"].to_numpy(bool), np.isin(at, sorted(before | after))
    )
    assert frame.attrs["erasures_checked"] is True
