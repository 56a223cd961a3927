"""``read_csv(on_bad_lines="skip" | "warn")``: the lines of the rows pandas kept.

pandas' C tokenizer drops a record with more fields than expected and warns "Skipping
line N", N being its logical line: a record counts one however many physical lines it
spans, blank, comment and skipped lines count one each; the numbering ``skiprows`` uses.
read_csv asks pandas to warn, then has the line finder skip those logical lines as
``skiprows`` would, and checks the result three ways besides the usual count and sample:
the records skipped are exactly as many as pandas' warnings; each of them, read from the
file's physical lines and parsed with the header, is a bad line to pandas; and the rows on
either side of each, read the same way, equal the rows pandas returned.
"""

import io
import re

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._csv_stream import open_text
from ._csv_verify import _check_rows, _sample_kwargs
from ._csv_warnings import as_user_call, bad_lines_raised, quietly

_SKIPPING = re.compile(r"Skipping line (\d+): expected \d+ fields, saw \d+")
_BAD = re.compile(r"Expected \d+ fields in line \d+, saw \d+")


def check_bad_lines_options(kwargs):
    """Raise ``ValueError`` for ``on_bad_lines`` settings whose rows are not modelled."""
    mode = kwargs.get("on_bad_lines", "error")
    if mode == "error":
        return
    python = kwargs.get("engine") == "python" or ("sep" in kwargs and kwargs["sep"] is None)
    if mode not in ("skip", "warn") or python:
        raise ValueError(
            "sktraceprop.read_csv supports on_bad_lines='skip' or 'warn' with the default "
            f"engine only, not {mode!r} with engine={kwargs.get('engine')!r}: the lines "
            "pandas drops would shift line numbers."
        )
    for name in ("nrows", "chunksize", "iterator", "skipfooter"):
        if kwargs.get(name):
            raise ValueError(
                f"sktraceprop.read_csv does not support on_bad_lines={mode!r} with {name}: "
                "the rows pandas keeps then cannot be matched to lines."
            )


def read_warning_bad_lines(path, kwargs):
    """``pandas.read_csv`` with the caller's ``on_bad_lines`` (``"skip"`` or ``"warn"``,
    whose warnings pandas then gives at the user's line): the frame, and the 0-based
    logical lines pandas skipped.

    The read is tried with pandas' bad-line warnings raised (only this parse's, see
    :func:`._csv_warnings.bad_lines_raised`): a file without one is read once. Where one
    is raised, a scan with ``low_memory=False`` (one tokenizing pass, one warning that
    names every bad line) gives them all, and the file is read as asked. The library's
    own background thread (the projection kernels' warm-up, whose ``catch_warnings``
    blocks would restore a filter list without the raising filter) is waited for first;
    a bad line missed so (another thread of the program doing that) leaves rows
    unmatched, which the line count and :func:`check_dropped` refuse with an error.
    """
    from ..projection import _warmup

    if _warmup.thread is not None:
        _warmup.thread.join()
    df, said = bad_lines_raised(pd.read_csv, path, **dict(kwargs, on_bad_lines="warn"))
    if said is None:
        return df, []
    _, said = bad_lines_raised(
        pd.read_csv, path, scan=True, **dict(kwargs, on_bad_lines="warn", low_memory=False)
    )
    bad = sorted({int(n) - 1 for n in _SKIPPING.findall(said or "")})
    if not bad:  # (a ParserWarning of another kind, or a scan that disagrees)
        raise LineageError(
            f"sktraceprop.read_csv: {path}: pandas warned {said!r} where a bad line was "
            "expected; physical lines cannot be guaranteed. Read it with pandas and use "
            "sktraceprop.from_pandas."
        )
    return as_user_call(pd.read_csv, path, **kwargs), bad


def skipping(skiprows, bad):
    """``skiprows`` that also skips the logical lines ``bad``."""
    if skiprows is None:
        return list(bad)
    if callable(skiprows):
        extra = frozenset(bad)
        return lambda k: k in extra or skiprows(k)
    if isinstance(skiprows, int | np.integer):
        # (a function, not the set of range(skiprows): no allocation of its size)
        first, extra = int(skiprows), frozenset(bad)
        return lambda k: k < first or k in extra
    return sorted(set(skiprows) | set(bad))


def _texts(path, kwargs, ranges):
    """The text of physical lines ``a .. b - 1`` (1-based) for each ``(a, b)``."""
    wanted = sorted({n for a, b in ranges for n in range(a, b)})
    got = {}
    with open_text(path, kwargs) as text:
        at = 0
        for number, line in enumerate(text, 1):
            if at == len(wanted):
                break
            if number == wanted[at]:
                got[number] = line
                at += 1
    return ["".join(got.get(n, "") for n in range(a, b)).rstrip("\r\n") for a, b in ranges]


class _Records:
    """Record bytes keyed as :func:`._csv_verify._check_rows` reads a scan's samples."""

    def __init__(self, samples):
        self.samples = samples


def check_dropped(df, kwargs, path, first, every_line, kept_lines, bad, n_lines):
    """Raise ``LineageError`` unless the records dropped are pandas' bad lines.

    ``every_line``: the start lines of every record (bad ones included); ``kept_lines``:
    those of the records kept (the header records first); ``n_lines``: the file's
    physical lines (None when unknown).
    """
    checked = dict(kwargs, on_bad_lines="error")
    dropped = np.setdiff1d(every_line, kept_lines)
    if dropped.size != len(bad) or kept_lines.size + dropped.size != every_line.size:
        raise LineageError(
            f"sktraceprop.read_csv: {path}: pandas skipped {len(bad)} bad line(s), the line "
            f"finder {dropped.size}; physical lines cannot be guaranteed. Read it with "
            "pandas and use sktraceprop.from_pandas."
        )

    def span(line):  # a record's lines, to the next record's start
        after = np.searchsorted(every_line, line, side="right")
        if after < every_line.size:
            return int(line), int(every_line[after])
        if n_lines is None:
            raise LineageError(
                f"sktraceprop.read_csv: {path}: the end of the last record is not known; "
                "physical lines cannot be guaranteed. Read it with pandas and use "
                "sktraceprop.from_pandas."
            )
        return int(line), n_lines + 1

    # the rows on either side of each dropped record (data positions in the frame)
    at = np.searchsorted(kept_lines, dropped) - first
    around = np.unique(np.concatenate([at - 1, at]))
    around = around[(around >= 0) & (around < len(df))]
    header = [span(kept_lines[first - 1])] if first else []
    texts = _texts(
        path,
        kwargs,
        header + [span(x) for x in dropped] + [span(kept_lines[p + first]) for p in around],
    )
    head = texts[: len(header)]
    rows = dict(zip(around.tolist(), texts[len(header) + dropped.size :]))
    bad_texts = texts[len(header) : len(header) + dropped.size]
    for line, text, p in zip(dropped.tolist(), bad_texts, at.tolist()):
        # after a good row: alone, a longer first row is read as pandas' implicit index
        good = rows.get(p - 1, rows.get(p))
        if good is None:
            raise LineageError(
                f"sktraceprop.read_csv: {path}: pandas kept no row to check the bad line "
                f"on line {line} against; physical lines cannot be guaranteed. Read it "
                "with pandas and use sktraceprop.from_pandas."
            )
        try:
            quietly(
                pd.read_csv,
                io.BytesIO(("\n".join([*head, good, text]) + "\n").encode()),
                **_sample_kwargs(checked, df),
            )
        except pd.errors.ParserError as exc:
            if _BAD.search(str(exc)):
                continue
        raise LineageError(
            f"sktraceprop.read_csv: {path}: line {line}, where the line finder skipped a "
            "record pandas skipped as a bad line, is not a bad line; physical lines "
            "cannot be guaranteed. Read it with pandas and use sktraceprop.from_pandas."
        )
    if around.size:
        samples = {first - 1: head[0].encode()} if first else {}
        samples.update({first + k: rows[p].encode() for k, p in enumerate(around.tolist())})
        frame = df.iloc[around]
        if frame.index.equals(pd.RangeIndex(len(df))[around]):
            frame = frame.reset_index(drop=True)
        _check_rows(frame, _Records(samples), checked, path, first, np.arange(around.size))
