"""A fit writing to a store reads the store's removal events again only when one was
appended since (by this process or another); the check still sees every removal.

Before, every traced fit to a store read and decoded every unlearning and erasure event
(each with its removed row ids) again. Truth for the check: the rows removed, named by
the ``key`` column of the CSV files (tests/conftest.py), as the uncached check names them.
"""

import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from tests.conftest import write_hospitals
from tests.stores._store_helpers import new_schema
from tests.stores.test_refit_on_removed_store import (
    REMOVED,
    _frame,
    _removed_in_another_process,
    _said,
    _store,
)


def _reads(store, monkeypatch):
    """A count of the store's reads of its removal events."""
    calls = []
    read = type(store)._raw_events_of_kinds

    def counted(self, kinds, run_id=None):
        # (a run's own events of a kind, its redactions, are no read of the removals)
        if self is store and run_id is None:
            calls.append(tuple(kinds))
        return read(self, kinds, run_id=run_id)

    monkeypatch.setattr(type(store), "_raw_events_of_kinds", counted)
    return calls


def _check(tmp_path, spec, monkeypatch):
    paths = {k: str(v) for k, v in write_hospitals(tmp_path).items()}
    frame, X, y = _frame(paths)
    keys = frame["key"].to_numpy()
    store = _store(spec)
    calls = _reads(store, monkeypatch)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    assert not _said(lambda: pipe.fit(X, y))  # nothing removed yet
    # a removal written by another process between two fits: the next fit sees it
    _removed_in_another_process(paths, spec, "unlearn")
    (said,) = _said(lambda: pipe.fit(X, y))
    assert "trains on 3 row(s) removed" in str(said.message)
    for k in keys[REMOVED]:
        assert re.search(rf"hospital_b line {k}\b", str(said.message))
    n_read = len(calls)
    # no removal since: the same warning, the events not read again
    (again,) = _said(lambda: pipe.fit(X, y))
    assert str(again.message) == str(said.message)
    assert len(calls) == n_read
    # an erasure through another connection to the store: seen by the next fit
    other = _store(spec)
    one = 7  # a row of hospital_a, not removed before
    other.erase_rows(sample_id=X.index[[one]].to_numpy(), reason="art. 17")
    (said,) = _said(lambda: pipe.fit(X, y))
    # (3 rows an unlearner removed, 1 an erasure request erased: both said)
    assert "trains on 4 row(s) removed from a model or erased from the store" in str(said.message)
    assert "erasure event" in str(said.message)
    assert len(calls) == n_read + 1
    rest = np.setdiff1d(np.arange(len(y)), [*REMOVED, one])
    assert not _said(lambda: pipe.fit(X.iloc[rest], y[rest]))


def test_removal_events_are_read_again_only_after_a_new_one_sqlite(tmp_path, monkeypatch):
    _check(tmp_path, ("sqlite", str(tmp_path / "store.db")), monkeypatch)


def test_removal_events_are_read_again_only_after_a_new_one_postgres(
    tmp_path, monkeypatch, pg_dsn
):
    _check(tmp_path, ("postgres", pg_dsn, new_schema()), monkeypatch)


@pytest.mark.parametrize("n", [1, 3])
def test_a_memory_store_removal_is_seen_by_the_next_fit(tmp_path, n):
    from sktraceprop import _removed_rows

    paths = {k: str(v) for k, v in write_hospitals(tmp_path).items()}
    frame, X, y = _frame(paths)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    assert not _said(lambda: pipe.fit(X, y))
    store.erase_rows(sample_id=X.index[REMOVED[:n]].to_numpy(), reason="art. 17")
    _removed_rows.clear()
    (said,) = _said(lambda: pipe.fit(X, y))
    assert f"trains on {n} row(s) erased from the store (by erasure event" in str(said.message)
