"""pandas' warnings from ``read_csv`` name the caller's line, once each.

pandas names the first frame outside pandas (its ``find_stack_level``): called by
``read_csv``, that was ``sktraceprop/_lineage/_io.py``, so the user never saw their line
and the default filters showed one warning per process for every line that read files.
The content check parsed sampled records again with the caller's options and gave
pandas' warning a second time (from ``_csv_verify.py``). The truth here is what pandas
itself gives when called from the same line: the same warnings, at the caller's line.
"""

import inspect
import threading
import warnings

import pandas as pd
import pytest

import sktraceprop as stp

_HERE = __file__


def _caught(call):
    """``(warnings, line)``: what ``call()`` warned, and the line it was called on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(w.category, str(w.message), w.filename, w.lineno) for w in caught]


def _at(caught, line):
    return [(c, m, f, n) for c, m, f, n in caught if (f, n) == (_HERE, line)]


@pytest.mark.parametrize("read", [pd.read_csv, stp.read_csv])
def test_a_parser_warning_names_the_callers_line_once(read, tmp_path):
    path = tmp_path / "conv.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read(path, dtype={"a": float}, converters={"a": str})
        line = inspect.currentframe().f_lineno - 1
    found = [w for w in caught if w.category is pd.errors.ParserWarning]
    # before: one from _io.py, and again from _csv_verify.py
    assert [(w.filename, w.lineno) for w in found] == [(_HERE, line)]
    assert "Both a converter and dtype were specified for column a" in str(found[0].message)


def test_a_date_warning_is_given_once_at_the_callers_line(tmp_path):
    path = tmp_path / "dates.csv"
    path.write_text("d,v\n2020-01-02 x,1\n1 Jan 2021,2\nfoo,3\n")
    line = inspect.currentframe().f_lineno + 1
    ours = _caught(lambda: stp.read_csv(path, parse_dates=["d"]))
    theirs = _caught(lambda: pd.read_csv(path, parse_dates=["d"]))
    assert theirs and [m for _, m, *_ in ours] == [m for _, m, *_ in theirs]
    assert {(f, n) for *_, f, n in ours} == {(_HERE, line)}


def test_a_dtype_warning_names_the_callers_line(tmp_path):
    # pandas reads 4,096 rows of 128 columns per block: the first column's type changes
    # between blocks (DtypeWarning)
    path = tmp_path / "wide.csv"
    rows = ["a" + "".join(f",c{j}" for j in range(1, 128))]
    rows += [("1" if i < 4096 else "x") + ",0" * 127 for i in range(8200)]
    path.write_text("\n".join(rows) + "\n")
    line = inspect.currentframe().f_lineno + 1
    ours = _caught(lambda: stp.read_csv(path))
    assert [(c, f, n) for c, _, f, n in ours] == [(pd.errors.DtypeWarning, _HERE, line)]


def test_chunk_warnings_name_the_callers_lines(tmp_path):
    path = tmp_path / "conv.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6\n")
    options = {"dtype": {"a": float}, "converters": {"a": str}, "chunksize": 2}

    def chunks(read):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reader = read(path, **options)
            first = inspect.currentframe().f_lineno - 1
            out = [reader.get_chunk(1)]
            out += list(reader)
        return [(w.category, w.filename, w.lineno - first) for w in caught]

    theirs = chunks(pd.read_csv)
    assert chunks(stp.read_csv) == theirs and theirs
    assert {f for _, f, _ in theirs} == {_HERE}


def test_bad_line_warnings_name_the_callers_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n")
    line = inspect.currentframe().f_lineno + 1
    ours = _caught(lambda: stp.read_csv(path, on_bad_lines="warn"))
    theirs = _caught(lambda: pd.read_csv(path, on_bad_lines="warn"))
    assert [m for _, m, *_ in ours] == [m for _, m, *_ in theirs]
    assert {(f, n) for *_, f, n in ours} == {(_HERE, line)}


def test_the_default_filter_shows_each_lines_warning(tmp_path):
    # "default" shows a warning once per location: with every read's warning named at
    # _io.py (and the check's at _csv_verify.py), a second line's read showed nothing
    path = tmp_path / "conv.csv"
    path.write_text("a,b\n1,2\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        stp.read_csv(path, dtype={"a": float}, converters={"a": str})
        first = inspect.currentframe().f_lineno - 1
        stp.read_csv(path, dtype={"a": float}, converters={"a": str})
    assert [(w.filename, w.lineno) for w in caught] == [(_HERE, first), (_HERE, first + 2)]


def _others(filters):
    """The filters but the one that ignores read_csv's check parses and the two of its
    bad-lines parses (each added once, for warnings attributed to those module names
    only)."""
    from sktraceprop._lineage._csv_warnings import (
        _CHECK_PATTERN,
        _RAISED_PATTERN,
        _SCAN_PATTERN,
    )

    own = {_CHECK_PATTERN, _RAISED_PATTERN, _SCAN_PATTERN}
    return [f for f in filters if getattr(f[3], "pattern", f[3]) not in own]


def test_reads_in_threads_leave_the_warning_filters_as_they_were(tmp_path):
    path = tmp_path / "conv.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    bad = tmp_path / "bad.csv"  # (and a bad-lines parse, which records its warnings)
    bad.write_text("a,b\n1,2\n3,4,5\n6,7\n")
    before = (list(warnings.filters), warnings.showwarning)
    errors = []

    def read():
        try:
            for _ in range(5):
                stp.read_csv(path, dtype={"a": float}, converters={"a": str})
                stp.read_csv(bad, on_bad_lines="skip")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inside = (list(warnings.filters), warnings.showwarning)
        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert (_others(warnings.filters), warnings.showwarning) == (
            _others(inside[0]),
            inside[1],
        )
    assert not errors
    assert (_others(warnings.filters), warnings.showwarning) == (_others(before[0]), before[1])
