"""The path a source URI names, byte for byte: to open it, and to show or name it.

A record names a file by ``Path.as_uri()``, which percent-encodes the path's bytes: a
name that is not UTF-8 (``b"caf\\xe9.csv"``, latin-1) is ``caf%E9.csv``. ``unquote``
decodes those bytes as UTF-8 with replacement, ``caf\\ufffd.csv``: a path that is not
the file's (it was said missing, or its line not shown), and one name for every such
file (``caf\\xe8.csv`` too). Every reader of a source URI decodes it here.
"""

import os
from urllib.parse import unquote_to_bytes, urlsplit

__all__ = ["path_of_uri", "shown_path_of_uri"]


def _path_bytes(uri):
    """The bytes of the URI's path, its percent-escapes decoded."""
    return unquote_to_bytes(urlsplit(uri).path)


def path_of_uri(uri):
    """The local path a ``file:`` URI names, to open (the file system's own bytes)."""
    return os.fsdecode(_path_bytes(uri))


def shown_path_of_uri(uri):
    """The URI's path as text to show or to name a dataset by.

    UTF-8 as it is; other bytes as ``\\xe9`` escapes, so two names that differ in such
    bytes stay apart, and the text holds no lone surrogate (``os.fsdecode`` gives one,
    which a JSON reader or a figure's text may refuse).
    """
    return _path_bytes(uri).decode("utf-8", "backslashreplace")
