"""What a SQLite store compares to tell that its file changed or was replaced: the file's
identity, and the stamp an immutable handle keeps (see ``SQLiteStore._open_readonly``)."""

import os
import sqlite3

from ..exceptions import StoreError
from ._sqlite_reads import read_file


def _stat(name):
    """``os.stat(name)``, None where there is no file; another error of the operating
    system (an I/O error, no permission on the folder) as a :class:`StoreError` naming
    the file: nothing was read or written past it."""
    try:
        return os.stat(name)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            f"{name}: the operating system could not look up the store's file ({exc}); "
            "nothing was read or written. Check the disk and the folder's permissions, "
            "then retry."
        ) from exc


class Immutable(sqlite3.Connection):
    """A connection opened with ``immutable=1``, and the ``stamp`` of the file then."""

    stamp = None


def stamp(path):
    """What changes when the store's file or its -wal file is written or replaced.

    The file's inode, size, mtime and ctime (None where there is none), its -wal file's
    the same but the ctime (SQLite changes it when it opens the log, to give it the
    file's owner), and the file's page 1. The mtime alone can be set back (``cp -p``,
    ``touch -r``, ``rsync -t``, ``os.utime``) over a file of the same size; doing so
    changes the ctime, and a file moved there has another inode. Page 1 is compared
    where the file system keeps no ctime: a write in rollback-journal mode changes it
    (its change counter).
    """
    out = []
    for name in (path, f"{path}-wal"):
        found = _stat(name)
        if found is None:
            out.append(None)
        else:
            out.append((found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns))
    return out[0], out[1] and out[1][:3], page_one(path)


def page_one(path):
    """The first page of the file at ``path`` (b"" where there is none), read beside
    SQLite (:mod:`._sqlite_reads`)."""
    try:
        head = read_file(str(path), 0, 100)
        size = int.from_bytes(head[16:18], "big") if len(head) == 100 else 0
        return head + read_file(str(path), 100, max((65536 if size == 1 else size) - 100, 0))
    except FileNotFoundError:
        return b""


def file_id(path):
    """``(device, inode)`` of the file at ``path``, or None when there is none."""
    found = _stat(path)
    return None if found is None else (found.st_dev, found.st_ino)
