"""The content check of ``read_csv``'s line numbers.

A record count can agree while lines disagree (``nrows`` hides every record after the
last one read; one record split and another merged cancel out). So a sample of rows is
checked by content: the bytes of each sampled record (the first and last data rows and an
evenly thinned sample in between, kept by the scan), with the header record in front,
are parsed again by pandas with the caller's options, and every value must equal the row
pandas returned for it. A row attributed to the wrong record then fails the check, unless
the two records hold identical values.

The sample is parsed in one piece, in an order where no record is followed by the record
that follows it in the file: the odd-numbered sampled rows first, then the even-numbered
ones. Parsed in file order, a record that pandas reads as two rows next to one it reads
as none (a boundary the line finder misjudged between neighbours) gave the same rows as
the file and cancelled out; in this order their bytes are not joined as in the file, and
the rows land on the wrong records or their count differs.

The first data record leads every parse (its row then dropped): pandas takes the width
of the rows and an implicit index from the first record it reads after the header (with
no header, ``names`` shorter than the fields or rows of fewer fields than the first), so
a sample led by another record reads otherwise ("Expected 2 fields in line 2, saw 3")
where the file is well defined.
"""

import io

import numpy as np
import pandas as pd

from .._frame_columns import column_arrays
from ..exceptions import LineageError
from ._arrow_take import take_by_chunk
from ._csv_lines import header_records
from ._csv_warnings import quietly

#: Rows checked by content, spread evenly over the frame (first and last included).
N_CHECKED = 64

_BOM = b"\xef\xbb\xbf"

# Options that select rows or name the source; the sample is parsed without them.
_ROW_SELECTION = ("skiprows", "nrows", "skipfooter", "header", "compression", "encoding")


def _spread(positions, k=N_CHECKED):
    """At most ``k`` of the sorted ``positions``, evenly spread, first and last included."""
    if positions.size <= k:
        return positions
    picks = np.unique(np.linspace(0, positions.size - 1, k).round().astype(np.int64))
    return positions[picks]


def _sample_kwargs(kwargs, frame):
    out = {k: v for k, v in kwargs.items() if k not in _ROW_SELECTION}
    out["header"] = 0 if kwargs.get("header", "infer") is not None else None
    if kwargs.get("header", "infer") == "infer" and kwargs.get("names") is not None:
        out["header"] = None
    out["encoding"] = "utf-8"
    if int(kwargs.get("skipfooter", 0) or 0):
        out["engine"] = "python"  # what pandas used for the frame
    converters = set(kwargs.get("converters") or ())
    parse_dates = kwargs.get("parse_dates")
    dated = set(parse_dates) if isinstance(parse_dates, list | tuple) else set()
    user = kwargs.get("dtype")
    dtype = {}
    if user is None or isinstance(user, dict):
        # Text columns stay text in the sample too, whatever its few values look like.
        for name, kind in frame.dtypes.items():
            textual = pd.api.types.is_object_dtype(kind) or pd.api.types.is_string_dtype(kind)
            if textual and name not in converters and name not in dated:
                dtype[name] = kind
        dtype.update(user or {})
        out["dtype"] = dtype or None
    return out


def _rows_at(frame, positions):
    """``frame.iloc[positions]``, without pyarrow's take of a column held in several
    chunks (pandas' parallel reader leaves one per part of the file), which joins every
    chunk first: a copy of the whole column for the few rows checked. Such a column's
    rows are taken chunk by chunk and given back as an array of its dtype."""
    taken = {}
    for j, (dtype, array) in enumerate(column_arrays(frame)):
        if isinstance(array, pd.arrays.ArrowExtensionArray):
            chunked = array.__arrow_array__()  # (its own data: no conversion)
            if getattr(chunked, "num_chunks", 1) > 1:
                taken[j] = pd.array(take_by_chunk(chunked, positions), dtype=dtype)
    if not taken:
        return frame.iloc[positions]
    out = frame.iloc[positions, [j for j in range(frame.shape[1]) if j not in taken]]
    for j in sorted(taken):  # (in column order: each lands at its own position)
        out.insert(j, frame.columns[j], taken[j], allow_duplicates=True)
    return out


def _same(a, b):
    a = a.reset_index(drop=True)
    b = b.reset_index(drop=True)
    if a.dtype == b.dtype and a.equals(b):
        return True
    try:
        b = b.astype(a.dtype)
    except (TypeError, ValueError):
        pass
    else:
        if a.equals(b):
            return True
    na = a.isna().to_numpy()
    if not np.array_equal(na, b.isna().to_numpy()):
        return False
    left = a.astype(object).to_numpy()[~na]
    right = b.astype(object).to_numpy()[~na]
    return all(str(x) == str(y) for x, y in zip(left, right))


def check_content(frame, scan, kwargs, where, names_row=None):
    """Raise ``LineageError`` unless sampled rows of ``frame`` equal their records.

    Parameters
    ----------
    frame : DataFrame
        What ``pandas.read_csv`` returned (its own index, before row ids are set).
    scan : Scan
        The pass over the file (see :func:`._csv_stream.scan_file`), with sampled
        records' bytes.
    kwargs : dict
        The caller's ``read_csv`` options.
    where : str
        The file, for messages.
    names_row : bytes, default=None
        The record after the header that pandas' python engine took for index names
        (see :mod:`._csv_python_blank`), not in ``scan``: every parse keeps it after the
        header, so that pandas reads the sample as it read the file (``converters`` by
        position then count the index columns).
    """
    first = header_records(kwargs)
    kept = np.array(
        sorted(g - first for g in scan.samples if first <= g < first + len(frame)), np.int64
    )
    lead = scan.samples.get(first)
    check_positions(frame, scan, kwargs, where, first, _spread(kept), lead, names_row)


def _leading(record):
    """``record`` (the first data record's bytes), to lead the check's parses, or None
    where pandas might read it as no row (blank, or blanks only)."""
    if record is None or not record.strip(b" \t\r\n"):
        return None
    return record


def check_positions(frame, scan, kwargs, where, first, positions, lead=None, names_row=None):
    """Check rows ``positions`` (sorted) of ``frame`` against their records: parsed in
    an order where no record follows its predecessor in the file (see the module),
    after ``lead`` (the first data record's bytes, None where not known), whose row is
    dropped, and ``names_row`` (see :func:`check_content`)."""
    lead = _leading(lead)
    if first == 0 and positions.size and positions[0] == 0 and getattr(scan, "bom", False):
        if scan.samples[0].startswith(_BOM):
            # (pandas' python engine reads a byte order mark into the file's first field
            # and removes it from the first line it reads only, as scan_file keeps it:
            # the first record is parsed first, alone)
            _check_rows(frame, scan, kwargs, where, first, positions[:1], None, names_row)
            positions = positions[1:]
    blank = np.zeros(positions.size, dtype=bool)
    if kwargs.get("engine") == "python" and not kwargs.get("skip_blank_lines", True):
        # pandas' python engine drops a blank record parsed first after the header when
        # the next holds the header's field count (see _csv_python_blank): blank records
        # are parsed apart, together (one after another, none is dropped)
        blank = np.array(
            [not scan.samples[int(p) + first].strip(b"\r") for p in positions], dtype=bool
        )
        if blank.any():
            _check_rows(frame, scan, kwargs, where, first, positions[blank], lead, names_row)
    positions = positions[~blank]
    order = np.concatenate([positions[1::2], positions[0::2]])
    if order.size:
        _check_rows(frame, scan, kwargs, where, first, order, lead, names_row)


def _header(scan, first):
    """The header record's bytes, as the check parses them: a blank first line after a
    byte order mark keeps it (pandas' python engine reads that line as a header of one
    empty field, a blank one as a header of none; the C engine reads both as blank)."""
    head = scan.samples[first - 1]
    lines = getattr(scan, "lines", None)
    if first == 1 and not head and getattr(scan, "bom", False) and int(lines[0]) == 1:
        return _BOM
    return head


def _check_rows(frame, scan, kwargs, where, first, positions, lead=None, names_row=None):
    """Parse the records of rows ``positions`` (with the header, ``names_row``, and
    ``lead`` whose row is dropped) together; raise ``LineageError`` unless they give
    exactly those rows of ``frame``."""
    end = (kwargs.get("lineterminator") or "\n").encode()  # records are kept without it
    pieces = [_header(scan, first) + end] if first else []
    pieces += [] if names_row is None else [names_row + end]
    pieces += [] if lead is None else [lead + end]
    pieces += [scan.samples[int(p) + first] + end for p in positions]
    expected = _rows_at(frame, positions)
    try:
        # (what pandas says of this parse is not the user's: it said it of theirs)
        again = quietly(pd.read_csv, io.BytesIO(b"".join(pieces)), **_sample_kwargs(kwargs, frame))
    except Exception as exc:  # any parse failure means the records are not the rows
        raise LineageError(
            f"sktraceprop.read_csv: the records found for the rows of {where} do not parse "
            f"as those rows ({type(exc).__name__}: {exc}); physical lines cannot be "
            "guaranteed. Read it with pandas and use sktraceprop.from_pandas."
        ) from None
    if lead is not None:
        again = again.iloc[1:]  # (a lead read as no row, or two, leaves a mismatch)
    mismatch = None
    if len(again) != len(expected) or list(again.columns) != list(expected.columns):
        mismatch = 0
    else:
        exp_index = expected.index.to_frame(index=False)
        got_index = again.index.to_frame(index=False)
        # Equal frames (the usual case) have equal columns: one comparison, not one each.
        same = expected.reset_index(drop=True).equals(again.reset_index(drop=True))
        pairs = [] if same else [(expected[c], again[c]) for c in expected.columns]
        # A default RangeIndex numbers rows; any other index was read from the file.
        default = frame.index.equals(pd.RangeIndex(len(frame)))
        if not default and exp_index.shape == got_index.shape:
            # (by position: a level's name may differ in the sample, as in an implicit
            # index read from a shorter header)
            pairs += [
                (exp_index.iloc[:, j], got_index.iloc[:, j]) for j in range(exp_index.shape[1])
            ]
        for a, b in pairs:
            if not _same(a, b):
                text_a = a.reset_index(drop=True).astype(str)
                bad = (text_a != b.reset_index(drop=True).astype(str)).to_numpy()
                mismatch = int(np.flatnonzero(bad)[0]) if bad.any() else 0
                break
    if mismatch is not None:
        row = int(positions[min(mismatch, positions.size - 1)])
        raise LineageError(
            f"sktraceprop.read_csv: row {row} of {where} does not equal the record found "
            "for it: pandas and the line finder disagree on where records start, so "
            "physical lines cannot be guaranteed. Read it with pandas and use "
            "sktraceprop.from_pandas (lines become row positions)."
        )
