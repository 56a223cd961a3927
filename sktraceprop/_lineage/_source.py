"""Sources (files, frames, arrays, merges, aggregates) and the process-wide registry.

A source is identified by its ``source_id`` *and* the SHA-256 of its content: reading an
edited file again under the same ``source_id`` registers a new version with its own code,
and rows read before keep pointing at the old version. Codes are derived from that
identity, so every process gives a source the same code; a code that names two different
sources (a hash collision between processes) is refused loudly, never resolved to either.
"""

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np

from .._state_format import RecordedFormatMixin
from ..exceptions import LineageError
from ._earlier_digests import earlier_scheme_message, legacy_digest  # noqa: F401 (re-exported)
from ._ids import codes_of
from ._registry import REGISTRY, SourceRegistry, identity_code  # noqa: F401 (re-exported)
from ._source_reads import _read_dict, _shape_of

#: Kinds of source whose rows are built from rows of other sources.
DERIVED_KINDS = ("merge", "aggregate")


def utc_now():
    """Wall-clock UTC time as an ISO 8601 string."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


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
class Source(RecordedFormatMixin):
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
        options (``nrows``, ``usecols``, ``dtype``, ``encoding``...) or from another path
        (a copy of the file), each ``{"n_rows", "columns", "dtypes", "loaded_at",
        "uri"}`` (``"uri"``: the path read; absent in records written before reads kept
        it), with ``"encoding"`` where that read's is recorded (see ``encoding``).
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
    encoding : str, default=None
        For files: the text encoding ``read_csv`` decoded the bytes with, whose decoded
        text its lines are counted in (the codec's canonical name: ``"utf-16"``,
        ``"cp500"``, ``"iso8859-1"``), as ``encoding`` of each of ``other_reads`` for
        those reads. ``None`` for UTF-8 (pandas' default), and in records written
        before reads recorded it (their lines are shown only where the file's bytes
        hold them: see ``sktraceprop._cli_lines``).
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
    encoding: str = None

    _state_format = 1  # (its pickle records it: see _state_format)

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
        if self.encoding is not None:
            out["encoding"] = self.encoding
        return out

    def read(self):
        """This record's own read: ``{"n_rows", "columns", "dtypes", "loaded_at",
        "uri"}``, and ``"encoding"`` where it records one (the first read of the bytes;
        see ``other_reads``)."""
        out = {
            "n_rows": int(self.n_rows),
            "columns": list(self.columns),
            "dtypes": list(self.dtypes),
            "loaded_at": self.loaded_at,
            "uri": self.uri,
        }
        if self.encoding is not None:
            out["encoding"] = self.encoding
        return out

    def uris(self):
        """Every path these bytes were read from under this ``source_id``, the first
        read's first. More than one: the same bytes read from copies of the file, whose
        rows have the same ids, so which of these paths a row was read from is not known
        (each holds the same bytes).
        (A read recorded before reads kept their path counts as the first read's; two
        spellings of one file's URI, ``file:///c:/`` by earlier versions and
        ``file:///C:/``, are one path: :func:`._uri_path.same_file_uri`.)"""
        from ._uri_path import same_file_uri

        out, seen = [self.uri], {same_file_uri(self.uri)}
        for read in self.other_reads:
            uri = read.get("uri")
            if uri is not None and same_file_uri(uri) not in seen:
                out.append(uri)
                seen.add(same_file_uri(uri))
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
            encoding=d.get("encoding"),
        )


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
