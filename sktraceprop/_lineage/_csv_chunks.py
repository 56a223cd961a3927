"""``read_csv(chunksize=...)``: a file read chunk by chunk, each row with its line.

The file is scanned whole first (its SHA-256, where every record starts, the bytes of a
thinned sample of records, and where the first and last record of every chunk lie in its
text); then pandas reads it chunk by chunk, with the caller's options. A chunk is handed
out only after its checks: its rows cannot run past the records found, and its first and
last rows (their bytes read again as the chunk comes, :mod:`._csv_spans`: memory is
bounded by a chunk, not the file) and the sampled rows in it, parsed again from their
records, must equal what pandas returned. A
chunk whose rows are shifted against the records fails its own check
(:class:`~sktraceprop.exceptions.LineageError`) before anyone sees it. After the last
chunk, the rows read must equal the records found.

``get_chunk(size)`` reads ``size`` rows, as pandas' reader does; a chunk whose first or
last record the scan did not keep (its size, or a size asked before it, is not
``chunksize``) costs one more pass over the file, which keeps them, and the bounds of
the chunks that follow it: ``chunksize`` rows each, or, when the same size is asked
again, that size (so one odd size followed by ``chunksize`` chunks costs one pass, and
one size asked throughout two).

A line after the header that pandas' python engine takes for index names (or drops,
blank: :mod:`._csv_python_blank`) is removed from the scan's records, as in a read of
the whole file; the file is then scanned again, the chunks counted from the record after
it, and every chunk's check parses that line after the header, as pandas read it.
"""

import numbers
import os

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._csv_lines import (
    data_lines,
    header_records,
    one_row_per_line,
    record_limit,
    rowless,
)
from ._csv_python_blank import dropped_blank, index_col_read, without_blank
from ._csv_spans import RecordBytes
from ._csv_stream import check_stable, scan_file
from ._csv_verify import check_positions
from ._csv_warnings import as_user_call
from ._id_index import _witnessed
from ._ids import pack
from ._io import (
    check_index_names,
    check_python_engine,
    file_uri,
    for_check,
    keeps_index,
    recorded_encoding,
    register_file,
)
from ._read_paths import mark
from ._witness import stride


class _Records:
    """The records a chunk's check parses, keyed as :func:`._csv_verify._check_rows`
    reads them: the header at ``first - 1``, the chunk's row ``p`` at ``first + p``."""

    def __init__(self, kept, first, start):
        self._kept = kept
        self._first, self._start = first, start

    def __getitem__(self, g):
        shift = 0 if g < self._first else self._start
        return self._kept[g + shift]


class TracedChunks:
    """Chunks of a CSV file as ``pandas.read_csv(chunksize=...)`` (or
    ``iterator=True``) gives them, each indexed by row ids (see
    :func:`sktraceprop.read_csv`).

    Iterate over it, or use it in a ``with`` block as pandas' reader; ``get_chunk()``
    gives the next chunk, ``get_chunk(size)`` the next ``size`` rows.
    """

    def __init__(self, path, source_id, kwargs, modelled, sniffs):
        self._path, self._source_id = path, source_id
        self._kwargs, self._sniffs = kwargs, sniffs
        # (the check parses a few records in one piece)
        self._modelled = {k: v for k, v in modelled.items() if k not in ("chunksize", "iterator")}
        # (0: iterator=True alone, whose get_chunk() reads the rest of the file; the
        # scan keeps the first and last records, and a rescan those of a size asked)
        self._size = 0 if kwargs.get("chunksize") is None else int(kwargs["chunksize"])
        if self._size < 1 and kwargs.get("chunksize") is not None:
            raise ValueError(f"chunksize must be a positive integer, got {self._size}")
        self._first = header_records(kwargs)
        self._before = os.stat(path)
        self._names = None  # the record pandas' python engine took for index names
        self._scan = self._scanned(every=self._size)
        check_python_engine(path, self._modelled, self._scan)
        self._names = dropped_blank(path, self._modelled, self._scan)
        self._names_row = None
        if self._names is not None:
            # (scanned again keeping it and the first data record after it, chunks cut
            # from that record on; its record removed as the whole-file read removes it)
            kept = self._scan.samples.get(self._names)
            self._names_row = kept if kept and kept.strip(b"\r\n") else None
            self._scan = self._scanned(every=self._size)
        # (pandas replaced index_col by the names line's columns: the read without it)
        self._checked = index_col_read(self._modelled, self._names)
        self._read_as = index_col_read(kwargs, self._names)
        if self._scan.status is not None:
            data_lines(self._scan, 0, self._modelled, path)  # raises, naming the status
        total = max(self._scan.n_records - self._first, 0)
        if kwargs.get("nrows") is not None:
            total = min(total, int(kwargs["nrows"]))
        self._total = total
        self._lines = one_row_per_line(self._scan.lines[self._first : self._first + total], path)
        # the records checked: sampled (their bytes), the first and last of each chunk
        # (their spans, read as the chunk comes)
        self._samples, self._bounds = self._scan.samples, self._scan.bounds
        self._bytes = RecordBytes(path, self._modelled)
        self._asked = None  # the size last asked of get_chunk
        self.n_rescans = 0  # passes over the file made for chunks of other sizes
        self._reader = as_user_call(pd.read_csv, path, **kwargs)
        self._start = 0  # rows handed out so far
        self._no_rows = None  # the file's index read so far, emptied
        self._source = None
        self._group = object()  # this read's witness loads
        self._done = False

    def _scanned(self, **chunks):
        """A pass over the file (``chunks``: :func:`._csv_stream.scan_file`'s ``every``,
        ``phase`` and ``wanted``), without the record of the names line, if any: data
        records, and chunks, then start at the record after it."""
        names = self._names
        scan = scan_file(
            self._path,
            self._modelled,
            n_keep=self._first + 1 + (names is not None),
            last_kept=1,
            max_records=record_limit(self._modelled),
            **chunks,
        )
        return scan if names is None or scan.status is not None else without_blank(scan, names)

    def __iter__(self):
        return self

    def __next__(self):
        return self._next(None)

    def get_chunk(self, size=None):
        """The next chunk, as pandas' ``TextFileReader.get_chunk``.

        Parameters
        ----------
        size : int, default=None
            Rows to read, at least 1 (fewer at the end of the file, or of ``nrows``);
            defaults to ``chunksize``, or, read with ``iterator=True`` and no
            ``chunksize``, the rest of the file.

        Returns
        -------
        chunk : DataFrame
            The rows, indexed by row ids.
        """
        if size is not None:
            size = _rows_asked(size)
        repeated, self._asked = size is not None and size == self._asked, size
        return self._next(size, repeated)

    def _next(self, size, repeated=False):
        if self._done:
            raise StopIteration
        try:
            chunk = as_user_call(self._reader.get_chunk, size)
        except StopIteration:
            self._finish()
            raise
        except BaseException:
            self.close()
            raise
        try:
            return self._traced(chunk, repeated)
        except BaseException:
            self.close()
            raise

    def close(self):
        self._done = True
        self._reader.close()
        self._bytes.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _finish(self):
        self.close()
        check_stable(self._before, os.stat(self._path), self._scan.n_bytes, self._path)
        if self._start != self._total:
            raise LineageError(
                f"sktraceprop.read_csv: {self._path}: pandas read {self._start} rows in "
                f"chunks where {self._total} records were found; the lines of the chunks "
                "given cannot be guaranteed. Read it with pandas and use "
                "sktraceprop.from_pandas."
            )

    def _traced(self, chunk, repeated=False):
        start, n = self._start, len(chunk)
        where = self._path
        if self._source is None and rowless(chunk):
            # (pandas reads no column and no index: every chunk then holds no row,
            # whatever records it read; a chunk with a row is refused below)
            self._total, self._lines = 0, self._lines[:0]
        check_stable(self._before, os.stat(where), self._scan.n_bytes, where)
        if start + n > self._total:
            raise LineageError(
                f"sktraceprop.read_csv: {where}: pandas read more rows ({start + n} by this "
                f"chunk) than the {self._total} records found; physical lines cannot be "
                "guaranteed. Read it with pandas and use sktraceprop.from_pandas."
            )
        if n:
            self._check(chunk, start, n, repeated)
        lines = self._lines[start : start + n]
        keep = keeps_index(self._read_as, chunk.index, start)
        if keep and n:
            self._no_rows = chunk.index[:0]
        elif not n and self._no_rows is not None:
            # (pandas numbers a chunk of no rows from 0 where the others hold the file's
            # index: it gets theirs, empty, so that the chunks join as pandas' do)
            chunk, keep = chunk.set_axis(self._no_rows, axis=0), True
        check_index_names(chunk.index, keep, where)
        if self._source is None:
            self._source = register_file(
                where,
                self._source_id,
                self._scan.sha256,
                self._total,
                self._lines,
                chunk,
                recorded_encoding(self._kwargs),
            )
        if not keep:
            chunk = chunk.reset_index(drop=True)
        self._start = start + n
        # one load for the whole read (the stride of all its rows, a few hundred kept)
        out = _witnessed(
            chunk,
            pack(self._source.code, lines),
            self._source,
            keep_index=keep,
            every=stride(self._total),
            group=self._group,
        )
        return mark(out, self._source.code, file_uri(where))

    def _rescan(self, start, n, repeated):
        """Scan the file again, keeping the first and last records of the chunk of rows
        ``start .. start + n - 1`` and of the chunks after it: ``chunksize`` rows each,
        or ``n`` when ``get_chunk`` was asked for ``n`` rows again."""
        every, phase = (n, start) if repeated else (self._size, start + n)
        scan = self._scanned(every=every, phase=phase, wanted=(start, start + n - 1))
        self.n_rescans += 1
        if scan.sha256 != self._scan.sha256 or not np.array_equal(scan.lines, self._scan.lines):
            raise LineageError(
                f"sktraceprop.read_csv: {self._path}: the file changed while it was read in "
                "chunks (its bytes or records differ from the first pass); physical lines "
                "cannot be guaranteed. Read it again."
            )
        self._bounds.update(scan.bounds)

    def _check(self, chunk, start, n, repeated=False):
        """Check the chunk's first and last rows and its sampled rows by content."""
        first = self._first
        sampled = [g - first - start for g in self._scan.samples if 0 <= g - first - start < n]
        positions = np.unique(np.array([0, n - 1, *sampled], dtype=np.int64))
        frame = for_check(chunk, self._sniffs)
        if not keeps_index(self._read_as, frame.index, start):
            frame = frame.reset_index(drop=True)
        wanted = [first - 1] * (first > 0) + [first + start + p for p in positions.tolist()]
        texts = self._texts(wanted)
        if texts is None:
            self._rescan(start, n, repeated)
            texts = self._texts(wanted)
        if texts is None:
            raise LineageError(
                f"sktraceprop.read_csv: {self._path}: the records of rows {start} to "
                f"{start + n - 1} were not kept by the scan; physical lines cannot be "
                "guaranteed. Read it with pandas and use sktraceprop.from_pandas."
            )
        # (the bytes read now are the bytes scanned: the file has not changed since)
        check_stable(self._before, os.stat(self._path), self._scan.n_bytes, self._path)
        records = _Records(texts, first, start)
        lead = self._samples.get(first)  # (the first data record: see _csv_verify)
        check_positions(
            frame,
            _Sampled(records, self._scan),
            self._checked,
            self._path,
            first,
            positions,
            lead,
            self._names_row,
        )

    def _texts(self, records):
        """Record -> its bytes, for each of ``records`` (sorted): kept by the scan, or
        read by its span; None when one is neither (its chunk was not foreseen)."""
        out = {}
        for g in records:
            if g in self._samples:
                out[g] = self._samples[g]
                continue
            span = self._bounds.get(g)
            if span is None:
                return None
            try:
                out[g] = self._bytes.read(*span)
            except LookupError as exc:
                raise LineageError(
                    f"sktraceprop.read_csv: {self._path}: the bytes of a record of the chunk "
                    f"could not be read again ({exc}); physical lines cannot be guaranteed. "
                    "Read it with pandas and use sktraceprop.from_pandas."
                ) from None
        return out


class _Sampled:
    """What :func:`._csv_verify._check_rows` reads of a scan: its ``samples``, and
    ``lines`` and ``bom`` of the ``scan``."""

    def __init__(self, records, scan):
        self.samples = records
        self.lines, self.bom = scan.lines, scan.bom


def _rows_asked(size):
    """``get_chunk``'s ``size`` as pandas takes it (an integer; a float that is one),
    checked before the reader reads (pandas' error would end the read). Not 0: pandas'
    C reader then stops, as at the end of the file, once it has read rows (pandas 3.1;
    pandas 2.2 crashes on the next read)."""
    if isinstance(size, float) and size.is_integer():
        size = int(size)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(
            f"get_chunk: size must be an integer >= 1, got {size!r} (pandas' reader ends "
            "the read on get_chunk(0))"
        )
    return int(size)
