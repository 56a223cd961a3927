"""Lines pandas' python engine reads otherwise than its C tokenizer, which the line finder
models.

With ``engine="python"`` (which ``skipfooter`` needs) pandas cuts every field from the
first one holding the comment character on, quoted or not, and drops a row left with no
field; with ``skip_blank_lines=True`` also a row left with one field of whitespace, as
``str.strip`` sees it. The C tokenizer skips only lines that are empty, made of spaces
and tabs, or start with the comment character: a quoted ``""``, a line of non-breaking
spaces or ``"#x",1`` are rows to it. Each such row shifts the lines of the rows after it,
and other differences of the python engine (a ``skiprows`` line it keeps after a blank
line, a blank line it counts as footer) can bring the row count back to the line
finder's, with values the content check's sample cannot tell apart: read_csv refuses
these files instead.

A row's first physical line, parsed alone, is blank to the python engine whenever the row
is (its first field is a prefix of the row's, and it cannot hold more fields), so each
line where the line finder starts a record is checked on its own. Lines that hold a byte
other than whitespace, quotes, escapes and delimiters before the comment character are
not blank, without parsing them.

With ``skip_blank_lines=False`` the python engine keeps an empty line as a row of missing
values, as the C tokenizer does, wherever it is. A line that starts with the comment
character it drops among the first lines it reads and reads as a row of missing values
after them, where the C tokenizer always skips it. The first lines are those its
``_next_line`` reads, which skips such a line: the header records, then two records for
index names (``_get_index_name``; with ``header=None`` the first data record is read for
the column count and counts as the first of the two), the same in pandas 2.2 and 3.1. A
comment line before the start of the second data record is therefore dropped by both
engines and its lines are known (:func:`_early_comment`); one after it is refused, as is
one whose first field is a missing-value marker such as ``#N/A`` (a row to the python
engine, which keeps such a field whole), and one under a list or callable ``skiprows``
(asked only where the python engine starts reading a record, not past a line it drops),
a list ``header`` or ``sep=None``, which move what the first lines are. An int
``skiprows`` skips leading lines before the first record is read, and ``skipfooter``
trims the last rows after the first lines are read (footer lines that are comments or
blank are refused apart, :mod:`._csv_lines`): under them the first lines are the same
records. A row cut to nothing by the comment character is refused too.

Among those first lines, ``_next_line`` asks a list or callable ``skiprows`` only
before it reads: past a blank or comment line it drops, it reads the next line even
where ``skiprows`` names it (pandas 2.2 and 3.1), and the C tokenizer skips it. Such a
line is refused (a content-blind read, one value in every field, was named the lines
before its own).

The python engine also skips the leading ``skiprows`` lines as physical lines, before
its csv reader starts, where the C tokenizer skips records: they differ when one of
those lines ends inside a quoted field.
"""

import csv
import io
import re

import numpy as np

from ._csv_lines import header_records
from ._csv_stream import _decompressed, compression_of


def _dialect(kwargs):
    """The ``csv`` dialect pandas' python engine reads with (its ``_make_reader``)."""
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))

    class Dialect(csv.Dialect):
        delimiter = sep
        quotechar = kwargs.get("quotechar", '"')
        escapechar = kwargs.get("escapechar")
        doublequote = kwargs.get("doublequote", True)
        skipinitialspace = kwargs.get("skipinitialspace", False)
        quoting = kwargs.get("quoting", csv.QUOTE_MINIMAL)
        lineterminator = "\n"
        strict = False

    return Dialect


def _na_markers(kwargs):
    """Every string the python engine may keep whole as a missing value (more than it
    does, where ``keep_default_na=False`` or ``na_values`` is per column: refusing more,
    never fewer)."""
    from pandas._libs.parsers import STR_NA_VALUES

    given = kwargs.get("na_values")
    if given is None:
        given = []
    elif isinstance(given, dict):
        given = [*given, *(v for values in given.values() for v in np.atleast_1d(values))]
    else:
        given = np.atleast_1d(given).tolist()
    return set(STR_NA_VALUES) | {str(v) for v in given}


def _early_comment(kwargs, record_lines, number, line, dialect):
    """Whether the comment line ``number`` is one the python engine drops with
    ``skip_blank_lines=False``, as the C tokenizer does (see the module's docstring)."""
    header = kwargs.get("header", "infer")
    skiprows = kwargs.get("skiprows")
    if (
        isinstance(header, list | tuple)
        # (an int skips leading lines before the first record is read; a list or a
        # callable is asked only where a record's reading starts, not past a line dropped)
        or not (skiprows is None or isinstance(skiprows, int | np.integer))
        or kwargs.get("sep", ",") is None
    ):
        return False
    # the records _next_line reads are the line finder's: a record the python engine
    # drops and the C tokenizer keeps is refused apart ("dropped")
    second = header_records(kwargs) + 1
    if second < record_lines.size and number > record_lines[second]:
        return False
    try:
        first = next(csv.reader([line.rstrip("\r\n")], dialect), [""])[0]
    except csv.Error:
        return False
    return first not in _na_markers(kwargs)


def _dropped(line, dialect, comment, skip_blank):
    """Whether the python engine drops ``line`` read alone as a row."""
    try:
        row = next(csv.reader([line], dialect), [])
    except csv.Error:
        return True  # not a row it reads: refuse rather than guess
    empty = not row or all(not field for field in row)  # (pandas' _is_line_empty)
    if comment is not None:
        # pandas' _check_comments (it also keeps a field equal to an NA value whole:
        # cutting it too drops more rows, so refuses more, never fewer)
        for k, field in enumerate(row):
            if comment in field:
                head = field[: field.find(comment)]
                row = row[:k] + ([head] if head else [])
                break
    if not row:
        # an empty line (or ",,", all fields empty) is a row of missing values to both
        # engines with skip_blank_lines=False; a row cut to nothing by the comment
        # character is dropped among the python engine's first lines, a row of missing
        # values after them (not modelled: refused)
        return skip_blank or not empty
    return skip_blank and len(row) == 1 and not row[0].strip()


def _skipped(skiprows):
    """``skiprows`` as pandas' python engine asks it (``skipfunc``)."""
    if skiprows is None:
        return lambda k: False
    if callable(skiprows):
        return skiprows
    if isinstance(skiprows, int | np.integer):
        return lambda k: k < skiprows
    return set(skiprows).__contains__


def _ends_quoted(line, quote, delim, doublequote):
    """Whether a line ``skiprows`` skips ends inside a quoted field, as pandas' C
    tokenizer reads a skipped line (quotes open a field at its start; no escapes)."""
    # 0: a field's start, 1: in a field, 2: quoted, 3: quote in quoted; the line's first
    # byte opens a quoted field or a field (a delimiter ends no field there)
    state = 2 if line[:1] == quote else 1
    for c in line[1:]:
        if state == 2:
            if c == quote:
                state = 3 if doublequote else 1
        elif c == quote and state in (0, 3):
            state = 2
        else:
            state = 0 if c == delim else 1
    return state == 2


def python_engine_line(path, kwargs, record_lines):
    """First line pandas' python engine reads otherwise than the line finder, and how.

    Two differences are looked for. The python engine skips the leading ``skiprows``
    lines (0, 1, ... while ``skiprows`` names them) as physical lines, where the C
    tokenizer skips logical lines: a skipped line that ends inside a quoted field
    makes them skip different lines. And it drops the rows described in the module's
    docstring.

    Parameters
    ----------
    path : Path
        The file.
    kwargs : dict
        The ``read_csv`` options (``engine="python"``).
    record_lines : ndarray of int64
        Physical start lines of the records the line finder found, in order.

    Returns
    -------
    found : tuple of (int, str) or None
        The 1-based line and ``"skipped"`` (a leading skipped line that ends inside
        quotes), ``"dropped"`` (a record the python engine drops) or ``"comment"`` (with
        ``skip_blank_lines=False``, a line after the first records that starts with the
        comment character, which the C tokenizer skips and the python engine reads as a
        row), or ``"kept"`` (among the first lines, a line a list or callable
        ``skiprows`` names right after a line the python engine drops: its
        ``_next_line`` reads it without asking ``skiprows``); None when there is none of
        these.
    """
    comment = kwargs.get("comment")
    skip_blank = bool(kwargs.get("skip_blank_lines", True))
    drops = skip_blank or comment is not None  # else it drops nothing
    # with skip_blank_lines=False the python engine drops a comment line among the
    # first lines it reads (for the header and index names), as the C tokenizer always
    # does, and reads one after them as a row of missing values: not modelled
    comments_read = comment is not None and not skip_blank
    dialect = _dialect(kwargs)
    sep = dialect.delimiter
    quote = dialect.quotechar if dialect.quoting != csv.QUOTE_NONE else None
    doublequote = dialect.doublequote
    specials = "".join(c for c in (dialect.quotechar, dialect.escapechar, sep) if c)
    not_blank = re.compile(rf"[^\s{re.escape(specials)}]")
    skipped = _skipped(kwargs.get("skiprows"))
    listed = kwargs.get("skiprows") is not None and not isinstance(
        kwargs.get("skiprows"), int | np.integer
    )
    # (the first lines _next_line reads: the header records and two more, with a margin)
    first = header_records(kwargs) + 3
    first_end = record_lines[first] if first < record_lines.size else np.inf
    after_drop = False  # the line before was one _next_line read and dropped
    leading = True  # in the leading run of skipped lines
    method = compression_of(path, kwargs.get("compression", "infer"))
    encoding = kwargs.get("encoding") or "utf-8"
    errors = kwargs.get("encoding_errors", "strict")
    with open(path, "rb") as fh:
        stream = _decompressed(fh, method, path)
        # newline="": lines end at "\n", "\r\n" and a lone "\r", as pandas reads them
        text = io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline="")
        for number, line in enumerate(text, 1):
            if leading:
                leading = bool(skipped(number - 1))
                if leading:
                    body = line.rstrip("\r\n")
                    if quote and quote in body and _ends_quoted(body, quote, sep, doublequote):
                        return number, "skipped"
                    continue
            if listed and drops and number <= first_end:
                dropped = _dropped(line.rstrip("\r\n"), dialect, comment, skip_blank)
                if after_drop and skipped(number - 1) and not dropped:
                    return number, "kept"
                after_drop = dropped
            if not drops:
                if record_lines.size == 0 or number > record_lines[-1]:
                    break
                continue
            head = line if comment is None else line.partition(comment)[0]
            if not_blank.search(head):
                continue
            at = np.searchsorted(record_lines, number)
            starts = at < record_lines.size and record_lines[at] == number
            if comments_read and not starts and at > 0 and line.startswith(comment):
                if _early_comment(kwargs, record_lines, number, line, dialect):
                    continue
                return number, "comment"
            if not starts:
                continue  # no record starts here: a skipped, blank or inner line
            if _dropped(line.rstrip("\r\n"), dialect, comment, skip_blank):
                return number, "dropped"
    return None
