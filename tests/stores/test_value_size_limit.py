"""A run whose record and row ids exceed what one stored row may hold is refused first.

SQLite refuses a value or row over 1e9 bytes (``SQLITE_MAX_LENGTH``) and PostgreSQL a
field or a statement's parameters over 1 GiB: about 125 million row ids of shuffled rows
of several sources (8 bytes each). The save failed with the database's own error, after
the run's events were made. It is now refused beforehand with a StoreError naming the
values, their sizes and the limit, nothing written.
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
            "SELECT length(CAST(record AS BLOB)), length(row_ids), "
            "coalesce(length(input_row_ids), 0) FROM runs"
        ).fetchone()


def test_a_value_over_the_cap_is_refused_naming_it_and_nothing_is_written(tmp_path, monkeypatch):
    lineage = _lineage()
    free = tmp_path / "free.db"
    stp.stores.SQLiteStore(free).save_run(lineage)
    record, ids, inputs = _sizes(free)
    assert ids > 8000  # (shuffled ids of two sources: no run-length coding)
    total = record + ids + inputs  # (one row: SQLite and PostgreSQL cap a row too)
    path = tmp_path / "capped.db"
    store = stp.stores.SQLiteStore(path)
    before = len(store.events(include_store_events=True))
    for cap in sorted({total - 1, max(record, ids) - 1, min(record, ids) // 2}):
        monkeypatch.setattr(stp.stores.SQLiteStore, "_max_value_bytes", cap)
        with pytest.raises(StoreError, match=f"would take {total:,} bytes") as info:
            store.save_run(lineage)
        text = str(info.value)
        assert f"its record ({record:,} bytes) and its row ids ({ids:,} bytes)" in text
        assert f"more than the {cap:,} bytes" in text and "nothing was written" in text
        assert len(store.events(include_store_events=True)) == before
        assert len(store.list_runs()) == 0
    monkeypatch.setattr(stp.stores.SQLiteStore, "_max_value_bytes", total)
    assert store.save_run(lineage) == lineage.run_id  # (at the cap: stored)
    assert _sizes(path) == (record, ids, inputs)


def test_sqlite_and_postgres_cap_a_value_at_1e9_bytes():
    assert stp.stores.SQLiteStore._max_value_bytes == 1_000_000_000
    assert stp.stores.PostgresStore._max_value_bytes == 1_000_000_000
    assert stp.stores.MemoryStore._max_value_bytes is None
