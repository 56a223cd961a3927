"""Who may rewrite a PostgreSQL store's table of values, and saying it once.

``VACUUM FULL`` run by a role that does not own the table (nor the database, nor is a
superuser) is not an error: the server skips the table with a notice and the command
succeeds. Whether it rewrote the table is read off its file number
(``pg_relation_filenode``), which every rewrite changes (:func:`rewritten`).

A role that cannot rewrite the table would otherwise warn at every opening of the
store; the warning for a pending rewrite is given once per process
(:func:`first_time`), and it says what the table's owner must run
(:func:`owner_instruction`).
"""

import threading

__all__ = ["NotRewritten", "filenode", "first_time", "owner_instruction", "rewritten"]

_WARNED = set()
_LOCK = threading.Lock()


class NotRewritten(RuntimeError):
    """``VACUUM FULL`` returned, but the table was not rewritten (the server skipped it)."""


def filenode(store, con, table="run_leaves"):
    """The file number of one of the store's tables (changed by every rewrite)."""
    (node,) = con.execute(
        "SELECT pg_relation_filenode(to_regclass(quote_ident(%s) || '.' || %s))",
        (store.schema, table),
    ).fetchone()
    return node


def rewritten(store, con, before, notices):
    """Raise :class:`NotRewritten` unless every table's file number changed from
    ``before`` (``{table: file number}``; ``notices``: the server's notices during the
    ``VACUUM FULL``)."""
    kept = [table for table, node in before.items() if filenode(store, con, table) == node]
    if not kept:
        return
    said = "; ".join(notices) or "no notice"
    raise NotRewritten(
        f"VACUUM FULL did not rewrite {' and '.join(kept)} (the server said: {said})"
    )


def owner_instruction(store, con, pending):
    """What the table's owner must run, in words ("" where this role could run it)."""
    try:
        owner, me, may = con.execute(
            "SELECT pg_get_userbyid(c.relowner), current_user, "
            "pg_has_role(current_user, c.relowner, 'USAGE') "
            "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
            "FROM pg_class c WHERE c.oid = to_regclass(quote_ident(%s) || '.run_leaves')",
            (store.schema,),
        ).fetchone()
    except Exception:  # noqa: BLE001 (the words only: the warning is given anyway)
        return ""
    if may:
        return ""
    table = f'"{store.schema}".run_leaves'
    done = ", ".join(f"('{key}:done', 'vacuumed')" for key in pending)
    return (
        f"; this role ({me}) does not own {table}, so its VACUUM FULL is skipped: "
        f"connected as its owner ({owner}) or a superuser, open the store writable "
        f"(PostgresStore(dsn, schema={store.schema!r})), which rewrites the table and "
        f"marks the wipe done, or run VACUUM (FULL) {table}; and then "
        f'INSERT INTO "{store.schema}".stp_meta VALUES {done}'
    )


def first_time(pending):
    """True when some of the ``pending`` rewrites were not yet warned of in this process
    (they are then marked warned)."""
    with _LOCK:
        new = set(pending) - _WARNED
        _WARNED.update(new)
    return bool(new)
