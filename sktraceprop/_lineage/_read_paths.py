"""Which path a traced frame's rows were read from, where one file's bytes were read
from several paths (copies of the file under one ``source_id``).

Row ids name content (source id, SHA-256, line), so the rows of two copies have the same
ids, and an id alone cannot say which copy it was read from. The frame can: ``read_csv``
marks the frame it returns with the path it read (``DataFrame.attrs``, which pandas
copies to frames derived from one frame: selections, filters, sorts, splits, pickles),
and :func:`narrowed` gives the source record of that read alone, whose ``uri`` is that
path. Where the mark is lost (ids alone, a concat of frames read from two copies, which
pandas leaves without ``attrs``, a frame built anew), the record keeps every path
(``Source.uris()``), and what names rows names them all and says they hold the same
bytes: never one path that may be the wrong one.
"""

from dataclasses import replace

#: Key in ``DataFrame.attrs``: ``{str(code): [uri, ...]}``, the paths the frame's rows
#: of each file source were read from (JSON-safe, so a frame written to parquet keeps it).
READ_PATHS_ATTR = "sktraceprop_read_paths"


def mark(df, code, uri):
    """Mark ``df`` (just read) as holding rows of source ``code`` read from ``uri``."""
    df.attrs[READ_PATHS_ATTR] = {str(int(code)): [str(uri)]}
    return df


def joined(*frames):
    """The mark of a frame whose rows combine the rows of ``frames`` (a merge): each
    code's paths, the union where the frames name several (which of them a row came
    from is then not known). A code is left out where a frame has rows of it (or rows
    built from its rows) and no mark for it: its rows there may come from any path."""
    out, unmarked = {}, set()
    for frame in frames:
        paths = frame_paths(frame)
        unmarked |= _codes_within(frame) - set(paths)
        for code, uris in paths.items():
            known = out.setdefault(code, [])
            known.extend(u for u in uris if u not in known)
    return {str(c): uris for c, uris in out.items() if c not in unmarked}


def _codes_within(frame):
    """The codes of ``frame``'s rows and of every source they were built from."""
    from ._ids import distinct_codes
    from ._rows import index_ids
    from ._source import REGISTRY

    ids = index_ids(frame.index)
    seen, todo = set(), [] if ids is None else distinct_codes(ids).tolist()
    while todo:
        code = int(todo.pop())
        if code not in seen:
            seen.add(code)
            todo.extend(int(p) for p in REGISTRY.by_code(code).parent_codes)
    return seen


def frame_paths(X):
    """``{code: tuple of uris}`` marked on ``X`` (empty for anything else, or a mark
    that is not one: an ``attrs`` entry edited or written by something else)."""
    attrs = getattr(X, "attrs", None)
    marks = attrs.get(READ_PATHS_ATTR) if isinstance(attrs, dict) else None
    if not isinstance(marks, dict):
        return {}
    out = {}
    for code, uris in marks.items():
        try:
            code = int(code)
        except (TypeError, ValueError):
            return {}
        if not isinstance(uris, list | tuple) or not uris:
            return {}
        if not all(isinstance(u, str) for u in uris):
            return {}
        out[code] = tuple(uris)
    return out


def narrowed(source, uris):
    """``source`` as read from ``uris`` alone: its ``uri`` the first of them, its reads
    those made from them. Unchanged when ``uris`` is None, when ``source`` is no file,
    or when one of ``uris`` is not a path its bytes were read from (a mark this
    process's record does not back: every path is then kept, never one guessed)."""
    if uris is None or source.kind != "file":
        return source
    known = source.uris()
    if len(known) == 1 or not set(uris) <= set(known):
        return source
    # a read recorded before reads kept their path is the first read's (Source.uris)
    kept = [r for r in source.reads() if r.get("uri", source.uri) in uris]
    first, others = kept[0], kept[1:]
    return replace(
        source,
        uri=first.get("uri", source.uri),
        n_rows=int(first["n_rows"]),
        columns=tuple(first["columns"]),
        dtypes=tuple(first["dtypes"]),
        loaded_at=first["loaded_at"],
        other_reads=tuple(_as_other(r) for r in others),
    )


def _as_other(read):
    from ._source import _read_dict

    return _read_dict(read)


def narrowed_sources(X, sources):
    """``sources`` (a callable code -> :class:`Source`) as ``X``'s rows were read:
    each file source narrowed to the paths ``X`` marks for it (:func:`narrowed`)."""
    paths = frame_paths(X)
    if not paths:
        return sources

    def of(code):
        return narrowed(sources(code), paths.get(int(code)))

    return of


def run_sources(run, sources):
    """``sources`` with each file source narrowed to the paths ``run`` (a
    :class:`Lineage`) records for it: the paths its training rows were read from."""
    paths = {int(c): tuple(s.uris()) for c, s in run.sources.items() if s.kind == "file"}

    def of(code):
        return narrowed(sources(code), paths.get(int(code)))

    return of


def narrowed_table(X, table):
    """A dict code -> :class:`Source` narrowed as :func:`narrowed_sources` does."""
    paths = frame_paths(X)
    return {c: narrowed(s, paths.get(int(c))) for c, s in table.items()}
