"""A store switched to a rollback journal (``PRAGMA journal_mode=DELETE``, as SQLite
advises before putting a database on read-only media), whose writer was killed inside a
transaction: the file then holds pages never committed, and ``<path>-journal`` the pages
as they were.

Before, a read-only handle on read-only media read the file as immutable, ignoring the
journal: ``events()`` returned the killed transaction's events (6 where 4 were
committed) and ``verify()`` called the store corrupt; on writable storage, both
``mode='ro'`` and ``mode='rw'`` were refused as "the file or its folder is read-only"
(neither was), so the store could not be opened at all. The truth is the store as it was
before the killed write, read in the parent before the child ran.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import StoreBusyError, StorePermissionError
from tests.stores._store_helpers import fit_run

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

KILLED = 77

# The child fills SQLite's page cache past its size (1 page) inside the run's
# transaction, so that SQLite writes uncommitted pages to the file, and exits as killed
# after the last insert, before the commit.
CHILD = textwrap.dedent(
    """
    import contextlib, os, sys, warnings
    warnings.simplefilter("ignore")
    import sktraceprop as stp
    from tests.stores._store_helpers import fit_run
    store = stp.stores.SQLiteStore(sys.argv[1])
    store._connection().execute("PRAGMA cache_size=1")
    opened = store._writer
    @contextlib.contextmanager
    def dying_writer():
        with opened() as writer:
            yield writer
            os._exit(77)
    store._writer = dying_writer
    fit_run(store, n=3000, seed=5)
    """
)


@pytest.fixture(scope="module")
def killed_once(tmp_path_factory):
    """A store in rollback-journal mode, a writer killed inside its third run: (folder,
    the events committed before)."""
    path = tmp_path_factory.mktemp("killed") / "s.db"
    store = stp.stores.SQLiteStore(path)
    for k in range(2):
        fit_run(store, seed=k)
    store.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    con.close()
    before = stp.stores.SQLiteStore(path, mode="ro").events(include_store_events=True)
    env = {**os.environ, "PYTHONPATH": str(Path(stp.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == KILLED, done.stderr[-3000:]
    assert Path(f"{path}-journal").stat().st_size > 0  # the journal is hot
    return path.parent, before


@pytest.fixture
def killed(killed_once, tmp_path):
    """A copy of :func:`killed_once` (its file and journal) for one test: (path, events)."""
    folder, before = killed_once
    for name in ("s.db", "s.db-journal"):
        shutil.copyfile(folder / name, tmp_path / name)
    return tmp_path / "s.db", before


def test_a_writable_handle_rolls_the_killed_write_back(killed):
    path, before = killed
    store = stp.stores.SQLiteStore(path)
    assert store.events(include_store_events=True) == before
    assert store.verify() and len(store.list_runs()) == 2
    assert not Path(f"{path}-journal").exists()
    event = store.append_event("review", {"after": "the crash"})
    assert event["seq"] == len(before) + 1 and event["prev_hash"] == before[-1]["hash"]
    assert store.verify()


def test_a_read_only_handle_names_the_journal_and_reads_nothing(killed):
    path, before = killed
    with pytest.raises(StorePermissionError, match=r"s\.db-journal holds a write transaction"):
        stp.stores.SQLiteStore(path, mode="ro")
    # the journal is left for a writable handle, which then restores what was committed
    assert Path(f"{path}-journal").stat().st_size > 0
    assert stp.stores.SQLiteStore(path).events(include_store_events=True) == before


def test_read_only_media_never_read_the_uncommitted_pages(killed, monkeypatch):
    # As on read-only media (where root too cannot write): no connection can roll the
    # journal back, and an immutable one would read the file as it is.
    path, before = killed
    real_access = os.access

    def access(name, how, **kwargs):
        if how == os.W_OK and str(name).startswith(str(path.parent)):
            return False
        return real_access(name, how, **kwargs)

    real_connect = sqlite3.connect

    def connect(target, *args, **kwargs):
        if not kwargs.get("uri"):  # a writable connection: none can be made on the media
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real_connect(target, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(sqlite3, "connect", connect)
    for mode in ("ro", "rw"):
        with pytest.raises(StorePermissionError, match=r"s\.db-journal holds a write"):
            stp.stores.SQLiteStore(path, mode=mode)
    monkeypatch.undo()
    assert stp.stores.SQLiteStore(path).events(include_store_events=True) == before


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_a_journal_of_a_writer_still_at_work_is_busy(killed, mode):
    # A live writer whose page cache spilled holds the file exclusively, its journal
    # looking like a killed one's: opening must wait for it (StoreBusyError), not be
    # refused as an interrupted write, nor roll it back.
    path, before = killed
    stp.stores.SQLiteStore(path).close()  # the killed write rolled back
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA cache_size=1")
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO stp_meta VALUES ('bulk', randomblob(400000))")
        assert Path(f"{path}-journal").stat().st_size > 0
        with pytest.raises(StoreBusyError, match="locked"):
            stp.stores.SQLiteStore(path, mode=mode, timeout=0.2)
        assert Path(f"{path}-journal").stat().st_size > 0  # the writer's, left alone
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert stp.stores.SQLiteStore(path, mode=mode).events(include_store_events=True) == before
