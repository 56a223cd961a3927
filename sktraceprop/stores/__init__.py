"""Where lineage runs, audit events and signed checkpoints are kept.

``MemoryStore`` (this process), ``SQLiteStore`` (a file; the embedded default) and
``PostgresStore`` (a PostgreSQL database, for teams) share one interface
(:class:`BaseStore`) and one hash chain: every run, source and audit event is covered,
and :meth:`BaseStore.checkpoint` signs the chain with an Ed25519 key.
"""

from ._base import BaseStore
from ._memory import MemoryStore
from ._postgres import PostgresStore
from ._sqlite import SQLiteStore

__all__ = ["BaseStore", "MemoryStore", "PostgresStore", "SQLiteStore"]
