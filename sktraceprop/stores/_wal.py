"""Whether a SQLite file's write-ahead log (its ``-wal`` file) was written on that file.

SQLite does not check that a ``-wal`` file belongs to the database file next to it. A
store file overwritten in place (another store's file copied over it, an older backup
restored with ``cp``) while the old file's log is still there gets that log replayed
onto it: reads return pages of one store inside the other, with no error, and the last
connection to close folds the log into the file for good.

So every write transaction of :class:`~sktraceprop.stores.SQLiteStore` binds its log to
its file. It changes two fields of the database header (page 1, which then goes into the
log with the transaction): ``user_version`` becomes a new random number, the *stamp* of
the state committed, and ``application_id`` the stamp it replaced. Page 1 of the file
then holds the stamp of the state the log starts from, or, once a checkpoint copied part
of the log into the file, a page 1 the log holds. :func:`wal_mismatch` checks this before
SQLite reads the log:

- the log's committed frames (SQLite's WAL format: a 32-byte header, then frames of a
  24-byte header and one page; a frame counts while its salts are the header's and its
  checksum is right, and up to the last frame that ends a transaction) are read as
  SQLite would replay them;
- the -shm file (the wal-index shared by the connections open on the file) says how many
  frames a checkpoint copied into the file (``nBackfill``): connections that share it read
  those pages from the file, so the file must hold at least that state;
- the log belongs to the file if the file's page 1 is byte for byte one the log holds
  from the last one copied on; or, where no page 1 was copied, if the first page 1 in the
  log was written on top of the file's: its ``application_id`` is the file's
  ``user_version`` (a sktraceprop transaction), or both fields are the file's (another
  SQLite client's transaction, which leaves them).

An older copy of the file the log began on passes (SQLite then reads the store as it is),
as it should. A log with no page 1 among its committed frames was written only by other
clients (or by sktraceprop before this check, which did not stamp its writes): it is not
bound, and not refused. Frames count as SQLite counts them: up to the first whose
salts or checksum (which goes on from frame to frame) are wrong, and up to the last
that ends a transaction.
"""

import hashlib
import secrets
import struct
import sys
from array import array

from ._sqlite_reads import read_file

_WAL_MAGIC = (0x377F0682, 0x377F0683)
_WAL_HEADER = 32
_FRAME_HEADER = 24
_PAGE_SIZES = {2**k for k in range(9, 17)}
# the -shm file (the wal-index): two copies of its 48-byte header, then nBackfill
_SHM_HEADER = 136
_SHM_BACKFILL = 96
# offsets in the database header (page 1)
_PAGE_SIZE = 16
_USER_VERSION = 60
_APPLICATION_ID = 68


def stamp_statements(current):
    """The statements that bind a write transaction to the state it replaces.

    ``current`` is the ``user_version`` read in the transaction (the stamp of the state it
    starts from). Returns the two ``PRAGMA`` statements to run before ``COMMIT``.
    """
    # 31 bits: the pragmas take a signed 32-bit number; never 0, a store's first stamp
    new = secrets.randbelow(2**31 - 1) + 1
    return [f"PRAGMA application_id = {int(current)}", f"PRAGMA user_version = {new}"]


def _header_fields(page):
    return struct.unpack_from(">i", page, _USER_VERSION)[0], struct.unpack_from(
        ">i", page, _APPLICATION_ID
    )[0]


def _checksum(data, big_endian, s0=0, s1=0):
    """SQLite's WAL checksum of ``data``, going on from ``(s0, s1)``: over its 32-bit
    words taken in pairs, ``s0 += x0 + s1; s1 += x1 + s0`` (modulo 2**32)."""
    words = array("I", data)
    if big_endian != (sys.byteorder == "big"):
        words.byteswap()
    pairs = iter(words)
    for x0, x1 in zip(pairs, pairs):
        s0 = (s0 + x0 + s1) & 0xFFFFFFFF
        s1 = (s1 + x1 + s0) & 0xFFFFFFFF
    return s0, s1


def _digest(page):
    return hashlib.blake2b(page, digest_size=16).digest()


def _read_log(path, page_size, memo, written):
    """Bring ``memo`` up to date with the committed frames of the log at ``path``.

    ``memo`` (a dict, empty at first) keeps what was read: the log's header, the offset
    after its last committed frame, the frame numbers and digests of the page-1 images up
    to there, and the header fields of the first. A log still in the same use (the same
    header, so the same salts) is read on from there: SQLite appends to it, and
    overwrites only frames after the last committed one. ``written`` (None: no bound) is
    the last frame the -shm file says is written whole: a writer writes a frame's header
    before its page, so a frame after it may not be. Returns False if SQLite would
    replay nothing from the log.
    """
    header = read_file(f"{path}-wal", 0, _WAL_HEADER)
    big_endian = bool(struct.unpack_from(">I", header)[0] & 1)
    if memo.get("header") != header:
        memo.clear()
        checksum = _checksum(header[:24], big_endian)
        if checksum != struct.unpack_from(">II", header, 24):
            return False  # SQLite ignores a log whose header is damaged
        memo.update(header=header, offset=_WAL_HEADER, pages=[], first=None)
        memo["checksum"] = checksum
    rest = read_file(f"{path}-wal", memo["offset"])
    salts = header[16:24]
    frame = _FRAME_HEADER + page_size
    pages, offset, end, checksum = [], 0, 0, memo["checksum"]
    committed = checksum
    while offset + frame <= len(rest):
        frame_number = (memo["offset"] + offset - _WAL_HEADER) // frame + 1
        if written is not None and frame_number > written:
            break
        number, commit = struct.unpack_from(">II", rest, offset)
        if rest[offset + 8 : offset + 16] != salts:
            break  # a frame of an earlier use of the log: SQLite stops there too
        # as SQLite does: a frame counts if its checksum, which goes on from the one
        # before, is right (the salts alone can repeat: forked processes draw the
        # same "random" salts for a log they create anew)
        checksum = _checksum(rest[offset : offset + 8], big_endian, *checksum)
        checksum = _checksum(rest[offset + _FRAME_HEADER : offset + frame], big_endian, *checksum)
        if checksum != struct.unpack_from(">II", rest, offset + 16):
            break
        if number == 1:
            page = rest[offset + _FRAME_HEADER : offset + frame]
            pages.append((frame_number, _digest(page), _header_fields(page)))
        offset += frame
        if commit:
            end, committed = offset, checksum
            if pages and memo["first"] is None:
                memo["first"] = pages[0][2]
            memo["pages"] += [(number, digest) for number, digest, _ in pages]
            pages = []
    memo["offset"] += end
    memo["checksum"] = committed
    return memo["offset"] > _WAL_HEADER


def _shared_index(path, header):
    """``(nBackfill, mxFrame)`` of the -shm file for this use of the log, or None.

    ``nBackfill`` frames are copied into the file already: SQLite connections that share
    the -shm file read those pages from the file, not from the log. ``mxFrame`` is the
    last frame of the last transaction committed, written whole. None where there is no
    -shm file, or one for another use of the log (the next connection rebuilds it).
    """
    try:
        shm = read_file(f"{path}-shm", 0, _SHM_HEADER)
    except FileNotFoundError:
        return None
    # the wal-index header keeps the log header's salts as they are, in bytes 32-40
    if len(shm) < _SHM_HEADER or shm[32:40] != header[16:24]:
        return None
    backfilled, written = (
        struct.unpack_from("=I", shm, _SHM_BACKFILL)[0],
        struct.unpack_from("=I", shm, 16)[0],
    )  # (native byte order)
    if shm[:48] != shm[48:96] or backfilled > written:
        return None  # being written, or not for this log: the next connection rebuilds it
    return backfilled, written


def wal_mismatch(path, memo=None):
    """Why the log next to the database file ``path`` was not written on it, or None.

    Reads the three files (never writes them); returns None where there is no log,
    nothing in it SQLite would replay, or a log that belongs to the file (see the module
    notes). ``memo``, a dict kept between calls on one file, saves reading the log
    again from its start. Files written meanwhile can be read half-way: a caller that
    finds them changed clears ``memo``, and reads again before it believes a mismatch.
    """
    memo = {} if memo is None else memo
    try:
        header = read_file(f"{path}-wal", 0, _WAL_HEADER)
        if len(header) < _WAL_HEADER or struct.unpack_from(">I", header)[0] not in _WAL_MAGIC:
            return None  # SQLite ignores it (and overwrites it with the next write)
        wal_page_size = struct.unpack_from(">I", header, 8)[0]
        if wal_page_size not in _PAGE_SIZES:
            return None  # (as SQLite does)
        # in this order: a checkpoint between the reads moves the file on, never back
        shared = _shared_index(path, header)
        backfilled, written = shared if shared is not None else (0, None)
        head = read_file(path, 0, 100)
        if len(head) < 100:
            return None
        page_size = struct.unpack_from(">H", head, _PAGE_SIZE)[0]
        page_size = 65536 if page_size == 1 else page_size
        page_one = read_file(path, 0, page_size)
        if shared is None:
            memo.clear()  # no writer shares it, or it is being reset: nothing to keep
        if not _read_log(path, wal_page_size, memo, written):
            return None
    except FileNotFoundError:
        return None
    if wal_page_size != page_size:
        return f"its pages are of {wal_page_size} bytes, the file's of {page_size}"
    if memo["first"] is None:
        return None  # no page 1 in the log: not bound (see the module notes)
    # the file must hold the state the log was copied into it up to (or a later one)
    copied = [k for k, (number, _) in enumerate(memo["pages"]) if number <= backfilled]
    since = copied[-1] if copied else 0
    if _digest(page_one) in {digest for _, digest in memo["pages"][since:]}:
        return None
    if copied:
        return (
            f"the -shm file says its first {backfilled} frames are in the file already, "
            "and the file's page 1 is none the log holds from there on"
        )
    stamp, previous = _header_fields(page_one)
    first_stamp, first_previous = memo["first"]
    if first_previous == stamp or (first_stamp, first_previous) == (stamp, previous):
        return None
    return (
        f"its first transaction was made on a file stamped {first_previous} (the header's "
        f"user_version), and this file is stamped {stamp}"
    )
