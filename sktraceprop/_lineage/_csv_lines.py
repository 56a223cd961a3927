"""Which physical line each row of ``pandas.read_csv`` starts on, and the checks on it.

pandas does not report where a row came from. :mod:`._csv_stream` replays the record
splitting of pandas' C tokenizer over the same bytes; this module checks the options,
then applies what pandas applies after tokenizing (the header, ``nrows``,
``skipfooter``) and checks the count. :mod:`._csv_verify` checks sampled rows by content.
"""

import threading

import numpy as np

from ..exceptions import LineageError

# read_csv options that change which text becomes which row in ways we do not model.
_UNSUPPORTED = {
    "delim_whitespace": False,
    "memory_map": False,
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
    # pandas' python engine drops rows that are blank once unquoted (a quoted '""', a
    # line of non-breaking spaces), which the C tokenizer the line finder models keeps;
    # nrows can then stop on a later line than the line finder's, with the same count.
    sniffs = "sep" in kwargs and kwargs["sep"] is None  # python engine only
    if (kwargs.get("engine") == "python" or sniffs) and kwargs.get("nrows") is not None:
        raise ValueError(
            "sktraceprop.read_csv does not support nrows with engine='python' (or "
            "sep=None, which needs it): the rows "
            "pandas' python engine drops as blank would shift line numbers. Use the "
            "default engine, or read with pandas and use sktraceprop.from_pandas."
        )
    from ._csv_bad_lines import check_bad_lines_options  # (it needs the content check)

    check_bad_lines_options(kwargs)
    if kwargs.get("dialect") is not None:
        # pandas lets a dialect override sep, quotechar, escapechar, doublequote,
        # skipinitialspace and quoting: the line finder would split records differently.
        raise ValueError(
            "sktraceprop.read_csv does not support dialect=: pass its options (sep, "
            "quotechar, escapechar, doublequote, skipinitialspace, quoting) explicitly."
        )
    if "sep" in kwargs and "delimiter" in kwargs:
        raise ValueError("sktraceprop.read_csv: give sep or delimiter, not both")
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    if not sniffs and (not isinstance(sep, str) or len(sep.encode()) != 1):
        # (r"\t" too: pandas reads a longer sep as a regex with its python engine, which
        # ignores quotes and strips each line; sep="\t" is the tab)
        raise ValueError(
            f"sktraceprop.read_csv supports a single-character sep (one byte), got {sep!r}; "
            "read with pandas and use sktraceprop.from_pandas instead."
        )
    for name in ("quotechar", "comment", "escapechar", "lineterminator"):
        value = kwargs.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value.encode()) != 1 or value in " \t":
            raise ValueError(
                f"sktraceprop.read_csv: {name} must be one ASCII character other than a "
                f"space or tab, got {value!r}"
            )
    if kwargs.get("lineterminator") not in (None, "\n", "\r"):
        # records would end where no line does: several rows on one line, one row id
        raise ValueError(
            f"sktraceprop.read_csv: lineterminator={kwargs['lineterminator']!r} ends "
            "records where no line ends, so several rows would start on one physical "
            "line and share its row id. Read it with pandas and use "
            "sktraceprop.from_pandas (lines become row positions)."
        )
    header = kwargs.get("header", "infer")
    if header not in ("infer", None) and not isinstance(header, int | np.integer):
        raise ValueError("sktraceprop.read_csv supports header=int or None, not a list.")


class _AskedOnce:
    """A ``skiprows`` callable asked once per line, whoever asks (pandas or the scan).

    pandas and the scan call it from two threads, each for every line: a callable that
    is not a pure function of the line (``random() < 0.1``, the common way to subsample
    a file) would otherwise give them different lines to skip.
    """

    def __init__(self, func):
        self._func = func
        self._answers = bytearray()  # per line: 0 not asked yet, 1 kept, 2 skipped
        self._lock = threading.Lock()

    def __call__(self, k):
        answers = self._answers
        if k < len(answers) and answers[k]:  # answered (the GIL makes the read whole)
            return answers[k] == 2
        with self._lock:
            if k >= len(answers):
                answers.extend(bytes(max(k + 1 - len(answers), len(answers))))
            if not answers[k]:
                answers[k] = 2 if self._func(k) else 1
            return answers[k] == 2


def pinned(kwargs):
    """``kwargs`` with a ``skiprows`` that pandas and the scan both read the same way.

    A list-like is read once (a generator would be consumed by whichever reads it
    first); a callable is asked once per line (see :class:`_AskedOnce`).
    """
    out = dict(kwargs)
    skiprows = out.get("skiprows")
    if callable(skiprows):
        out["skiprows"] = _AskedOnce(skiprows)
    elif skiprows is not None and not isinstance(skiprows, int | np.integer):
        out["skiprows"] = list(skiprows)
    return out


def header_records(kwargs):
    """How many records pandas consumes before data (the header record is the last)."""
    header = kwargs.get("header", "infer")
    if header == "infer":
        header = 0 if kwargs.get("names") is None else None
    return 0 if header is None else int(header) + 1


def record_limit(kwargs):
    """Records the scan needs (``-1``: all of them)."""
    nrows = kwargs.get("nrows")
    return -1 if nrows is None else header_records(kwargs) + int(nrows)


def rowless(frame):
    """Whether ``frame``, pandas' read, holds no column and no row: pandas builds such a
    frame from no columns and no index read from the file, and it then holds no row
    whatever records it read (a header of no field, a blank line read with
    ``skip_blank_lines=False``, under ``index_col=False``; ``usecols=[]``: the same in
    pandas 2.2 and 3.1, both engines, each chunk of no row). There is no row to name a
    line for, so the records found need not be counted against it."""
    return frame.shape == (0, 0)


def data_lines(scan, n_rows, kwargs, where, no_rows=False):
    """Physical start lines of the ``n_rows`` data rows pandas returned, checked
    (``no_rows``: pandas returned a frame of no row whatever records it read, see
    :func:`rowless`: none, where the scan found the records).

    Raises
    ------
    LineageError
        When the records found cannot be the rows pandas returned.
    """
    if scan.status is not None:
        raise LineageError(
            f"sktraceprop.read_csv: {where}: {scan.status}; physical lines cannot be "
            "guaranteed. Read it with pandas and use sktraceprop.from_pandas."
        )
    first = header_records(kwargs)
    if no_rows:
        return scan.lines[:0]
    total = max(scan.n_records - first, 0)
    stop = total - int(kwargs.get("skipfooter", 0) or 0)
    if kwargs.get("nrows") is not None:
        stop = min(stop, int(kwargs["nrows"]))
    footer = int(kwargs.get("skipfooter", 0) or 0)
    # (first: a blank line ending the file, as in UCI Adult's adult.data, is a footer
    # line to pandas, which then keeps one row more than the count below expects)
    if footer and n_rows and not _footer_ends_file(scan, footer):
        raise LineageError(
            f"sktraceprop.read_csv: {where}: skipfooter={footer}, but blank, comment or "
            "skipped lines follow the first footer record; pandas' python engine counts "
            "them as footer lines, so which rows it kept cannot be guaranteed. Remove "
            "them, or read with pandas and use sktraceprop.from_pandas."
        )
    if max(stop, 0) != n_rows:
        raise LineageError(
            f"sktraceprop.read_csv: could not match the {n_rows} rows pandas read from "
            f"{where} to physical lines ({max(stop, 0)} records found); read it with "
            "pandas and use sktraceprop.from_pandas (lines become row positions)."
        )
    return one_row_per_line(scan.lines[first : first + n_rows], where)


def one_row_per_line(lines, where, offset=0):
    """``lines`` (start lines of consecutive rows), checked to be strictly increasing:
    two rows starting on one line would share a row id.

    Raises
    ------
    LineageError
        Naming the first two rows (counted from ``offset``) that start on one line.
    """
    lines = np.asarray(lines)
    same = np.flatnonzero(lines[1:] <= lines[:-1])
    if same.size:
        k = int(same[0])
        raise LineageError(
            f"sktraceprop.read_csv: {where}: rows {offset + k} and {offset + k + 1} both "
            f"start on line {int(lines[k + 1])}, so they would share a row id. Read it "
            "with pandas and use sktraceprop.from_pandas (lines become row positions)."
        )
    return lines


def _line_ends(text):
    return text.count(b"\r") + text.count(b"\n") - text.count(b"\r\n")


def _footer_ends_file(scan, footer):
    """Whether the last ``footer`` records fill the file's last lines, with no line
    between or after them.

    pandas' python engine (which ``skipfooter`` needs) drops the rows of the file's last
    ``footer`` lines, counting blank, comment and skipped lines too; the line finder
    drops the last ``footer`` records. They agree exactly when those lines are records.
    """
    first = scan.n_records - footer
    if first < 0 or scan.n_lines is None:
        return False
    covered = sum(1 + _line_ends(scan.samples[g]) for g in range(first, scan.n_records))
    return covered == scan.n_lines - int(scan.lines[first]) + 1
