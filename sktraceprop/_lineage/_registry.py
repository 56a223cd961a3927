"""The process-wide registry of sources: codes given to source identities, versions of
one ``source_id``, sources learnt from other processes, and the steps fitted outside a
pipeline.

:data:`REGISTRY` is importable from ``sktraceprop._lineage._source`` too, beside the
:class:`~sktraceprop._lineage._source.Source` records it holds.
"""

import hashlib
import threading
from dataclasses import replace

from ..exceptions import SourceConflictError, UnknownSourceError
from ._earlier_digests import _earlier_scheme, _warn_earlier_scheme
from ._ids import MAX_CODE
from ._source_reads import _read_key
from ._witness import WITNESSES


def identity_code(source_id, sha256):
    """The code a source gets in every process (before any in-process collision)."""
    digest = hashlib.sha256(f"{source_id}\0{sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % MAX_CODE + 1


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
            "source? Row ids made in another process (a joblib or multiprocessing "
            "worker) name sources this process has not read, unless their pickle "
            "carried them: a DataFrame read by sktraceprop.read_csv (and frames "
            "selected from it) or a traced array (sktraceprop.array) does; bare row ids, "
            "or a frame rebuilt or registered with from_pandas there, do not. Read the "
            "data in this process, or send back such a frame."
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
