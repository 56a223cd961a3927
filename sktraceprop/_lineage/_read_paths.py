"""Which path a traced frame's rows were read from, where one file's bytes were read
from several paths (copies of the file under one ``source_id``).

Row ids name content (source id, SHA-256, line), so the rows of two copies have the same
ids, and an id alone cannot say which copy it was read from. The frame can: ``read_csv``
marks the frame it returns with the path it read (a :class:`ReadPaths` in
``DataFrame.attrs``, which pandas copies to frames derived from one frame: selections,
filters, sorts, splits, pickles), and :func:`narrowed` gives the source record of that
read alone, whose ``uri`` is that path. ``pd.concat`` keeps ``attrs`` only where its
frames' ``attrs`` compare equal: two marks always do, and the concat gets their union
(a code marked with two paths lists both). :func:`sktraceprop.merge` gives its result
the union of its sides'. Where the mark is lost (ids alone, a frame built anew) or a
code's rows came from a frame that had no mark for it, the record keeps every path
(``Source.uris()``), and what names rows names them all and says they hold the same
bytes: never one path that may be the wrong one.
"""

from dataclasses import replace

#: Key in ``DataFrame.attrs``: a :class:`ReadPaths`, ``{str(code): [uri, ...]}``.
READ_PATHS_ATTR = "sktraceprop_read_paths"


class ReadPaths(dict):
    """The paths a frame's rows of each file source were read from: ``{str(code):
    [uri, ...]}``, or ``None`` for a code whose rows came from a frame without a mark
    (any path). A dict of plain values, so ``to_parquet`` (JSON) and pickles keep it.

    Two marks compare equal, whatever they hold: pandas keeps a concat's ``attrs`` only
    where its frames' ``attrs`` are equal (and copies the first frame's), so the
    comparison notes the union on the first mark and the copy pandas then makes of it
    is that union (:func:`union`; a path is only ever added to a code's, so a code
    marked with two paths names both). A comparison made elsewhere (code comparing two
    frames' ``attrs``, which then compare equal) leaves the union for the next copy of
    the first mark: its frame has no rows of the codes it adds, and a code it shares
    only gains paths, so rows are named by more paths (and said to be), never by one
    they were not read from.
    """

    __slots__ = ("_pending",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending = None

    def __eq__(self, other):
        if not isinstance(other, ReadPaths):
            return dict.__eq__(self, other)
        # pandas compares each later frame's attrs with the first's, then copies the first
        other._pending = union(other._pending or other, self)
        return True

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    def __deepcopy__(self, memo):
        pending, self._pending = self._pending, None
        return union(self, pending) if pending is not None else union(self)

    def __copy__(self):
        return union(self)

    def __reduce__(self):
        return ReadPaths, (dict(self),)


def union(*marks):
    """One mark holding every code of ``marks``, each with every path they give it
    (``None``, any path, where one gives ``None``)."""
    out = {}
    for m in marks:
        for code, uris in m.items():
            if code in out and out[code] is None:
                continue
            if uris is None:
                out[code] = None
                continue
            known = out.setdefault(code, [])
            known.extend(u for u in uris if u not in known)
    return ReadPaths({c: None if u is None else list(u) for c, u in out.items()})


def mark(df, code, uri):
    """Mark ``df`` (just read) as holding rows of source ``code`` read from ``uri``."""
    df.attrs[READ_PATHS_ATTR] = ReadPaths({str(int(code)): [str(uri)]})
    return df


def joined(*frames):
    """The mark of a frame whose rows combine the rows of ``frames`` (a merge): their
    union, each file code a frame has rows of (or rows built from its rows) and no mark
    for given ``None`` (its rows there may come from any path)."""
    from ._source import REGISTRY

    marks = []
    for frame in frames:
        paths = frame_paths(frame)
        unmarked = {
            c for c in _codes_within(frame) - set(paths) if REGISTRY.by_code(c).kind == "file"
        }
        marks.append({str(c): None if u is None else list(u) for c, u in paths.items()})
        marks.append(dict.fromkeys(map(str, unmarked)))
    return union(*marks)


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
    """``{code: tuple of uris, or None (any path)}`` marked on ``X`` (empty for anything
    else, or a mark that is not one: an ``attrs`` entry edited or written by something
    else; a plain dict, as ``read_parquet`` gives it back, is read too)."""
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
        if uris is None:
            out[code] = None
            continue
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


def run_table(run, table):
    """A dict code -> :class:`Source` narrowed to the paths ``run`` records (see
    :func:`run_sources`); ``table`` unchanged without a run."""
    if run is None:
        return table
    of = run_sources(run, table.__getitem__)
    return {c: of(c) for c in table}


def narrowed_table(X, table):
    """A dict code -> :class:`Source` narrowed as :func:`narrowed_sources` does."""
    paths = frame_paths(X)
    return {c: narrowed(s, paths.get(int(c))) for c, s in table.items()}
