"""An erasure drops the planner's statistics of a PostgreSQL store's erased columns.

Before: ``ANALYZE`` (autovacuum's, once a table has grown; here run by hand) had copied a
sample of ``run_leaves.value`` and of the salts into the catalog ``pg_statistic``, which
the erasure's ``VACUUM FULL`` of the store's tables does not touch: after
``erase_rows``, ``pg_stats`` still listed the erased one-hot category and the file of
``pg_statistic`` held its bytes (and an erased call's salt, which makes the call
findable from the person's row again), while the erasure said ``wiped``. The truths:
the bytes of ``pg_statistic``'s file in the server's data folder, and ``pg_stats``.

A store created now never lets ANALYZE sample those columns (the last test); the wipe
tests turn the collection back on, as a store created before collects.
"""

import uuid
import warnings
from pathlib import Path

import pandas as pd
import psycopg
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from sktraceprop.stores._postgres_scrub_stats import COLUMNS
from tests.stores._store_helpers import new_schema


def _statistics(con, schema):
    """The planner's statistics of the store's tables (``pg_stats``), as text."""
    rows = con.execute(
        "SELECT tablename, attname, most_common_vals::text, histogram_bounds::text "
        "FROM pg_stats WHERE schemaname = %s",
        (schema,),
    ).fetchall()
    return repr(rows)


def _catalog_bytes(con):
    """The bytes of ``pg_statistic``'s file, as on disk."""
    con.execute("CHECKPOINT")
    (folder,) = con.execute("SHOW data_directory").fetchone()
    (relative,) = con.execute("SELECT pg_relation_filepath('pg_catalog.pg_statistic')").fetchone()
    base = Path(folder) / relative
    return b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))


def _collected_as_before(con, schema):
    """The erasable columns' statistics collected again, as by a store created before
    they were turned off at creation (their tables' default)."""
    for table, columns in COLUMNS.items():
        for column in columns:
            con.execute(f'ALTER TABLE "{schema}".{table} ALTER COLUMN {column} SET STATISTICS -1')


def test_an_erasure_drops_the_statistics_analyze_copied_the_values_into(tmp_path, pg_dsn):
    marker = f"zqstat{uuid.uuid4().hex[:10]}"
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    n = 12
    frame = pd.DataFrame(
        {
            "ward": [marker if i == 3 else f"w{i % 3}" for i in range(n)],
            "x": [float(i % 5) for i in range(n)],
            "y": [i % 2 for i in range(n)],
        }
    )
    frame.to_csv(tmp_path / "people.csv", index=False)
    X = stp.read_csv(tmp_path / "people.csv", source_id="people")
    pipe = stp.make_traced_pipeline(
        stp.make_traced_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["ward"]), remainder="passthrough"
        ),
        LogisticRegression(),
        store=store,
        log_predictions=True,
    ).fit(X[["ward", "x"]], X["y"])
    for i in range(n):  # each person scored alone: one salt each
        pipe.predict(X[["ward", "x"]].iloc[[i]])
    person = X[["ward", "x"]].iloc[[3]]
    salts = store._raw_prediction_salts()
    salt = salts[sorted(salts)[3]]  # (the calls' seqs follow one another: person 3's)
    name = next(f for f in pipe.lineage_.feature_lineage if marker in f)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        _collected_as_before(con, schema)
        con.execute(f'ANALYZE "{schema}".run_leaves')  # as autovacuum does
        con.execute(f'ANALYZE "{schema}".prediction_salts')
        seen = _statistics(con, schema)
        assert marker in seen and salt in seen  # (the search can fail)
        assert marker.encode() in _catalog_bytes(con)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        (erased,) = store.erase_rows(
            sample_id=stp.row_ids(X.iloc[[3]]), reason="art. 17", features=[name]
        )
        calls = store.erase_predictions(person, reason="art. 17")
    assert erased["wiped"] and calls["wiped"]
    assert not [w for w in said if "pg_statistic" in str(w.message)]
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        assert marker not in _statistics(con, schema)
        held = _catalog_bytes(con)
        assert marker.encode() not in held and salt.encode() not in held
        # no longer collected: ANALYZE again (autovacuum's) copies nothing of them
        con.execute(f'ANALYZE "{schema}".run_leaves')
        con.execute(f'ANALYZE "{schema}".prediction_salts')
        left = _statistics(con, schema)
        assert "'value'" not in left and "'salt'" not in left
    assert store.verify()
    store.close()


def test_a_role_that_cannot_rewrite_pg_statistic_is_told_who_can(tmp_path, postgres_server):
    """A role owning the store but not the database: its statistics are dropped, and
    the old row versions left in ``pg_statistic``'s file are named, with what the
    database's owner must run (the catalog's file number: not rewritten)."""
    dsn, schema = postgres_server.dsn, new_schema()
    role = f"{schema}_o"
    with psycopg.connect(dsn, autocommit=True) as con:
        (database,) = con.execute("SELECT current_database()").fetchone()
        con.execute(f'CREATE ROLE "{role}" LOGIN')
        con.execute(f'GRANT CREATE ON DATABASE "{database}" TO "{role}"')
    store = stp.stores.PostgresStore(dsn.replace("postgres@", f"{role}@"), schema=schema)
    marker = f"zqrole{uuid.uuid4().hex[:10]}"
    frame = pd.DataFrame(
        {"ward": [marker if i == 2 else f"w{i % 3}" for i in range(9)], "y": [0, 1] * 4 + [0]}
    )
    X = stp.from_pandas(frame, "wards")
    pipe = stp.make_traced_pipeline(
        OneHotEncoder(handle_unknown="ignore"), LogisticRegression(), store=store
    ).fit(X[["ward"]], X["y"])
    name = next(f for f in pipe.lineage_.feature_lineage if marker in f)
    with psycopg.connect(dsn, autocommit=True) as con:
        _collected_as_before(con, schema)
        con.execute(f'ANALYZE "{schema}".run_leaves')
        assert marker in _statistics(con, schema)
        (node,) = con.execute("SELECT pg_relation_filenode('pg_catalog.pg_statistic')").fetchone()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        (erased,) = store.erase_rows(
            sample_id=stp.row_ids(X.iloc[[2]]), reason="art. 17", features=[name]
        )
    assert erased["wiped"]  # (the store's own tables were rewritten)
    (message,) = [str(w.message) for w in said if "pg_statistic" in str(w.message)]
    assert "run_leaves.value" in message
    assert "run VACUUM (FULL) pg_catalog.pg_statistic" in message
    with psycopg.connect(dsn, autocommit=True) as con:
        assert marker not in _statistics(con, schema)
        after = con.execute("SELECT pg_relation_filenode('pg_catalog.pg_statistic')").fetchone()
        assert after == (node,)
    store.close()


def test_a_new_store_never_lets_analyze_sample_its_erasable_columns(tmp_path, pg_dsn):
    """Before: a new store collected the statistics of ``run_leaves.value``/``salt`` and
    ``prediction_salts.salt`` until its first erasure, so ANALYZE (autovacuum's) copied
    values and salts into ``pg_statistic`` from the first run on. Now the store turns
    that off as it creates the tables: ANALYZE of a store with data leaves no row of
    those columns in ``pg_stats`` (the other columns are still sampled)."""
    marker = f"zqnew{uuid.uuid4().hex[:10]}"
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    frame = pd.DataFrame(
        {"ward": [marker if i == 2 else f"w{i % 3}" for i in range(12)], "y": [0, 1] * 6}
    )
    X = stp.from_pandas(frame, "wards")
    pipe = stp.make_traced_pipeline(
        OneHotEncoder(handle_unknown="ignore"),
        LogisticRegression(),
        store=store,
        log_predictions=True,
    ).fit(X[["ward"]], X["y"])
    for i in range(len(frame)):
        pipe.predict(X[["ward"]].iloc[[i]])
    assert store._raw_prediction_salts()  # (there are salts to sample)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        for table in COLUMNS:
            con.execute(f'ANALYZE "{schema}".{table}')  # as autovacuum does
        rows = con.execute(
            "SELECT tablename::text, attname::text FROM pg_stats WHERE schemaname = %s",
            (schema,),
        ).fetchall()
        assert ("run_leaves", "leaf") in rows  # (ANALYZE ran and sampled the table)
        held = sorted((t, c) for t, c in rows if c in COLUMNS.get(t, ()))
        assert held == [], held
        assert marker not in _statistics(con, schema)
    store.close()
