"""Physical line numbers of the rows ``pandas.read_csv`` returns.

pandas does not report where a row came from. :mod:`._csv_kernel` replays the record
splitting of pandas' C tokenizer over the same bytes and gives each record's byte span;
this module turns the options of ``read_csv`` into the kernel's arguments, then applies
what pandas applies after tokenizing (the header, ``nrows``, ``skipfooter``). Two checks
guard the result (see :mod:`._csv_verify`): the record count must equal the frame's
length, and sampled records, parsed again on their own, must equal the frame's rows.
"""

import codecs
import csv
from dataclasses import dataclass

import numpy as np

from ..exceptions import LineageError

# read_csv options that change which text becomes which row in ways we do not model.
_UNSUPPORTED = {
    "chunksize": None,
    "iterator": False,
    "delim_whitespace": False,
}
_ENGINES = (None, "c", "python")


def check_options(kwargs):
    """Raise ``ValueError`` for read_csv options whose row mapping is not modelled."""
    for name, default in _UNSUPPORTED.items():
        if kwargs.get(name, default) != default:
            raise ValueError(
                f"sktraceprop.read_csv does not support {name}={kwargs[name]!r}: physical "
                "line numbers could not be guaranteed. Read with pandas and register the "
                "frame with sktraceprop.from_pandas instead (lines become row positions)."
            )
    if kwargs.get("engine") not in _ENGINES:
        raise ValueError(
            f"sktraceprop.read_csv supports engine='c' or 'python', not {kwargs['engine']!r}."
        )
    if kwargs.get("on_bad_lines", "error") != "error":
        raise ValueError(
            "sktraceprop.read_csv requires on_bad_lines='error': skipped lines would shift "
            "line numbers."
        )
    if "sep" in kwargs and "delimiter" in kwargs:
        raise ValueError("sktraceprop.read_csv: give sep or delimiter, not both")
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    sep = "\t" if sep == r"\t" else sep
    if not isinstance(sep, str) or len(sep.encode()) != 1:
        raise ValueError(
            f"sktraceprop.read_csv supports a single-character sep (one byte), got {sep!r}; "
            "read with pandas and use sktraceprop.from_pandas instead."
        )
    for name in ("quotechar", "comment", "escapechar", "lineterminator"):
        value = kwargs.get(name)
        if value is not None and (not isinstance(value, str) or len(value.encode()) != 1):
            raise ValueError(f"sktraceprop.read_csv: {name} must be one ASCII character")
    header = kwargs.get("header", "infer")
    if header not in ("infer", None) and not isinstance(header, int | np.integer):
        raise ValueError("sktraceprop.read_csv supports header=int or None, not a list.")


def _byte(value):
    return -1 if value is None else value.encode()[0]


def utf8_bytes(data, kwargs):
    """The bytes pandas' tokenizer sees: the file's text re-encoded as UTF-8."""
    encoding = kwargs.get("encoding")
    if encoding is None or codecs.lookup(encoding).name in ("utf-8", "ascii"):
        return data
    errors = kwargs.get("encoding_errors", "strict")
    return data.decode(encoding, errors).encode("utf-8")


def _skip_mask(skiprows, data):
    """``skiprows`` as a boolean mask over pandas' logical line counter."""
    if skiprows is None:
        return np.zeros(0, bool)
    if callable(skiprows):
        from ._csv_kernel import count_line_ends

        bound = count_line_ends(data) + 2
        return np.fromiter((bool(skiprows(k)) for k in range(bound)), bool, bound)
    if np.ndim(skiprows) == 0:
        return np.ones(max(int(skiprows), 0), bool)
    rows = np.asarray(list(skiprows), dtype=np.int64)
    rows = rows[rows >= 0]
    mask = np.zeros(int(rows.max()) + 1 if rows.size else 0, bool)
    mask[rows] = True
    return mask


@dataclass
class Records:
    """Where the data rows of a CSV file are.

    Attributes
    ----------
    lines : ndarray of int64
        Physical 1-based start line of each data row pandas returns.
    starts, ends : ndarray of int64
        Byte span of each data row's record in the tokenized bytes.
    header : tuple of int or None
        Byte span of the header record, if any.
    total : int
        Data records in the whole file, before ``nrows`` and ``skipfooter``.
    status : int
        The kernel's status (see :mod:`._csv_kernel`).
    """

    lines: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    header: tuple
    total: int
    status: int


def scan(data, kwargs):
    """Records of the data rows ``pd.read_csv(data, **kwargs)`` yields.

    Parameters
    ----------
    data : bytes
        The bytes pandas tokenizes (decompressed, UTF-8).
    kwargs : dict
        The keyword arguments given to ``pandas.read_csv``.

    Returns
    -------
    records : Records
    """
    from ._csv_kernel import OK, lines_at, scan_lines, scan_records

    buf = np.frombuffer(data, dtype=np.uint8)
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    sep = "\t" if sep == r"\t" else sep
    quoting = kwargs.get("quoting", csv.QUOTE_MINIMAL)
    quote = -1 if quoting == csv.QUOTE_NONE else _byte(kwargs.get("quotechar", '"'))
    lineterminator = kwargs.get("lineterminator")
    term = 10 if lineterminator is None else _byte(lineterminator)
    carriage = 13 if lineterminator is None else -1
    start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    delim, comment, escape = (
        _byte(sep),
        _byte(kwargs.get("comment")),
        _byte(kwargs.get("escapechar")),
    )
    stop_field = np.zeros(256, bool)
    stop_quoted = np.zeros(256, bool)
    for b in (term, carriage, escape, delim, comment):
        if b >= 0:
            stop_field[b] = True
    for b in (quote, escape):
        if b >= 0:
            stop_quoted[b] = True
    plain = (
        (quote < 0 or bytes([quote]) not in data)
        and escape < 0
        and (comment < 0 or bytes([comment]) not in data)
        and lineterminator is None
        and b"\r" not in data
    )
    if plain:
        # No byte that makes a record differ from a line: the simpler, faster scan.
        starts, ends, lines = scan_lines(
            buf,
            start,
            delim,
            bool(kwargs.get("skip_blank_lines", True)),
            _skip_mask(kwargs.get("skiprows"), buf),
        )
        return _select(starts, ends, lines, kwargs, OK)
    starts, ends, status = scan_records(
        buf,
        start,
        delim,
        quote,
        comment,
        escape,
        term,
        carriage,
        bool(kwargs.get("doublequote", True)),
        bool(kwargs.get("skip_blank_lines", True)),
        _skip_mask(kwargs.get("skiprows"), buf),
        stop_field,
        stop_quoted,
    )
    order = np.argsort(starts, kind="stable")
    lines = np.empty(starts.size, np.int64)
    lines[order] = lines_at(buf, np.ascontiguousarray(starts[order]))
    return _select(starts, ends, lines, kwargs, status)


def _select(starts, ends, lines, kwargs, status):
    """The data records: after the header, before the footer, at most ``nrows``."""
    header = kwargs.get("header", "infer")
    if header == "infer":
        header = 0 if kwargs.get("names") is None else None
    n_header = 0 if header is None else int(header) + 1
    header_span = None
    if header is not None and starts.size > int(header):
        header_span = (int(starts[int(header)]), int(ends[int(header)]))
    starts, ends, lines = starts[n_header:], ends[n_header:], lines[n_header:]
    total = starts.size
    stop = total
    skipfooter = int(kwargs.get("skipfooter", 0) or 0)
    if skipfooter:
        stop = max(total - skipfooter, 0)
    nrows = kwargs.get("nrows")
    if nrows is not None:
        stop = min(stop, int(nrows))
    return Records(lines[:stop], starts[:stop], ends[:stop], header_span, total, int(status))


def check_count(records, n_rows, kwargs, where):
    """Raise when the records found cannot be the rows pandas returned."""
    from ._csv_kernel import OK

    if records.status != OK and (kwargs.get("nrows") is None or records.lines.size < n_rows):
        raise LineageError(
            f"sktraceprop.read_csv: {where} ends in a state pandas' tokenizer reports as an "
            "error or cannot finish (an unterminated quote or escape, or a whitespace-led "
            "line in a file whose lines end with a lone \\r); physical lines cannot be "
            "guaranteed. Read it with pandas and use sktraceprop.from_pandas."
        )
    if records.lines.size != n_rows:
        raise LineageError(
            f"sktraceprop.read_csv: could not match the {n_rows} rows pandas read from "
            f"{where} to physical lines ({records.lines.size} records found); read it with "
            "pandas and use sktraceprop.from_pandas (lines become row positions)."
        )
