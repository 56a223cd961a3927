"""An erasure while another connection reads a SQLite store: the erased values' old
pages in the write-ahead log are wiped by a later write, of any handle or process.

The erasure warned that they stay "until the next write after the readers finish", but
no later write removed them (SQLite's automatic checkpoints never truncate the log):
the raw bytes of the ``-wal`` file still held the erased category after several writes,
until the last connection closed. The truth here is the raw bytes of the store's files.
"""

import sqlite3
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from sktraceprop.stores._sqlite_scrub import is_pending
from tests.stores._store_helpers import open_reader

SECRET = b"SECRETNAME007"


def _fit(tmp_path, store):
    lines = ["name,x,y"] + [f"SECRETNAME{i:03d},{i},{i % 2}" for i in range(60)]
    (tmp_path / "a.csv").write_text("\n".join(lines) + "\n")
    df = stp.read_csv(tmp_path / "a.csv", source_id="a")
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["name"]), ("passthrough", ["x"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    pipe.fit(df[["name", "x"]], df["y"])
    return df, pipe


def _copies(tmp_path):
    """How many times the erased category's bytes are in each of the store's files."""
    return {
        p.name: p.read_bytes().count(SECRET)
        for p in tmp_path.iterdir()
        if p.name.startswith("s.db")
    }


def _erase(store, df, pipe):
    (feature,) = [f for f in pipe.lineage_.feature_lineage if SECRET.decode() in f]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store.erase_rows(
            sample_id=df.index[[7]].to_numpy(), reason="request 7", features=[feature]
        )
    return [str(w.message) for w in caught]


def _pending(tmp_path):
    con = sqlite3.connect(tmp_path / "s.db")
    try:
        return is_pending(con)
    finally:
        con.close()


@pytest.fixture
def erased_under_a_reader(tmp_path):
    # the erasure waits for readers up to the store's timeout before it warns
    store = stp.stores.SQLiteStore(tmp_path / "s.db", timeout=1)
    df, pipe = _fit(tmp_path, store)
    assert sum(_copies(tmp_path).values()) > 0
    reader, cursor = open_reader(tmp_path / "s.db")
    messages = _erase(store, df, pipe)
    return store, reader, cursor, messages


def test_a_write_of_the_same_handle_wipes_the_log_once_the_reader_is_gone(
    tmp_path, erased_under_a_reader
):
    store, reader, cursor, messages = erased_under_a_reader
    assert any("another connection is reading" in m for m in messages)
    assert sum(_copies(tmp_path).values()) > 0  # the warning is true: still there
    assert _pending(tmp_path)
    # a write while the reader still reads cannot wipe it, and does not fail
    store.append_event("review", {"n": 1})
    assert sum(_copies(tmp_path).values()) > 0
    # nor does it wait for the reader: another handle with a long timeout writes at once
    # (a retry that waited would block every write for the timeout while a reader reads)
    patient = stp.stores.SQLiteStore(tmp_path / "s.db", timeout=30)
    started = time.monotonic()
    patient.append_event("review", {"n": 1.5})
    assert time.monotonic() - started < 15
    assert patient._connection().execute("PRAGMA busy_timeout").fetchone() == (30000,)
    cursor.fetchall()
    reader.close()
    store.append_event("review", {"n": 2})
    assert sum(_copies(tmp_path).values()) == 0, _copies(tmp_path)
    assert not _pending(tmp_path)
    assert store.verify()


def test_a_write_of_another_process_wipes_it(tmp_path, erased_under_a_reader):
    store, reader, cursor, _ = erased_under_a_reader
    cursor.fetchall()
    reader.close()
    code = (
        "import sktraceprop as stp, sys\n"
        "stp.stores.SQLiteStore(sys.argv[1]).append_event('review', {'n': 1})\n"
    )
    # this process's handle stays open: SQLite would otherwise wipe the log on close
    store.events()
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.db")], check=True)
    assert sum(_copies(tmp_path).values()) == 0, _copies(tmp_path)
    assert not _pending(tmp_path)


def test_without_a_reader_the_erasure_wipes_at_once_and_leaves_no_marker(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    df, pipe = _fit(tmp_path, store)
    messages = _erase(store, df, pipe)
    assert not any("another connection is reading" in m for m in messages)
    assert sum(_copies(tmp_path).values()) == 0, _copies(tmp_path)
    assert not _pending(tmp_path)
    assert store.verify()


def test_a_store_marked_pending_opens_verifies_and_takes_new_runs(tmp_path, erased_under_a_reader):
    store, reader, cursor, _ = erased_under_a_reader
    assert _pending(tmp_path)
    again = stp.stores.SQLiteStore(tmp_path / "s.db")
    assert again.verify()
    rng = np.random.default_rng(0)
    X = stp.from_pandas(pd.DataFrame(rng.normal(size=(20, 2)), columns=["a", "b"]), "b")
    stp.make_traced_pipeline(LogisticRegression(), store=again).fit(X, (X["a"] > 0).astype(int))
    cursor.fetchall()
    reader.close()
