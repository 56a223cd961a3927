"""SHA-256 of files kept between calls while the file system says nothing changed.

:attr:`Explanation.train_rows <sktraceprop.Explanation.train_rows>`, ``top`` and
``trace`` each say whether a file still holds the bytes read (``file_state``); hashing
a large file at every access took a second per gigabyte each time. An explanation keeps
each digest with the status of the open file it was read from (device, inode, size,
modification and status-change times, in nanoseconds) and hashes again when any of them
differs. The status-change time (``ctime``) cannot be set back by ``touch -d``,
``os.utime``, ``cp -p`` or ``rsync -a`` (setting the modification time sets it to now),
a file replaced by another (a rename, an editor's save) has another inode, and the
status is read from the opened file (``fstat``), which an NFS client revalidates at
open.

A digest is kept only when the file had not been modified for :data:`SETTLED_NS`
before it was read (as git treats an index entry as "racily clean"): an edit within
one timestamp tick (1 to 10 ms; 2 s on FAT) of an earlier one leaves the times equal,
so a file written just before or while it was hashed is hashed again next time. What
is left: a file written twice within one tick, with a hash between, on a file server
whose clock runs more than :data:`SETTLED_NS` behind this machine's. On Windows, whose
``st_ctime`` is the creation time, nothing is kept: every access hashes.

:func:`sktraceprop.row_lineage` and :meth:`Lineage.trace <sktraceprop.Lineage.trace>`
keep theirs in :data:`PROCESS_DIGESTS`, one for the process: a loop of ``row_lineage``
calls on rows of one large file hashed all of it at every call.

They are one store for the process: :attr:`Explanation.train_rows
<sktraceprop.Explanation.train_rows>`, ``top`` and ``trace`` keep theirs in
:data:`PROCESS_DIGESTS` too (each explanation kept its own, so a file was hashed again
by every explanation and once more by ``row_lineage``). A digest is a fact about this
machine's file (its path and status), not about the object that asked, so sharing it
hands no object a digest another would not have been given.

The store is bounded: it keeps the :data:`MAX_KEPT` paths used last and at most
:data:`MAX_PATH_CHARS` characters of paths, dropping the least recently used (a
long-running process tracing many files kept one entry per path for its life; after
100,000 paths 1.3 MB is held, where one entry per path held 28.5 MB:
``benchmarks/bench_file_digests_memory.py``). A
dropped digest is only hashed again; an entry whose file's status differs is dropped at
the lookup that sees it, so nothing kept is stale.
"""

import os
import struct
import threading
import time
from collections import OrderedDict

from .._state_format import check_record, record_of

__all__ = ["MAX_KEPT", "MAX_PATH_CHARS", "PROCESS_DIGESTS", "SETTLED_NS", "FileDigests"]

#: How long a file must have been left alone before its digest is kept (ns).
SETTLED_NS = 3_000_000_000

#: How many paths' digests a :class:`FileDigests` keeps (the least recently used dropped).
MAX_KEPT = 4096

#: How many characters of paths a :class:`FileDigests` keeps in all (a few long paths
#: must not hold what :data:`MAX_KEPT` short ones would).
MAX_PATH_CHARS = 1 << 20

#: A status packed in 40 bytes: device and inode (unsigned), size, mtime, ctime (ns).
_STATUS = struct.Struct("<QQqqq")


class FileDigests:
    """Digests of the files hashed, keyed on path and file status, the paths used last.

    Parameters
    ----------
    max_kept : int, default=MAX_KEPT
        Paths kept at most.
    max_path_chars : int, default=MAX_PATH_CHARS
        Characters of paths kept at most.

    Not carried by pickle or copy (another machine's device and inode numbers name
    other files): a copy starts empty. Its pickle records its state format
    (:mod:`sktraceprop._state_format`). Pickles made before it recorded one call
    ``FileDigests(max_kept, max_path_chars)``: the limits given by position are read as
    such a pickle's, with an :class:`~sktraceprop.exceptions.EarlierPickleWarning`
    (this library passes them by keyword); those made before the limits existed call
    ``FileDigests()``, which cannot be told from a construction (only an
    ``Explanation`` of then held one, and it says its own).
    """

    # (its pickle passes _loaded its record: see sktraceprop._state_format)
    _state_format = 1
    _state_upgrades = {}

    def __init__(self, *earlier, max_kept=MAX_KEPT, max_path_chars=MAX_PATH_CHARS):
        if earlier:
            if len(earlier) != 2:
                raise TypeError(
                    "FileDigests takes max_kept and max_path_chars by keyword (given "
                    f"{len(earlier)} by position)"
                )
            check_record(FileDigests, None)
            max_kept, max_path_chars = earlier
        self.max_kept = max_kept
        self.max_path_chars = max_path_chars
        # path -> packed status + the 32 bytes of the digest, least recently used first
        self._kept = OrderedDict()
        self._chars = 0
        # (shared by every caller of the process: eviction is no single dict operation)
        self._lock = threading.Lock()

    def __reduce__(self):
        return (_loaded, (record_of(FileDigests), self.max_kept, self.max_path_chars))

    def __deepcopy__(self, memo):
        return FileDigests(max_kept=self.max_kept, max_path_chars=self.max_path_chars)

    def __len__(self):
        return len(self._kept)

    def clear(self):
        """Drop every digest kept."""
        with self._lock:
            self._kept.clear()
            self._chars = 0

    def kept(self, path, fh):
        """The digest kept for ``path`` if the open file ``fh`` has the status it was
        read with, else None; and that status, to :meth:`keep` after hashing."""
        start = time.time_ns()
        st = os.fstat(fh.fileno())
        status = _status(st)
        with self._lock:
            hit = self._kept.get(path)
            if hit is not None:
                if hit[: _STATUS.size] == status:
                    self._kept.move_to_end(path)
                    return hit[_STATUS.size :].hex(), None
                self._drop(path)  # (stale: the file changed; never handed out)
        # (Windows' st_ctime is the creation time: a rewrite leaves it, so nothing kept)
        settled = os.name != "nt" and max(st.st_mtime_ns, st.st_ctime_ns) < start - SETTLED_NS
        return None, (status if settled else None)

    def keep(self, path, fh, status, digest):
        """Keep ``digest`` of ``path`` where its status was settled before the read
        and is the same after it (a write during the hash changed it)."""
        same = status is not None and status == _status(os.fstat(fh.fileno()))
        with self._lock:
            self._drop(path)
            if not same or len(path) > self.max_path_chars or self.max_kept < 1:
                return
            self._kept[path] = status + bytes.fromhex(digest)
            self._chars += len(path)
            while len(self._kept) > self.max_kept or self._chars > self.max_path_chars:
                self._chars -= len(self._kept.popitem(last=False)[0])

    def _drop(self, path):
        if self._kept.pop(path, None) is not None:
            self._chars -= len(path)


def _loaded(record, max_kept, max_path_chars):
    """A :class:`FileDigests` read back from its pickle (empty), once its record is read."""
    check_record(FileDigests, record)
    return FileDigests(max_kept=max_kept, max_path_chars=max_path_chars)


def _status(st):
    return _STATUS.pack(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


#: The digests ``row_lineage``, ``Lineage.trace`` and every ``Explanation`` keep (one
#: per path for the process).
PROCESS_DIGESTS = FileDigests()
