"""A CSV file as pandas opens it: the compression it infers, the decompressed bytes, the
text with pandas' line ends, and whether the file changed while it was read."""

import bz2
import contextlib
import gzip
import io
import lzma
import zipfile

from ..exceptions import LineageError

_SUFFIXES = {
    ".gz": "gzip",
    ".bz2": "bz2",
    ".zip": "zip",
    ".xz": "xz",
    ".zst": "zstd",
    ".tar": "tar",
    ".tgz": "tar",
}


def compression_of(path, compression):
    """The compression pandas applies to ``path`` (``None`` for none)."""
    if isinstance(compression, dict):
        compression = compression.get("method")
    if compression == "infer":
        suffixes = "".join(path.suffixes[-2:]).lower()
        if suffixes.endswith((".tar.gz", ".tar.bz2", ".tar.xz")):
            return "tar"
        compression = _SUFFIXES.get(path.suffix.lower())
    return compression


@contextlib.contextmanager
def open_text(path, kwargs):
    """The file's decompressed text as pandas reads it with these options: lines end
    at ``"\n"``, ``"\r\n"`` and a lone ``"\r"`` (``newline=""`` keeps them), and a
    UTF-8 byte-order mark stays on the first line."""
    method = compression_of(path, kwargs.get("compression", "infer"))
    with open(path, "rb") as fh:
        yield io.TextIOWrapper(
            _decompressed(fh, method, path),
            encoding=kwargs.get("encoding") or "utf-8",
            errors=kwargs.get("encoding_errors", "strict"),
            newline="",
        )


def _decompressed(raw, method, path):
    """File-like object over the decompressed bytes of ``raw`` (a :class:`._csv_text._Hashing`)."""
    if method is None:
        return raw
    if method == "gzip":
        return gzip.GzipFile(fileobj=raw)
    if method == "bz2":
        return bz2.BZ2File(raw)
    if method == "xz":
        return lzma.LZMAFile(raw)
    if method == "zip":
        archive = zipfile.ZipFile(io.BytesIO(raw.read()))
        names = archive.namelist()
        if len(names) != 1:
            raise ValueError(f"{path}: a zip file must hold exactly one member")
        return archive.open(names[0])
    if method == "zstd":
        try:
            import zstandard
        except ImportError:
            raise ImportError("reading .zst files needs the zstandard package") from None
        return zstandard.ZstdDecompressor().stream_reader(raw)
    raise ValueError(
        f"sktraceprop.read_csv does not support compression={method!r}; decompress the "
        "file first, or read it with pandas and use sktraceprop.from_pandas."
    )


def check_stable(before, after, n_bytes, where):
    """Refuse a file that changed while pandas and the scan were reading it.

    ``st_ctime_ns`` too: a write in place that restores the modification time (``cp
    -p`` or ``rsync -t`` of a version of equal size onto the file, ``os.utime``) keeps
    size, ``st_mtime_ns`` and inode, and pandas' later chunks would hold its values under
    the hash and lines of the bytes scanned. No call sets the change time back.
    """
    fields = ("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino", "st_dev")
    same = all(getattr(before, f) == getattr(after, f) for f in fields)
    if not same or n_bytes != after.st_size:
        raise LineageError(
            f"sktraceprop.read_csv: {where} changed while it was being read; read it again "
            "once it is no longer being written."
        )
