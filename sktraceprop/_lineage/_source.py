"""Sources (files, frames, arrays, merges) and the process-wide source registry."""

import hashlib
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np

from ..exceptions import SourceConflictError, UnknownSourceError
from ._ids import MAX_CODE


def utc_now():
    """Wall-clock UTC time as an ISO 8601 string."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _preferred_code(source_id):
    digest = hashlib.sha256(source_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") % MAX_CODE + 1


@dataclass(frozen=True, eq=False)
class Source:
    """A file, frame or array that training rows come from.

    Parameters
    ----------
    source_id : str
        User-facing name of the source.
    code : int
        Integer packed into the row ids of this source's rows.
    uri : str
        Where the rows came from (``file:///...`` for files).
    sha256 : str
        SHA-256 of the file's bytes, or of the frame's content.
    n_rows : int
        Number of rows.
    columns : tuple of str
        Column names.
    dtypes : tuple of str
        Column dtypes, aligned with ``columns``.
    loaded_at : str
        UTC time the source was loaded (ISO 8601).
    kind : {"file", "frame", "array", "merge", "anonymous"}
        How the rows were obtained.
    max_line : int, default=None
        Largest valid line in a row id (the last data line of a file); defaults to
        ``n_rows``.
    parents : ndarray of shape (n_rows, 2), dtype int64, default=None
        For ``kind="merge"``: the left and right parent row id of each row.
    """

    source_id: str
    code: int
    uri: str
    sha256: str
    n_rows: int
    columns: tuple = ()
    dtypes: tuple = ()
    loaded_at: str = field(default_factory=utc_now)
    kind: str = "frame"
    parents: np.ndarray = None
    max_line: int = None

    def __post_init__(self):
        if self.max_line is None:
            object.__setattr__(self, "max_line", self.n_rows)

    def same_content(self, other):
        return self.sha256 == other.sha256

    def __eq__(self, other):
        if not isinstance(other, Source):
            return NotImplemented
        scalars = ("source_id", "code", "uri", "sha256", "n_rows", "max_line", "columns")
        if any(getattr(self, a) != getattr(other, a) for a in scalars):
            return False
        if (self.dtypes, self.kind, self.loaded_at) != (other.dtypes, other.kind, other.loaded_at):
            return False
        if (self.parents is None) != (other.parents is None):
            return False
        return self.parents is None or np.array_equal(self.parents, other.parents)

    __hash__ = object.__hash__

    def to_dict(self):
        """JSON-safe description (``parents`` excluded)."""
        return {
            "source_id": self.source_id,
            "code": self.code,
            "uri": self.uri,
            "sha256": self.sha256,
            "n_rows": self.n_rows,
            "columns": list(self.columns),
            "dtypes": list(self.dtypes),
            "loaded_at": self.loaded_at,
            "kind": self.kind,
            "max_line": self.max_line,
        }

    @classmethod
    def from_dict(cls, d, parents=None):
        return cls(
            source_id=d["source_id"],
            code=int(d["code"]),
            uri=d["uri"],
            sha256=d["sha256"],
            n_rows=int(d["n_rows"]),
            columns=tuple(d["columns"]),
            dtypes=tuple(d["dtypes"]),
            loaded_at=d["loaded_at"],
            kind=d["kind"],
            parents=parents,
            max_line=int(d.get("max_line", d["n_rows"])),
        )


class SourceRegistry:
    """Thread-safe map between source ids, codes and :class:`Source` records."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_id = {}
        self._by_code = {}
        self._ops = {}

    def register(self, source):
        """Register ``source`` (its ``code`` is assigned here) and return the stored record.

        Registering the same id with the same content again returns the existing record;
        the same id with different content raises :class:`SourceConflictError`.
        """
        with self._lock:
            existing = self._by_id.get(source.source_id)
            if existing is not None:
                if existing.same_content(source):
                    if source.max_line > existing.max_line:
                        # Same file read with other options (e.g. nrows): widen the range.
                        existing = replace(existing, max_line=source.max_line)
                        self._by_id[existing.source_id] = existing
                        self._by_code[existing.code] = existing
                    return existing
                raise SourceConflictError(
                    f"source_id {source.source_id!r} is already registered with different "
                    f"content (sha256 {existing.sha256[:12]}..., {existing.n_rows} rows, from "
                    f"{existing.uri}); the new data has sha256 {source.sha256[:12]}..., "
                    f"{source.n_rows} rows. Use a new source_id for different data."
                )
            code = _preferred_code(source.source_id) if source.code is None else source.code
            # Linear probing keeps codes unique inside this process; runs store their own
            # code -> source table, so a probed code never changes what a stored id means.
            while code in self._by_code and self._by_code[code].source_id != source.source_id:
                code = code % MAX_CODE + 1
            record = replace(source, code=code)
            self._by_id[record.source_id] = record
            self._by_code[code] = record
            return record

    def adopt(self, source):
        """Add a source known elsewhere (same code) unless its id or code is taken."""
        with self._lock:
            if source.source_id in self._by_id or source.code in self._by_code:
                return
            self._by_id[source.source_id] = source
            self._by_code[source.code] = source

    def by_code(self, code):
        try:
            return self._by_code[int(code)]
        except KeyError:
            raise UnknownSourceError(
                f"row ids name source code {int(code)}, which no registered source has; "
                "were the ids changed, or loaded in a process that did not read the source?"
            ) from None

    def by_id(self, source_id):
        try:
            return self._by_id[source_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id)[:10]) or "none"
            raise UnknownSourceError(
                f"unknown source_id {source_id!r}; registered sources: {known}"
            ) from None

    def has_code(self, code):
        return int(code) in self._by_code

    def all_columns(self):
        """Column names of the registered sources that users loaded (not anonymous data)."""
        return {c for s in self._by_id.values() if s.kind != "anonymous" for c in s.columns}

    def log_op(self, op, source_ids):
        """Remember that a traced step outside any pipeline was applied to these sources."""
        with self._lock:
            known = self._ops.get(op.fingerprint)
            if known is not None:
                source_ids = set(source_ids) | set(known.sources)
            base = op.name.split("@")[0]
            self._ops[op.fingerprint] = replace(
                op, name=f"{base}@{'+'.join(sorted(source_ids))}", sources=sorted(source_ids)
            )

    def op_log(self):
        with self._lock:
            return list(self._ops.values())

    def snapshot(self):
        with self._lock:
            return list(self._by_id.values())

    def clear(self):
        with self._lock:
            self._by_id.clear()
            self._by_code.clear()
            self._ops.clear()


#: The process-wide registry used by ``read_csv``, ``from_pandas`` and traced fits.
REGISTRY = SourceRegistry()
