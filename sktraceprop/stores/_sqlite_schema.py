"""A SQLite store's schema: its tables and append-only triggers, and the check of the
schema found in a file (what was done to it outside sktraceprop)."""

from ..exceptions import CorruptStoreError, StoreError
from . import _legacy
from ._integrity import schema_error

SCHEMA_VERSION = 5
APP = "sktraceprop"
_TABLES_2 = ("stp_meta", "schema_version", "sources", "runs", "events", "checkpoints")
#: Version 3 adds the values of sealed runs (see stores/_sealed.py): deleted when erased,
#: never updated.
_TABLES_3 = (*_TABLES_2, "run_leaves")
#: Version 4 adds the salts of salted prediction events (see
#: stores/_prediction_salts.py): deleted when erased, never updated.
#: Version 5 adds no table: an index on ``events.kind`` (see :data:`_KIND_INDEX`).
_TABLES = (*_TABLES_3, "prediction_salts")
_APPEND_ONLY = _TABLES_2

SCHEMA = (
    [
        "CREATE TABLE stp_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        """CREATE TABLE sources (
        source_id TEXT NOT NULL, sha256 TEXT NOT NULL, record TEXT NOT NULL,
        n_parent_ids INTEGER, parents BLOB, event_seq INTEGER NOT NULL,
        PRIMARY KEY (source_id, sha256))""",
        """CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT UNIQUE NOT NULL,
        created_at TEXT NOT NULL, record TEXT NOT NULL, n_samples INTEGER NOT NULL,
        n_input INTEGER, row_ids BLOB NOT NULL, input_row_ids BLOB,
        event_seq INTEGER NOT NULL)""",
        """CREATE TABLE events (
        seq INTEGER PRIMARY KEY, run_id TEXT, created_at TEXT NOT NULL, kind TEXT NOT NULL,
        payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
        "CREATE INDEX events_run_id ON events (run_id)",
        # (schema 5) the events of some kinds, counted or listed without a scan of the
        # log: SQLite keeps the rowid (seq) in it, so max(seq) is read there too
        "CREATE INDEX events_kind ON events (kind)",
        "CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)",
        """CREATE TABLE run_leaves (
        run_id TEXT NOT NULL, leaf INTEGER NOT NULL, value TEXT NOT NULL, salt TEXT NOT NULL,
        PRIMARY KEY (run_id, leaf))""",
        "CREATE TABLE prediction_salts (seq INTEGER PRIMARY KEY, salt TEXT NOT NULL)",
    ]
    + [
        f"""CREATE TRIGGER {table}_append_only_{op} BEFORE {op.upper()} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"""
        for table in _APPEND_ONLY
        for op in ("update", "delete")
    ]
    + [
        """CREATE TRIGGER run_leaves_no_update BEFORE UPDATE ON run_leaves
        BEGIN SELECT RAISE(ABORT, 'run_leaves are erased, never updated'); END""",
        """CREATE TRIGGER prediction_salts_no_update BEFORE UPDATE ON prediction_salts
        BEGIN SELECT RAISE(ABORT, 'prediction_salts are erased, never updated'); END""",
    ]
)
#: The append-only triggers by name, each as its CREATE statement, whitespace folded.
_TRIGGERS = {
    statement.split()[2]: " ".join(statement.split())
    for statement in SCHEMA
    if statement.startswith("CREATE TRIGGER")
}
#: Those of a store of schema version 3 (no prediction_salts) and 2 (no run_leaves).
_TRIGGERS_3 = {n: t for n, t in _TRIGGERS.items() if not n.startswith("prediction_salts")}
_TRIGGERS_2 = {n: t for n, t in _TRIGGERS_3.items() if not n.startswith("run_leaves")}
_TRIGGERS_BY_VERSION = {2: _TRIGGERS_2, 3: _TRIGGERS_3, 4: _TRIGGERS, SCHEMA_VERSION: _TRIGGERS}
_TABLES_BY_VERSION = {2: _TABLES_2, 3: _TABLES_3, 4: _TABLES, SCHEMA_VERSION: _TABLES}
#: What upgrades a store of schema version 3 to 4, and 4 to 5 (see
#: :func:`upgrade_statements`).
_SALTS_TABLE = next(s for s in SCHEMA if "TABLE prediction_salts" in s)
_KIND_INDEX = next(s for s in SCHEMA if "INDEX events_kind" in s)
_META_UPDATE_TRIGGER = _TRIGGERS["stp_meta_append_only_update"]
_STEPS = {
    3: [_SALTS_TABLE, _TRIGGERS["prediction_salts_no_update"]],
    4: [_KIND_INDEX],
}


def upgrade_statements(before):
    """The statements that upgrade a store of schema version ``before`` (3 or 4) by
    one version, in one transaction: what the next version adds (3 -> 4: the salts
    table and its trigger; 4 -> 5: the index on ``events.kind``), and the version in
    ``stp_meta`` (append-only: its update trigger is dropped and created again around
    the one update, inside the transaction, so no other connection ever sees it
    missing)."""
    return [
        *_STEPS[before],
        "DROP TRIGGER stp_meta_append_only_update",
        f"UPDATE stp_meta SET value = '{before + 1}' WHERE key = 'schema_version'",
        _META_UPDATE_TRIGGER,
    ]


def trigger_problem(found, version=SCHEMA_VERSION):
    """What was done to the store's triggers outside sktraceprop (None if nothing).

    ``found`` maps each trigger's name to its CREATE statement. A trigger added (or one
    of the store's redefined) can change or silently drop what sktraceprop writes, as
    ``SELECT RAISE(IGNORE)`` before an insert does.
    """
    expected = _TRIGGERS_BY_VERSION.get(version, _TRIGGERS_2)
    gone = sorted(set(expected) - set(found))
    added = sorted(set(found) - set(expected))
    redefined = sorted(
        n for n in set(found) & set(expected) if " ".join(str(found[n]).split()) != expected[n]
    )
    parts = []
    if gone:
        parts.append(f"append-only trigger(s) {', '.join(gone)} were dropped outside sktraceprop")
    if added:
        parts.append(
            f"trigger(s) {', '.join(added)} were added outside sktraceprop (a trigger can "
            "change or drop what is written)"
        )
    if redefined:
        parts.append(
            f"append-only trigger(s) {', '.join(redefined)} were redefined outside sktraceprop"
        )
    return "; ".join(parts) or None


def check_schema(path, tables, triggers, meta, run_columns):
    """The schema version of the store found at ``path``, and what was done to its
    triggers outside sktraceprop (None if nothing).

    ``tables`` and ``triggers`` (name -> CREATE statement) are the file's, ``meta`` its
    ``stp_meta`` table and ``run_columns`` its ``runs`` table's columns. Raises
    :class:`~sktraceprop.exceptions.CorruptStoreError` (or ``StoreError`` for a newer
    schema) where the file is not a store this version reads: it is never modified.
    """
    if meta.get("app") != APP:
        raise CorruptStoreError(f"{path} was not written by sktraceprop; not modified.")
    stored = meta.get("schema_version")
    try:
        version = int(stored)
    except (TypeError, ValueError):
        version = None
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}; this sktraceprop reads up to "
            f"{SCHEMA_VERSION}. Upgrade sktraceprop. It was not modified."
        )
    if version not in (1, 2, 3, 4, SCHEMA_VERSION):
        said = "no schema version" if stored is None else f"schema version {stored!r}"
        raise CorruptStoreError(
            f"{path} has {said} in its stp_meta table: no version sktraceprop ever "
            "wrote, so it was altered outside sktraceprop. It was not modified."
        )
    later = ["a checkpoints table"] if "checkpoints" in tables else []
    later += ["a runs.event_seq column"] if "event_seq" in run_columns else []
    if version == 1 and later:
        # Version 1 runs are outside the chain: a version lowered to 1 would turn off
        # every run and source digest check.
        raise schema_error(
            f"{path} says it has schema version 1, but it has what only version 2 "
            f"has ({' and '.join(later)}): its version was altered outside sktraceprop "
            "(version 1 runs are read unchecked). It was not modified.",
            f"version 1 holding {later}",
        )
    if version < 3 and "run_leaves" in tables:
        raise schema_error(
            f"{path} says it has schema version {version}, but it has a run_leaves "
            "table, which only version 3 has: its version was altered outside "
            "sktraceprop. It was not modified.",
            f"version {version} with leaves",
        )
    if version < 4 and "prediction_salts" in tables:
        raise schema_error(
            f"{path} says it has schema version {version}, but it has a prediction_salts "
            "table, which only version 4 and later have: its version was altered outside "
            "sktraceprop. It was not modified.",
            f"version {version} with prediction salts",
        )
    expected = _legacy.TABLES if version == 1 else _TABLES_BY_VERSION[version]
    missing = [t for t in expected if t not in tables]
    if missing:
        raise schema_error(
            f"{path} is missing table(s) {', '.join(missing)}: it was altered outside "
            "sktraceprop (the audit log may have been erased). It was not modified; "
            "nothing is recreated.",
            f"missing table(s) {missing}",
        )
    return version, None if version == 1 else trigger_problem(triggers, version)
