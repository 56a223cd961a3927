"""The raw rows a :class:`~sktraceprop.stores.SQLiteStore` reads (the store's tables as
stored: decoding and checking them is :class:`~sktraceprop.stores._base.BaseStore`'s)."""

__all__ = ["RawReadsMixin"]


class RawReadsMixin:
    """``_raw_*`` readers of :class:`~sktraceprop.stores.SQLiteStore` through its
    ``_query``/``_iterate`` (one connection per thread, see :mod:`._sqlite_connection`)."""

    def _raw_run(self, run_id):
        if self._legacy:
            return None
        rows = self._query(
            "SELECT record, n_samples, n_input, row_ids, input_row_ids, event_seq FROM runs "
            "WHERE run_id = ?",
            (run_id,),
        )
        return rows[0] if rows else None

    def _raw_run_list(self):
        if self._legacy:
            rows = self._query("SELECT run_id, record FROM runs ORDER BY seq")
            return [(*row, None) for row in rows]
        # In the chain's order: the autoincrement seq is outside the chain, and
        # renumbering it must not reorder the runs listed.
        return self._query("SELECT run_id, record, created_at FROM runs ORDER BY event_seq")

    def _raw_source(self, source_id, sha256):
        rows = self._query(
            "SELECT record, n_parent_ids, parents, event_seq FROM sources "
            "WHERE source_id = ? AND sha256 = ?",
            (source_id, sha256),
        )
        return rows[0] if rows else None

    def _raw_sources(self):
        return self._iterate(
            "SELECT source_id, sha256, record, n_parent_ids, parents, event_seq FROM sources "
            "ORDER BY event_seq"
        )

    def _raw_source_versions(self, source_id):
        rows = self._query(
            "SELECT record FROM sources WHERE source_id = ? ORDER BY event_seq", (source_id,)
        )
        return [text for (text,) in rows]

    def _raw_leaves(self, run_id):
        if self.schema_version < 3:
            return {}
        rows = self._query("SELECT leaf, value, salt FROM run_leaves WHERE run_id = ?", (run_id,))
        return {leaf: (value, salt) for leaf, value, salt in rows}

    def _wipe_marks(self):
        from ._sqlite_scrub import PENDING_PREFIX

        rows = self._query("SELECT key FROM stp_meta WHERE key LIKE ?", (PENDING_PREFIX + "%",))
        return PENDING_PREFIX, {key for (key,) in rows}

    def _raw_leaf_runs(self):
        if self.schema_version < 3:
            return {}
        return dict(self._query("SELECT run_id, count(*) FROM run_leaves GROUP BY run_id"))

    def _raw_prediction_salts(self):
        if self.schema_version < 4:
            return {}
        return dict(self._query("SELECT seq, salt FROM prediction_salts"))

    def _raw_prediction_salt_rows(self):
        if self.schema_version < 4:
            return iter(())
        return self._iterate("SELECT seq, salt FROM prediction_salts ORDER BY seq")

    def _raw_prediction_salt_seqs(self):
        import numpy as np

        if self.schema_version < 4:
            return np.empty(0, np.int64)
        rows = self._iterate("SELECT seq FROM prediction_salts ORDER BY seq")
        return np.fromiter((seq for (seq,) in rows), np.int64)

    _EVENT_COLUMNS = "seq, run_id, created_at, kind, payload, prev_hash, hash"

    def _raw_event(self, seq):
        rows = self._query(f"SELECT {self._EVENT_COLUMNS} FROM events WHERE seq = ?", (seq,))
        return rows[0] if rows else None

    def _raw_events(self, run_id=None):
        if run_id is None:
            return self._iterate(f"SELECT {self._EVENT_COLUMNS} FROM events ORDER BY seq")
        return self._iterate(
            f"SELECT {self._EVENT_COLUMNS} FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        )

    def _raw_events_of_kinds(self, kinds, run_id=None):
        marks = ", ".join("?" * len(kinds))
        run = "" if run_id is None else " AND run_id = ?"
        return self._query(
            f"SELECT {self._EVENT_COLUMNS} FROM events WHERE kind IN ({marks}){run} ORDER BY seq",
            tuple(kinds) + (() if run_id is None else (run_id,)),
        )

    def _raw_events_mark(self, kinds):
        where = f"kind IN ({', '.join('?' * len(kinds))})"
        return self._query(
            "SELECT n, top, (SELECT hash FROM events WHERE seq = top) FROM (SELECT "
            f"count(*) AS n, max(seq) AS top FROM events WHERE {where})",
            tuple(kinds),
        )[0]

    def _raw_schema_versions(self):
        if self._legacy:  # (a store of schema version 1 is read, never upgraded)
            return []
        return self._query("SELECT version, applied_at FROM schema_version")

    def _raw_checkpoints(self):
        if self._legacy:
            return []
        return [r[0] for r in self._query("SELECT record FROM checkpoints ORDER BY seq")]
