"""The SQLite store's tables: the schema, the append-only triggers that guard it, and
the rows one write transaction writes."""

SCHEMA_VERSION = 3
APP = "sktraceprop"
TABLES_2 = ("stp_meta", "schema_version", "sources", "runs", "events", "checkpoints")
#: Version 3 adds the values of sealed runs (see stores/_sealed.py): deleted when erased,
#: never updated.
TABLES = (*TABLES_2, "run_leaves")
APPEND_ONLY = TABLES_2

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
        "CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)",
        """CREATE TABLE run_leaves (
        run_id TEXT NOT NULL, leaf INTEGER NOT NULL, value TEXT NOT NULL, salt TEXT NOT NULL,
        PRIMARY KEY (run_id, leaf))""",
    ]
    + [
        f"""CREATE TRIGGER {table}_append_only_{op} BEFORE {op.upper()} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"""
        for table in APPEND_ONLY
        for op in ("update", "delete")
    ]
    + [
        """CREATE TRIGGER run_leaves_no_update BEFORE UPDATE ON run_leaves
        BEGIN SELECT RAISE(ABORT, 'run_leaves are erased, never updated'); END"""
    ]
)
#: The append-only triggers by name, each as its CREATE statement, whitespace folded.
TRIGGERS = {
    statement.split()[2]: " ".join(statement.split())
    for statement in SCHEMA
    if statement.startswith("CREATE TRIGGER")
}
#: Those of a store of schema version 2 (no run_leaves).
TRIGGERS_2 = {n: t for n, t in TRIGGERS.items() if not n.startswith("run_leaves")}


def trigger_problem(found, version=SCHEMA_VERSION):
    """What was done to the store's triggers outside sktraceprop (None if nothing).

    ``found`` maps each trigger's name to its CREATE statement. A trigger added (or one
    of the store's redefined) can change or silently drop what sktraceprop writes, as
    ``SELECT RAISE(IGNORE)`` before an insert does.
    """
    expected = TRIGGERS if version == SCHEMA_VERSION else TRIGGERS_2
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


class Writer:
    """The rows of one SQLite write transaction (see :class:`._append._Chain`)."""

    def __init__(self, con):
        self.con = con

    def last_event(self):
        return self.con.execute(
            "SELECT seq, run_id, created_at, kind, payload, prev_hash, hash FROM events "
            "ORDER BY seq DESC LIMIT 1"
        ).fetchone()

    def insert_event(self, row):
        self.con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def run_exists(self, run_id):
        return self.con.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()

    def source_exists(self, source_id, sha256):
        return self.con.execute(
            "SELECT 1 FROM sources WHERE source_id = ? AND sha256 = ?", (source_id, sha256)
        ).fetchone()

    def insert_source(self, source_id, sha256, record_text, n_parent_ids, parents, event_seq):
        self.con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?)",
            (source_id, sha256, record_text, n_parent_ids, parents, event_seq),
        )

    def insert_run(self, run_id, created_at, record_text, n_samples, n_input, ids, inputs, seq):
        self.con.execute(
            "INSERT INTO runs (run_id, created_at, record, n_samples, n_input, row_ids, "
            "input_row_ids, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, created_at, record_text, n_samples, n_input, ids, inputs, seq),
        )

    def insert_leaves(self, run_id, leaves):
        self.con.executemany(
            "INSERT INTO run_leaves VALUES (?, ?, ?, ?)",
            [(run_id, n, text, salt) for n, text, salt in leaves],
        )

    def delete_leaves(self, run_id, numbers):
        before = self.con.total_changes
        self.con.executemany(
            "DELETE FROM run_leaves WHERE run_id = ? AND leaf = ?", [(run_id, n) for n in numbers]
        )
        return self.con.total_changes - before

    def next_checkpoint_seq(self):
        return self.con.execute("SELECT coalesce(max(seq), 0) + 1 FROM checkpoints").fetchone()[0]

    def insert_checkpoint(self, number, text):
        self.con.execute("INSERT INTO checkpoints VALUES (?, ?)", (number, text))
