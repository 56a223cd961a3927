"""Which path a traced frame's rows were read from, where one file's bytes were read
from several paths (copies of the file under one ``source_id``).

Row ids name content (source id, SHA-256, line), so the rows of two copies have the same
ids, and an id alone cannot say which copy it was read from. The frame can: ``read_csv``
marks the frame it returns with the path it read (a :class:`ReadPaths` in
``DataFrame.attrs``, which pandas copies to frames derived from one frame: selections,
filters, sorts, splits, pickles), and :func:`narrowed` gives the source record of that
read alone, whose ``uri`` is that path. A pandas operation that combines frames
(``pd.concat``, ``a + b``, ``combine_first``, ``join``...) gives its result the union of
their marks (:mod:`._read_paths_ops`; a code marked with two paths lists both), and so
does :func:`sktraceprop.merge`. The mark is not trusted alone: a row outside the lines
every marked read spans did not come from them (:func:`narrowed`). Where the mark is
lost (ids alone, a frame built anew), a code's rows came from a frame that had no mark
for it, or rows lie outside the marked reads, the record keeps every path
(``Source.uris()``), and what names rows names them all and says they hold the same
bytes: never one path that may be the wrong one.
"""

from dataclasses import replace

import numpy as np

from .._state_format import check_record, record_of
from ._read_paths_ops import in_finalize, note_paths, operand_marks, other_paths_seen

#: Key in ``DataFrame.attrs``: a :class:`ReadPaths`, ``{str(code): [uri, ...]}``.
READ_PATHS_ATTR = "sktraceprop_read_paths"


class ReadPaths(dict):
    """The paths a frame's rows of each file source were read from: ``{str(code):
    [uri, ...]}``, or ``None`` for a code whose rows came from a frame without a mark
    (any path). A dict of plain values, so ``to_parquet`` (JSON) keeps it; a pickle
    keeps this class (unpickling the frame needs sktraceprop importable) and records
    its state format (:mod:`sktraceprop._state_format`: a newer one is refused).

    Two marks compare equal where they hold the same paths; pandas' ``__finalize__``
    of a ``concat`` or ``merge`` keeps its inputs' ``attrs`` only where they compare
    equal, so there (and only there) two marks compare equal whatever they hold, and
    the copy pandas then makes is the union of every input's (a code marked with two
    paths names both). Each copy made inside ``__finalize__`` is the union of the marks
    the operation holds (:mod:`._read_paths_ops`): ``a + b``, ``a.combine_first(b)``
    and the like, which pandas gives one side's ``attrs``, are marked with both sides'.
    """

    __slots__ = ()
    # (its pickle passes _loaded its record: see sktraceprop._state_format)
    _state_format = 1
    _state_upgrades = {}

    def __eq__(self, other):
        if isinstance(other, dict) and in_finalize(depth=2) is not None:
            return True  # pandas' concat or merge: the copy it makes is the union
        return dict.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    def __deepcopy__(self, memo):
        finalize = in_finalize(depth=6)
        if finalize is None:
            return union(self)
        held = operand_marks(finalize, READ_PATHS_ATTR, walk=other_paths_seen())
        others = [m for m in held if m is not self and not dict.__eq__(m, self)]
        return union(self, *(_as_union_part(m) for m in others))

    def __copy__(self):
        return union(self)

    def __reduce__(self):
        return _loaded, (record_of(ReadPaths), dict(self), *_carried(self))


def _carried(marks):
    """The records of the sources ``marks`` names (light, as in this process), and the
    lines their reads span: a frame read by ``read_csv`` in a worker process and sent
    back brings its sources, so the process that unpickles it can trace its rows. A code
    this process cannot name (unknown, or two sources') travels without a record."""
    from ..exceptions import LineageError
    from ._source import REGISTRY

    records = []
    for code in marks:
        try:
            records.append(REGISTRY.by_code(int(code)).light())
        except (LineageError, ValueError):
            continue
    codes = {r.code for r in records}
    spans = {k: v for k, v in REGISTRY.read_lines_snapshot().items() if k[0] in codes}
    return records, spans


def _loaded(record, marks, records, spans):
    """A mark read back from its pickle, once its record is read (a newer format is
    refused, naming the versions)."""
    check_record(ReadPaths, record)
    return _adopted(marks, records, spans)


def _unpickled(marks, records=(), spans=None):
    """A mark pickled before marks recorded a state format: ``(marks,)``, then
    ``(marks, records, spans)``, what format 1 holds. Read the same, with no word of
    its own: nothing it holds has changed meaning since."""
    return _adopted(marks, records, spans)


def _adopted(marks, records, spans):
    """The mark ``marks`` of a pickle (noted: another process may have read another
    copy); the records it carries are adopted (a code that names another source here
    is then refused as ambiguous, never taken for this one: ``SourceRegistry.adopt``),
    and those that record no state format said once, as the mark's."""
    from .._state_format import say_held
    from .._state_format_load import claim
    from ._source import REGISTRY

    say_held(claim(records), f"frame's attrs[{READ_PATHS_ATTR!r}]", stacklevel=4)
    for record in records:
        REGISTRY.adopt(record)
    REGISTRY.adopt_read_lines(spans or {})
    out = ReadPaths(marks)
    note_paths(out)
    return out


def _as_union_part(mark):
    """``mark`` as a part of a union: a plain dict (an ``attrs`` entry ``read_parquet``
    gave back, which pandas' operations copy with no hook, so it may name one side's
    paths alone) gives ``None`` (any path) for each of its codes."""
    marks = parsed(mark)
    if isinstance(mark, ReadPaths):
        return {str(c): u for c, u in marks.items()}
    return dict.fromkeys(map(str, marks))


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
    df.attrs[READ_PATHS_ATTR] = out = ReadPaths({str(int(code)): [str(uri)]})
    note_paths(out)
    return df


def joined(*frames, codes=None):
    """The mark of a frame whose rows combine the rows of ``frames`` (a merge): their
    union, each file code a frame has rows of (or rows built from its rows) and no mark
    for given ``None`` (its rows there may come from any path). ``codes``, when given:
    per frame, the distinct source codes of its row ids (the caller found them already)."""
    from ._source import REGISTRY

    marks = []
    for k, frame in enumerate(frames):
        paths = frame_paths(frame)
        within = _codes_within(frame, None if codes is None else codes[k])
        unmarked = {c for c in within - set(paths) if REGISTRY.by_code(c).kind == "file"}
        marks.append({str(c): None if u is None else list(u) for c, u in paths.items()})
        marks.append(dict.fromkeys(map(str, unmarked)))
    return union(*marks)


def _codes_within(frame, codes=None):
    """The codes of ``frame``'s rows (``codes``, when the caller has them) and of every
    source they were built from."""
    from ._ids import distinct_codes
    from ._rows import index_ids
    from ._source import REGISTRY

    if codes is None:
        ids = index_ids(frame.index)
        codes = [] if ids is None else distinct_codes(ids).tolist()
    seen, todo = set(), [int(c) for c in codes]
    while todo:
        code = int(todo.pop())
        if code not in seen:
            seen.add(code)
            todo.extend(int(p) for p in REGISTRY.by_code(code).parent_codes)
    return seen


def frame_paths(X):
    """``{code: tuple of uris, or None (any path)}`` marked on ``X`` (empty for anything
    else, or a mark that is not one: an ``attrs`` entry edited or written by something
    else, or a plain dict, as ``read_parquet`` gives it back: pandas' operations copy
    such a mark with no hook, so a frame combined from two copies' may carry one's)."""
    attrs = getattr(X, "attrs", None)
    marks = attrs.get(READ_PATHS_ATTR) if isinstance(attrs, dict) else None
    return parsed(marks) if isinstance(marks, ReadPaths) else {}


def parsed(marks):
    """``marks`` (an ``attrs`` entry) as :func:`frame_paths` gives it; empty where it
    is not a mark."""
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


def narrowed(source, uris, ids=None):
    """``source`` as read from ``uris`` alone: its ``uri`` the first of them, its reads
    those made from them. Unchanged when ``uris`` is None, when ``source`` is no file,
    when one of ``uris`` is not a path its bytes were read from (a mark this process's
    record does not back), or when a row of ``ids`` (the rows named; the ids of other
    sources are ignored) lies outside the lines every read from ``uris`` spans (that
    read did not give it: the mark is not the whole story). Every path is then kept,
    never one guessed. Paths are compared by :func:`._uri_path.same_file_uri` (an
    older record's ``file:///c:/`` is a new mark's ``file:///C:/``)."""
    from ._uri_path import same_file_uri

    if uris is None or source.kind != "file":
        return source
    known = source.uris()
    wanted = {same_file_uri(u) for u in uris}
    if len(known) == 1 or not wanted <= {same_file_uri(u) for u in known}:
        return source
    # a read recorded before reads kept their path is the first read's (Source.uris)
    kept = [r for r in source.reads() if same_file_uri(r.get("uri", source.uri)) in wanted]
    if ids is not None and not _within_reads(source.code, kept, ids):
        return source
    first, others = kept[0], kept[1:]
    return replace(
        source,
        uri=first.get("uri", source.uri),
        n_rows=int(first["n_rows"]),
        columns=tuple(first["columns"]),
        dtypes=tuple(first["dtypes"]),
        loaded_at=first["loaded_at"],
        encoding=first.get("encoding"),
        other_reads=tuple(_as_other(r) for r in others),
    )


def _within_reads(code, reads, ids):
    """Whether every row of ``ids`` of source ``code`` lies within the lines one of
    ``reads`` spans (True where a read's span is not known here: nothing to check)."""
    from ._ids import LINE_BITS, MAX_LINE
    from ._source import REGISTRY

    spans = [REGISTRY.read_lines(code, r) for r in reads]
    if any(span is None for span in spans):
        return True
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size == 0:
        return True
    low, high = int(ids.min()), int(ids.max())
    if low >> LINE_BITS == high >> LINE_BITS == code:  # rows of this source alone
        low, high = low & MAX_LINE, high & MAX_LINE
        if any(first <= low and high <= last for first, last in spans):
            return True  # (the common case: no array of lines)
    mine = ids[(ids >> np.int64(LINE_BITS)) == code] & np.int64(MAX_LINE)
    if mine.size == 0:
        return True
    inside = np.zeros(mine.size, dtype=bool)
    for first, last in spans:
        inside |= (mine >= first) & (mine <= last)
    return bool(inside.all())


def _as_other(read):
    from ._source import _read_dict

    return _read_dict(read)


def narrowed_sources(X, sources):
    """``sources`` (a callable code -> :class:`Source`) as ``X``'s rows were read:
    each file source narrowed to the paths ``X`` marks for it (:func:`narrowed`)."""
    paths = frame_paths(X)
    if not paths:
        return sources
    ids = _ids_of(X)

    def of(code):
        return narrowed(sources(code), paths.get(int(code)), ids)

    return of


def _ids_of(X):
    """The row ids of ``X``'s index (None without them)."""
    from ._rows import index_ids

    index = getattr(X, "index", None)
    return None if index is None else index_ids(index)


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
    if not paths:
        return table
    ids = _ids_of(X)
    return {c: narrowed(s, paths.get(int(c)), ids) for c, s in table.items()}
