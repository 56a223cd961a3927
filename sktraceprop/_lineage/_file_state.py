"""Whether the file a traced row's line names still holds the bytes that were read.

A row id names a line of the bytes ``read_csv`` hashed (``Source.sha256``). A file
edited, replaced or deleted since holds other lines (or none) at that number: a person
who opens it there reads another row. So a trace says, per row, what the path holds
now (``file_state``):

``"unchanged"``
    The file's bytes hash to the recorded SHA-256: the line is the one read.
``"changed"``
    Other bytes (edited, truncated, replaced): the line may hold another row.
``"missing"``
    No file at that path (deleted, moved, or a record traced on another machine).
``"unreadable"``
    Something is there that cannot be read (permissions, a directory).
``"unknown"``
    The row's source record is not in this process (it cannot be traced here either:
    see :func:`sktraceprop.row_lineage`): nothing to compare the file with.
``"not a file"``
    Rows of a frame, an array or an aggregate (``line`` is a row position or a group
    number of data held in memory): there is no file to check. A merged row has no
    line of its own; its parents' lines are traced, each with its file's state.

Every file is hashed again at each call, once per distinct path, unless its digest is
kept: an :class:`~sktraceprop.Explanation` keeps each digest, and ``row_lineage`` and
``trace`` one per path for the process, while the file's status, its status-change time
included, stays the one it was read with (see ``_file_digests``). A
size and mtime record taken at load would spare unchanged files the hash, but can say
"unchanged" wrongly: ``touch -d``/``os.utime`` (and ``cp -p``, ``rsync -a``) set the
mtime back, an edit in the same timestamp tick as the load (coarse clocks: 1 to 10
ms, 2 s on FAT) leaves it equal, and NFS clients serve cached attributes for up to a
minute. Hashing reads the file at about 1 GB/s; a trace names few files.
"""

import hashlib
import warnings
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._ids import codes_of
from ._uri_path import path_of_uri

#: The states, in the order a file read from several paths reports the first of.
STATES = ("unchanged", "changed", "missing", "unreadable", "unknown", "not a file")

_CHUNK = 1 << 20


def file_now(uri, sha256, keep=False, digests=None):
    """What a ``file://`` URI holds now, against the recorded ``sha256``.

    Returns
    -------
    state : str
        ``"unchanged"``, ``"changed"``, ``"missing"`` or ``"unreadable"`` (one of
        :data:`STATES`; ``"not a file"`` for a URI of another scheme).
    now : str or None
        SHA-256 of the bytes there now (None when not read).
    detail : str or None
        Why the file could not be read.
    data : bytes or None
        The bytes read, with ``keep`` (hashed in chunks otherwise: a large file is not
        held in memory to be hashed).

    ``digests`` (a :class:`~sktraceprop._lineage._file_digests.FileDigests`) spares the
    hash of a file whose status is the one its kept digest was read with.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return "not a file", None, None, None
    digest, kept = hashlib.sha256(), [] if keep else None
    try:  # (a URI naming another host is no path here: NotALocalPath, an OSError)
        with open(Path(path_of_uri(uri)), "rb") as fh:
            known, status = (None, None) if digests is None else digests.kept(uri, fh)
            if known is not None and not keep:
                return ("unchanged" if known == sha256 else "changed"), known, None, None
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                if keep:
                    kept.append(chunk)
            if digests is not None:
                digests.keep(uri, fh, status, digest.hexdigest())
    except FileNotFoundError as exc:
        return "missing", None, exc.strerror or str(exc), None
    except OSError as exc:
        return "unreadable", None, exc.strerror or str(exc), None
    now = digest.hexdigest()
    data = b"".join(kept) if keep else None
    return ("unchanged" if now == sha256 else "changed"), now, None, data


def with_file_states(frame, sources, what, digests=None):
    """``frame`` (a lineage frame: ``row_id``, ``uri``, ``uris`` where several paths)
    with a column ``file_state`` saying whether each row's file still holds the bytes
    read; a :class:`~sktraceprop.exceptions.ChangedSourceWarning` names every file that does
    not (``what``: the call, for the message). ``sources`` maps a code to its Source.

    Each distinct path is hashed once, its digest compared with every content read
    from it (a file read before and after an edit is two sources of one path); a row
    whose source was read from several paths (``uri`` empty, ``uris`` listing them) is
    ``"unchanged"`` only where every path is (each should hold the same bytes), else
    the first other state. ``digests`` keeps the digests between calls (see
    :func:`file_now`)."""
    ids = frame["row_id"].to_numpy(np.int64)
    uri = pd.Categorical(frame["uri"])
    n_uri = len(uri.categories) + 1
    keys, first, inverse = np.unique(
        codes_of(ids) * n_uri + uri.codes + 1, return_index=True, return_inverse=True
    )
    hashed, checked, states = {}, {}, []
    for key, at in zip(keys.tolist(), first.tolist()):
        try:
            source = sources(key // n_uri)
        except LineageError:  # (this process lacks the record: nothing to compare with)
            states.append("unknown")
            continue
        if source.kind != "file":
            states.append("not a file")
            continue
        paths = [uri[at]] if key % n_uri else list(source.uris())
        found = []
        for path in paths:
            if path not in hashed:  # (once per path: two contents read there share it)
                hashed[path] = file_now(path, source.sha256, digests=digests)[:3]
            state, now, detail = hashed[path]
            if state in ("unchanged", "changed"):
                state = "unchanged" if now == source.sha256 else "changed"
            checked.setdefault((path, source.sha256), (source, state, now, detail))
            found.append(state)
        states.append(next((s for s in STATES if s in found and s != "unchanged"), found[0]))
    out = frame.copy(deep=False)  # (a new column: the caller's frame keeps its own)
    codes = np.array([STATES.index(s) for s in states], dtype=np.int8)
    out["file_state"] = pd.Categorical.from_codes(codes[inverse.ravel()], STATES)
    _warn_not_held(checked, what)
    return out


def _warn_not_held(checked, what):
    said = {
        "changed": "changed since it was loaded: it now holds SHA-256 {now}, and its "
        "lines may hold other rows",
        "missing": "no longer there (no such file on this machine: deleted or moved?)",
        "unreadable": "cannot be read now ({detail}): whether it holds the bytes read is "
        "not known",
    }
    bad = [
        f"{path} (source {source.source_id!r}, read with SHA-256 {source.sha256}): "
        + said[state].format(now=now, detail=detail)
        for (path, _), (source, state, now, detail) in checked.items()
        if state != "unchanged"
    ]
    if not bad:
        return
    from ..exceptions import ChangedSourceWarning
    from ..utils._stack import user_stacklevel

    warnings.warn(
        f"{what}: the lines named are lines of the bytes that were read, and "
        f"{len(bad)} file(s) no longer hold them: {'; '.join(bad)}. Opened at those "
        "line numbers, they may show other rows: the column file_state says which rows "
        "(restore the file's bytes, whose SHA-256 is recorded, to read their lines).",
        ChangedSourceWarning,
        stacklevel=user_stacklevel(),
    )
