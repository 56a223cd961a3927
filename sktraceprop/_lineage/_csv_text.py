"""The bytes of a CSV file as the line scan reads them: hashed, re-encoded, writable.

The file is hashed as it is read (:class:`_Hashing`), its text handed out as chunks of
the UTF-8 bytes pandas' tokenizer sees (:func:`_utf8`), the first long enough to show a
byte order mark (:func:`_first_at_least`), each as a writable array for the numba
kernels (:func:`_writable`). The chunk size is the caller's (``_csv_stream.CHUNK``).
"""

import codecs
import hashlib

import numpy as np


class _Hashing:
    """A binary file that hashes what is read from it."""

    def __init__(self, fh):
        self._fh = fh
        self.sha = hashlib.sha256()
        self.n_bytes = 0

    def read(self, size=-1):
        data = self._fh.read(size)
        self.sha.update(data)
        self.n_bytes += len(data)
        return data

    def readinto(self, buffer):
        n = self._fh.readinto(buffer)
        view = memoryview(buffer)[:n]
        self.sha.update(view)
        self.n_bytes += n
        return n

    def readable(self):
        return True

    def drain(self, size):
        while self.read(size):
            pass


def _utf8(stream, encoding, errors, size):
    """Chunks of the UTF-8 bytes pandas' tokenizer sees (other encodings re-encoded).

    Chunks of ``size`` bytes are read. A full chunk of a UTF-8 stream is one reused
    ``bytearray``, overwritten by the next read (fresh 4 MB buffers cost page faults):
    use it before asking for the next. Every chunk is a ``bytearray`` (see
    :func:`_writable`).
    """
    transcode = encoding is not None and codecs.lookup(encoding).name not in ("utf-8", "ascii")
    decoder = codecs.getincrementaldecoder(encoding)(errors) if transcode else None
    if decoder is None:
        buffer = bytearray(size)
        while n := stream.readinto(buffer):
            yield buffer if n == len(buffer) else buffer[:n]  # (a slice: a bytearray)
        return
    while True:
        chunk = stream.read(size)
        out = decoder.decode(chunk, final=not chunk).encode()
        if out:
            yield bytearray(out)
        if not chunk:
            return


def _first_at_least(chunks, n):
    """The same bytes, with a first chunk of at least ``n`` bytes (to see a BOM)."""
    head = bytearray()
    for chunk in chunks:
        if head is None:
            yield chunk
        elif not head and len(chunk) >= n:
            head = None
            yield chunk
        else:
            head += chunk
            if len(head) >= n:
                yield head
                head = None
    if head:
        yield head


def _writable(chunk):
    """``chunk`` as a writable uint8 array, for the scan kernels.

    numba compiles a kernel once per combination of argument types, and a read-only
    array (``np.frombuffer`` of ``bytes``) is a type of its own: a file's last, short
    chunk given as ``bytes`` made a process's first read of a file longer than a chunk
    compile every scan kernel twice (about 20 s more of a first read with numba's cache
    empty, on a loaded 2-core machine), and load both from the cache after. Chunks come
    as ``bytearray`` (:func:`_utf8`); any other is copied into one here.
    """
    if not isinstance(chunk, bytearray):
        chunk = bytearray(chunk)
    return np.frombuffer(chunk, dtype=np.uint8)
