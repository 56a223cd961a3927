"""An existing PostgreSQL store that still lets ANALYZE sample its erasable columns.

A store created before its tables were made with ``SET STATISTICS 0`` on
``run_leaves.value``/``salt`` and ``prediction_salts.salt`` kept collecting their
statistics (``ANALYZE``, autovacuum's, copied samples of the values and salts into the
catalog ``pg_statistic``) until its first erasure, with no word. Now its owner's
writable opening turns that off; a handle that may not (another role, read-only) warns
once, naming the columns and what to run. The truths: ``pg_attribute.attstattarget``
and what ``ANALYZE`` leaves in ``pg_stats``.
"""

import uuid
import warnings

import pandas as pd
import psycopg
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from sktraceprop.stores._postgres_scrub_stats import COLUMNS
from tests.stores._store_helpers import new_schema

_NAMED = ["prediction_salts.salt", "run_leaves.salt", "run_leaves.value"]


def _old_format_store(dsn, marker):
    """A store with data, its erasable columns collected as a store created before
    ``never_collect`` (their tables' default), closed."""
    schema = new_schema()
    store = stp.stores.PostgresStore(dsn, schema=schema)
    frame = pd.DataFrame(
        {"ward": [marker if i == 2 else f"w{i % 3}" for i in range(12)], "y": [0, 1] * 6}
    )
    X = stp.from_pandas(frame, f"wards_{schema}")
    pipe = stp.make_traced_pipeline(
        OneHotEncoder(handle_unknown="ignore"),
        LogisticRegression(),
        store=store,
        log_predictions=True,
    ).fit(X[["ward"]], X["y"])
    for i in range(len(frame)):
        pipe.predict(X[["ward"]].iloc[[i]])
    store.close()
    with psycopg.connect(dsn, autocommit=True) as con:
        for table, columns in COLUMNS.items():
            for column in columns:
                con.execute(
                    f'ALTER TABLE "{schema}".{table} ALTER COLUMN {column} SET STATISTICS -1'
                )
    assert _collected(dsn, schema) == _NAMED
    return schema


def _collected(dsn, schema):
    """The erasable columns whose statistics ANALYZE collects (the catalog's truth)."""
    with psycopg.connect(dsn) as con:
        rows = con.execute(
            "SELECT c.relname::text || '.' || a.attname::text FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND COALESCE(a.attstattarget, -1) <> 0",
            (schema,),
        ).fetchall()
    return sorted(r for (r,) in rows if r in _NAMED)


def _sampled(dsn, schema):
    """``pg_stats`` of the store after ANALYZE (as autovacuum runs it), as text."""
    with psycopg.connect(dsn, autocommit=True) as con:
        for table in COLUMNS:
            con.execute(f'ANALYZE "{schema}".{table}')
        return repr(
            con.execute(
                "SELECT tablename, attname, most_common_vals::text, histogram_bounds::text "
                "FROM pg_stats WHERE schemaname = %s",
                (schema,),
            ).fetchall()
        )


def _opened(dsn, schema, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store = stp.stores.PostgresStore(dsn, schema=schema, **kwargs)
    store.close()
    return [str(w.message) for w in caught if "pg_statistic" in str(w.message)]


def test_the_owners_opening_turns_the_collection_off(postgres_server):
    dsn, marker = postgres_server.dsn, f"zqold{uuid.uuid4().hex[:10]}"
    schema = _old_format_store(dsn, marker)
    assert marker in _sampled(dsn, schema)  # (before: ANALYZE copies the value)
    assert _opened(dsn, schema) == []  # (its owner may: nothing to say)
    assert _collected(dsn, schema) == []
    # what ANALYZE copied before stays until a wipe; what it copies now has none of them
    with psycopg.connect(dsn, autocommit=True) as con:
        for table, columns in COLUMNS.items():
            for column in columns:  # (ALTER ... TYPE of its own type drops them)
                con.execute(f'ALTER TABLE "{schema}".{table} ALTER COLUMN {column} TYPE text')
    left = _sampled(dsn, schema)
    assert marker not in left and "'value'" not in left and "'salt'" not in left
    assert "'leaf'" in left  # (ANALYZE ran and sampled the other columns)


def test_a_handle_that_may_not_turn_it_off_says_so_once(postgres_server):
    dsn, marker = postgres_server.dsn, f"zqrole{uuid.uuid4().hex[:10]}"
    schema = _old_format_store(dsn, marker)
    role = f"{schema}_r"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN')
        con.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        con.execute(f'GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    other = dsn.replace("postgres@", f"{role}@")
    (said,) = _opened(other, schema)
    assert all(name in said for name in _NAMED), said
    assert f"this role ({role}) does not own its tables (their owner: postgres)" in said
    assert f'ALTER TABLE "{schema}".run_leaves ALTER COLUMN value SET STATISTICS 0' in said
    assert _opened(other, schema) == []  # (once per store in a process)
    assert _collected(dsn, schema) == _NAMED  # (it could not: nothing changed)
    (said,) = _opened(dsn, schema, mode="ro")  # a read-only handle of the owner: another
    assert "opened read-only (mode='ro')" in said
    assert _collected(dsn, schema) == _NAMED  # (read-only: nothing altered)
    assert _opened(dsn, schema) == []
    assert _collected(dsn, schema) == []
