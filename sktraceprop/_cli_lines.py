"""A source file's line as ``read_csv`` counts lines (what ``demo`` and ``trace`` show),
read through compression, and only from the bytes that were loaded."""

import hashlib
from pathlib import Path

#: Magic bytes of the compressions pandas reads, and the module that opens them.
_COMPRESSED = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "lzma"),
    (b"\x28\xb5\x2f\xfd", "zstandard"),
)


def _decompressed(data):
    """The bytes pandas parses of a file that may be compressed or archived."""
    import importlib
    import io
    import zipfile

    for magic, module in _COMPRESSED:
        if data.startswith(magic):
            opened = importlib.import_module(module)
            if module == "zstandard":
                return _decompressed(opened.ZstdDecompressor().stream_reader(data).read())
            return _decompressed(opened.decompress(data))
    if not data.startswith(b"PK\x03\x04"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if len(names) != 1:
            raise ValueError(f"a zip archive of {len(names)} files")
        return archive.read(names[0])


def _a_path(row):
    """A path holding a traced row's line: its ``uri``, or, for a file read from
    several paths (copies) when not known which, the first of its ``uris`` (each holds
    the same bytes)."""
    return row.uri if isinstance(row.uri, str) else row.uris[0]


def _line_of(uri, line, data=None):
    """Physical line ``line`` (1-based) of a file, as read_csv counts lines.

    Lines end with ``\n``, ``\r\n`` or a lone ``\r`` in the decompressed bytes; the
    text is decoded as UTF-8 with undecodable bytes shown as escapes (the file's
    encoding is not recorded), so a line is never shown from other bytes.
    """
    import re
    from urllib.parse import unquote, urlparse

    if data is None:
        data = Path(unquote(urlparse(uri).path)).read_bytes()
    data = _decompressed(data)
    lines = re.split(rb"\r\n|\r|\n", data)
    if data.endswith((b"\n", b"\r")):
        lines.pop()
    if not 1 <= line <= len(lines):
        return ""
    return lines[line - 1].decode("utf-8", errors="backslashreplace")


def _line_text(uri, line, sha256):
    """The text of a file's line, if the file is still the one that was loaded."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None, "not a file"
    path = Path(unquote(parsed.path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"file not readable: {exc.strerror or exc}"
    if hashlib.sha256(data).hexdigest() != sha256:
        return None, "the file changed since it was loaded (SHA-256 differs): line not shown"
    try:
        return _line_of(uri, line, data), None
    except (OSError, EOFError, ValueError, ImportError, LookupError) as exc:
        return None, f"line not shown: the file could not be decompressed ({exc})"
