"""Physical line numbers of the rows ``pandas.read_csv`` returns.

pandas does not report where a row came from. We split the file into records the way
pandas' C parser does (quote-aware, so a quoted field may span lines), then apply the
same skipping rules (``skiprows`` counts records, full-line comments and blank lines are
dropped, the header is consumed, ``skipfooter`` and ``nrows`` trim). The caller checks
that the record count equals the frame's length, so a disagreement is an error, never
silently wrong lines.
"""

import csv
import io

import numpy as np

_WHITESPACE = np.array([9, 10, 13, 32], dtype=np.uint8)

# read_csv options that change which text becomes which row in ways we do not model.
_UNSUPPORTED = {
    "chunksize": None,
    "iterator": False,
    "lineterminator": None,
    "delim_whitespace": False,
    "escapechar": None,
}


def check_options(kwargs):
    """Raise ``ValueError`` for read_csv options whose row mapping is not modelled."""
    for name, default in _UNSUPPORTED.items():
        if kwargs.get(name, default) != default:
            raise ValueError(
                f"sktraceprop.read_csv does not support {name}={kwargs[name]!r}: physical "
                "line numbers could not be guaranteed. Read with pandas and register the "
                "frame with sktraceprop.from_pandas instead (lines become row positions)."
            )
    if kwargs.get("on_bad_lines", "error") != "error":
        raise ValueError(
            "sktraceprop.read_csv requires on_bad_lines='error': skipped lines would shift "
            "line numbers."
        )
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    if sep is None or (len(sep) != 1 and sep != r"\t"):
        raise ValueError(
            f"sktraceprop.read_csv supports a single-character sep, got {sep!r}; read with "
            "pandas and use sktraceprop.from_pandas instead."
        )
    header = kwargs.get("header", "infer")
    if header not in ("infer", None) and not isinstance(header, int | np.integer):
        raise ValueError("sktraceprop.read_csv supports header=int or None, not a list.")


def _records_fast(data, comment):
    """Records of a file without quote characters: one per physical line."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1))
    if starts[-1] >= buf.size:  # trailing newline: no record after it
        starts = starts[:-1]
    n = starts.size
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, bool)
    non_ws = ~np.isin(buf, _WHITESPACE)
    content = np.add.reduceat(non_ws.astype(np.int64), starts) if buf.size else np.zeros(n)
    # reduceat over an empty trailing segment returns the element itself; lines are
    # delimited by the newline, which is whitespace, so the count is right.
    blank = content == 0
    if comment is not None:
        first = buf[np.minimum(starts, buf.size - 1)]
        is_comment = (first == ord(comment)) & ~blank
    else:
        is_comment = np.zeros(n, bool)
    return np.arange(1, n + 1, dtype=np.int64), blank, is_comment


def _records_quoted(text, sep, quotechar, comment):
    """Records of a file with quoting: a quoted field may span several physical lines."""
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=sep, quotechar=quotechar)
    starts, blank, is_comment = [], [], []
    previous = 0
    for fields in reader:
        starts.append(previous + 1)
        previous = reader.line_num
        empty = not fields or (len(fields) == 1 and not fields[0].strip())
        blank.append(empty)
        is_comment.append(
            comment is not None and not empty and fields[0].lstrip().startswith(comment)
        )
    return np.array(starts, np.int64), np.array(blank, bool), np.array(is_comment, bool)


def data_lines(data, kwargs):
    """1-based physical start line of every data row ``pd.read_csv(data, **kwargs)`` yields.

    Parameters
    ----------
    data : bytes
        Decompressed file content.
    kwargs : dict
        The keyword arguments given to ``pandas.read_csv``.

    Returns
    -------
    lines : ndarray of int64
    """
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    sep = "\t" if sep == r"\t" else sep
    quotechar = kwargs.get("quotechar", '"')
    comment = kwargs.get("comment")
    quoting = kwargs.get("quoting", csv.QUOTE_MINIMAL)
    if quoting == csv.QUOTE_NONE or quotechar.encode() not in data:
        starts, blank, is_comment = _records_fast(data, comment)
    else:
        text = data.decode(kwargs.get("encoding") or "utf-8")
        starts, blank, is_comment = _records_quoted(text, sep, quotechar, comment)

    keep = np.ones(starts.size, bool)
    skiprows = kwargs.get("skiprows")
    if skiprows is not None:
        index = np.arange(starts.size)
        if callable(skiprows):
            keep &= ~np.array([bool(skiprows(i)) for i in index], dtype=bool)
        elif np.ndim(skiprows) == 0:
            keep &= index >= int(skiprows)
        else:
            keep &= ~np.isin(index, np.asarray(list(skiprows), dtype=np.int64))
    keep &= ~is_comment
    if kwargs.get("skip_blank_lines", True):
        keep &= ~blank
    lines = starts[keep]

    header = kwargs.get("header", "infer")
    if header == "infer":
        header = 0 if kwargs.get("names") is None else None
    if header is not None:
        lines = lines[int(header) + 1 :]
    skipfooter = int(kwargs.get("skipfooter", 0) or 0)
    if skipfooter:
        lines = lines[:-skipfooter]
    nrows = kwargs.get("nrows")
    if nrows is not None:
        lines = lines[: int(nrows)]
    return lines
