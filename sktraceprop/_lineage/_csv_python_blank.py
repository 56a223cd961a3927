"""The blank line after the header that pandas' python engine drops with
``skip_blank_lines=False``.

With ``skip_blank_lines=False`` both engines read a blank line as a row of missing
values, but the python engine looks at the two lines after the header for index names
(``PythonParser._get_index_name``, "column and index names on diff rows", the same in
pandas 2.2 and 3.1): where the first holds ``k`` fields and the second the header's
count plus ``k``, the first is taken for the names of ``k`` index columns and is no row.
A blank line is ``k = 0`` names: pandas drops it whenever the line after it holds as
many fields as the header, and reads it as a row of missing values otherwise (the C
tokenizer always does). That happens only where the header is read from the file
(``header`` not None) and ``index_col`` is not False.

The line finder counts the blank line as a record, as the C tokenizer does: read_csv
then removes that record from its scan (:func:`dropped_blank`, :func:`without_blank`),
read whole or in chunks (:mod:`._csv_chunks` then scans the file again, so that its
chunks start at the record after the dropped one, as pandas' do).
It is not skipped as ``skiprows`` would skip it: after a lone ``\\r`` line end the C
tokenizer reads a skipped line that starts with ``\\r`` as a field and skips on to the
next line end, the next line with it (``skiprows=[1]`` on ``"k,v\\r\\ra,1\\rb,2"``
keeps only ``b,2``, in pandas 2.2 and 3.1), where the python engine drops the blank line
alone (the line finder now ends such a line as the python engine does, with
``engine="python"``: see :func:`._csv_kernel.scan_chunk`'s ``python_lines``). Where
the header is not a plain header record (``names``, ``usecols`` or ``skiprows``, which
move what the python engine counts or reads first), the blank line is refused
(:func:`refuse_blank`), never guessed at. ``skipfooter`` drops the last lines after it,
as without the blank line (the line count's footer check judges the lines there).
``index_col`` (not False) is replaced by pandas with the ``k`` columns of the names
line, none for a blank one (``self.index_col = list(range(len(line)))``, pandas 2.2
and 3.1): the frame is the one read without it, and the content check parses as that
read (:func:`index_col_read`).

With ``comment``, the python engine counts the fields of the header and of the line after
the blank one cut at the comment character, quoted or not (``_check_comments``), and
drops a comment line between them (a line cut to nothing), as the C tokenizer skips it.
Both are modelled (:func:`_python_fields`); the blank line is refused where that is not
sure: a field that is a missing-value marker holding the comment character (``#N/A``:
kept whole), a comment line between them holding a quote (the python engine's csv reader
reads quotes in it, the C tokenizer does not), or the line after the blank one cut to
nothing (dropped by the python engine, a row to the C tokenizer). It is refused too
where a comment line comes before it (before or after the header): the blank line is
dropped by skipping its record, and which record ``skiprows`` counts there is not the
line finder's.

Where ``skipfooter`` then leaves no data row, pandas itself fails, building the index of
the empty frame from no index columns (``ValueError: Must pass non-zero number of
levels/codes``, in pandas 2.2 and 3.1): :func:`blank_names_error` says so, naming the
file and the blank line.
"""

import csv
import dataclasses
import io

import numpy as np

from ..exceptions import LineageError
from ._csv_files import open_text
from ._csv_kept import Spans
from ._csv_lines import header_records
from ._csv_python import _dialect, _na_markers

__all__ = [
    "blank_names_error",
    "dropped_blank",
    "index_col_read",
    "refuse_blank",
    "refuse_index_names",
    "without_blank",
]

#: Options under which the python engine's first lines are not modelled here.
_UNMODELLED = ("names", "usecols", "skiprows")


def _applies(kwargs):
    """Whether the python engine may drop the line after the header."""
    return (
        kwargs.get("engine") == "python"
        and header_records(kwargs) > 0
        and kwargs.get("index_col") is not False
    )


def _given(value):
    """Whether an option is set (``skiprows=0`` and ``skipfooter=0`` are not)."""
    return value is not None and not (isinstance(value, int) and value == 0)


def _first_lines(path, kwargs, scan, first):
    """The text of the header record and of the two records after it (None where the
    file has no such record)."""
    starts = [int(v) for v in scan.lines[first - 1 : first + 3]]
    end = (scan.n_lines or starts[-1]) + 1
    bounds = list(zip(starts, [*starts[1:], end]))[:3]
    texts = [[] for _ in bounds]
    with open_text(path, kwargs) as text:
        for number, line in enumerate(text, 1):
            if number >= bounds[-1][1]:
                break
            for k, (a, b) in enumerate(bounds):
                if a <= number < b:
                    texts[k].append(line)
    out = ["".join(t) for t in texts]
    return out + [None] * (3 - len(out))


def _lines(text):
    """``text``'s lines as pandas reads them, each with its line end: ``"\\n"``,
    ``"\\r\\n"`` and a lone ``"\\r"`` end a line; a form feed, ``"\\x1e"``, ``"\\x85"``
    or U+2028, which ``str.splitlines`` ends lines at, do not."""
    return io.StringIO(text, newline="").readlines()


def _fields(text, dialect):
    """The fields of a record as the python engine's csv reader gives them."""
    try:
        return next(csv.reader(_lines(text) or [""], dialect), [])
    except csv.Error:
        return None


def _python_fields(text, dialect, kwargs, alone):
    """The fields the python engine reads of a record (its text runs to the next record),
    cut at the comment character, or None where not sure (see the module's docstring).
    Comment lines after the record's own lines, which the C tokenizer skips, must each be
    cut to nothing (or, with ``skip_blank_lines=True``, to one field of blanks), and hold
    no quote (with ``skip_blank_lines=True``: none read with the next line); with
    ``alone`` there may be none."""
    comment = kwargs.get("comment")
    if comment is None:
        return _fields(text, dialect)
    try:
        rows = list(csv.reader(_lines(text) or [""], dialect)) or [[]]
    except csv.Error:
        return None
    na = _na_markers(kwargs)
    if any(comment in field and field in na for row in rows for field in row):
        return None
    cut = []
    for row in rows:
        kept = row
        for k, field in enumerate(row):
            if comment in field:
                head = field[: field.find(comment)]
                kept = row[:k] + ([head] if head else [])
                break
        cut.append(kept)
    quotes = [c for c in (dialect.quotechar, dialect.escapechar) if c]
    # (a line of one field of blanks is dropped too with skip_blank_lines=True)
    skip_blank = kwargs.get("skip_blank_lines", True)
    kept = [r for r in cut[1:] if r and not (skip_blank and len(r) == 1 and not r[0].strip())]
    quoted = any(q in text for q in quotes)
    if quoted and skip_blank:
        quoted = not _read_apart(text, dialect)
    if len(rows) > 1 and (alone or kept or quoted):
        return None
    if not cut[0] and any(rows[0]):
        return None  # (cut to nothing: the python engine drops it and reads the next)
    return cut[0]


def _read_apart(text, dialect):
    """Whether the csv reader reads each line of ``text`` after its first row's lines
    alone: none ends inside a quoted field or after an escape character (the python
    engine's reader then reads no line of the next record with it)."""
    lines = _lines(text)
    used = 0

    def pulled():
        nonlocal used
        for line in lines:
            used += 1
            yield line

    strict = type("Strict", (dialect,), {"strict": True})
    try:
        next(csv.reader(pulled(), dialect), None)
        return all(len(list(csv.reader([line], strict))) <= 1 for line in lines[used:])
    except csv.Error:
        return False


def _is_blank(text):
    """Whether a record's text (running to the next record) starts with a blank line."""
    return _lines(text)[:1] in ([], ["\n"], ["\r\n"], ["\r"])


def dropped_blank(path, kwargs, scan):
    """The record index (0-based, as ``skiprows`` counts) of the line after the header
    that pandas' python engine drops, taken for index names, or None.

    That line is blank (``k = 0`` names, with ``skip_blank_lines=False``), or holds
    ``k`` fields where the line after it holds the header's count plus ``k`` (see
    :func:`_index_names_row`).

    Parameters
    ----------
    path : Path
    kwargs : dict
        The ``read_csv`` options as the line finder models them.
    scan : Scan
        The pass over the file (record start lines, header records included).

    Raises
    ------
    LineageError
        Where the line after the header is dropped, or may be, under options this
        module does not model (see its docstring).
    """
    first = header_records(kwargs)
    if not _applies(kwargs) or scan.lines.size < first + 2:
        return None
    header, blank, after = _first_lines(path, kwargs, scan, first)
    # (a record's text runs to the next record: comment lines the C tokenizer skips
    # after the blank line are in it)
    if blank is None:
        return None
    if not _is_blank(blank):
        return _index_names_row(path, kwargs, scan, (header, blank, after))
    if kwargs.get("skip_blank_lines", True):
        return None  # (not a record to the C tokenizer: never the line found here)
    if any(_given(kwargs.get(name)) for name in _UNMODELLED):
        refuse_blank(path, int(scan.lines[first]))
    dialect = _dialect(kwargs)
    names = _python_fields(header, dialect, kwargs, alone=False)
    fields = _python_fields(after, dialect, kwargs, alone=True)
    if _python_fields(blank, dialect, kwargs, alone=False) != [] or None in (names, fields):
        refuse_blank(path, int(scan.lines[first]))
    if kwargs.get("comment") is not None and (
        int(scan.lines[0]) != 1 or len(_lines(header)) != first
    ):
        # (a comment line before the blank one: the records skiprows counts are not
        # the line finder's there)
        refuse_blank(path, int(scan.lines[first]))
    if len(fields) != len(names):
        return None
    return first


def _index_names_row(path, kwargs, scan, texts):
    """The record index of the line after the header (not blank) where pandas' python
    engine takes it for the names of ``k`` index columns, or None.

    It does where the line holds ``k`` fields and the line after it the header's count
    plus ``k`` (``_get_index_name``: "column and index names on diff rows"). Where the
    fields of the three lines are not sure (see :func:`_python_fields`), None: the
    record count and the content check then judge the line found (``skipfooter`` drops
    rows from the end as without the line). Under ``names``, ``usecols`` or
    ``skiprows`` (which move what the python engine counts or reads first), such a line
    is refused (:func:`refuse_index_names`). ``index_col`` (not False) is replaced by
    pandas with the ``k`` columns: the frame is the one read without it (see
    :func:`index_col_read`).
    """
    first = header_records(kwargs)
    dialect = _dialect(kwargs)
    # (comment lines after the first data record are read after the first lines: with
    # skip_blank_lines=True dropped, as the C tokenizer skips them; with False rows of
    # missing values, refused apart, see _csv_python)
    alone = not kwargs.get("skip_blank_lines", True)
    header, line, after = (
        None if t is None else _python_fields(t, dialect, kwargs, alone=alone and k == 2)
        for k, t in enumerate(texts)
    )
    if None in (header, line, after) or not line:
        return None
    if len(after) != len(line) + len(header):
        return None
    if any(_given(kwargs.get(name)) for name in _UNMODELLED):
        refuse_index_names(path, int(scan.lines[first]), len(line))
    return first


def index_col_read(kwargs, record):
    """The options pandas reads with where the python engine dropped ``record`` (from
    :func:`dropped_blank`, or None) after the header: ``index_col`` replaced by the
    columns of the names line, as without ``index_col``."""
    if record is None or kwargs.get("index_col") is None:
        return kwargs
    return dict(kwargs, index_col=None)


def refuse_index_names(path, line, k):
    """Raise: ``line`` (of ``k`` fields) after the header is taken by pandas' python
    engine for the names of ``k`` index columns, under options not modelled."""
    import pandas as pd

    raise LineageError(
        f"sktraceprop.read_csv: {path}: line {line}, after the header, holds {k} "
        f"field{'s' * (k != 1)} and the line after it the header's count plus {k}: with "
        f"engine='python' pandas {pd.__version__} takes it for the names of {k} index "
        f"column{'s' * (k != 1)} and reads it as no row; with names, usecols or "
        "skiprows that is not modelled, so the lines of the rows cannot be "
        "guaranteed. Read it without those options, or with pandas and use "
        "sktraceprop.from_pandas."
    )


def without_blank(scan, record):
    """``scan`` without the blank line's record, which pandas' python engine drops: the
    records after it one lower (lines, kept bytes and spans).

    Parameters
    ----------
    scan : Scan
        A pass over the file that counted the blank line as record ``record``, and kept
        the bytes of the record after it (the first data record).
    record : int
        The blank line's record index, from :func:`dropped_blank`.

    Returns
    -------
    scan : Scan
    """

    def shifted(mapping):
        return {g - (g > record): v for g, v in mapping.items() if g != record}

    bounds = Spans()
    bounds.update(shifted(dict(scan.bounds.items())))
    return dataclasses.replace(
        scan,
        lines=np.delete(scan.lines, record),
        samples=shifted(scan.samples),
        n_records=scan.n_records - 1,
        bounds=bounds,
    )


def refuse_blank(path, line):
    """Raise: the blank ``line`` after the header is read under options not modelled."""
    import pandas as pd

    raise LineageError(
        f"sktraceprop.read_csv: {path}: line {line}, after the header, is blank; with "
        "engine='python' and skip_blank_lines=False pandas "
        f"{pd.__version__} takes it for the names of no index columns and drops it, or "
        "reads it as a row, depending on the next line and on names, usecols, skiprows "
        "and, with comment=, on comment lines, quotes and "
        "missing-value markers such as '#N/A' around it, which are not modelled together: "
        "the lines of the rows cannot be guaranteed. Read it without engine='python' (the "
        "C engine reads the blank line as a row), with skip_blank_lines=True, or with "
        "pandas and use sktraceprop.from_pandas."
    )


#: What pandas raises when the blank line after the header, taken for the names of no
#: index columns, meets a frame left with no row (``_get_empty_meta``).
_NO_LEVELS = "Must pass non-zero number of levels/codes"


def blank_names_error(path, kwargs, scan, exc):
    """The error to raise for ``exc``, pandas' failure on a file whose blank line after
    the header its python engine took for index names, or None for another failure.

    Parameters
    ----------
    path : Path
    kwargs : dict
        The ``read_csv`` options as the line finder models them.
    scan : Scan
        The pass over the file (the header and the record after it kept).
    exc : Exception
        What ``pandas.read_csv`` raised.

    Returns
    -------
    error : LineageError or None
        Naming the file, the blank line and what to do; the caller raises it from
        ``exc``.
    """
    first = header_records(kwargs)
    if not (_applies(kwargs) and type(exc) is ValueError and str(exc) == _NO_LEVELS):
        return None
    blank = scan.samples.get(first)
    if first >= scan.lines.size or blank is None or blank.strip(b"\r"):
        return None  # (not the blank line after the header: pandas' error as it is)
    import pandas as pd

    footer = int(kwargs.get("skipfooter", 0) or 0)
    return LineageError(
        f"sktraceprop.read_csv: {path}: pandas {pd.__version__} failed (ValueError: "
        f"{exc}): line {int(scan.lines[first])}, after the header, is blank, and with "
        "engine='python' and skip_blank_lines=False pandas takes it for the names of no "
        f"index columns; skipfooter={footer} then leaves no data row, and pandas cannot "
        "build the index of the empty frame. Read it with skip_blank_lines=True (the "
        "blank line is skipped), remove the blank line, or give a smaller skipfooter."
    )
