"""A frame registered under the URI of a text file whose lines it does not count.

A source registered from a frame (:func:`~sktraceprop.from_pandas`,
:func:`~sktraceprop.from_polars`, :func:`~sktraceprop.from_numpy`) numbers its rows
``1..n``: its "line" ``k`` is the ``k``-th row. Given ``uri="file:///data/a.csv"`` (the
file the frame was read from with ``pd.read_csv`` or ``pl.read_csv``), ``row_lineage``
and ``trace`` print that file beside line ``k``, which in the file is the header, a
comment, a skipped line or another record: a wrong line, said nowhere. The
registration warns instead, and says how to trace the file's lines.
"""

import re
import warnings
from urllib.parse import urlparse

from ..exceptions import LineageWarning
from ..utils._stack import user_stacklevel

#: Names of files whose rows are lines of text (optionally compressed).
_TEXT_TABLE = re.compile(r"\.(csv|tsv|txt|tab|dat|data)(\.(gz|bz2|xz|zip|zst))?$", re.I)


def names_text_file(uri):
    """True when ``uri`` is a local path or ``file:`` URI of a text table (``.csv``...)."""
    if not isinstance(uri, str):
        return False
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file") and len(parsed.scheme) > 1:  # ("C:" is a drive)
        return False
    return bool(_TEXT_TABLE.search(parsed.path or uri))


def warn_text_file_uri(uri, func):
    """Warn where a frame source's ``uri`` names a text file: its lines are not the file's."""
    if names_text_file(uri):
        warnings.warn(
            f"{func}: uri {uri!r} names a text file, but a source registered from a frame "
            "numbers its rows 1..n (row k is 'line' k), not the lines of that file: its "
            "header, comments and skipped lines are not counted, so row_lineage and trace "
            "would print that file beside a line that holds another record there. Read "
            "the file with sktraceprop.read_csv to trace its lines, or name the frame by "
            "a uri that is not the file's.",
            LineageWarning,
            stacklevel=user_stacklevel(),
        )
