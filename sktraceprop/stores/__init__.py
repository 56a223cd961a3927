"""Where lineage runs and audit events are kept."""

from ._base import BaseStore
from ._memory import MemoryStore
from ._sqlite import SQLiteStore

__all__ = ["BaseStore", "MemoryStore", "SQLiteStore"]
