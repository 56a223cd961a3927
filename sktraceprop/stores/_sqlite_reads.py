"""Reading a SQLite store's files beside SQLite, without dropping SQLite's locks.

SQLite locks its files with POSIX advisory locks, which belong to the process: closing
any descriptor of a file drops every lock the process holds on it, its SQLite
connections' too (SQLite's "How To Corrupt", 2.2). Reading a store's file, -wal or -shm
file with ``open()`` then closing it, while a connection of the process had the file
open, left that connection unprotected: with several processes writing, checkpointing
and opening read-only handles, writes failed with disk I/O errors (SQLITE_IOERR_SHORT_READ)
and events were lost. So the descriptors read here are never closed: one per file (path
and inode) seen, kept for the life of the process.

Only a handle that reads its file as immutable (``mode='ro'`` on read-only media, see
``SQLiteStore._open_readonly``) reads it here, for page 1 of its stamp; opening a store
reads its file through SQLite alone, so a process that opens, closes and removes many
stores keeps no descriptor of them (nor the disk space of a removed one).
"""

import os
import threading

_OPEN = {}
_LOCK = threading.Lock()


def read_file(path, offset=0, size=None):
    """Up to ``size`` bytes (None: to the end) of the file at ``path`` from ``offset``.

    Raises FileNotFoundError where there is no file.
    """
    found = os.stat(path)
    key = (path, found.st_dev, found.st_ino)
    with _LOCK:
        fd = _OPEN.get(key)
        if fd is None:
            fd = os.open(path, os.O_RDONLY)
            opened = os.fstat(fd)  # (another file may have been put there since the stat)
            key = (path, opened.st_dev, opened.st_ino)
            if key in _OPEN:
                # a second descriptor for the same file: kept open too, never closed
                _OPEN[(*key, fd)] = fd
            else:
                _OPEN[key] = fd
    if size is None:
        size = os.fstat(fd).st_size - offset
    chunks = []
    while size > 0:
        chunk = os.pread(fd, size, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset, size = offset + len(chunk), size - len(chunk)
    return b"".join(chunks)
