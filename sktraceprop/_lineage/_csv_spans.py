"""The bytes of records a chunked read checks, read by their spans as its chunks come.

The first pass over a file (:func:`._csv_stream.scan_file`) keeps where each chunk's
first and last records lie in the text it read, not their bytes (with ``chunksize=1``
every record is one, and their bytes held the whole file). This reads that text again,
forward only, as pandas reads the chunks: the file decompressed and re-encoded as the
scan did, holding one block and the bytes asked for at a time.
"""

from . import _csv_stream
from ._csv_files import _decompressed, compression_of
from ._csv_text import _first_at_least, _utf8


class RecordBytes:
    """Bytes ``start .. end`` of the text the scan of ``path`` read, asked in order.

    Parameters
    ----------
    path : Path
    kwargs : dict
        The ``read_csv`` options (compression, encoding, encoding_errors).
    """

    def __init__(self, path, kwargs):
        self._path, self._kwargs = path, kwargs
        self._fh = self._blocks = None
        self._held, self._base = b"", 0  # the text from _base, kept

    def _open(self):
        self._fh = open(self._path, "rb")  # noqa: SIM115 (closed by close())
        stream = _decompressed(
            self._fh,
            compression_of(self._path, self._kwargs.get("compression", "infer")),
            self._path,
        )
        encoding = self._kwargs.get("encoding")
        errors = self._kwargs.get("encoding_errors", "strict")
        chunks = _utf8(stream, encoding, errors, _csv_stream.CHUNK)
        self._blocks = _first_at_least(chunks, 3)

    def read(self, start, end):
        """The bytes ``start .. end``; ``start`` at least the last one asked's.

        Raises
        ------
        LookupError
            ``start`` is before the last one asked, or the text ends before ``end``.
        """
        if start < self._base:
            raise LookupError(f"bytes {start} .. {end} were passed before they were asked")
        if self._blocks is None:
            self._open()
        self._drop_before(start)
        while self._base + len(self._held) < end:
            block = next(self._blocks, None)
            if block is None:
                raise LookupError(f"the text ends before byte {end}")
            if self._base + len(self._held) + len(block) <= start:
                self._base += len(block)  # (all before start: not kept)
                continue
            # (a full block is a buffer the next read overwrites: copied)
            self._held += bytes(block)
            self._drop_before(start)
        return self._held[start - self._base : end - self._base]

    def _drop_before(self, start):
        cut = min(start - self._base, len(self._held))
        if cut > 0:
            self._held, self._base = self._held[cut:], self._base + cut

    def close(self):
        if self._fh is not None:
            self._fh.close()
