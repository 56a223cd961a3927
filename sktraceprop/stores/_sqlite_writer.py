"""The rows one SQLite write transaction reads and writes."""

from . import _sqlite_scrub
from ._append import known_row


class Writer:
    """The rows of one SQLite write transaction (see :class:`._append._Chain`)."""

    #: Its deletions mark the wipe of the erased values' old bytes (._wipe_marks).
    marks_wipes = True

    def __init__(self, con):
        self.con = con

    def last_event(self, known=None):
        """The log's last row (None where it is empty); ``known`` itself where the last
        row is that row exactly, its payload compared by the database, not read here
        (see :func:`._append.known_row`)."""
        if known is not None:
            row = self.con.execute(
                "SELECT seq, run_id, created_at, kind, payload = ? COLLATE BINARY, "
                "prev_hash, hash FROM events ORDER BY seq DESC LIMIT 1",
                (known[4],),
            ).fetchone()
            if known_row(row, known):
                return known
        return self.con.execute(
            "SELECT seq, run_id, created_at, kind, payload, prev_hash, hash FROM events "
            "ORDER BY seq DESC LIMIT 1"
        ).fetchone()

    def events_of_kind(self, kind):
        """``(seq, payload)`` of the events of ``kind``, oldest first."""
        return self.con.execute(
            "SELECT seq, payload FROM events WHERE kind = ? ORDER BY seq", (kind,)
        ).fetchall()

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

    def delete_leaves(self, run_id, numbers, wipe=None):
        before = self.con.total_changes
        self.con.executemany(
            "DELETE FROM run_leaves WHERE run_id = ? AND leaf = ?", [(run_id, n) for n in numbers]
        )
        deleted = self.con.total_changes - before
        if deleted or wipe is not None:
            # committed with the deletion: a writer killed before the log is folded in
            # leaves the file saying so (see ._sqlite_scrub); ``wipe``: the mark's id,
            # which the erasure event names (._wipe_marks)
            _sqlite_scrub.mark(self.con, wipe)
        return deleted

    def insert_salt(self, seq, salt):
        self.con.execute("INSERT INTO prediction_salts VALUES (?, ?)", (seq, salt))

    def delete_salts(self, seqs, wipe=None):
        before = self.con.total_changes
        self.con.executemany("DELETE FROM prediction_salts WHERE seq = ?", [(s,) for s in seqs])
        deleted = self.con.total_changes - before
        if deleted or wipe is not None:
            _sqlite_scrub.mark(self.con, wipe)  # (as delete_leaves)
        return deleted

    def next_checkpoint_seq(self):
        return self.con.execute("SELECT coalesce(max(seq), 0) + 1 FROM checkpoints").fetchone()[0]

    def insert_checkpoint(self, number, text):
        self.con.execute("INSERT INTO checkpoints VALUES (?, ?)", (number, text))
