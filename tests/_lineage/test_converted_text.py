"""Columns loaded as text, then converted to the numbers or times the text spells.

A header line repeated mid-file (two exports concatenated) or a stray token makes pandas
load a numeric column as text; the user drops that line and converts
(``pd.to_numeric``, ``pd.to_datetime``). Each row still holds its own record: the
witness check must neither refuse it as holding another row's values nor note the
column as changed. The truth is each row's own ``key`` column, matched to the line the
file was written with, never the library's records.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._witness import _Column, _equal

HEADER = "key,city,kind,n1,n2,n3,day"


def _write(path, rows, repeat_header_at=None):
    """Write ``rows`` under HEADER; returns {key: physical line}."""
    lines, where = [HEADER], {}
    for k, row in enumerate(rows):
        if k == repeat_header_at:
            lines.append(HEADER)
        lines.append(",".join(str(v) for v in row))
        where[row[0]] = len(lines)
    path.write_text("\n".join(lines) + "\n")
    return where


def _files(tmp_path):
    rng = np.random.default_rng(0)
    # "text": its numbers load as text (a header line repeats); row t0 shares its city,
    # kind, n1 and n2 (n2's value 7 no other row of "more" has) with "more"'s row m0
    text = [("t0", "x", "y", 5, 7, 9, "2024-01-05")]
    text += [
        (f"t{i}", "p", "q", int(v[0]), int(v[1]), int(v[2]), f"2024-02-{1 + i % 27:02d}")
        for i, v in enumerate(rng.integers(100, 999, size=(30, 3)), start=1)
    ]
    more = [("m0", "x", "y", 5, 7, 100, "2024-03-01")]
    more += [
        (f"m{i}", "r", "s", int(v[0]), int(v[1]), int(v[2]), "2024-03-02")
        for i, v in enumerate(rng.integers(1000, 9999, size=(30, 3)), start=1)
    ]
    lines = _write(tmp_path / "text.csv", text, repeat_header_at=15)
    lines |= _write(tmp_path / "more.csv", more)
    return lines


def test_numbers_loaded_as_text_then_converted_keep_their_rows(tmp_path):
    lines = _files(tmp_path)
    text = stp.read_csv(tmp_path / "text.csv", source_id="text")
    more = stp.read_csv(tmp_path / "more.csv", source_id="more")
    assert text["n1"].dtype == object or pd.api.types.is_string_dtype(text["n1"])
    text = text[text["key"] != "key"].copy()
    for column in ["n1", "n2", "n3"]:
        text[column] = pd.to_numeric(text[column])
    X = pd.concat([text, more.iloc[1:]])  # m0 held out (a test row, say)
    y = np.arange(len(X)) % 2
    pre = stp.make_traced_column_transformer(("passthrough", ["n1", "n2", "n3"]))
    model = stp.make_traced_pipeline(pre, LogisticRegression())
    model.fit(X[["city", "kind", "n1", "n2", "n3"]], y)  # refused before: "holds m0's values"
    trace = model.trace(list(range(len(X))))
    keys = X["key"].to_numpy()
    assert [lines[keys[i]] for i in trace["train_index"]] == trace["line"].tolist()
    changed = {e["column"] for e in model.lineage_.changed_columns or []}
    assert not changed & {"n1", "n2", "n3"}, model.lineage_.changed_columns


def test_dates_loaded_as_text_then_parsed_are_unchanged(tmp_path):
    _files(tmp_path)
    text = stp.read_csv(tmp_path / "text.csv", source_id="text")
    text = text[text["key"] != "key"].copy()
    for column in ["n1", "n2"]:
        text[column] = pd.to_numeric(text[column])
    text["day"] = pd.to_datetime(text["day"])
    pre = stp.make_traced_column_transformer(("passthrough", ["n1", "n2"]))
    model = stp.make_traced_pipeline(pre, LogisticRegression())
    model.fit(text[["n1", "n2", "day"]], np.arange(len(text)) % 2)
    changed = {e["column"] for e in model.lineage_.changed_columns or []}
    assert not changed & {"n1", "n2", "day"}, model.lineage_.changed_columns


def _column(values):
    values = np.asarray(values, dtype=object)
    return _Column(values, pd.isna(values), False, 64)


def _numbers(values):
    values = np.asarray(values, dtype=np.float64)
    return _Column(values, np.isnan(values), True, 64)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.integers(-(10**6), 10**6),
            st.floats(allow_nan=False, allow_infinity=False, width=32),
        ),
        min_size=1,
        max_size=20,
    ),
    st.data(),
)
def test_text_equals_the_number_it_spells_and_nothing_else(numbers, data):
    text = [repr(float(v)) if isinstance(v, float) else str(v) for v in numbers]
    as_numbers = _numbers([float(v) for v in numbers])
    # a number equals the text that spells it, either way round
    assert _equal(as_numbers, _column(text)).all()
    assert _equal(_column(text), as_numbers).all()
    # and never text that spells another number, or no number
    other = data.draw(st.sampled_from(["x", "", "1e", "nan?", "key"]))
    shifted = [str(abs(float(v)) * 2 + 1) for v in numbers]  # another number, never v
    assert not _equal(as_numbers, _column(shifted)).any()
    assert not _equal(as_numbers, _column([other] * len(numbers))).any()


@pytest.mark.parametrize("text", ["2024-01-05", "2024-01-05 00:00:00"])
def test_text_equals_the_time_it_spells(text):
    times = _column([pd.Timestamp("2024-01-05")])
    assert _equal(times, _column([text])).all()
    assert not _equal(times, _column(["2024-01-06"])).any()
    assert not _equal(times, _column(["Jan"])).any()
