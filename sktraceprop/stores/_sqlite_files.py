"""The SQLite store's files as the operating system sees them: what identifies them,
what changes when they are written or replaced, and connections that must not close."""

import ctypes
import os
import sqlite3

from ._sqlite_reads import read_file


class Immutable(sqlite3.Connection):
    """A connection opened with ``immutable=1``, and the ``stamp`` of the file then."""

    stamp = None


def file_stamp(path):
    """What changes when the store's file or its -wal file is written or replaced.

    The file's inode, size, mtime and ctime (None where there is none), its -wal file's
    the same but the ctime (SQLite changes it when it opens the log, to give it the
    file's owner), and the file's page 1. The mtime alone can be set back (``cp -p``,
    ``touch -r``, ``rsync -t``, ``os.utime``) over a file of the same size; doing so
    changes the ctime, and a file moved there has another inode. Page 1 is compared
    where the file system keeps no ctime: a sktraceprop write changes it (see
    :mod:`._wal`), as does any write in rollback-journal mode (its change counter).
    """
    found, log = wal_key(path)
    return found, log and log[:3], page_one(path)


def page_one(path):
    """The first page of the file at ``path`` (b"" where there is none)."""
    try:
        head = read_file(path, 0, 100)
        size = int.from_bytes(head[16:18], "big") if len(head) == 100 else 0
        return head + read_file(path, 100, max((65536 if size == 1 else size) - 100, 0))
    except FileNotFoundError:
        return b""


def set_aside(con):
    """Keep ``con`` open until the process ends, without closing it then either.

    ``con`` is on a file whose log was written on another file: the last connection to
    close a file folds its log into it, which would mix the two stores for good (see
    :meth:`._sqlite.SQLiteStore._check_wal`). A process that ends without closing a connection
    leaves both files as they are, as after a crash. Python closes the connections it
    still holds when it exits, so one more reference is taken that is never given back.
    """
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(con))


def wal_key(path):
    """What changes when the file or its -wal file is written, replaced or removed."""
    out = []
    for name in (path, f"{path}-wal"):
        try:
            found = os.stat(name)
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns))
    return tuple(out)


def file_id(path):
    """``(device, inode)`` of the file at ``path``, or None when there is none."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino
