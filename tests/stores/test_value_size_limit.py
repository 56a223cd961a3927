"""A run whose record or row ids exceed what one stored value may hold is refused first.

SQLite refuses a value over 1e9 bytes (``SQLITE_MAX_LENGTH``) and PostgreSQL a field over
1 GiB: about 125 million row ids of shuffled rows of several sources (8 bytes each). The
save failed with the database's own error, after the run's events were made. It is now
refused beforehand with a StoreError naming the value and the limit, nothing written.
The cap is monkeypatched small; the truth is the sizes SQLite reports for the same run
saved where nothing caps it.
"""

import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import StoreError


def _lineage(n=4000):
    """A traced fit on shuffled rows of two sources."""
    rng = np.random.default_rng(0)
    a = stp.from_numpy(rng.normal(size=(n, 2)), "left")
    b = stp.from_numpy(rng.normal(size=(n, 2)), "right")
    X = pd.concat([a, b]).sample(frac=1.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0)
    return model.lineage_


def _sizes(path):
    with sqlite3.connect(path) as con:
        return con.execute(
            "SELECT length(CAST(record AS BLOB)), length(row_ids) FROM runs"
        ).fetchone()


def test_a_value_over_the_cap_is_refused_naming_it_and_nothing_is_written(tmp_path, monkeypatch):
    lineage = _lineage()
    free = tmp_path / "free.db"
    stp.stores.SQLiteStore(free).save_run(lineage)
    record, ids = _sizes(free)
    assert ids > 8000  # (shuffled ids of two sources: no run-length coding)
    path = tmp_path / "capped.db"
    store = stp.stores.SQLiteStore(path)
    before = len(store.events(include_store_events=True))
    values = [("its record", record), ("its row ids", ids)]
    for cap in sorted({record - 1, ids - 1, min(record, ids) // 2}):
        what, size = next((w, v) for w, v in values if v > cap)  # (checked in this order)
        monkeypatch.setattr(stp.stores.SQLiteStore, "_max_value_bytes", cap)
        with pytest.raises(StoreError, match=f"{what} would take {size:,} bytes") as info:
            store.save_run(lineage)
        assert f"{cap:,} bytes" in str(info.value) and "nothing was written" in str(info.value)
        assert len(store.events(include_store_events=True)) == before
        assert len(store.list_runs()) == 0
    monkeypatch.setattr(stp.stores.SQLiteStore, "_max_value_bytes", max(record, ids))
    assert store.save_run(lineage) == lineage.run_id  # (at the cap: stored)
    assert _sizes(path) == (record, ids)


def test_sqlite_and_postgres_cap_a_value_at_1e9_bytes():
    assert stp.stores.SQLiteStore._max_value_bytes == 1_000_000_000
    assert stp.stores.PostgresStore._max_value_bytes == 1_000_000_000
    assert stp.stores.MemoryStore._max_value_bytes is None
