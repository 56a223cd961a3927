"""Snapshots older than an erasure, which ``VACUUM FULL`` must keep its values for.

``VACUUM FULL`` copies into the rewritten table every row version that a snapshot still
open may read. A transaction begun before an erasure committed (``REPEATABLE READ`` or
``SERIALIZABLE``, a long statement, a session idle in its transaction, a prepared
transaction, a replica's feedback through a replication slot) keeps the erased values
in the new files even when it never read the table, so it holds no lock that the
rewrite waits for, and the table's file number changes all the same. Before a rewrite
the erasure's transaction id (recorded in its marker, :func:`marker_value`) is compared
with the oldest transaction ids every other server process, replication slot and
prepared transaction holds (:func:`older_holders`): the wipe is marked done only when
none is older. Ids are compared as 64-bit (``xid8``: epoch and id), so a wraparound of
the 32-bit ids cannot make an old snapshot look new. A logical slot's ``catalog_xmin``
holds back the system catalogs only, not the table of values, and is not counted; nor is
the snapshot of a plain (lazy) ``VACUUM``, manual or autovacuum, of any table: the server
leaves it out of the horizon ``VACUUM FULL`` keeps row versions for (its process is
flagged ``PROC_IN_VACUUM``), so it keeps no erased value (checked on the bytes of a
table rewritten while one runs). Such a process is told by its row in
``pg_stat_progress_vacuum``; ``VACUUM FULL`` (``pg_stat_progress_cluster``) and
``ANALYZE`` hold real snapshots and are counted. ``backend_xmin`` and ``backend_xid``
are shown to every role, the processes of other roles included (only their query and
state are hidden without ``pg_read_all_stats``): a restricted role sees every holder.
"""

import re
import time

__all__ = ["OldSnapshots", "marker_value", "older_holders", "wait_for_older"]

_TAG = "erasure transaction "
_HALF = 2**31


class OldSnapshots(RuntimeError):
    """Other transactions older than the erasure: ``VACUUM FULL`` would keep its values."""


def marker_value(con):
    """The pending marker's value, naming the transaction adding it (64-bit id)."""
    (xid,) = con.execute(
        "SELECT pg_current_xact_id()::text"
        if con.info.server_version >= 130000
        else "SELECT txid_current()::text"
    ).fetchone()
    return f"erased values' dead row versions; {_TAG}{xid}"


def _next_xid(con):
    (xid,) = con.execute(
        "SELECT pg_snapshot_xmax(pg_current_snapshot())::text"
        if con.info.server_version >= 130000
        else "SELECT txid_snapshot_xmax(txid_current_snapshot())::text"
    ).fetchone()
    return int(xid)


def _widen(xid32, next64):
    """A 32-bit transaction id as the 64-bit one it is, next to ``next64`` (the next id
    to be assigned): the server keeps every live id within 2**31 of it."""
    behind = (next64 - int(xid32)) % 2**32
    if behind >= _HALF:  # assigned after ``next64`` was read
        behind -= 2**32
    return next64 - behind


def _erasure_xid(store, con, pending, next64):
    """The newest 64-bit id of the transactions that added the ``pending`` markers (a
    marker written before the id was recorded: its row's ``xmin``)."""
    rows = con.execute(
        store._sql("SELECT value, xmin::text FROM {m} WHERE key = ANY(%s)", m="stp_meta"),
        (list(pending),),
    ).fetchall()
    ids = []
    for value, xmin in rows:
        said = re.search(re.escape(_TAG) + r"(\d+)", value or "")
        ids.append(int(said.group(1)) if said else _widen(xmin, next64))
    return max(ids) if ids else next64


def older_holders(store, con, pending):
    """The other server processes, replication slots and prepared transactions holding
    a snapshot or a transaction id not newer than the erasures' (``pending``: their
    markers), in words; ``[]`` where none."""
    next64 = _next_xid(con)
    erasure = _erasure_xid(store, con, pending, next64)

    def older(*xids):
        return any(x is not None and _widen(x, next64) <= erasure for x in xids)

    said = []
    for pid, user, app, state, start, xmin, xid in con.execute(
        # a lazy VACUUM's xmin is left out of VACUUM FULL's horizon by the server
        "SELECT a.pid, a.usename, a.application_name, a.state, a.xact_start, "
        "CASE WHEN v.pid IS NULL THEN a.backend_xmin::text END, a.backend_xid::text "
        "FROM pg_stat_activity a LEFT JOIN pg_stat_progress_vacuum v ON v.pid = a.pid "
        "WHERE a.pid <> pg_backend_pid() "
        "AND (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL) ORDER BY a.pid"
    ):
        if older(xmin, xid):
            since = f", transaction since {start:%Y-%m-%d %H:%M:%S %Z}" if start else ""
            state = state or "its state hidden from this role"
            app = app or "no application_name"
            said.append(f"pid {pid} ({user or '?'}, {app}, {state}{since})")
    for name, xmin in con.execute(
        "SELECT slot_name, xmin::text FROM pg_replication_slots WHERE xmin IS NOT NULL"
    ):
        if older(xmin):
            said.append(f"replication slot {name!r}")
    for gid, xid in con.execute("SELECT gid, transaction::text FROM pg_prepared_xacts"):
        if older(xid):
            said.append(f"prepared transaction {gid!r}")
    return said


def wait_for_older(store, con, pending, wait):
    """Wait ``wait`` seconds at most for the holders of snapshots older than the
    erasures to end; raise :class:`OldSnapshots` naming them where some remain."""
    deadline = time.monotonic() + wait
    while True:
        holders = older_holders(store, con, pending)
        if not holders:
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    named = ", ".join(holders[:5]) + (f" and {len(holders) - 5} more" if len(holders) > 5 else "")
    raise OldSnapshots(
        "transactions older than the erasure are still open, and VACUUM FULL keeps every "
        f"row version their snapshots may read: {named}"
    )
