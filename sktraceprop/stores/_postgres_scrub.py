"""Wiping erased values' dead row versions from a PostgreSQL store's table files.

A ``DELETE`` leaves the deleted rows in the table's files (MVCC keeps them for snapshots
that may still read them) until ``VACUUM`` prunes them; ``VACUUM FULL`` rewrites the
table of values (``run_leaves``) into new files without them. The transaction that
deletes erased values also adds a marker (an ``stp_meta`` key ``vacuum_scrub:<id>``,
:func:`mark`): a writer killed after it commits and before the rewrite leaves the
marker. ``stp_meta`` is append-only, so the rewrite that finishes adds
``vacuum_scrub:<id>:done``. ``VACUUM FULL`` waits for every open transaction that read
the table, and keeps the erased values for every snapshot older than the erasure
(:mod:`._postgres_scrub_snapshots`): the erasure waits a few seconds for both (the
store's timeout if less), then warns naming them; every later write through any handle
and every writable opening of the store tries again (without waiting) until one
finishes, and until then ``check()`` and ``verify()`` say so; an opening warns once per
pending rewrite in a process. A role that does not own the table cannot rewrite it (the
server skips it with a notice, read off the table's file number:
:mod:`._postgres_scrub_owner`); the warnings say what its owner must run.

The planner's statistics of the erased columns (``ANALYZE``'s sample of their values, in
the catalog ``pg_statistic``) are dropped with the rewrite
(:mod:`._postgres_scrub_stats`).

What no client can wipe: the server's write-ahead log (``pg_wal``) holds the values as
they were inserted until the server recycles its segments and writes over them, and its
archives, replicas and backups keep their copies (see doc/stores.rst).
"""

import contextlib
import uuid
import warnings

from ..utils._stack import user_stacklevel
from ._postgres_scrub_owner import (
    NotRewritten,
    filenode,
    first_time,
    owner_instruction,
    rewritten,
)
from ._postgres_scrub_snapshots import OldSnapshots, marker_value, wait_for_older
from ._postgres_scrub_stats import drop_statistics
from ._sqlite_scrub import ERASURE_WAIT

__all__ = ["PENDING_PREFIX", "left", "mark", "on_open", "retry", "scrub"]

PENDING_PREFIX = "vacuum_scrub:"


def _psycopg():
    from ._postgres import _psycopg

    return _psycopg()


def mark(store, con, wipe=None):
    """Add a pending marker in the transaction open on ``con`` (the one deleting values);
    ``wipe``: its id, as the erasure event names it (:mod:`._wipe_marks`)."""
    con.execute(
        store._sql("INSERT INTO {m} VALUES (%s, %s)", m="stp_meta"),
        (f"{PENDING_PREFIX}{wipe or uuid.uuid4()}", marker_value(con)),
    )


def _pending(store, con):
    rows = con.execute(
        store._sql("SELECT key FROM {m} WHERE key LIKE %s", m="stp_meta"),
        (PENDING_PREFIX + "%",),
    )
    keys = {k for (k,) in rows}
    return sorted(k for k in keys if not k.endswith(":done") and f"{k}:done" not in keys)


def _finish(store, con, wait):
    """``VACUUM FULL`` of the table of values, waiting ``wait`` seconds at most for the
    locks of other transactions; then the pending markers are marked done. Raises the
    server's error where it could not (a lock not granted in time), and
    :class:`NotRewritten` where the server skipped the table (a role that does not own
    it: a notice, not an error), and :class:`OldSnapshots` where other transactions
    older than the erasure stay open ``wait`` seconds (the rewrite would keep the values
    for them: :mod:`._postgres_scrub_snapshots`)."""
    psycopg, _, _ = _psycopg()
    if con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("a transaction is open on this connection")
    pending = _pending(store, con)
    if pending:  # a snapshot open then, and not later, may hold the values
        wait_for_older(store, con, pending, wait)
    (before,) = con.execute("SHOW lock_timeout").fetchone()
    waits = f"{max(1, round(wait * 1000))}ms"  # 0 would wait for ever
    con.execute("SELECT set_config('lock_timeout', %s, false)", (waits,))
    tables = ["run_leaves"] + (["prediction_salts"] if store.schema_version >= 4 else [])
    nodes, notices = {table: filenode(store, con, table) for table in tables}, []

    def notice(diagnostic):
        notices.append(diagnostic.message_primary or "")

    con.add_notice_handler(notice)
    try:
        for table in tables:
            con.execute(store._sql("VACUUM (FULL) {t}", t=table))
        rewritten(store, con, nodes, notices)
        # ANALYZE's copies of the values, which the rewrite leaves (the role may: it did)
        drop_statistics(store, con, tables)
    finally:
        con.remove_notice_handler(notice)
        con.execute("SELECT set_config('lock_timeout', %s, false)", (before,))
    if pending:
        con.cursor().executemany(
            store._sql("INSERT INTO {m} VALUES (%s, %s) ON CONFLICT DO NOTHING", m="stp_meta"),
            [(f"{k}:done", "vacuumed") for k in pending],
        )


def _holders(store, con):
    """The other server processes holding a lock on the table of values, in words."""
    psycopg, _, _ = _psycopg()
    try:
        rows = con.execute(
            "SELECT DISTINCT a.pid, a.usename, a.application_name, a.state, a.xact_start "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.relation = to_regclass(quote_ident(%s) || '.run_leaves') "
            "AND l.pid <> pg_backend_pid() ORDER BY a.pid",
            (store.schema,),
        ).fetchall()
    except psycopg.Error:
        return ""
    named = [
        f"pid {pid} ({user or '?'}, {app or 'no application_name'}, {state or '?'}"
        f"{f', transaction since {start:%Y-%m-%d %H:%M:%S %Z}' if start else ''})"
        for pid, user, app, state, start in rows[:5]
    ]
    return f"; held by server process {', '.join(named)}" if named else ""


def scrub(store):
    """Rewrite the table of values after an erasure committed; warn where it could not."""
    psycopg, _, _ = _psycopg()
    con = store._connection()
    try:
        _finish(store, con, min(store.timeout, ERASURE_WAIT))
    except (psycopg.Error, NotRewritten, OldSnapshots) as exc:
        pending = _pending(store, con)
        first_time(pending)  # an opening in this process does not say it again
        warnings.warn(
            f"{store!r}: the erased values were deleted, but VACUUM FULL of run_leaves "
            f"failed ({str(exc).strip()}{_holders(store, con)}): their dead row versions "
            "stay in the table's "
            "files. Every later write to the store, and every writable opening of it, "
            "tries again (another transaction that read the table, or one begun before the "
            "erasure, blocks it until it ends; a role without the table's ownership "
            "cannot run it); until then check() "
            f"and verify() say so{owner_instruction(store, con, pending)}",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def retry(store, con):
    """After a commit on ``con``: if an earlier erasure's rewrite is pending, try it
    again without waiting for locks, silently (the erasure warned)."""
    psycopg, _, _ = _psycopg()
    with contextlib.suppress(psycopg.Error, RuntimeError):  # (NotRewritten, OldSnapshots)
        if _pending(store, con):
            _finish(store, con, 0)


def left(store, con):
    """What of erased values the store's table files may still hold, in words."""
    pending = _pending(store, con)
    if not pending:
        return []
    return [
        "erased values' dead row versions may still be in the files of its run_leaves "
        "(or prediction_salts) table: an erasure committed, but the table was not yet "
        "rewritten (VACUUM FULL: another transaction held it or began before the erasure, "
        "the role may not own it, or the writer stopped first). The next write, or "
        "opening the store writable, tries again" + owner_instruction(store, con, pending)
    ]


def on_open(store, con):
    """When a store opens: finish a pending rewrite (writable), or warn that the erased
    values' dead row versions are still in its table's files: once per pending rewrite
    in this process (``check()`` and ``verify()`` say so every time)."""
    psycopg, _, _ = _psycopg()
    try:
        if not _pending(store, con):
            return
    except psycopg.Error:
        return
    if store.mode == "rw" and getattr(store, "_integrity_failure", None) is None:
        retry(store, con)
    pending = _pending(store, con)
    if not pending or not first_time(pending):
        return
    reason = (
        "it is opened read-only (mode='ro'): open it writable to finish"
        if store.mode == "ro"
        else "another transaction holds the table or began before the erasure, or this "
        "role does not own it: the next write tries again"
    )
    warnings.warn(
        f"{store!r}: an erasure committed, but the erased values' dead row versions are "
        f"still in the files of its run_leaves table (not yet rewritten by VACUUM FULL); "
        f"{reason}{owner_instruction(store, con, pending)}",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
