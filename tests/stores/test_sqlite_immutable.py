"""An immutable read-only handle whose file is replaced by one of the same size and mtime.

``mode='ro'`` where no -shm file can be made (read-only media) reads the file with
``immutable=1``: SQLite then assumes it never changes, and the handle compares the file
before and after each read. It compared the size and mtime only: a file of the same size
put there with its mtime set back (``cp -p``, ``touch -r``, ``rsync -t``, ``os.utime``)
was read as the one opened, pages read before and after the change mixed in one answer.
"""

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import StoreBusyError, StoreError
from sktraceprop.stores import _sqlite_files
from tests.stores._store_helpers import fit_run


def _closed_store(path, marker):
    """A store with 2 runs and 2 events, every connection closed (no -wal file left)."""
    store = stp.stores.SQLiteStore(path)
    for k in range(2):
        run = fit_run(store, seed=k)
        store.append_event("unlearn", {"marker": f"{marker}-{k}"}, run_id=run.run_id)
    store.close()
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A folder with the store as opened, a later state of it, and another store: all
    three files of one size."""
    folder = tmp_path_factory.mktemp("immutable")
    opened = _closed_store(folder / "opened.db", "A")
    later = folder / "later.db"
    shutil.copyfile(opened, later)
    store = stp.stores.SQLiteStore(later)
    store.append_event("review", {"later": True})
    store.close()
    _closed_store(folder / "other.db", "B")
    assert len({(folder / f"{n}.db").stat().st_size for n in ("opened", "later", "other")}) == 1
    return folder


def _immutable_handle(path):
    """A mode='ro' handle reading ``path`` as on read-only media (immutable=1)."""
    store = stp.stores.SQLiteStore(path, mode="ro")
    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    con = sqlite3.connect(uri, uri=True, factory=_sqlite_files.Immutable, isolation_level=None)
    con.stamp = _sqlite_files.stamp(str(path))
    store._local.con, store._local.pid = con, os.getpid()
    store._local.file = _sqlite_files.file_id(str(path))
    return store


def _put(path, data, how):
    """Put ``data`` at ``path`` with the mtime it had, as ``cp -p`` or ``rsync -t`` do."""
    mtime = os.stat(path).st_mtime_ns
    if how == "in place":
        with open(path, "r+b") as f:
            f.write(data)
    else:
        moved = Path(f"{path}.tmp")
        moved.write_bytes(data)
        os.utime(moved, ns=(mtime, mtime))
        os.replace(moved, path)
    os.utime(path, ns=(mtime, mtime))
    assert os.stat(path).st_mtime_ns == mtime


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start_put=st.sampled_from(
        [("opened", "later"), ("later", "opened"), ("opened", "other"), ("later", "other")]
    ),
    how=st.sampled_from(["in place", "moved there"]),
)
def test_a_file_replaced_with_its_size_and_mtime_kept_is_not_read_as_the_one_opened(
    files, start_put, how
):
    start, put = start_put
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "store.db"
        shutil.copyfile(files / f"{start}.db", path)
        store = _immutable_handle(path)
        expected = len(store.events())
        with pytest.raises(StoreBusyError, match="changed while this handle read it"):
            with store._snapshot():
                rows = []
                for row in store._raw_events():
                    rows.append(row)
                    if len(rows) == 1:
                        _put(path, (files / f"{put}.db").read_bytes(), how)
        assert rows  # read, never returned
        if put == "other":
            with pytest.raises(StoreError, match="was replaced"):
                store.events()
        else:  # the next read opens the file anew, and reads it whole
            assert len(store.events()) == expected + (1 if put == "later" else -1)
            assert store.verify()
    finally:
        shutil.rmtree(folder)
