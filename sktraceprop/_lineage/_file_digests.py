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
"""

import os
import time

__all__ = ["PROCESS_DIGESTS", "SETTLED_NS", "FileDigests"]

#: How long a file must have been left alone before its digest is kept (ns).
SETTLED_NS = 3_000_000_000


class FileDigests:
    """Digests of the files one object has hashed, keyed on path and file status.

    Not carried by pickle or copy (another machine's device and inode numbers name
    other files): a copy starts empty.
    """

    def __init__(self):
        self._kept = {}

    def __reduce__(self):
        return (FileDigests, ())

    def __deepcopy__(self, memo):
        return FileDigests()

    def kept(self, path, fh):
        """The digest kept for ``path`` if the open file ``fh`` has the status it was
        read with, else None; and that status, to :meth:`keep` after hashing."""
        start = time.time_ns()
        st = os.fstat(fh.fileno())
        status = _status(st)
        hit = self._kept.get(path)
        if hit is not None and hit[0] == status:
            return hit[1], None
        # (Windows' st_ctime is the creation time: a rewrite leaves it, so nothing kept)
        settled = os.name != "nt" and max(st.st_mtime_ns, st.st_ctime_ns) < start - SETTLED_NS
        return None, (status if settled else None)

    def keep(self, path, fh, status, digest):
        """Keep ``digest`` of ``path`` where its status was settled before the read
        and is the same after it (a write during the hash changed it)."""
        if status is None:
            self._kept.pop(path, None)
            return
        if status == _status(os.fstat(fh.fileno())):
            self._kept[path] = (status, digest)
        else:
            self._kept.pop(path, None)


def _status(st):
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


#: The digests ``row_lineage`` and ``Lineage.trace`` keep (one per path; its dict's
#: single lookups and stores need no lock).
PROCESS_DIGESTS = FileDigests()
