"""A PostgreSQL store's schema: its version, tables and the SQL they share, and the
driver (psycopg 3, imported when a store is opened)."""

SCHEMA_VERSION = 5
APP = "sktraceprop"
_TABLES_2 = ("stp_meta", "schema_version", "sources", "runs", "events", "checkpoints")
#: Version 3 adds the values of sealed runs (see stores/_sealed.py): erased, never updated.
_TABLES_3 = (*_TABLES_2, "run_leaves")
#: Version 4 adds the salts of salted prediction events (stores/_prediction_salts.py).
_TABLES = (*_TABLES_3, "prediction_salts")
#: Version 5 adds no table: an index on the events' kind (and seq, so a count and the
#: last seq of some kinds are read from the index alone).
_TABLES_BY_VERSION = {2: _TABLES_2, 3: _TABLES_3, 4: _TABLES, SCHEMA_VERSION: _TABLES}
_KIND_INDEX = "CREATE INDEX events_kind ON {events} (kind, seq)"
_ERASABLE = ("run_leaves", "prediction_salts")
_SALTS_TABLE = "CREATE TABLE {salts} (seq BIGINT PRIMARY KEY, salt TEXT NOT NULL)"
_EVENT_COLUMNS = "seq, run_id, created_at, kind, payload, prev_hash, hash"


def _psycopg():
    try:
        import psycopg
        from psycopg import errors, sql
    except ImportError:
        raise ImportError(
            "PostgresStore needs psycopg 3: pip install 'sktraceprop[postgres]'"
        ) from None
    return psycopg, errors, sql
