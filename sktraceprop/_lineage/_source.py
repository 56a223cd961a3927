"""Sources (files, frames, arrays, merges, aggregates) and the process-wide registry.

A source is identified by its ``source_id`` *and* the SHA-256 of its content: reading an
edited file again under the same ``source_id`` registers a new version with its own code,
and rows read before keep pointing at the old version. Codes are derived from that
identity, so every process gives a source the same code; a code that names two different
sources (a hash collision between processes) is refused loudly, never resolved to either.
"""

import hashlib
import threading
import warnings
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np

from ..exceptions import LineageError, SourceConflictError, UnknownSourceError
from ._ids import MAX_CODE, codes_of
from ._witness import WITNESSES

#: Kinds of source whose rows are built from rows of other sources.
DERIVED_KINDS = ("merge", "aggregate")


def utc_now():
    """Wall-clock UTC time as an ISO 8601 string."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def identity_code(source_id, sha256):
    """The code a source gets in every process (before any in-process collision)."""
    digest = hashlib.sha256(f"{source_id}\0{sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % MAX_CODE + 1


@dataclass(frozen=True, eq=False)
class Parents:
    """Row-level parents of a derived source, in compressed sparse row form.

    Row ``i`` of the derived source has the parent row ids
    ``ids[indptr[i]:indptr[i + 1]]``; a row with no parent on one side of an outer merge
    simply has fewer entries (never a placeholder id).

    Parameters
    ----------
    indptr : ndarray of int64 of shape (n_rows + 1,)
    ids : ndarray of int64 of shape (indptr[-1],)
    """

    indptr: np.ndarray
    ids: np.ndarray

    @classmethod
    def from_columns(cls, *columns):
        """Parents from aligned id columns, ``0`` meaning "no parent on this side"."""
        stacked = np.column_stack([np.asarray(c, dtype=np.int64) for c in columns])
        present = stacked != 0
        indptr = np.concatenate(([0], np.cumsum(present.sum(axis=1)))).astype(np.int64)
        return cls(indptr=indptr, ids=stacked[present])

    @classmethod
    def from_groups(cls, group, ids, n_groups):
        """Parents of groups: row ``ids[k]`` belongs to group ``group[k]``."""
        group = np.asarray(group, dtype=np.int64)
        order = np.argsort(group, kind="stable")
        counts = np.bincount(group, minlength=n_groups)
        indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return cls(indptr=indptr, ids=np.asarray(ids, dtype=np.int64)[order])

    @classmethod
    def from_flat(cls, flat, n_rows):
        """Inverse of :meth:`to_flat`; a length mismatch raises ``ValueError``."""
        flat = np.asarray(flat, dtype=np.int64)
        if flat.size < n_rows + 1:
            raise ValueError(f"parents of {n_rows} rows need {n_rows + 1} offsets")
        indptr, ids = flat[: n_rows + 1], flat[n_rows + 1 :]
        if indptr[0] != 0 or indptr[-1] != ids.size or np.any(np.diff(indptr) < 0):
            raise ValueError("parent offsets are inconsistent with the parent ids")
        return cls(indptr=indptr, ids=ids)

    @classmethod
    def from_positions(cls, left, right, left_ids, right_ids):
        """Parents of joined rows from each side's row positions (``-1``: no row).

        Row ``i`` gets ``left_ids[left[i]]`` then ``right_ids[right[i]]``, each only when
        its position is not negative: the same as :meth:`from_columns` on the two id
        columns, in one pass and without the intermediate columns.
        """
        from ._parents_kernel import join_parents

        left = np.ascontiguousarray(left, dtype=np.int64)
        right = np.ascontiguousarray(right, dtype=np.int64)
        if left.shape != right.shape:
            raise ValueError("left and right positions must have the same length")
        indptr, ids = join_parents(
            left,
            right,
            np.ascontiguousarray(left_ids, dtype=np.int64),
            np.ascontiguousarray(right_ids, dtype=np.int64),
        )
        return cls(indptr=indptr, ids=ids)

    def to_flat(self):
        """One int64 array: the offsets, then the parent ids."""
        return np.concatenate([self.indptr, self.ids])

    def digest(self):
        """A ``hashlib`` SHA-256 object fed :meth:`to_flat`'s bytes, without making that
        array (``.hexdigest()`` names the parents; more can be fed after)."""
        h = hashlib.sha256(np.ascontiguousarray(self.indptr, dtype=np.int64))
        h.update(np.ascontiguousarray(self.ids, dtype=np.int64))
        return h

    @property
    def n_rows(self):
        return int(self.indptr.size - 1)

    def of(self, rows):
        """``(which, parent_ids)``: each parent of ``rows[which[k]]`` is ``parent_ids[k]``."""
        from ._parents_kernel import parents_of

        return parents_of(
            np.ascontiguousarray(self.indptr, dtype=np.int64),
            np.ascontiguousarray(self.ids, dtype=np.int64),
            np.ascontiguousarray(rows, dtype=np.int64),
        )

    def codes(self):
        """Codes of the parent sources, sorted."""
        return np.unique(codes_of(self.ids))

    def __eq__(self, other):
        if not isinstance(other, Parents):
            return NotImplemented
        return np.array_equal(self.indptr, other.indptr) and np.array_equal(self.ids, other.ids)

    __hash__ = object.__hash__


@dataclass(frozen=True, eq=False)
class Source:
    """A file, frame or array that training rows come from, or rows derived from others.

    Parameters
    ----------
    source_id : str
        User-facing name of the source; several versions (contents) may share it.
    code : int
        Integer packed into the row ids of this source's rows.
    uri : str
        Where the rows came from (``file:///...`` for files).
    sha256 : str
        SHA-256 of the file's bytes or of the frame's content; for a merge or aggregate,
        of its parent rows, their sources' hashes and its parameters.
    n_rows : int
        Number of rows.
    columns : tuple of str
        Column names.
    dtypes : tuple of str
        Column dtypes, aligned with ``columns``.
    loaded_at : str
        UTC time the source was loaded (ISO 8601).
    kind : {"file", "frame", "array", "merge", "aggregate", "anonymous"}
        How the rows were obtained. A ``"merge"`` row is made of its parent rows (one
        per side that matched); an ``"aggregate"`` row (one group) is computed from all
        its parent rows.
    parents : Parents, default=None
        For derived kinds: the parent row ids of every row. ``None`` for a derived
        source means the parents were left in the process that made it (see
        :meth:`light`); tracing through it then raises.
    max_line : int, default=None
        Largest valid line in a row id (the last data line of a file); defaults to
        ``n_rows``.
    parent_codes : tuple of int, default=()
        For derived kinds: the codes of the parent sources.
    columns_from : dict, default=None
        For derived kinds: each column -> list of ``[parent_code, parent_column]`` its
        values come from.
    other_reads : tuple of dict, default=()
        For files: other reads of the same bytes under the same ``source_id`` with other
        options (``nrows``, ``usecols``, ``dtype``...) or from another path (a copy of
        the file), each ``{"n_rows", "columns", "dtypes", "loaded_at", "uri"}``
        (``"uri"``: the path read; absent in records written before reads kept it).
        Row ids do not depend on the read (a line is a line), so all reads share the
        code; ``uri``, ``n_rows``, ``columns`` and ``dtypes`` above describe the first
        read, these the others, oldest first, and ``max_line`` is the last data line any
        read reached. Rows of the same bytes read from two paths have the same ids, so
        the ids alone cannot say which of the paths a row was read from: :meth:`uris`
        lists them all. (The frame a read returns carries its path, and a run's record
        of a file keeps the reads its training rows came from: see
        ``sktraceprop._lineage._read_paths``.)
    digest_scheme : str, default=None
        For a frame (and an array registered with its own column labels or holding
        objects): how ``sha256`` names its content, ``"frame-2"`` (the column labels,
        dtypes and every cell, each by its type and exact value), or ``"polars-1"``
        for a polars frame (its column names, dtypes and every cell). ``None`` for
        files (the bytes), arrays (dtype, shape and bytes) and derived sources; a frame
        record without it was written before that scheme, and its ``sha256`` cannot be
        compared with one of the scheme's.
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
    parents: Parents = None
    max_line: int = None
    parent_codes: tuple = ()
    columns_from: dict = None
    other_reads: tuple = ()
    digest_scheme: str = None

    def __post_init__(self):
        if self.max_line is None:
            object.__setattr__(self, "max_line", self.n_rows)

    @property
    def key(self):
        """``(source_id, sha256)``: what makes two source records the same source."""
        return self.source_id, self.sha256

    @property
    def derived(self):
        return self.kind in DERIVED_KINDS

    def light(self):
        """The record without its row-level parents (small enough to travel anywhere)."""
        return replace(self, parents=None) if self.parents is not None else self

    def require_parents(self):
        """The parents, or a clear error when this record travelled without them."""
        if self.parents is None:
            raise LineageError(
                f"the parent rows of {self.kind} source {self.source_id!r} (sha256 "
                f"{self.sha256[:12]}...) are not available in this process: the record "
                "travelled without them. Trace these rows in the process that made the "
                f"{self.kind}, or load the run from a store that holds them."
            )
        return self.parents

    def __eq__(self, other):
        if not isinstance(other, Source):
            return NotImplemented
        if self.to_dict() != other.to_dict():
            return False
        if (self.parents is None) != (other.parents is None):
            return False
        return self.parents is None or self.parents == other.parents

    __hash__ = object.__hash__

    def to_dict(self):
        """JSON-safe description (``parents`` excluded)."""
        out = {
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
        if self.derived:
            out["parent_codes"] = [int(c) for c in self.parent_codes]
            out["columns_from"] = self.columns_from or {}
        if self.other_reads:
            out["other_reads"] = [dict(r) for r in self.other_reads]
        if self.digest_scheme is not None:
            out["digest_scheme"] = self.digest_scheme
        return out

    def read(self):
        """This record's own read: ``{"n_rows", "columns", "dtypes", "loaded_at",
        "uri"}`` (the first read of the bytes; see ``other_reads``)."""
        return {
            "n_rows": int(self.n_rows),
            "columns": list(self.columns),
            "dtypes": list(self.dtypes),
            "loaded_at": self.loaded_at,
            "uri": self.uri,
        }

    def uris(self):
        """Every path these bytes were read from under this ``source_id``, the first
        read's first. More than one: the same bytes read from copies of the file, whose
        rows have the same ids, so which of these paths a row was read from is not known
        (each holds the same bytes).
        (A read recorded before reads kept their path counts as the first read's.)"""
        out = [self.uri]
        for read in self.other_reads:
            if read.get("uri") is not None and read["uri"] not in out:
                out.append(read["uri"])
        return out

    def reads(self):
        """Every read of these bytes this record knows, oldest first."""
        return [self.read(), *(dict(r) for r in self.other_reads)]

    def columns_read(self):
        """``{name: dtype}`` of every column any read gave, the first read's first (a
        column read with two dtypes keeps the first read's; see ``other_reads``)."""
        out = dict(zip(self.columns, self.dtypes))
        for read in self.other_reads:
            for name, dtype in zip(read["columns"], read["dtypes"]):
                out.setdefault(name, dtype)
        return out

    def with_read(self, other):
        """This record, also listing ``other``'s reads that it does not list yet (same
        rows, columns and dtypes count as the same read, whenever it was made)."""
        reads = list(self.other_reads)
        known = [_shape_of(r) for r in self.reads()]
        for r in other.reads():
            if _shape_of(r) not in known:
                reads.append(_read_dict(r))
                known.append(_shape_of(r))
        widest = max(self.max_line, other.max_line)
        if len(reads) == len(self.other_reads) and widest == self.max_line:
            return self
        return replace(self, other_reads=tuple(reads), max_line=widest)

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
            parent_codes=tuple(int(c) for c in d.get("parent_codes", ())),
            columns_from=d.get("columns_from"),
            other_reads=tuple(_read_dict(r) for r in d.get("other_reads", ())),
            digest_scheme=d.get("digest_scheme"),
        )


def _read_dict(read):
    """A read description in its canonical form (the keys :meth:`Source.read` gives;
    ``"uri"`` only where the read names its path: a record written before reads kept
    their paths reads back, and hashes, as it was written)."""
    out = {
        "n_rows": int(read["n_rows"]),
        "columns": [str(c) for c in read["columns"]],
        "dtypes": [str(t) for t in read["dtypes"]],
        "loaded_at": str(read["loaded_at"]),
    }
    if read.get("uri") is not None:
        out["uri"] = str(read["uri"])
    return out


def _read_key(code, read):
    return (int(code), int(read["n_rows"]), *_shape_of(read)[1:])


def _shape_of(read):
    """What tells two reads apart: their rows, columns, dtypes and path (None: a read
    recorded before reads kept their path)."""
    return read["n_rows"], tuple(read["columns"]), tuple(read["dtypes"]), read.get("uri")


def _earlier_scheme(versions, record):
    """Versions of ``record``'s source id whose digest is of the scheme before
    ``record``'s (written by an earlier sktraceprop, learnt from a pickle)."""
    if record.digest_scheme is None:
        return []
    return [v for v in versions if v is not record and legacy_digest(v)]


def legacy_digest(source):
    """Whether a record's SHA-256 is of a digest scheme before "frame-2": a frame without
    a scheme, or an array with labels of its own (which were not hashed)."""
    if source.digest_scheme is not None:
        return False
    if source.kind == "frame":
        return True
    default = tuple(f"x{j}" for j in range(len(source.columns)))
    return source.kind == "array" and tuple(source.columns) != default


def earlier_scheme_message(record, earlier, where):
    """Why ``record`` is a version of its own beside the ``earlier`` records (``where``:
    where those are kept)."""
    names = ", ".join(f"sha256 {v.sha256[:12]}... (from {v.uri})" for v in earlier)
    return (
        f"source {record.source_id!r} {where} also has a version whose digest was made by "
        f"an earlier sktraceprop ({names}): frames then by pandas' 64-bit row hashes, "
        "which named some different frames alike (1 and '1', None and NaN, the order of "
        "categories, column labels 1 and '1'), and arrays without their column labels. "
        f"This {record.kind}'s digest (sha256 {record.sha256[:12]}..., scheme "
        f"{record.digest_scheme!r}) cannot be compared with it: it is a version of its "
        "own, whether or not its content is the same. To compare them, register that "
        "data again with this sktraceprop."
    )


def _warn_earlier_scheme(record, earlier):
    from ..exceptions import LineageWarning
    from ..utils._stack import user_stacklevel

    warnings.warn(
        earlier_scheme_message(record, earlier, "in this process"),
        LineageWarning,
        stacklevel=user_stacklevel(),
    )


def _describe(source):
    return f"{source.source_id!r} (sha256 {source.sha256[:12]}..., from {source.uri})"


class SourceRegistry:
    """Thread-safe map between source identities, codes and :class:`Source` records."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_key = {}
        self._by_code = {}
        self._versions = {}
        self._ambiguous = {}
        self._ops = {}
        self._op_keys = {}
        # (code, n_rows, columns, dtypes) of a file read -> (first, last) data line it
        # read, or None when two reads of that shape read other lines (not known which)
        self._read_lines = {}

    def note_read_lines(self, code, read, first, last):
        """Remember the first and last data line of one read of a file (see
        :meth:`read_lines`); kept in this process, and carried by pickles of traced
        estimators (:meth:`read_lines_snapshot`)."""
        self.adopt_read_lines({_read_key(code, read): (int(first), int(last))})

    def read_lines(self, code, read):
        """``(first, last)`` data line of the read of source ``code`` described by
        ``read`` (a :meth:`Source.read` dict), or None when not known here (read in
        another process, or two reads of that shape read other lines)."""
        with self._lock:
            return self._read_lines.get(_read_key(code, read))

    def read_lines_snapshot(self):
        with self._lock:
            return dict(self._read_lines)

    def adopt_read_lines(self, spans):
        with self._lock:
            for key, span in spans.items():
                known = self._read_lines.get(key, span)
                self._read_lines[key] = span if known == span else None

    def register(self, source):
        """Register ``source`` (its ``code`` is assigned here) and return the stored record.

        The same ``source_id`` with the same content returns the existing record; with
        different content it is a new version, with its own code.

        Raises
        ------
        ValueError
            When its ``source_id`` or ``uri`` is text no store can keep (a NUL
            character, a lone surrogate: ``os.fsdecode`` of bytes that are not UTF-8).
        """
        from ..stores._chain import text_problem

        for name in ("source_id", "uri"):
            problem = text_problem(str(getattr(source, name)))
            if problem is not None:
                raise ValueError(
                    f"{name} {getattr(source, name)!r} {problem}: no run or report of its "
                    f"rows could be stored; give a {name} of plain text"
                )
        with self._lock:
            existing = self._by_key.get(source.key)
            if existing is not None:
                widened = existing
                if existing.kind == "file" and source.kind == "file":
                    # The same bytes read with other options (nrows, usecols, dtype...):
                    # one code (a line is a line), every read listed.
                    widened = widened.with_read(source)
                elif source.max_line > existing.max_line:
                    widened = replace(widened, max_line=source.max_line)
                if widened.parents is None and source.parents is not None:
                    widened = replace(widened, parents=source.parents)
                if widened is not existing:
                    self._store(widened, replace_key=True)
                return widened
            code = identity_code(*source.key)
            # Linear probing keeps codes unique inside this process; a pickle carries the
            # records it refers to, so another process learns the probed code (see adopt).
            while code in self._by_code or code in self._ambiguous:
                code = code % MAX_CODE + 1
            record = replace(source, code=code)
            self._store(record)
            earlier = _earlier_scheme(self._versions[record.source_id], record)
        if earlier:
            _warn_earlier_scheme(record, earlier)
        return record

    def _store(self, record, replace_key=False):
        if record.key not in self._by_key or replace_key:
            self._by_key[record.key] = record
        self._by_code[record.code] = record
        versions = self._versions.setdefault(record.source_id, [])
        for k, known in enumerate(versions):
            if known.key == record.key:
                versions[k] = record
                break
        else:
            versions.append(record)

    def adopt(self, source):
        """Learn a source from another process, under the code it has there.

        A code that already names a different source here is marked ambiguous: any later
        use of it raises :class:`SourceConflictError` instead of naming either source.
        """
        with self._lock:
            if source.code in self._ambiguous:
                self._ambiguous[source.code].add(_describe(source))
                return
            known = self._by_code.get(source.code)
            if known is None:
                if source.key in self._by_key:
                    # Same source, another code there (probed in one process): an alias.
                    self._by_code[source.code] = source
                else:
                    self._store(source)
                return
            if known.key != source.key:
                self._ambiguous[source.code] = {_describe(known), _describe(source)}
                del self._by_code[source.code]
                return
            merged = known.with_read(source) if known.kind == "file" else known
            if merged.parents is None and source.parents is not None:
                merged = replace(merged, parents=source.parents)
            if merged is known:
                return
            primary = self._by_key.get(known.key)
            if primary is None or primary.code == known.code:
                self._store(merged, replace_key=True)
                return
            # An alias (this source has another code here): new reads keep the primary
            # code, and the primary record learns the reads too.
            self._by_code[known.code] = merged
            updated = primary.with_read(source) if primary.kind == "file" else primary
            if updated is not primary:
                self._store(updated, replace_key=True)

    def complete(self, source):
        """``source`` with the parents this process holds for it, when it lacks them."""
        if not source.derived or source.parents is not None:
            return source
        with self._lock:
            known = self._by_key.get(source.key)
        if known is None or known.parents is None:
            return source
        return replace(source, parents=known.parents)

    def by_code(self, code):
        code = int(code)
        try:
            return self._by_code[code]
        except KeyError:
            pass
        if code in self._ambiguous:
            names = " and ".join(sorted(self._ambiguous[code]))
            raise SourceConflictError(
                f"row ids with source code {code} cannot be traced in this process: the "
                f"code names {names}, which are different sources registered in different "
                "processes. Trace them in the process that read the data."
            )
        raise UnknownSourceError(
            f"row ids name source code {code}, which no registered source has; were the "
            "ids changed, or loaded in a process that did not read this version of the "
            "source?"
        )

    def by_id(self, source_id):
        """The latest registered version of ``source_id``."""
        return self.versions(source_id)[-1]

    def versions(self, source_id):
        """Every registered version of ``source_id``, oldest first."""
        found = self._versions.get(source_id)
        if not found:
            known = ", ".join(sorted(self._versions)[:10]) or "none"
            raise UnknownSourceError(
                f"unknown source_id {source_id!r}; registered sources: {known}"
            ) from None
        return list(found)

    def code_of_key(self, key):
        """The code this process gives the source ``key`` (``(source_id, sha256)``);
        KeyError when it has not read it."""
        with self._lock:
            return self._by_key[tuple(key)].code

    def has_code(self, code):
        return int(code) in self._by_code

    def _loaded(self):
        """The registered sources users loaded (not anonymous data), taken under the lock:
        another thread reading a file meanwhile must not break the iteration."""
        with self._lock:
            return [s for s in self._by_key.values() if s.kind != "anonymous"]

    def all_columns(self):
        """Column names of the registered sources that users loaded (not anonymous data)."""
        return {c for s in self._loaded() for c in s.columns_read()}

    def sources_with_columns(self, columns):
        """Loaded (not anonymous) sources whose columns include all of ``columns``."""
        wanted = {str(c) for c in columns}
        return [s for s in self._loaded() if wanted and wanted <= s.columns_read().keys()]

    def log_op(self, op, sources):
        """Remember that a traced step outside any pipeline was applied to these sources.

        ``sources``: the :class:`Source` records of the rows it was fitted on. The op
        names their source ids (``op.sources``) and their identities
        (``op.source_keys``), and so does the registry: :meth:`ops_on` never hands the
        op to another source that shares a source id (another folder's ``data.csv``,
        another content of one file), nor does a run list it for that source's rows.
        """
        with self._lock:
            keys = {s.key for s in sources}
            known = self._ops.get(op.fingerprint)
            if known is not None:
                keys |= self._op_keys[op.fingerprint]
            source_ids = {source_id for source_id, _ in keys}
            base = op.name.split("@")[0]
            self._ops[op.fingerprint] = replace(
                op,
                name=f"{base}@{'+'.join(sorted(source_ids))}",
                sources=sorted(source_ids),
                source_keys=sorted(keys),
            )
            self._op_keys[op.fingerprint] = keys

    def op_log(self):
        with self._lock:
            return list(self._ops.values())

    def ops_on(self, keys):
        """Logged ops fitted on a source whose key (``(source_id, sha256)``) is in
        ``keys``, in the order they were first logged."""
        keys = set(keys)
        with self._lock:
            return [op for f, op in self._ops.items() if self._op_keys[f] & keys]

    def snapshot(self, parents=False):
        """Records of the sources users loaded, under every code they have here.

        Anonymous sources (untraced data seen by a fit) stay behind, and derived sources
        travel without their row-level parents, so a pickle stays small; ``parents=True``
        keeps the parents of the derived sources (for an object that must follow merged
        rows in another process).
        """
        with self._lock:
            return [
                s if parents else s.light()
                for s in self._by_code.values()
                if s.kind != "anonymous"
            ]

    def clear(self):
        with self._lock:
            self._by_key.clear()
            self._by_code.clear()
            self._versions.clear()
            self._ambiguous.clear()
            self._ops.clear()
            self._op_keys.clear()
            self._read_lines.clear()
        WITNESSES.clear()


#: The process-wide registry used by ``read_csv``, ``from_pandas`` and traced fits.
REGISTRY = SourceRegistry()


def register_content(source_id, uri, *, sha256, scheme, n_rows, columns, dtypes):
    """Register a frame's content (a pandas or polars frame, by its digest of
    ``scheme``) as a source of kind ``"frame"``; return the stored record."""
    return REGISTRY.register(
        Source(
            source_id=str(source_id),
            code=None,
            uri=uri,
            sha256=sha256,
            n_rows=n_rows,
            columns=tuple(map(str, columns)),
            dtypes=tuple(map(str, dtypes)),
            kind="frame",
            digest_scheme=scheme,
        )
    )
