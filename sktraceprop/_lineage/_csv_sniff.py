"""The delimiter pandas sniffs for ``read_csv(sep=None)``.

pandas' python engine (the only one that sniffs) reads the first physical line that
``skiprows`` does not skip and that does not start with the comment character (a line
cut to nothing there), cuts it at the comment character, and takes the delimiter
:class:`csv.Sniffer` finds in it; the rest of its dialect stays the caller's. Sniffing the
same line the same way gives the line finder the delimiter pandas used. pandas parses that
line alone: one that ends inside a quoted field is a row cut at the line's end, where the
C tokenizer the line finder models reads on to the closing quote, so it is refused.
"""

import csv

from ..exceptions import LineageError
from ._csv_python import _ends_quoted, _skipped
from ._csv_stream import open_text


def _first_line(path, kwargs):
    """``(0-based number, text)`` of the line pandas sniffs, cut at the comment."""
    skipped = _skipped(kwargs.get("skiprows"))
    comment = kwargs.get("comment")
    with open_text(path, kwargs) as text:  # (a UTF-8 BOM stays on the line it sniffs)
        number, line = 0, text.readline()
        # (pandas asks on past the end, forever; a comment line is skipped too, where
        # sniffing it would raise "Could not determine delimiter")
        while line and (skipped(number) or (comment is not None and line.startswith(comment))):
            number, line = number + 1, text.readline()
    if comment is not None and comment in line:
        line = line[: line.find(comment)]
    return number, line


def sniffed_sep(path, kwargs):
    """The delimiter pandas sniffs in ``path`` for ``sep=None``, checked.

    Raises
    ------
    csv.Error
        Where pandas raises it: no delimiter can be found in that line.
    ValueError
        When the delimiter found is not one byte (the line finder reads bytes).
    LineageError
        When that line ends inside a quoted field (see the module's docstring), or the
        delimiter found ends lines (``"\\r"``, sniffed in a blank line).
    """
    number, line = _first_line(path, kwargs)
    sep = csv.Sniffer().sniff(line).delimiter
    if sep in ("\r", "\n"):
        # (a blank line ended by a lone \r: csv.Sniffer finds "\r"; records would split
        # where lines end, and pandas 2.2 read such a file with every row one line on)
        raise LineageError(
            f"sktraceprop.read_csv: {path}: sep=None sniffed the delimiter {sep!r}, a line "
            f"end, in line {number + 1} (a blank line, the first pandas sniffs): the lines "
            "of the rows cannot be guaranteed. Pass sep= explicitly, or remove the blank "
            "line."
        )
    if len(sep.encode()) != 1:
        raise ValueError(
            f"sktraceprop.read_csv: sep=None sniffed the delimiter {sep!r} in line "
            f"{number + 1} of {path}, which is not one byte; pass sep= explicitly."
        )
    quote = kwargs.get("quotechar", '"')
    body = line.rstrip("\r\n")
    if kwargs.get("quoting", csv.QUOTE_MINIMAL) != csv.QUOTE_NONE and quote in body:
        if _ends_quoted(body, quote, sep, kwargs.get("doublequote", True)):
            raise LineageError(
                f"sktraceprop.read_csv: {path}: line {number + 1}, where sep=None sniffs "
                "the delimiter, ends inside a quoted field: pandas parses that line "
                "alone, so the lines of the rows after it cannot be guaranteed. Pass "
                f"sep={sep!r} explicitly."
            )
    return sep
