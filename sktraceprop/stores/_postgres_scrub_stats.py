"""The planner's statistics of a PostgreSQL store's erasable columns, dropped at a wipe.

``ANALYZE`` (autovacuum runs it by itself once a table has grown enough) copies a sample
of each column's values into the catalog ``pg_statistic`` (most common values, histogram
bounds): the erasable values and salts of ``run_leaves`` and the salts of
``prediction_salts``. ``VACUUM FULL`` of those tables does not touch it: after an
erasure ``pg_stats`` still listed the erased values (a one-hot category, a salt that
makes an erased call findable again) and the file of ``pg_statistic`` held their bytes,
while the wipe said done. At each wipe, the collection of those columns' statistics is
turned off (``SET STATISTICS 0``: ``ANALYZE`` skips them), and where the catalog holds
some, they are dropped (``ALTER COLUMN ... TYPE`` of the column's own type removes them:
the table's owner may run it, as it runs the ``VACUUM FULL``) and ``pg_statistic`` is
rewritten (``VACUUM FULL``, which only the database's owner or a superuser may run) so
that their old row versions leave its file. Where that rewrite is skipped, a warning
says so and what the database's owner must run; the statistics themselves are gone and
cannot come back, so the wipe of the store's own tables is not held pending for it.

A store created by this library turns that collection off for those columns when it
creates their tables (:func:`never_collect`), so that ``ANALYZE`` never copies a value
there in the first place. A store created before that kept collecting until its first
wipe; now an opening turns it off (:func:`stop_collecting`) where the role may (it owns
the tables: ``ALTER TABLE ... SET STATISTICS`` takes a ``SHARE UPDATE EXCLUSIVE`` lock,
which reads and writes of the store do not wait for, waited for 2 s at most), and
otherwise warns, once per store in a process, naming the columns and what their owner
must run. What ``ANALYZE`` copied before stays in ``pg_statistic`` until the next wipe
drops it (values of rows no erasure has named yet: an erasure drops them).
"""

import threading
import warnings

from ..utils._stack import user_stacklevel

__all__ = ["COLUMNS", "drop_statistics", "never_collect", "stop_collecting"]

_WARNED = set()  # (server, database, schema, why) warned of in this process
_LOCK = threading.Lock()

#: The columns whose values an erasure deletes, by table.
COLUMNS = {"run_leaves": ("value", "salt"), "prediction_salts": ("salt",)}


def _collected(store, con, tables):
    """``[(table, column)]`` of the erasable columns whose statistics are still collected."""
    rows = con.execute(
        "SELECT c.relname::text, a.attname::text FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND COALESCE(a.attstattarget, -1) <> 0",
        (store.schema,),
    ).fetchall()
    return [(t, c) for t, c in rows if t in tables and c in COLUMNS.get(t, ())]


def _held(store, con, tables):
    """``[(table, column)]`` of the erasable columns ``pg_statistic`` holds statistics of."""
    rows = con.execute(
        "SELECT DISTINCT tablename::text, attname::text FROM pg_stats WHERE schemaname = %s",
        (store.schema,),
    ).fetchall()
    return sorted((t, c) for t, c in rows if t in tables and c in COLUMNS.get(t, ()))


def _catalog_node(con):
    (node,) = con.execute("SELECT pg_relation_filenode('pg_catalog.pg_statistic')").fetchone()
    return node


def never_collect(store, con, tables):
    """Turn off the collection of statistics of ``tables``' erasable columns, in the
    transaction (on ``con``) that creates those tables: ``ANALYZE`` then never copies
    their values into ``pg_statistic``."""
    for table in tables:
        turned_off = ", ".join(f"ALTER COLUMN {c} SET STATISTICS 0" for c in COLUMNS[table])
        con.execute(store._sql(f"ALTER TABLE {{t}} {turned_off}", t=table))


def _owner(store, con, table):
    """``(owner, current role, may alter)`` of one of the store's tables."""
    return con.execute(
        "SELECT pg_get_userbyid(c.relowner), current_user, "
        "pg_has_role(current_user, c.relowner, 'USAGE') "
        "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
        "FROM pg_class c WHERE c.oid = to_regclass(quote_ident(%s) || '.' || %s)",
        (store.schema, table),
    ).fetchone()


def stop_collecting(store, con):
    """At an opening of an existing store (schema version 3 or later): turn off the
    collection of statistics of its erasable columns where it is still on (a store
    created before :func:`never_collect` ran at creation), or, where this handle may
    not (opened read-only, a role that does not own the tables, a lock not granted in
    2 s), warn once per store in this process, naming them and what to run."""
    from ._postgres_schema import _psycopg

    psycopg, _, _ = _psycopg()
    try:
        present = {t for (t,) in con.execute(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s",
            (store.schema,),
        )}  # fmt: skip
        collected = _collected(store, con, present & set(COLUMNS))
    except psycopg.Error:  # (the opening's own checks say what is wrong with the schema)
        return
    if not collected:
        return
    why = "it is opened read-only (mode='ro')"
    if store.mode == "rw":
        owner, me, may = _owner(store, con, collected[0][0])
        why = f"this role ({me}) does not own its tables (their owner: {owner})"
        if may:
            try:
                with con.transaction():
                    con.execute("SET LOCAL lock_timeout = '2s'")
                    for table, column in collected:
                        con.execute(
                            store._sql(
                                f"ALTER TABLE {{t}} ALTER COLUMN {column} SET STATISTICS 0",
                                t=table,
                            )
                        )
                return
            except psycopg.Error as exc:
                why = f"turning it off failed ({str(exc).strip()})"
    key = (con.info.host, con.info.port, con.info.dbname, store.schema, why)
    with _LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    named = ", ".join(f"{t}.{c}" for t, c in collected)
    run = "; ".join(
        f'ALTER TABLE "{store.schema}".{t} ALTER COLUMN {c} SET STATISTICS 0' for t, c in collected
    )
    warnings.warn(
        f"{store!r} was created by an earlier sktraceprop: ANALYZE (autovacuum runs it) "
        f"still copies samples of the values of {named} (values an erasure deletes, and "
        "salts) into the planner's statistics (the catalog pg_statistic), where they stay "
        f"until an erasure's wipe drops them. This handle did not turn that off: {why}. "
        f"Connected as the tables' owner, open the store writable (it turns it off), or "
        f"run: {run}",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def drop_statistics(store, con, tables):
    """Turn off, and drop, the statistics of ``tables``' erasable columns (``con`` in
    autocommit, the tables just rewritten), and rewrite ``pg_statistic`` where it held
    some; warn where that rewrite was skipped."""
    for table, column in _collected(store, con, tables):
        con.execute(
            store._sql(f"ALTER TABLE {{t}} ALTER COLUMN {column} SET STATISTICS 0", t=table)
        )
    held = _held(store, con, tables)
    if not held:
        return
    for table, column in held:
        con.execute(store._sql(f"ALTER TABLE {{t}} ALTER COLUMN {column} TYPE text", t=table))
    before = _catalog_node(con)
    con.execute("VACUUM (FULL) pg_catalog.pg_statistic")  # (skipped with a notice)
    if _catalog_node(con) != before:
        return
    named = ", ".join(f"{t}.{c}" for t, c in held)
    warnings.warn(
        f"{store!r}: ANALYZE had copied a sample of the values of {named} (erased values "
        "among them) into the planner's statistics (the catalog pg_statistic); they were "
        "dropped, and are no longer collected, but their old row versions stay in the "
        "file of pg_statistic until it is rewritten, which only the database's owner or "
        "a superuser may do. As one of them, run VACUUM (FULL) pg_catalog.pg_statistic",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
