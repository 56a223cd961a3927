"""A source file's line as ``read_csv`` counts lines (what ``demo`` and ``trace`` show),
read through compression, and only from the bytes that were loaded.

``read_csv`` counts lines in the text it decoded. A record that names the encoding
(``Source.encoding``: UTF-16, UTF-32, EBCDIC, latin-1...) has its lines found in the
bytes decoded so; one that names none (UTF-8, or a record written before reads
recorded their encoding) has them found in the bytes, which name ``read_csv``'s lines
only in an encoding whose line ends are the ASCII bytes (UTF-8, latin-1, cp1252,
Shift-JIS, ...). Such a file whose bytes cannot be such text (NUL bytes: UTF-16 or
UTF-32) or that has fewer lines than the one asked for (EBCDIC) shows no line, with the
reason: never a line cut from the wrong bytes.
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


def _lines_in_text(data, encoding, line):
    """Line ``line`` of ``data`` decoded with ``encoding``, split as read_csv counts."""
    import re

    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        # (read with encoding_errors other than "strict": the text read_csv saw is not
        # this file's strict decoding)
        raise LineNotShown(
            f"the file's bytes do not decode as {encoding}, the encoding read_csv was "
            f"given ({exc})"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark, which pandas skips
    lines = re.split(r"\r\n|\r|\n", text)
    if text.endswith(("\n", "\r")):
        lines.pop()
    if not 1 <= line <= len(lines):
        raise LineNotShown(f"the file's text ({encoding}) has {len(lines)} lines, not line {line}")
    return lines[line - 1]


def _line_of(uri, line, data=None, encodings=(None,)):
    r"""Physical line ``line`` (1-based) of a file, as read_csv counts lines.

    Lines end with ``\n``, ``\r\n`` or a lone ``\r`` in the decompressed text. With
    ``encodings`` naming an encoding (the record's, see ``Source.encoding``), the bytes
    are decoded with it; ``None`` (UTF-8, or not recorded) finds lines in the bytes,
    decoded as UTF-8 with undecodable bytes shown as escapes, so a line is never shown
    from other bytes. Several encodings (the same bytes read in several): the line is
    shown only where each gives it alike.

    Raises
    ------
    LineNotShown
        If the encodings give the line differently, if the file does not decode as
        the encoding recorded, or, with none recorded, if the bytes hold a NUL (UTF-16
        or UTF-32 text, whose line ends are not these bytes, and whose characters hold
        ``\n`` and ``\r`` bytes: "上" is ``0a 4e``), or have fewer lines than ``line``
        (an encoding such as EBCDIC, whose line end is another byte), or look like
        EBCDIC text with CR LF line ends (``0d 25``).
    """
    from ._lineage._uri_path import path_of_uri

    if data is None:
        data = Path(path_of_uri(uri)).read_bytes()
    data = _decompressed(data)
    shown = {}
    for encoding in dict.fromkeys(encodings):
        if encoding is None:
            shown[encoding] = _line_in_bytes(data, line)
        else:
            shown[encoding] = _lines_in_text(data, encoding, line)
    if len(set(shown.values())) > 1:
        names = ", ".join("UTF-8 (or not recorded)" if e is None else e for e in shown)
        raise LineNotShown(
            f"these bytes were read with several encodings ({names}), which give line "
            f"{line} differently: which one the row was read with is not recorded"
        )
    return next(iter(shown.values()))


def _line_in_bytes(data, line):
    """Line ``line`` found in the bytes (a record that names no encoding)."""
    import re

    if b"\x00" in data:
        raise LineNotShown(
            "the file's bytes hold NUL bytes (UTF-16 or UTF-32 text?), whose lines "
            "read_csv counted in the decoded text: its line ends are not these bytes, "
            "and the record names no encoding (read as UTF-8, or recorded before reads "
            "recorded it)"
        )
    if b"\n" not in data and b"\r%" in data:
        # EBCDIC's line end is 0d 25 (CR, LF); "%" is 25 in ASCII
        raise LineNotShown(
            "the file's bytes hold no \\n byte, and a \\r followed by 0x25 (EBCDIC text, "
            "whose CR LF is 0d 25?): read_csv counted lines in the decoded text, and the "
            "record names no encoding (read as UTF-8, or recorded before reads recorded "
            "it)"
        )
    lines = re.split(rb"\r\n|\r|\n", data)
    if data.endswith((b"\n", b"\r")):
        lines.pop()
    if not 1 <= line <= len(lines):
        raise LineNotShown(
            f"the file's bytes hold {len(lines)} lines, not line {line}: read_csv counted "
            "lines in the decoded text of an encoding whose line end is another byte "
            "(EBCDIC?), and the record names no encoding (read as UTF-8, or recorded "
            "before reads recorded it)"
        )
    return lines[line - 1].decode("utf-8", errors="backslashreplace")


def _line_text(uri, line, sha256, encodings=(None,)):
    """The text of a file's line, if the file is still the one that was loaded
    (``encodings``: of the record's reads, see :func:`_line_of`)."""
    from ._lineage._file_state import file_now

    state, _, detail, data = file_now(uri, sha256, keep=True)
    if state == "not a file":
        return None, "not a file"
    if state in ("missing", "unreadable"):
        return None, f"file not readable: {detail}"
    if state == "changed":
        return None, _changed_why(data, sha256)
    try:
        return _line_of(uri, line, data, encodings), None
    except LineNotShown as exc:
        return None, f"line not shown: {exc}"
    except (OSError, EOFError, ValueError, ImportError, LookupError) as exc:
        return None, f"line not shown: the file could not be decompressed ({exc})"


def _changed_why(data, sha256):
    """Why a file's line is not shown when its bytes are no longer the loaded ones: and,
    where converting its line ends back (CRLF to LF or LF to CRLF, as git's ``autocrlf``
    or an editor does) gives the loaded bytes, that this is all that changed."""
    said = "the file changed since it was loaded (SHA-256 differs)"
    lf = data.replace(b"\r\n", b"\n")
    for back, was in ((lf, "LF"), (lf.replace(b"\n", b"\r\n"), "CRLF")):
        if back != data and hashlib.sha256(back).hexdigest() == sha256:
            now = "CRLF" if was == "LF" else "LF"
            return (
                f"{said}: only its line ends differ, {was} when loaded and {now} now "
                "(converted by git's autocrlf or an editor?); the bytes are not the ones "
                "loaded: line not shown"
            )
    return f"{said}: line not shown"
