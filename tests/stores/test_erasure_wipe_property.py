"""Property: a SQLite store never holds an erased value's bytes without saying so.

Erasures, readers opening and closing, writes and handles opened anew, in any order:
after each step, every erased one-hot category still found in the raw bytes of the
store's files (``store.db``, ``-wal``, ``-shm``) must be announced by ``check()``
(``erased_bytes_left``), and once no reader is left a write removes them all.
"""

import shutil
import sqlite3
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp

ROWS = 12


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    lines = ["name,x,y"] + [f"ZQNAME{i:03d},{i},{i % 2}" for i in range(ROWS)]
    (folder / "a.csv").write_text("\n".join(lines) + "\n")
    store = stp.stores.SQLiteStore(folder / "store.db")
    df = stp.read_csv(folder / "a.csv", source_id="a")
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["name"]), ("passthrough", ["x"])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
        pipe.fit(df[["name", "x"]], df["y"])
    (run_id,) = store.list_runs()["run_id"]
    row_ids = store.load_run(run_id).row_ids
    store.close()
    return folder / "store.db", row_ids


def _held(folder, rows):
    data = b"".join(p.read_bytes() for p in folder.glob("store.db*"))
    return [r for r in rows if f"ZQNAME{r:03d}".encode() in data]


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("erase"), st.integers(0, ROWS - 1)),
        st.sampled_from([("reader",), ("unread",), ("write",), ("reopen",)]),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_erased_bytes_still_in_the_files_are_always_announced(template, steps):
    path, row_ids = template
    folder = Path(tempfile.mkdtemp())
    readers, erased = [], set()
    try:
        shutil.copy(path, folder / "store.db")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            store = stp.stores.SQLiteStore(folder / "store.db", timeout=0.2)
            run = store.load_run(store.list_runs()["run_id"][0])
            for step in steps:
                if step[0] == "erase" and step[1] not in erased:
                    (feature,) = [f for f in run.feature_lineage if f"ZQNAME{step[1]:03d}" in f]
                    store.erase_rows(sample_id=row_ids[[step[1]]], reason="r", features=[feature])
                    erased.add(step[1])
                elif step[0] == "reader":
                    reader = sqlite3.connect(folder / "store.db")
                    cursor = reader.execute("SELECT * FROM events")
                    cursor.fetchone()
                    readers.append((reader, cursor))
                elif step[0] == "unread" and readers:
                    reader, cursor = readers.pop()
                    cursor.fetchall()
                    reader.close()
                elif step[0] == "write":
                    store.append_event("review", {"n": len(erased)})
                elif step[0] == "reopen":
                    store.close()
                    store = stp.stores.SQLiteStore(folder / "store.db", timeout=0.2)
                held = _held(folder, erased)
                if held:
                    assert store.check()["erased_bytes_left"], (step, held)
            for reader, cursor in readers:
                cursor.fetchall()
                reader.close()
            readers = []
            store.append_event("review", {"n": -1})
            assert _held(folder, erased) == []
            assert store.check()["erased_bytes_left"] == []
            store.close()
    finally:
        for reader, _ in readers:
            reader.close()
        shutil.rmtree(folder, ignore_errors=True)
