"""Who holds the locks a PostgreSQL store's call waited for, as the server tells it.

A lock timeout names no holder: PostgreSQL's message says only that a lock was not
available. After the call gives up, the server still lists (``pg_locks`` joined with
``pg_stat_activity``) the sessions holding locks on the store's tables and its advisory
lock: their pid, application name, role, client, state, since when their transaction
and last statement run, and that statement. Read on a connection of its own, right after
the timeout: a holder that let go in between is not listed (and this says so), and a
role without ``pg_read_all_stats`` sees other roles' statements as hidden (said as the
server says it).
"""

import contextlib

__all__ = ["lock_holders"]

# The sessions holding a lock on a table of the schema, or the store's advisory lock
# (pg_advisory_xact_lock(hashtext('sktraceprop:<schema>')): its bigint key is split into
# classid, the high 32 bits, and objid, the low ones).
_HOLDERS = """
SELECT l.pid,
       string_agg(DISTINCT CASE WHEN l.locktype = 'advisory' THEN 'advisory lock'
                                ELSE c.relname || ' ' || l.mode END, ', '),
       bool_or(l.locktype = 'advisory' OR l.mode <> 'AccessShareLock'),
       a.application_name, a.usename, a.client_addr::text, a.state,
       a.xact_start, a.query_start, left(a.query, 200)
FROM pg_locks l
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.pid <> pg_backend_pid() AND l.pid <> %s
  AND (n.nspname = %s OR (l.locktype = 'advisory' AND l.objsubid = 1
       AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext(%s)::bigint))
GROUP BY l.pid, a.application_name, a.usename, a.client_addr, a.state, a.xact_start,
         a.query_start, a.query
ORDER BY a.xact_start NULLS LAST, l.pid
"""

#: At most this many sessions are named (the others are counted).
_NAMED = 5


def _session(row):
    pid, locks, _, app, user, client, state, xact, query_start, query = row
    said = [f"pid {pid}"]
    if app:
        said.append(f"application_name {app!r}")
    if user:
        said.append(f"role {user!r}")
    said.append(f"from {client}" if client else "over a local socket")
    if state:
        said.append(f"state {state!r}")
    if xact is not None:
        said.append(f"in a transaction since {xact.isoformat()}")
    if query_start is not None:
        said.append(f"its last statement started {query_start.isoformat()}")
    if query:
        said.append(f"statement {' '.join(query.split())[:200]!r}")
    return f"{', '.join(said)}; holding {locks}"


def lock_holders(store, own=None):
    """A sentence naming the sessions that hold locks on ``store``'s tables (or its
    advisory lock) now, as the server lists them, but the session ``own`` (the pid of
    the connection that gave up, whose aborted transaction may still hold its locks);
    None where the server cannot be asked (not reachable, or no permission to read
    ``pg_locks``)."""
    try:
        con = store._connect()
    except Exception:  # noqa: BLE001 (the busy error is raised in any case)
        return None
    try:
        rows = con.execute(
            _HOLDERS, (own or 0, store.schema, f"sktraceprop:{store.schema}")
        ).fetchall()
    except Exception:  # noqa: BLE001
        return None
    finally:
        with contextlib.suppress(Exception):
            con.close()
    blocking = [r for r in rows if r[2]]
    if not blocking:
        if not rows:
            return (
                "the server lists no session holding a lock on the store's tables now "
                "(the holder let go after this call gave up)"
            )
        # a reader's ACCESS SHARE blocks only a change of the layout (an upgrade)
        blocking, what = rows, "reading the store's tables (ACCESS SHARE locks only)"
    else:
        what = "holding locks on the store's tables"
    named = "; ".join(f"[{_session(r)}]" for r in blocking[:_NAMED])
    more = f"; and {len(blocking) - _NAMED} more" if len(blocking) > _NAMED else ""
    return (
        f"the server lists {len(blocking)} session(s) {what} after this call gave up: "
        f"{named}{more}"
    )
