"""The rows one PostgreSQL write transaction reads and writes."""

from . import _postgres_scrub
from ._append import known_row
from ._postgres_schema import _EVENT_COLUMNS


class _Writer:
    """The rows of one PostgreSQL write transaction (see :class:`._append._Chain`)."""

    #: Its deletions mark the wipe of the erased values' old bytes (._wipe_marks).
    marks_wipes = True

    def __init__(self, store, con):
        self.store, self.con = store, con

    def _one(self, query, args, **tables):
        return self.con.execute(self.store._sql(query, **tables), args, binary=True).fetchone()

    def last_event(self, known=None):
        """The log's last row (None where it is empty); ``known`` itself where the last
        row is that row exactly, its payload compared by the server, not read here (see
        :func:`._append.known_row`)."""
        if known is not None:
            row = self._one(
                'SELECT seq, run_id, created_at, kind, payload = %s COLLATE "C", prev_hash, '
                "hash FROM {e} ORDER BY seq DESC LIMIT 1",
                (known[4],),
                e="events",
            )
            if known_row(row, known):
                return known
        return self._one(
            f"SELECT {_EVENT_COLUMNS} FROM {{e}} ORDER BY seq DESC LIMIT 1", (), e="events"
        )

    def events_of_kind(self, kind):
        """``(seq, payload)`` of the events of ``kind``, oldest first."""
        return self.con.execute(
            self.store._sql(
                "SELECT seq, payload FROM {e} WHERE kind = %s ORDER BY seq", e="events"
            ),
            (kind,),
        ).fetchall()

    def insert_event(self, row):
        self.con.execute(
            self.store._sql("INSERT INTO {e} VALUES (%s, %s, %s, %s, %s, %s, %s)", e="events"), row
        )

    def run_exists(self, run_id):
        return self._one("SELECT 1 FROM {r} WHERE run_id = %s", (run_id,), r="runs")

    def source_exists(self, source_id, sha256):
        return self._one(
            "SELECT 1 FROM {s} WHERE source_id = %s AND sha256 = %s",
            (source_id, sha256),
            s="sources",
        )

    def insert_source(self, source_id, sha256, record_text, n_parent_ids, parents, event_seq):
        self.con.execute(
            self.store._sql("INSERT INTO {s} VALUES (%s, %s, %s, %s, %b, %s)", s="sources"),
            (source_id, sha256, record_text, n_parent_ids, parents, event_seq),
        )

    def insert_run(self, run_id, created_at, record_text, n_samples, n_input, ids, inputs, seq):
        self.con.execute(
            self.store._sql(
                "INSERT INTO {r} (run_id, created_at, record, n_samples, n_input, row_ids, "
                "input_row_ids, event_seq) VALUES (%s, %s, %s, %s, %s, %b, %b, %s)",
                r="runs",
            ),
            (run_id, created_at, record_text, n_samples, n_input, ids, inputs, seq),
        )

    def insert_leaves(self, run_id, leaves):
        self.con.cursor().executemany(
            self.store._sql("INSERT INTO {l} VALUES (%s, %s, %s, %s)", l="run_leaves"),
            [(run_id, n, text, salt) for n, text, salt in leaves],
        )

    def delete_leaves(self, run_id, numbers, wipe=None):
        cursor = self.con.execute(
            self.store._sql(
                "DELETE FROM {l} WHERE run_id = %s AND leaf = ANY(%s)", l="run_leaves"
            ),
            (run_id, list(numbers)),
        )
        if cursor.rowcount or wipe is not None:
            # committed with the deletion: a writer killed before the table is
            # rewritten leaves the store saying so; ``wipe``: the mark's id, which the
            # erasure event names (._wipe_marks)
            _postgres_scrub.mark(self.store, self.con, wipe)
        return cursor.rowcount

    def insert_salt(self, seq, salt):
        self.con.execute(
            self.store._sql("INSERT INTO {s} VALUES (%s, %s)", s="prediction_salts"), (seq, salt)
        )

    def delete_salts(self, seqs, wipe=None):
        cursor = self.con.execute(
            self.store._sql("DELETE FROM {s} WHERE seq = ANY(%s)", s="prediction_salts"),
            (list(seqs),),
        )
        if cursor.rowcount or wipe is not None:
            _postgres_scrub.mark(self.store, self.con, wipe)  # (as delete_leaves)
        return cursor.rowcount

    def next_checkpoint_seq(self):
        return self._one("SELECT coalesce(max(seq), 0) + 1 FROM {c}", (), c="checkpoints")[0]

    def insert_checkpoint(self, number, text):
        self.con.execute(
            self.store._sql("INSERT INTO {c} VALUES (%s, %s)", c="checkpoints"), (number, text)
        )
