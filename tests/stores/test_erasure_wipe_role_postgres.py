"""An erasure by a PostgreSQL role that does not own the store's table of values.

Before: its ``VACUUM FULL`` of ``run_leaves`` was skipped by the server with a notice
(not an error), the wipe was marked done though the table was never rewritten, and
``check()`` said nothing was left. Where a rewrite did fail, every opening of the store
warned again. Now: whether the table was rewritten is read off its file number (the
independent truth here: ``pg_relation_filenode``, which every rewrite changes); the
erasure warns, naming the owner and what the owner must run; an opening warns once per
pending wipe in a process; the owner's writable opening finishes it.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import psycopg
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from tests.stores._store_helpers import new_schema, user_warnings

_OPEN_THRICE = """
import sys, warnings
import sktraceprop as stp
dsn, schema = sys.argv[1:3]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(3):
        stp.stores.PostgresStore(dsn, schema=schema)
print(sum("still in" in str(w.message) for w in caught))
"""


def _state(dsn, schema):
    """``(file number of run_leaves, pending wipe markers, done markers)``."""
    with psycopg.connect(dsn) as con:
        table = f'"{schema}".run_leaves'
        (node,) = con.execute("SELECT pg_relation_filenode(%s::regclass)", (table,)).fetchone()
        keys = [k for (k,) in con.execute(f'SELECT key FROM "{schema}".stp_meta')]
    marks = [k for k in keys if k.startswith("vacuum_scrub:")]
    done = [k for k in marks if k.endswith(":done")]
    return node, [k for k in marks if not k.endswith(":done")], done


@pytest.fixture
def other_role(postgres_server):
    """A store made by the server's owner role, and a DSN of a role that may read and
    write its tables but does not own them."""
    dsn, schema = postgres_server.dsn, new_schema()
    store = stp.stores.PostgresStore(dsn, schema=schema)
    names = [f"P{i:03d}{'xyz'[i % 3]}" for i in range(30)]
    X = stp.from_pandas(pd.DataFrame({"name": names, "x": np.arange(30.0)}), schema)
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["name"]), ("passthrough", ["x"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    pipe.fit(X, np.arange(30) % 2)
    (feature,) = [f for f in pipe.lineage_.feature_lineage if "P007" in f]
    role = f"{schema}_w"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN')
        con.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        con.execute(f'GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    other = dsn.replace("postgres@", f"{role}@")
    return dsn, other, schema, stp.row_ids(X)[[7]], feature


def test_a_role_that_does_not_own_the_table_never_marks_it_rewritten(other_role):
    dsn, other, schema, rows, feature = other_role
    node, pending, done = _state(dsn, schema)
    assert pending == done == []
    store = stp.stores.PostgresStore(other, schema=schema)
    _, messages = user_warnings(
        lambda: store.erase_rows(sample_id=rows, reason="request 7", features=[feature])
    )
    after, pending, done = _state(dsn, schema)
    assert after == node  # not rewritten ...
    assert len(pending) == 1 and done == []  # ... and not said to be
    (message,) = [m for m in messages if "VACUUM FULL" in m]
    assert "only table or database owner" in message  # the server's notice
    assert f"this role ({schema}_w) does not own" in message and "owner (postgres)" in message
    assert f'VACUUM (FULL) "{schema}".run_leaves' in message and f"{pending[0]}:done" in message
    (left,) = store.check()["erased_bytes_left"]
    assert "does not own" in left
    # openings in this process: already said at the erasure
    for _ in range(3):
        _, messages = user_warnings(lambda: stp.stores.PostgresStore(other, schema=schema))
        assert not any("still in" in m for m in messages), messages
    # another process says it once, however often it opens the store
    code = textwrap.dedent(_OPEN_THRICE)
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", code, other, schema], capture_output=True, text=True
        )
        assert out.stdout.strip() == "1", out.stderr[-2000:]
    assert _state(dsn, schema)[0] == node
    # the owner's writable opening rewrites it and marks it done
    _, messages = user_warnings(lambda: stp.stores.PostgresStore(dsn, schema=schema))
    assert not any("still in" in m for m in messages), messages
    after, pending, done = _state(dsn, schema)
    assert after != node and len(done) == 1 and pending[0] + ":done" == done[0]
    assert store.check()["erased_bytes_left"] == []
