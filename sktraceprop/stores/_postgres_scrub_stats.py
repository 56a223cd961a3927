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
there in the first place; a store created before keeps collecting until its first wipe.
"""

import warnings

from ..utils._stack import user_stacklevel

__all__ = ["COLUMNS", "drop_statistics", "never_collect"]

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
