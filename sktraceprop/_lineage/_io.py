"""Loading a CSV file with row ids: ``read_csv`` and the file checks and registration
that its reads in chunks share (``from_pandas`` and ``from_numpy``: :mod:`._io_memory`,
re-exported here)."""

import codecs
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from .._thread_compiles import submit
from ..exceptions import LineageError
from ._csv_bad_lines import check_dropped, read_warning_bad_lines, skipping
from ._csv_lines import (
    check_options,
    data_lines,
    header_records,
    pinned,
    record_limit,
    rowless,
)
from ._csv_python import python_engine_line
from ._csv_python_blank import blank_names_error, dropped_blank, index_col_read, without_blank
from ._csv_skiprows import bounded_skiprows
from ._csv_sniff import sniffed_sep
from ._csv_stream import check_stable, scan_file
from ._csv_verify import check_content
from ._csv_warnings import as_user_call
from ._id_index import (
    _with_ids,  # noqa: F401 (re-exported: tests import it from here)
    _witnessed,
)
from ._ids import ROW_INDEX_NAME, pack
from ._io_memory import (
    _array_digest,  # noqa: F401 (re-exported: tests import it from here)
    from_numpy,
    from_pandas,
)
from ._lineage_frame import lineage_frame
from ._read_paths import mark
from ._rows import row_ids, row_lineage
from ._source import REGISTRY, Source
from ._uri_path import same_file_uri, uri_of_path

__all__ = [
    "from_numpy",
    "from_pandas",
    "lineage_frame",
    "read_csv",
    "row_ids",
    "row_lineage",
]


def read_csv(path, source_id=None, **pandas_kwargs):
    r"""Read a CSV file into a DataFrame whose index carries row ids.

    Each row's id records the source and the physical 1-based line of the file where
    the row starts, so ``sed -n '<line>p' file`` prints it, also with comments, blank
    lines, quoted multi-line fields, ``skiprows``, ``nrows`` and ``skipfooter``. Lines end
    with ``\n``, ``\r\n`` or a lone ``\r`` (as in Python's universal newlines).

    Two independent checks guard every line: the number of records found must equal the
    number of rows pandas returned (when ``nrows`` does not hide the rest of the file),
    and a sample of rows, parsed again from the records found for them, must equal the
    rows pandas returned. A disagreement raises :class:`~sktraceprop.exceptions.LineageError`;
    a wrong line is never returned.

    Parameters
    ----------
    path : str or path-like
        CSV file, optionally compressed (``.gz``, ``.bz2``, ``.xz``, ``.zip``).
    source_id : str, default=None
        Name of the source; defaults to the file name without its suffixes (``.a.csv``
        gives ``.a``). Reading a changed file again under the same name registers a new
        *version* of the source (its SHA-256 differs); frames read before keep pointing at
        the old version.
    **pandas_kwargs
        Passed to :func:`pandas.read_csv`; the columns and dtypes are exactly what
        pandas returns. With ``sep=None``, lines are found with the delimiter pandas
        sniffs (in the first line ``skiprows`` keeps, as its python engine does).
        With ``on_bad_lines="skip"`` or ``"warn"``, the lines of the rows pandas
        drops are skipped as ``skiprows`` would, and each dropped record is checked to
        be a bad line. With ``index_col`` (or data rows one field longer than the
        header, pandas' implicit index), the file's index is kept as the first levels
        of a MultiIndex whose last level holds the row ids. An ``int`` ``skiprows``
        past the file's last line (``10**12``) is given to pandas as one past it (the
        same lines skipped: all), which pandas would otherwise first make a set of that
        many line numbers (out of memory); compressed files alike.

    Returns
    -------
    df : DataFrame or TracedChunks
        The data, indexed by packed row ids (index level ``"stp_row_id"``). With
        ``chunksize`` (or ``iterator=True``), an iterator of such frames, as pandas'
        chunks (also a context manager, with ``get_chunk()`` and ``get_chunk(size)``;
        without ``chunksize``, ``get_chunk()`` and iterating read the rest of the
        file, as pandas' reader does): the file is scanned
        first, and each chunk is handed out once its first and last rows, and the
        sampled rows in it, equal the records found for them. pandas' warnings name the
        caller's line, once each. The source's record keeps the ``encoding`` (where it
        is not UTF-8), with which ``sktraceprop trace`` decodes the line it shows.

    Raises
    ------
    TypeError
        If ``path`` is a buffer or an open file rather than a path.
    ValueError
        If ``path`` is a URL.
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For options whose rows cannot be mapped to lines: ``memory_map``,
        ``delim_whitespace``, ``dialect``, a ``sep`` longer than one byte (a regex,
        or ``r"\t"``: use ``"\t"``), a ``lineterminator`` other than ``"\n"`` or
        ``"\r"``, a list ``header``, ``engine="pyarrow"``, ``nrows`` with
        ``engine="python"`` (or ``sep=None``), a callable ``on_bad_lines``, and
        ``"skip"`` or ``"warn"`` with the python engine, ``nrows``, ``chunksize`` or
        ``iterator``.
    LineageError
        If two rows would start on one physical line (and share a row id), or if
        physical lines cannot be guaranteed for this file and these options (with
        ``skipfooter``: blank, comment or skipped lines among or after the footer
        records, which pandas' python engine counts as footer lines; with
        ``engine="python"`` or ``skipfooter``: a row that engine drops as blank, such as
        a quoted ``""``, which the C tokenizer reads; with ``skip_blank_lines=False``, a
        blank line after the header that it drops, read with ``names``, ``usecols``,
        ``skiprows`` or ``chunksize``, or with ``comment``
        and a comment line before it, a quote in a comment line after it or a
        missing-value marker holding the comment character there; with
        ``engine="python"``, ``comment`` and ``skip_blank_lines=False``, a line that
        starts with the comment character after the second data record, which that
        engine reads as a row; with ``engine="python"`` and a list or callable
        ``skiprows``, a line it names right after a blank or comment line among the
        first records, which that engine reads as a row), or if pandas fails on a
        blank line after the header that it drops, ``skipfooter`` leaving no row
        (pandas' ``ValueError`` is its ``__cause__``).
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            "sktraceprop.read_csv reads a file named by a path (str or path-like), not a "
            f"{type(path).__name__}: lines are numbered in that file. Read a buffer with "
            "pandas and use sktraceprop.from_pandas."
        )
    if isinstance(path, str) and "://" in path:
        raise ValueError(
            f"sktraceprop.read_csv reads local files, not URLs ({path}): download it and "
            "read the copy, whose lines the row ids then name."
        )
    path = Path(os.fspath(path)).expanduser()  # as pandas does
    if not path.is_file():
        raise FileNotFoundError(f"sktraceprop.read_csv: no such file: {path}")
    check_options(pandas_kwargs)
    pandas_kwargs = bounded_skiprows(path, pandas_kwargs)
    kwargs = pinned(pandas_kwargs)
    sniffs = "sep" in kwargs and kwargs["sep"] is None
    if (sniffs or int(kwargs.get("skipfooter", 0) or 0)) and kwargs.get("engine") is None:
        kwargs["engine"] = "python"  # what pandas falls back to, without its warning
    # pandas gets sep=None; the line finder and the checks, the delimiter pandas sniffs
    modelled = dict(kwargs, sep=sniffed_sep(path, kwargs), engine="python") if sniffs else kwargs
    if kwargs.get("chunksize") is not None or kwargs.get("iterator", False):
        from ._csv_chunks import TracedChunks

        return TracedChunks(path, source_id, kwargs, modelled, sniffs)
    first = header_records(kwargs)
    before = os.stat(path)
    # One pass hashes and scans the file while pandas parses it: hashing, decompressing
    # and the compiled scan release the GIL. A scan kernel not yet compiled in this
    # process is not compiled on the thread (it would lose the program's recorded
    # warnings): the scan is then redone here, after pandas (see _thread_compiles).
    with ThreadPoolExecutor(max_workers=1) as pool:
        background = submit(
            pool,
            scan_file,
            path,
            modelled,
            n_keep=first + 1,
            last_kept=int(kwargs.get("skipfooter", 0) or 0) + 1,
            max_records=record_limit(modelled),
        )
        failed = None
        try:
            if kwargs.get("on_bad_lines", "error") == "error":
                df, bad = as_user_call(pd.read_csv, path, **kwargs), []
            else:
                df, bad = read_warning_bad_lines(path, kwargs)
        except ValueError as exc:
            failed = exc  # (said with the file and its line where the scan knows why)
        finally:
            scan = background()
    if failed is not None:
        error = blank_names_error(path, modelled, scan, failed)
        if error is None:
            raise failed
        raise error from failed
    check_stable(before, os.stat(path), scan.n_bytes, path)
    check_python_engine(path, modelled, scan)
    every = scan
    blank = dropped_blank(path, modelled, scan)
    names_row = None
    if bad or blank is not None:
        # the line finder skips pandas' bad lines as skiprows would (see _csv_bad_lines),
        # and removes the record of the blank line after the header the python engine
        # drops (_csv_python_blank: skiprows would skip the next line too after a lone \r)
        skipped = (
            dict(modelled, skiprows=skipping(modelled.get("skiprows"), bad)) if bad else modelled
        )
        n_keep = first + 1 + (blank is not None)  # (and the first data record after it)
        scan = scan_file(path, skipped, n_keep=n_keep, last_kept=1)
        check_stable(before, os.stat(path), scan.n_bytes, path)
        if blank is not None:
            # (a line of index names, not a blank one, leads the content check's parses)
            kept = scan.samples[blank]
            names_row = kept if kept.strip(b"\r\n") else None
            scan = without_blank(scan, blank)
    lines = data_lines(scan, len(df), modelled, path, no_rows=rowless(df))
    # (pandas replaced index_col by the names line's columns: the read without it)
    checked = index_col_read(modelled, blank)
    check_content(for_check(df, sniffs), scan, checked, path, names_row)
    if bad:
        check_dropped(df, modelled, path, first, every.lines, scan.lines, bad, every.n_lines)
    keep = keeps_index(index_col_read(kwargs, blank), df.index, 0)
    check_index_names(df.index, keep, path)
    source = register_file(
        path, source_id, scan.sha256, len(df), lines, df, recorded_encoding(kwargs)
    )
    out = _witnessed(df, pack(source.code, lines), source, keep_index=keep)
    return mark(out, source.code, file_uri(path))


def check_python_engine(path, modelled, scan):
    """Refuse a file that pandas' python engine reads otherwise than the line finder."""
    if modelled.get("engine") != "python":
        return
    odd = python_engine_line(path, modelled, scan.lines)
    if odd is None:
        return
    line, how = odd
    what = {
        "skipped": "is skipped by skiprows before the header and ends inside a quoted "
        "field: pandas' python engine skips it as one line, its C tokenizer with the "
        "lines up to the closing quote",
        "dropped": "starts a row that is blank once unquoted and cut at the comment "
        "character: pandas' python engine drops such a row (with skip_blank_lines=False "
        "and a comment character it keeps or drops it by the lines around it) where its "
        "C tokenizer keeps it",
        "comment": "starts with the comment character: with skip_blank_lines=False "
        "pandas' python engine drops such a line among the first records it reads (the "
        "header and two more) and reads it as a row of missing values after them (or "
        "when its first field is a missing-value marker such as #N/A; with skiprows a "
        "list or a callable, which it asks only where it starts reading a record, or a "
        "list header, anywhere after the header), where its C tokenizer skips it (read "
        "with skip_blank_lines=True to skip it with either engine, or give skiprows as "
        "a number of leading lines)",
        "kept": "is named by skiprows (a list or a callable) and follows a blank or "
        "comment line among the first records pandas' python engine reads (the header "
        "and two more): that engine reads it, without asking skiprows, where its C "
        "tokenizer skips it (give skiprows as a number of leading lines, or read with "
        "engine='c')",
    }[how]
    raise LineageError(
        f"sktraceprop.read_csv: {path}: line {line} {what} (engine='python', or "
        "skipfooter or sep=None, which need it); the lines of the rows after it "
        "cannot be guaranteed. Read without skipfooter, sep=None and "
        "engine='python', or with pandas and use sktraceprop.from_pandas."
    )


def for_check(df, sniffs):
    """``df`` as the content check's parse of its records gives it back."""
    if sniffs and len(df.columns) and str(df.columns[0]).startswith("\ufeff"):
        # pandas reads the line it sniffs as it is: a UTF-8 byte-order mark stays in the
        # first column's name, where the check's parse (sep given) strips it
        return df.set_axis([str(df.columns[0])[1:], *df.columns[1:]], axis=1)
    return df


def file_uri(path):
    """The ``file://`` URI of ``path`` as records name it (resolved, absolute; a
    Windows drive letter upper case: see :func:`._uri_path.uri_of_path`)."""
    return uri_of_path(path.resolve())


def recorded_encoding(kwargs):
    """The encoding a read's record names: the codec's canonical name, None for UTF-8
    (see :attr:`Source.encoding`)."""
    encoding = kwargs.get("encoding")
    if encoding is None:
        return None
    name = codecs.lookup(encoding).name
    return None if name == "utf-8" else name


def register_file(path, source_id, sha256, n_rows, lines, df, encoding=None):
    """Register the file read as a source (columns and dtypes: ``df``'s; ``encoding``:
    :func:`recorded_encoding`)."""
    if source_id is None:
        # the name without its suffixes; a dot-file keeps its leading dots ('.a.csv' ->
        # '.a', not '', which would make every dot-file a version of one source)
        dots = len(path.name) - len(path.name.lstrip("."))
        source_id = path.name[:dots] + path.name[dots:].split(".")[0]
        # a name's bytes that are not UTF-8 (os.fsdecode's lone surrogates) shown as
        # escapes: no store holds a surrogate ('caf\udce9' -> 'caf\\xe9')
        source_id = os.fsencode(source_id).decode("utf-8", "backslashreplace")
    source = REGISTRY.register(
        Source(
            source_id=str(source_id),
            code=None,
            uri=file_uri(path),
            sha256=sha256,
            n_rows=n_rows,
            max_line=int(lines.max()) if lines.size else 0,
            columns=tuple(map(str, df.columns)),
            dtypes=tuple(map(str, df.dtypes)),
            kind="file",
            encoding=encoding,
        )
    )
    if lines.size:
        read = {"n_rows": n_rows, "columns": list(map(str, df.columns))}
        read["dtypes"] = list(map(str, df.dtypes))
        read["uri"] = file_uri(path)
        read["encoding"] = encoding
        REGISTRY.note_read_lines(source.code, read, lines.min(), lines.max())
    _warn_other_path(source, file_uri(path))
    return source


def _warn_other_path(source, uri):
    """Say so when these bytes were already read, under this ``source_id``, from
    another path: the rows of both reads have the same ids. The frame each read returns
    carries its path (:mod:`._read_paths`), and so do runs fitted on it; what has the
    ids alone lists every path (``Source.uris``)."""
    if same_file_uri(uri) == same_file_uri(source.uri):  # (an older record's c: is C:)
        return
    from ..exceptions import LineageWarning
    from ..utils._stack import user_stacklevel

    others = ", ".join(u for u in source.uris() if same_file_uri(u) != same_file_uri(uri))
    warnings.warn(
        f"{uri} holds the same bytes (sha256 {source.sha256[:12]}...) as {others}, "
        f"already read under source_id {source.source_id!r}: the rows of these reads "
        "have the same row ids. The frame this read returns (and frames taken from it, "
        "and runs fitted on them) names this path; but row ids alone, a frame that lost "
        "it (pandas drops DataFrame.attrs in some operations: get_dummies), or a concat "
        "or merge of frames read from two copies cannot say which of the paths a row "
        "was read from: their records list the paths (each holding the same bytes) and "
        "name none as the uri. To record this file as a source of its own, read it with "
        "another source_id.",
        LineageWarning,
        stacklevel=user_stacklevel(),
    )


def check_index_names(index, keep, path):
    """Refuse a kept file index with a level named like the row ids' (a file written by
    ``to_csv`` from a traced frame, read with ``index_col="stp_row_id"``): the frame's
    index would hold two levels of that name, whose ids name different files."""
    if keep and ROW_INDEX_NAME in index.names:
        raise LineageError(
            f"sktraceprop.read_csv: {path}: the index read from the file (index_col) has a "
            f"level named {ROW_INDEX_NAME!r}, the name of the level that holds this read's "
            "row ids. The file was likely written from a traced frame (to_csv), and that "
            "column holds the ids of the files its rows were first read from. Read it as a "
            "column (without index_col), or rename it (pandas' names= or a copy of the "
            f"file); to trace the rows to their first files instead, read it with pandas "
            f"(pandas.read_csv(path, index_col={ROW_INDEX_NAME!r})) in a process that has "
            "read those files."
        )


def keeps_index(kwargs, index, start):
    """Whether the file's index is kept (``index_col``, or pandas' implicit index);
    ``start``: the position of the first row (pandas numbers a chunk's rows on)."""
    index_col = kwargs.get("index_col")
    # (pandas also reads an index when the data rows have one field more than the
    # header: the implicit index, kept too)
    # (a named index is read from the file: an empty one equals an empty RangeIndex)
    return index_col is not False and (
        index_col is not None
        or any(name is not None for name in index.names)
        or not index.equals(pd.RangeIndex(start, start + len(index)))
    )
