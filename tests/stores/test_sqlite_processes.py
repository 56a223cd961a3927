"""Several processes writing, checkpointing and opening read-only handles on one SQLite
store: none of their writes may fail or be lost.

SQLite locks its files with POSIX advisory locks, which belong to the process: closing
any descriptor of the file drops them all. The check of the file's header on opening a
store read it with open() and closed it, so a process that opened a second handle (a
read-only one, say) left its writing connection unprotected: under several processes,
writes failed with disk I/O errors and events were lost.
"""

import shutil
import sqlite3
import tempfile
from pathlib import Path

import sktraceprop as stp
from tests.stores._store_helpers import run_in_processes


def _busy_worker(path, k, n, queue):
    """Append ``n`` events, checkpoint now and then, and open read-only handles: what
    other processes do to one store; report every error."""
    errors = []
    try:
        store = stp.stores.SQLiteStore(path)
        for i in range(n):
            try:
                store.append_event("review", {"worker": k, "i": i})
                if i % 11 == 0:
                    con = sqlite3.connect(path)
                    con.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    con.close()
                if i % 13 == 0:
                    with stp.stores.SQLiteStore(path, mode="ro") as reader:
                        reader.list_runs()
            except Exception as exc:
                errors.append(repr(exc))
        store.close()
    except Exception as exc:  # report to the parent rather than hang
        errors.append(repr(exc))
    queue.put(errors)


def test_processes_writing_checkpointing_and_reading_one_store_lose_nothing():
    # Before: disk I/O errors (SQLITE_IOERR_SHORT_READ) and fewer than 400 events.
    folder = Path(tempfile.mkdtemp())
    try:
        path = str(folder / "store.db")
        stp.stores.SQLiteStore(path).close()
        assert run_in_processes(_busy_worker, [(path, k, 100) for k in range(4)]) == []
        store = stp.stores.SQLiteStore(path)
        assert len(store.events()) == 400 and store.verify()
    finally:
        shutil.rmtree(folder)
