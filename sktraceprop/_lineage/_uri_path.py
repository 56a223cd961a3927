"""The path a source URI names, byte for byte: to open it, and to show or name it.

A record names a file by ``Path.as_uri()``, which percent-encodes the path's bytes: a
name that is not UTF-8 (``b"caf\\xe9.csv"``, latin-1) is ``caf%E9.csv``. ``unquote``
decodes those bytes as UTF-8 with replacement, ``caf\\ufffd.csv``: a path that is not
the file's (it was said missing, or its line not shown), and one name for every such
file (``caf\\xe8.csv`` too). Every reader of a source URI decodes it here.

On Windows ``as_uri`` writes ``C:\\data\\a.csv`` as ``file:///C:/data/a.csv`` and the
share ``\\\\server\\share\\a.csv`` as ``file://server/share/a.csv``: the URI's path
``/C:/data/a.csv`` is no Windows path (such a file was said missing where it was), and a
host is part of the name. A URI with a host other than ``localhost`` names a file on
that host: on Windows the share, elsewhere no local path (its path alone, ``/share/a.csv``,
is another file, which was hashed and said changed).

RFC 8089 (appendix E.3.2) also writes that share with an empty authority,
``file:////server/share/a.csv`` (and ``file://///server/...``): the same file, so read as ``file://server/...``
(elsewhere than Windows its path ``//server/share/a.csv`` opened ``/server/share/a.csv``
here, another file; a record made here names a resolved path, which never starts with
``//``). Host names are case-insensitive (RFC 3986, 3.2.2): ``file://Server/`` and
``file://server/`` name one host and are shown alike. A POSIX root folder ``c:`` is no
drive, and another file than ``/C:``: ``as_uri`` writes it ``file:///c%3A/a.csv``, a
Windows drive ``file:///c:/a.csv``; so only a drive written with its colon (or ``|``)
in the URI is shown as one, its letter upper case.

The drive's case is also settled where the URI is made (:func:`uri_of_path`), where the
path's own flavour says whether ``c:`` is a drive: Windows names one drive ``C:`` and
``c:`` (and one host ``Server`` and ``server``), and ``as_uri`` keeps the letter as
typed (``file:///c:/data/x.csv``), so one file read as ``c:\\data\\x.csv`` and as
``C:\\data\\x.csv`` was two URIs: two sources in per-source tables, two OpenLineage
datasets, two labels in the report. The drive letter is written upper case and the
host lower case; the rest of the path is kept as written, since a folder can be
case-sensitive on Windows too (``fsutil file setCaseSensitiveInfo``, WSL's folders).

Records written before that keep ``file:///c:/data.csv`` where new ones write
``file:///C:/data.csv``: what compares URIs to tell files apart (a per-source table's
content key, the paths one content was read from, "several files under one name")
compares :func:`same_file_uri` of each, the spelling :func:`uri_of_path` writes now, so
an old and a new record of one file are one file (the records keep what they hold).
"""

import ntpath
import os
import re
from pathlib import PureWindowsPath
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

__all__ = [
    "NotALocalPath",
    "host_and_path",
    "path_of_uri",
    "same_file_uri",
    "shown_path_of_uri",
    "uri_of_path",
]

#: A drive letter opening a URI's path: ``/C:/``, ``/C|/`` (an older spelling), ``C:``.
_DRIVE = re.compile(r"/?([A-Za-z])[:|](?=/|$)")


#: A Windows path's drive that is a letter (``C:``), not a share (``\\\\server\\share``).
_DRIVE_OF_PATH = re.compile(r"[A-Za-z]:")


#: RFC 8089's share with an empty authority: ``file:////server/share/a.csv`` (or, with
#: one more slash, ``file://///server/share/a.csv``).
_SHARE = re.compile(rb"///?([^/]+)(/.*)?", re.DOTALL)

#: The same, in a URI's (still percent-encoded) path.
_SHARE_TEXT = re.compile(r"///?([^/]+)(/.*)?", re.DOTALL)


def _folded(text):
    """``text`` with each letter that has a one-letter lower case, and is that letter's
    upper case, lowered (``Share`` -> ``share``).

    Windows compares share names by upper-casing each character, one to one. A letter
    whose lower case is longer (``İ``), or is the lower case of another letter too (the
    Kelvin sign and ``K`` both lower to ``k``), is kept: folding it could make two shares
    Windows keeps apart one.
    """
    out = []
    for c in text:
        low = c.lower()
        out.append(low if len(low) == 1 and low != c and low.upper() == c else c)
    return "".join(out)


def _folded_share(path):
    """A host URI's (percent-encoded) path with its share name folded (:func:`_folded`).

    The share, the path's first segment, names an SMB share, whose name is
    case-insensitive (``\\\\server\\Share`` and ``\\\\server\\share`` are one share);
    the rest of the path stays as written. The share is written back as ``as_uri`` writes
    it (percent-encoded UTF-8); bytes that are not UTF-8 (no Windows name) are kept.
    """
    if not path.startswith("/"):
        return path
    end = path.find("/", 1)
    end = len(path) if end < 0 else end
    raw = unquote_to_bytes(path[1:end])
    try:
        share = _folded(raw.decode("utf-8", "surrogatepass")).encode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # (its other bytes kept, as shown_path_of_uri shows them)
        share = _folded(raw.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    return "/" + quote_from_bytes(share, safe="") + path[end:]  # (a %2F stays one)


def _folded_shown_share(path):
    """A host's path as shown (decoded text) with its share name folded."""
    head, sep, rest = path[1:].partition("/")
    return "/" + _folded(head) + sep + rest if path.startswith("/") else path


class NotALocalPath(OSError):
    """A ``file:`` URI whose host is another machine: no path here opens it."""


def uri_of_path(path):
    """The ``file:`` URI records name ``path`` by (absolute): ``path.as_uri()`` with a
    Windows drive letter upper case and a share's host and share name lower case.

    Parameters
    ----------
    path : PurePath
        An absolute path; a ``PureWindowsPath`` (or a ``WindowsPath``) has its drive
        settled, a POSIX path is its bytes (``/c:`` is a folder there, not a drive).
    """
    uri = path.as_uri()
    if not isinstance(path, PureWindowsPath):
        return uri
    drive = _DRIVE_OF_PATH.fullmatch(path.drive)
    if drive:  # file:///c:/... -> file:///C:/...
        at = len("file:///")
        return uri[:at] + uri[at].upper() + uri[at + 1 :]
    parts = urlsplit(uri)
    if parts.netloc:  # a share, \\Server\Share: file://server/share/...
        path = uri[len("file://") + len(parts.netloc) :]
        return "file://" + parts.netloc.lower() + _folded_share(path)
    return uri


def same_file_uri(uri):
    """``uri`` as :func:`uri_of_path` writes its file now, to compare with another.

    A ``file:`` URI's Windows drive letter (written ``c:``, ``C:`` or ``c|`` in the URI)
    upper case, its host lower case (``localhost`` none; a share with an empty
    authority, ``file:////server/share``, on host ``server``) and so the share name
    after a host (SMB share names are case-insensitive: ``file://server/Share/a.csv``
    is ``file://server/share/a.csv``); the rest as written, as is any other URI
    (``s3://``, a frame's). Two URIs of one file written by this and by earlier versions
    compare equal; other case differences in the path stay apart (a POSIX file name, or
    a case-sensitive Windows folder, is its case).
    """
    parts = urlsplit(uri)
    if parts.scheme.lower() != "file" or parts.query or parts.fragment:
        return uri
    host, path = parts.netloc, parts.path
    share = None if host else _SHARE_TEXT.fullmatch(path)
    if share:
        host, path = share.group(1), share.group(2) or "/"
    host = "" if host.lower() == "localhost" else host.lower()
    if host:
        return f"file://{host}{_folded_share(path)}"
    drive = _DRIVE.match(path)
    if drive:
        path = "/" + drive.group(1).upper() + ":" + path[drive.end() :]
    return "file://" + ("" if path.startswith("/") else "/") + path


def path_of_uri(uri, *, flavour=os.path):
    """The local path a ``file:`` URI names, to open (the file system's own bytes).

    ``flavour`` is the path module whose rules apply (``ntpath`` on Windows).

    Raises
    ------
    NotALocalPath
        If the URI names a host other than ``localhost`` and the paths are not
        Windows' (whose ``\\\\host\\share`` opens it), or, on Windows, bytes that are
        not UTF-8.
    """
    host, raw = _host_and_bytes(uri)
    local = host is None
    if flavour is not ntpath:
        if not local:
            raise NotALocalPath(
                f"{uri} names a file on the host {host!r}, not a path on this machine "
                "(its path alone names another file here)"
            )
        return os.fsdecode(raw) if flavour is os.path else raw.decode("utf-8", "surrogateescape")
    # Windows: its file names are text, which as_uri wrote as UTF-8 (surrogates passed)
    try:
        path = raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # (a POSIX name's bytes, caf%E9.csv: no Windows name)
        raise NotALocalPath(
            f"{uri} names a file by bytes that are not UTF-8, which no Windows file name "
            "is (a path of another system)"
        ) from None
    if not local:  # a share: \\host\share\...
        return "\\\\" + host + path.replace("/", "\\")
    drive = _DRIVE.match(path)
    if drive:
        return drive.group(1).upper() + ":" + (path[drive.end() :] or "/").replace("/", "\\")
    # no drive: a path of the current drive
    return path.replace("/", "\\")


def _host_and_bytes(uri):
    """The host a ``file:`` URI names (None for this machine; ``server`` of both
    ``file://server/share`` and ``file:////server/share``) and its path's bytes there."""
    parts = urlsplit(uri)
    raw = unquote_to_bytes(parts.path)
    if not parts.netloc:
        share = _SHARE.fullmatch(raw)
        if share:
            return share.group(1).decode("utf-8", "backslashreplace"), share.group(2) or b"/"
        return None, raw
    return (None if parts.netloc.lower() == "localhost" else parts.netloc), raw


def host_and_path(uri):
    """The host a ``file:`` URI names, lower case (None for this machine), and the path
    on it as :func:`shown_path_of_uri` shows it (OpenLineage's namespace and name)."""
    host, _ = _host_and_bytes(uri)
    return (None if host is None else host.lower()), shown_path_of_uri(uri, host=False)


def shown_path_of_uri(uri, *, host=True):
    """The URI's file as text to show or to name a dataset by, one text per file.

    A drive is shown as Windows names it, with forward slashes
    (``file:///C:/data/a.csv``: ``C:/data/a.csv``, not ``/C:/data/a.csv``, which is no
    Windows path; ``file:///c:/...`` too, one drive: ``C:/...``); a host other than
    ``localhost`` is kept before the path (``file://server/share/a.csv``:
    ``//server/share/a.csv``, as Windows writes its share ``\\\\server\\share\\a.csv``
    with forward slashes; its host and share name lower case, as Windows names one
    share ``\\\\Server\\Share`` and ``\\\\server\\share``), so two hosts' files of one
    path stay two texts, apart from the local file of that path too. Both are
    :func:`path_of_uri`'s Windows path with forward slashes. ``host=False`` gives the
    path on the URI's host alone, for a name whose namespace holds the host
    (OpenLineage's ``file://server``).

    UTF-8 as it is; other bytes as ``\\xe9`` escapes, so two names that differ in such
    bytes stay apart, and the text holds no lone surrogate (``os.fsdecode`` gives one,
    which a JSON reader or a figure's text may refuse).
    """
    on, raw = _host_and_bytes(uri)
    path = raw.decode("utf-8", "backslashreplace")
    if on is not None:
        path = _folded_shown_share(path)
        return "//" + on.lower() + path if host else path
    # A drive only as written in the URI: as_uri writes a POSIX root folder "c:" as
    # /c%3A (one of two files /c: and /C:), a Windows drive as /c: (one drive); the
    # drive's ASCII is as long written as decoded
    drive = _DRIVE.match(urlsplit(uri).path)
    if drive:
        return drive.group(1).upper() + ":" + (path[drive.end() :] or "/")
    return path
