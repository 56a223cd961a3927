"""A source file's line as ``read_csv`` counts lines (what ``demo`` and ``trace`` show),
read through compression, and only from the bytes that were loaded.

The file's encoding is not recorded: lines are found in its bytes, which name
``read_csv``'s lines only in an encoding whose line ends are the ASCII bytes (UTF-8,
latin-1, cp1252, Shift-JIS, ...). A file whose bytes cannot be such text (NUL bytes:
UTF-16 or UTF-32) or that has fewer lines than the one asked for (EBCDIC) shows no
line, with the reason: never a line cut from the wrong bytes.
"""

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


class LineNotShown(ValueError):
    """The line cannot be found in the file's bytes (the message says why)."""


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

    Raises
    ------
    LineNotShown
        If the bytes hold a NUL (UTF-16 or UTF-32 text, whose line ends are not these
        bytes, and whose characters hold ``\n`` and ``\r`` bytes: "上" is ``0a 4e``),
        or have fewer lines than ``line`` (an encoding such as EBCDIC, whose line end
        is another byte), or look like EBCDIC text with CR LF line ends (``0d 25``).
    """
    import re
    from urllib.parse import unquote, urlparse

    if data is None:
        data = Path(unquote(urlparse(uri).path)).read_bytes()
    data = _decompressed(data)
    if b"\x00" in data:
        raise LineNotShown(
            "the file's bytes hold NUL bytes (UTF-16 or UTF-32 text?), whose lines "
            "read_csv counted in the decoded text: its line ends are not these bytes, "
            "and the file's encoding is not recorded"
        )
    if b"\n" not in data and b"\r%" in data:
        # EBCDIC's line end is 0d 25 (CR, LF); "%" is 25 in ASCII
        raise LineNotShown(
            "the file's bytes hold no \\n byte, and a \\r followed by 0x25 (EBCDIC text, "
            "whose CR LF is 0d 25?): read_csv counted lines in the decoded text, and the "
            "file's encoding is not recorded"
        )
    lines = re.split(rb"\r\n|\r|\n", data)
    if data.endswith((b"\n", b"\r")):
        lines.pop()
    if not 1 <= line <= len(lines):
        raise LineNotShown(
            f"the file's bytes hold {len(lines)} lines, not line {line}: read_csv counted "
            "lines in the decoded text of an encoding whose line end is another byte "
            "(EBCDIC?), and the file's encoding is not recorded"
        )
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
    except LineNotShown as exc:
        return None, f"line not shown: {exc}"
    except (OSError, EOFError, ValueError, ImportError, LookupError) as exc:
        return None, f"line not shown: the file could not be decompressed ({exc})"
