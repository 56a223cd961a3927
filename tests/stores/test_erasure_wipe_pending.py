"""An erasure committed whose old bytes a SQLite store had not yet wiped from its files:
the writer killed between the commit and the fold of the write-ahead log, or a reader
keeping the log in use.

Before: nothing in the file said so. A new process opened the store, wrote to it and
verified it, and the erased one-hot category was still in ``store.db-wal`` (raw bytes),
with no word from ``open``, ``verify()`` or ``check()``; only running the request again,
or closing every handle, removed it. Now the erasure's own transaction marks the file,
the next writable opening (or write) finishes the wipe, and until then opening,
``check()`` and ``verify()`` say that the bytes are still there. The truth here is the
raw bytes of the store's files.
"""

import io
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores._sqlite_scrub import is_pending
from tests.stores._store_helpers import open_reader, user_warnings

SECRET = "SECRETNAME007"
KILLED = 77

_CHILD = """
import os, sys, warnings
warnings.simplefilter("ignore")
import sktraceprop as stp
import sktraceprop.stores._sqlite_scrub as scrub
folder = sys.argv[1]
lines = ["name,x,y"] + [f"SECRETNAME{i:03d},{i},{i % 2}" for i in range(40)]
open(f"{folder}/a.csv", "w").write("\\n".join(lines) + "\\n")
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder
store = stp.stores.SQLiteStore(f"{folder}/store.db")
df = stp.read_csv(f"{folder}/a.csv", source_id="a")
pre = stp.make_traced_column_transformer(
    (OneHotEncoder(handle_unknown="ignore"), ["name"]), ("passthrough", ["x"])
)
pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
pipe.fit(df[["name", "x"]], df["y"])
(feature,) = [f for f in pipe.lineage_.feature_lineage if "SECRETNAME007" in f]
# killed once the erasure is committed, before anything folds the log in
scrub.retry = scrub.scrub = lambda *a: os._exit(77)
{extra}
store.erase_rows(sample_id=df.index[[7]].to_numpy(), reason="request 7", features=[feature])
"""


def _killed_after_commit(folder, extra=""):
    code = textwrap.dedent(_CHILD).replace("{extra}", extra)
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder)], capture_output=True, text=True
    )
    assert done.returncode == KILLED, done.stderr[-3000:]


def _held(folder):
    """How many times the erased category's bytes are in the store's files."""
    return sum(p.read_bytes().count(SECRET.encode()) for p in folder.glob("store.db*"))


def test_the_next_open_wipes_what_a_writer_killed_after_the_commit_left(tmp_path):
    _killed_after_commit(tmp_path)
    assert _held(tmp_path)  # committed, not wiped
    store, messages = user_warnings(lambda: stp.stores.SQLiteStore(tmp_path / "store.db"))
    assert _held(tmp_path) == 0  # the opening finished it (the handle still open)
    assert not any("still in" in m for m in messages), messages
    assert store.check()["erased_bytes_left"] == []
    assert store.verify()
    assert store.load_run(store.list_runs()["run_id"][0]) is not None


def test_until_it_is_wiped_opening_check_and_verify_say_so(tmp_path):
    _killed_after_commit(tmp_path)
    reader, cursor = open_reader(tmp_path / "store.db")  # keeps the log in use
    store, messages = user_warnings(
        lambda: stp.stores.SQLiteStore(tmp_path / "store.db", timeout=30)
    )
    assert _held(tmp_path)  # the warning is true
    assert any("still in" in m and "store.db-wal" in m for m in messages), messages
    (left,) = store.check()["erased_bytes_left"]
    assert "store.db-wal" in left
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["check", str(tmp_path / "store.db")], out=out) == 0
    assert f"warning: {left}" in out.getvalue()
    ok, messages = user_warnings(store.verify)
    assert ok and any("erased values' old bytes" in m for m in messages), messages
    # a write while the reader reads neither waits for it nor fails
    started = time.monotonic()
    store.append_event("review", {"n": 1})
    assert time.monotonic() - started < 15 and _held(tmp_path)
    cursor.fetchall()
    reader.close()
    store.append_event("review", {"n": 2})
    assert _held(tmp_path) == 0
    assert store.check()["erased_bytes_left"] == []
    _, messages = user_warnings(store.verify)
    assert not messages


def test_a_read_only_opening_says_the_bytes_are_there_and_how_to_finish(tmp_path):
    _killed_after_commit(tmp_path)
    store, messages = user_warnings(
        lambda: stp.stores.SQLiteStore(tmp_path / "store.db", mode="ro")
    )
    assert _held(tmp_path)
    assert any("still in" in m and "writable" in m for m in messages), messages
    assert store.check()["erased_bytes_left"]
    stp.stores.SQLiteStore(tmp_path / "store.db")
    assert _held(tmp_path) == 0


def test_a_store_killed_before_the_marker_existed_is_wiped_by_the_request_run_again(
    tmp_path,
):
    # a store written by an earlier sktraceprop, whose erasure left no marker: opening
    # cannot know, and running the request again still wipes it
    _killed_after_commit(
        tmp_path,
        extra="scrub.mark = lambda *a: None\n"
        "import sktraceprop.stores._redaction as redaction\n"
        "redaction.new_wipe = lambda writer: None",
    )
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    assert _held(tmp_path)
    con = sqlite3.connect(tmp_path / "store.db")
    assert not is_pending(con)
    con.close()
    (run_id,) = store.list_runs()["run_id"]
    ids = store.load_run(run_id).row_ids[[7]]
    assert store.erase_rows(sample_id=ids, reason="request 7") == []
    assert _held(tmp_path) == 0


def test_an_erasure_under_a_reader_warns_within_seconds_not_the_whole_timeout(tmp_path):
    # (the child stops before it erases: the run is stored, nothing erased)
    _killed_after_commit(tmp_path, extra="os._exit(77)")
    store = stp.stores.SQLiteStore(tmp_path / "store.db", timeout=60)
    (run_id,) = store.list_runs()["run_id"]
    ids = store.load_run(run_id).row_ids[[7]]
    (feature,) = [f for f in store.load_run(run_id).feature_lineage if SECRET in f]
    reader, cursor = open_reader(tmp_path / "store.db")
    try:
        started = time.monotonic()
        _, messages = user_warnings(
            lambda: store.erase_rows(sample_id=ids, reason="request 7", features=[feature])
        )
        waited = time.monotonic() - started
        assert waited < 30, waited
        (message,) = [m for m in messages if "another connection" in m]
        assert "tries again" in message and "check() and verify() say so" in message
        assert _held(tmp_path)
    finally:
        cursor.fetchall()
        reader.close()
    store.append_event("review", {"n": 1})
    assert _held(tmp_path) == 0


@pytest.mark.parametrize("reopen_as", ["rw", "ro"])
def test_a_store_marked_pending_keeps_working(tmp_path, reopen_as):
    _killed_after_commit(tmp_path)
    reader, cursor = open_reader(tmp_path / "store.db")
    try:
        store, _ = user_warnings(
            lambda: stp.stores.SQLiteStore(tmp_path / "store.db", mode=reopen_as)
        )
        assert len(store.list_runs()) == 1
        _, _ = user_warnings(store.verify)
    finally:
        cursor.fetchall()
        reader.close()


def _delete_marks(path, like):
    """As an attacker with the file: the append-only guard of ``stp_meta`` dropped, the
    marks ``like`` deleted, the guard made again."""
    con = sqlite3.connect(path)
    guards = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'stp_meta'"
    ).fetchall()
    for name, _ in guards:
        con.execute(f"DROP TRIGGER {name}")
    con.execute("DELETE FROM stp_meta WHERE key LIKE ?", (like,))
    for _, statement in guards:
        con.execute(statement)
    con.commit()
    con.close()


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_a_pending_wipe_whose_mark_was_deleted_is_named(tmp_path, mode):
    """Before: with the pending mark deleted from ``stp_meta``, opening, ``check()`` and
    ``verify()`` said nothing (``erased_bytes_left`` empty, verify() True) while the
    erased category was still in the files. Now the erasure event names its mark (under
    the hash chain), and the audit names the event whose mark is gone."""
    _killed_after_commit(tmp_path)
    reader, cursor = open_reader(tmp_path / "store.db")  # keeps the log in use
    try:
        _delete_marks(tmp_path / "store.db", "wal_scrub:%")
        assert _held(tmp_path)  # the erased values are still in the files
        store, _ = user_warnings(
            lambda: stp.stores.SQLiteStore(tmp_path / "store.db", mode=mode, timeout=30)
        )
        (event,) = store.events(kind="store.redaction", include_store_events=True)
        for audit in (store.verify, store.check):
            with pytest.raises(CorruptStoreError) as raised:
                user_warnings(audit)
            (problem,) = raised.value.problems
            assert problem["check"] == "erasure_wipe" and problem["seq"] == event["seq"]
            assert "was deleted" in problem["message"] and "not known" in problem["message"]
    finally:
        cursor.fetchall()
        reader.close()


def test_a_finished_wipe_whose_marks_were_deleted_is_named_too(tmp_path):
    # (a mark and its ':done' both deleted: that it was wiped is not known either)
    _killed_after_commit(tmp_path)
    store = stp.stores.SQLiteStore(tmp_path / "store.db")  # finishes the wipe
    assert _held(tmp_path) == 0 and store.verify()
    store.close()
    _delete_marks(tmp_path / "store.db", "wal_scrub:%")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    with pytest.raises(CorruptStoreError, match="erasure event") as raised:
        store.verify()
    assert [p["check"] for p in raised.value.problems] == ["erasure_wipe"]
