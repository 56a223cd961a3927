"""Grouping rows per source (one content), and a label that tells the sources apart.

A ``source_id`` is a name, not an identity: two files read under one name (two
folders' ``data.csv``, both ``data`` by default) and two contents of one file (an
edited file read again) are different sources with the same ``source_id``. Tables that
sum or count rows per source group them by content (``source_id``, ``uri`` and
``sha256``, as :meth:`sktraceprop.KNNShapleyValuer.by_source` does), never by name.
"""

from collections import Counter

import numpy as np

from ..exceptions import LineageError
from ._ids import codes_of
from ._uri_path import same_file_uri


def content_key(source):
    """What makes two source records one source in a per-source table: the same
    ``source_id``, file (``uri`` by :func:`._uri_path.same_file_uri`: a record written
    before the drive letter was settled names ``file:///c:/``, a new one ``file:///C:/``)
    and ``sha256`` (an alias code from another process joins the source it names)."""
    return source.source_id, same_file_uri(source.uri), source.sha256


def source_order(source):
    """The key tables and figures order sources by: ``source_id``, file (by
    :func:`._uri_path.same_file_uri`, so an old and a new record's spelling of one file,
    or of a share, sort alike), load time, ``sha256``."""
    return str(source.source_id), same_file_uri(source.uri), source.loaded_at, source.sha256


def source_labels(sources):
    """A distinct label per source (one per content, see :func:`content_key`).

    The ``source_id`` where no other source carries it, so a table of sources with
    distinct ids reads as before; else ``"source_id [first 12 hex digits of sha256]"``,
    then the URI after it where two of those still share a label (one content read from
    two paths in two processes), then the whole SHA-256, then the position in
    ``sources``, until no two labels are equal.

    Parameters
    ----------
    sources : list of Source
        Distinct contents (no two with one :func:`content_key`).

    Returns
    -------
    labels : list of str
    """
    labels = [str(s.source_id) for s in sources]
    suffixes = [
        lambda k, s: f"[{s.sha256[:12]}]",
        lambda k, s: f"({s.uri})",
        lambda k, s: f"[{s.sha256}]",
    ]
    for step in range(len(sources) + len(suffixes)):
        counts = Counter(labels)
        if len(counts) == len(labels):
            return labels
        # a source id that names a source, widened, can meet another's: widen again
        suffix = suffixes[step] if step < len(suffixes) else (lambda k, s: f"#{k}")
        labels = [
            f"{label} {suffix(k, s)}" if counts[label] > 1 else label
            for k, (label, s) in enumerate(zip(labels, sources))
        ]
    if len(set(labels)) == len(labels):
        return labels
    shared = sorted(label for label, n in Counter(labels).items() if n > 1)
    raise LineageError(f"sources {shared} cannot be given distinct labels")


def group_codes(codes, source_of):
    """Group source codes by content.

    Parameters
    ----------
    codes : array-like of int
        Source codes (of row ids).
    source_of : callable
        Code -> :class:`Source`.

    Returns
    -------
    group : ndarray of int64 of shape (len(codes),)
        The group of each code.
    sources : list of Source
        One record per group (the first code's), ordered by ``source_id``, ``uri``,
        load time and ``sha256`` (the order of :meth:`KNNShapleyValuer.by_source`).
    """
    codes = np.asarray(codes, dtype=np.int64)
    unique, inverse = np.unique(codes, return_inverse=True)
    first = {}
    for code in unique.tolist():
        source = source_of(int(code))
        first.setdefault(content_key(source), source)
    ordered = sorted(first.values(), key=source_order)
    position = {content_key(s): k for k, s in enumerate(ordered)}
    of_unique = np.array(
        [position[content_key(source_of(int(c)))] for c in unique.tolist()], dtype=np.int64
    )
    return of_unique[inverse.reshape(-1)], ordered


def row_groups(row_ids, source_of):
    """:func:`group_codes` of the codes of ``row_ids``."""
    return group_codes(codes_of(np.asarray(row_ids, dtype=np.int64)), source_of)
