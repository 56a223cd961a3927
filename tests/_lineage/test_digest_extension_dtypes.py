"""Digests of frames of pandas extension dtypes: one digest exactly for the same content.

The dtypes users bring (``read_csv(dtype_backend="pyarrow" / "numpy_nullable")``, pandas
3's ``str``, ``string[python]``, nullable ``Int64``/``Float64``/``boolean`` with
``pd.NA``, categoricals with unused categories, time-zone-aware datetimes, timedeltas,
``Decimal`` objects, pyarrow lists) go through two digests: a frame's SHA-256 (scheme
``frame-2``, ``from_pandas`` and untraced frames) and the SHA-256 a run records of a
frame given to ``fit`` besides ``X`` and ``y`` (scheme ``fit-param-3``). Before, each
named some different contents alike: the frame digest a pyarrow list ``[1.0, null]`` and
``[1.0, NaN]`` (and ``[2**53]``, ``[2**53 + 1]`` of ``list<int64>``), which pandas hands
out as float arrays, and a ``string[python]`` column (pandas 3's ``str`` without
pyarrow) and an ``object`` column of the same cells; the fit-parameter digest ``pd.NA``
and ``NaN`` of one ``Float64`` column, a pyarrow null and a NaN, ``string[pyarrow]`` and
``string[python]``, and time stamps of one instant in two zones held as objects. The
truth here is independent of both: each cell as pandas hands it out (``array[i]``), by
type and value, with the column's dtype.
"""

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop._lineage._fit_params import (
    DIGEST_SCHEME,
    _digest,
    final_weights_differ,
    fit_params_record,
)
from sktraceprop._lineage._frame_digest import frame_digest

pa = pytest.importorskip("pyarrow")


def _frame(values, dtype=None):
    return pd.DataFrame({"a": pd.Series(values, dtype=dtype)})


def _floating(values, na):
    """A ``Float64`` column whose rows in ``na`` are ``pd.NA`` and whose NaNs are NaN."""
    data = np.array(values, dtype=np.float64)
    return pd.DataFrame({"a": pd.arrays.FloatingArray(data, np.array(na, dtype=bool))})


def _arrow(values, kind):
    return _frame(pa.array(values, type=kind, from_pandas=False), pd.ArrowDtype(kind))


def _stamps(text, tz):
    return pd.Timestamp(text, tz=tz)


# each pair: two contents pandas tells apart, which one of the digests named alike
DIFFERENT = {
    "Float64 NA and NaN": (_floating([1.0, 0.0], [False, True]), _floating([1.0, np.nan], [0, 0])),
    "pyarrow null and NaN": (
        _arrow([1.0, None], pa.float64()),
        _arrow([1.0, float("nan")], pa.float64()),
    ),
    "string storages": (
        _frame(["x", None], "string[pyarrow]"),
        _frame(["x", None], "string[python]"),
    ),
    "python-storage text and objects": (
        _frame(["x", None], "string[python]"),
        _frame(["x", pd.NA], object),
    ),
    "one instant in two zones, as objects": (
        _frame([_stamps("2024-01-01 01:00", "Europe/Paris")], object),
        _frame([_stamps("2024-01-01 00:00", "UTC")], object),
    ),
    "pyarrow list null and NaN": (
        _arrow([[1.0, None]], pa.list_(pa.float64())),
        _arrow([[1.0, float("nan")]], pa.list_(pa.float64())),
    ),
    "pyarrow list of integers past 2**53": (
        _arrow([[2**53]], pa.list_(pa.int64())),
        _arrow([[2**53 + 1]], pa.list_(pa.int64())),
    ),
    "pyarrow struct null and NaN": (
        _arrow([{"x": None}], pa.struct([("x", pa.float64())])),
        _arrow([{"x": float("nan")}], pa.struct([("x", pa.float64())])),
    ),
    "one instant in two zones": (
        _frame(pd.to_datetime(["2024-01-01 01:00"]).tz_localize("Europe/Paris")),
        _frame(pd.to_datetime(["2024-01-01 00:00"]).tz_localize("UTC")),
    ),
    "categorical codes alike, labels not": (
        _frame(pd.Categorical(["b", "a"], categories=["a", "b"])),
        _frame(pd.Categorical(["a", "b"], categories=["b", "a"])),
    ),
    "an unused category": (
        _frame(pd.Categorical(["a"], categories=["a", "b"])),
        _frame(pd.Categorical(["a"], categories=["a"])),
    ),
    "Decimal exponents": (_frame([Decimal("1.0")], object), _frame([Decimal("1.00")], object)),
    "pd.NA, None and NaN as objects": (
        _frame([pd.NA, None], object),
        _frame([None, np.nan], object),
    ),
    "-0.0 and 0.0 in Float64": (_frame([-0.0], "Float64"), _frame([0.0], "Float64")),
    "boolean NA and False": (_frame([True, None], "boolean"), _frame([True, False], "boolean")),
    "Int64 and Float64 of equal values": (
        _frame([1, None], "Int64"),
        _frame([1, None], "Float64"),
    ),
    "text 1 and the integer 1": (_frame(["1"], object), _frame([1], object)),
}


@pytest.mark.parametrize("name", list(DIFFERENT))
def test_different_contents_get_different_digests(name):
    a, b = DIFFERENT[name]
    assert not _same(a, b)  # the truth tells them apart
    assert frame_digest(a) != frame_digest(b)
    assert _digest(a) != _digest(b)
    assert _digest(a["a"]) != _digest(b["a"])
    assert (
        fit_params_record({"X_val": a})["X_val"]["digest_scheme"]
        == DIGEST_SCHEME
        == ("fit-param-3")
    )


def test_fit_param_digest_names_a_series_name_and_index():
    a = pd.Series([1.0, 2.0], dtype="Float64")
    assert _digest(a) != _digest(a.rename(0))  # unnamed, and named 0
    assert _digest(a) != _digest(a.set_axis([1, 0]))
    assert _digest(a) == _digest(a.copy())


def test_equal_contents_in_other_memory_get_one_digest():
    """Chunks, slices and the bytes under a null are no content."""
    chunked = pd.Series(
        pa.chunked_array([pa.array([[1.0], None]), pa.array([[2.0, None]])]),
        dtype=pd.ArrowDtype(pa.list_(pa.float64())),
    )
    whole = pd.Series(
        pa.array([[1.0], None, [2.0, None]]), dtype=pd.ArrowDtype(chunked.dtype.pyarrow_dtype)
    )
    assert frame_digest(chunked.to_frame("a")) == frame_digest(whole.to_frame("a"))
    sliced = pd.Series([9, 1, None, 3], dtype="Int64").iloc[1:].reset_index(drop=True)
    assert frame_digest(sliced.to_frame("a")) == frame_digest(_frame([1, None, 3], "Int64"))
    assert _digest(sliced.to_frame("a")) == _digest(_frame([1, None, 3], "Int64"))


# ---- the property: digests equal exactly when the independent truth says so ----------


def _cell_key(value):
    """A cell as pandas hands it out, by exact type and value (NaN one value, -0.0
    apart from 0.0, a time stamp with its zone, a Decimal with its exponent)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return (repr(value),)
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return (type(value), "nan")
        return (type(value), float(value), math.copysign(1.0, value))
    if isinstance(value, pd.Timestamp):
        return (pd.Timestamp, value.value, str(value.tz))
    if isinstance(value, Decimal):
        return (Decimal, str(value))
    if isinstance(value, list | tuple | np.ndarray):
        return (type(value), tuple(_cell_key(v) for v in value))
    return (type(value), value)


def _column_key(values):
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = tuple(_cell_key(c) for c in dtype.categories.tolist())
        return ("category", dtype.ordered, categories, tuple(values.codes.tolist()))
    return (type(dtype).__qualname__, repr(dtype), tuple(_cell_key(v) for v in values))


def _same(a, b):
    return (
        a.shape == b.shape
        and list(a.columns) == list(b.columns)
        and all(
            _column_key(a.iloc[:, j].array) == _column_key(b.iloc[:, j].array)
            for j in range(a.shape[1])
        )
    )


_FLOATS = st.sampled_from([0.0, -0.0, 1.5, float("nan"), 2.0**60])
_INTS = st.sampled_from([0, 1, -3, 2**53, 2**53 + 1])
_TEXT = st.sampled_from(["", "a", "1", "é", "nan", "<NA>"])
_INSTANTS = st.sampled_from(["2024-03-31 00:30", "2024-03-31 01:30", "1970-01-01 00:00"])
_OBJECTS = st.one_of(
    _FLOATS, _INTS, _TEXT, st.sampled_from([None, pd.NA, True, Decimal("1.0"), Decimal("1.00")])
)


def _kinds():
    kinds = {
        "Int64": (_INTS, lambda v: pd.array(v, dtype="Int64")),
        "Float64": (_FLOATS, None),
        "boolean": (st.booleans(), lambda v: pd.array(v, dtype="boolean")),
        "string[python]": (_TEXT, lambda v: pd.array(v, dtype="string[python]")),
        "string[pyarrow]": (_TEXT, lambda v: pd.array(v, dtype="string[pyarrow]")),
        "object": (_OBJECTS, lambda v: pd.array(v, dtype=object)),
        "timedelta": (_INTS, lambda v: pd.array(pd.to_timedelta(v), dtype="timedelta64[ns]")),
        "pa int64": (_INTS, lambda v: pd.array(v, dtype=pd.ArrowDtype(pa.int64()))),
        "pa float64": (_FLOATS, None),
        "pa string": (_TEXT, lambda v: pd.array(v, dtype=pd.ArrowDtype(pa.string()))),
        "pa list<float64>": (st.lists(st.one_of(st.none(), _FLOATS), max_size=2), None),
        "pa list<int64>": (st.lists(st.one_of(st.none(), _INTS), max_size=2), None),
        "utc": (_INSTANTS, None),
        "paris": (_INSTANTS, None),
        "category": (st.sampled_from("xyz"), None),
    }
    if pd.__version__ >= "3":
        kinds["str"] = (_TEXT, lambda v: pd.array(v, dtype="str"))
    return kinds


_KINDS = _kinds()


def _column(data, kind, n):
    strategy, make = _KINDS[kind]
    cells = data.draw(st.lists(st.one_of(st.none(), strategy), min_size=n, max_size=n))
    if kind == "Float64":  # pd.NA where None, NaN a value of its own
        na = [c is None for c in cells]
        return pd.arrays.FloatingArray(
            np.array([0.0 if c is None else c for c in cells]), np.array(na, dtype=bool)
        )
    if kind.startswith("pa ") and make is None:
        pa_kind = {
            "pa float64": pa.float64(),
            "pa list<float64>": pa.list_(pa.float64()),
            "pa list<int64>": pa.list_(pa.int64()),
        }[kind]
        return pd.array(
            pa.array(cells, type=pa_kind, from_pandas=False), dtype=pd.ArrowDtype(pa_kind)
        )
    if kind in ("utc", "paris"):
        stamps = pd.to_datetime(cells)
        zone = "UTC" if kind == "utc" else "Europe/Paris"
        return stamps.tz_localize("UTC").tz_convert(zone).array
    if kind == "category":
        extra = data.draw(st.lists(st.sampled_from("xyzw"), unique=True))
        categories = list(dict.fromkeys([c for c in cells if c is not None] + extra))
        data.draw(st.randoms()).shuffle(categories)
        return pd.Categorical(cells, categories=categories, ordered=data.draw(st.booleans()))
    return make(cells)


@st.composite
def _frames(draw):
    data = draw(st.data())
    n = draw(st.integers(0, 3))
    kinds = draw(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=3))
    return pd.DataFrame({f"c{j}": _column(data, kind, n) for j, kind in enumerate(kinds)})


def _converted(column, kind):
    """``column`` converted to the dtype of ``kind``, or None where pandas refuses."""
    targets = {
        "Int64": "Int64",
        "Float64": "Float64",
        "object": object,
        "string[python]": "string[python]",
        "string[pyarrow]": "string[pyarrow]",
        "pa float64": pd.ArrowDtype(pa.float64()),
        "pa string": pd.ArrowDtype(pa.string()),
        "paris": "datetime64[ns, Europe/Paris]",
        "utc": "datetime64[ns, UTC]",
    }
    try:
        return pd.Series(column).astype(targets[kind]).array
    except (TypeError, ValueError, OverflowError, pa.ArrowException):
        return None


@st.composite
def _edited(draw, frame):
    """``frame`` with one edit (which may leave it equal: the truth decides)."""
    edit = draw(st.sampled_from(["copy", "cell", "dtype", "na"]))
    columns = {k: frame[k].array.copy() for k in frame.columns}
    if edit == "copy" or not len(frame):
        return pd.DataFrame(columns)
    name = draw(st.sampled_from(list(columns)))
    column = columns[name]
    if edit == "dtype":
        kind = draw(
            st.sampled_from(
                [
                    "Int64",
                    "Float64",
                    "object",
                    "string[python]",
                    "string[pyarrow]",
                    "pa float64",
                    "pa string",
                    "paris",
                    "utc",
                ]
            )
        )
        changed = _converted(column, kind)
        if changed is not None:
            columns[name] = changed
        return pd.DataFrame(columns)
    i = draw(st.integers(0, len(frame) - 1))
    if edit == "na":  # a missing value of another kind, where the dtype holds one
        cells = list(pd.Series(column).astype(object))
        cells[i] = draw(st.sampled_from([None, pd.NA, np.nan]))
        try:
            columns[name] = pd.array(cells, dtype=column.dtype)
        except (TypeError, ValueError, OverflowError, pa.ArrowException):
            pass
        return pd.DataFrame(columns)
    other = draw(_frames())
    donor = other.iloc[:, 0].array
    if len(donor) and donor.dtype == column.dtype:
        column = column.copy()
        try:
            column[i] = donor[0]
        except (TypeError, ValueError, OverflowError, pa.ArrowException):
            return pd.DataFrame(columns)
        columns[name] = column
    return pd.DataFrame(columns)


@st.composite
def _pairs(draw):
    frame = draw(_frames())
    return frame, draw(_edited(frame))


@settings(max_examples=300, deadline=None)
@given(pair=_pairs())
@example(pair=DIFFERENT["Float64 NA and NaN"])
@example(pair=DIFFERENT["pyarrow list null and NaN"])
@example(pair=DIFFERENT["pyarrow list of integers past 2**53"])
@example(pair=DIFFERENT["one instant in two zones, as objects"])
@example(pair=DIFFERENT["string storages"])
@example(pair=DIFFERENT["python-storage text and objects"])
def test_one_digest_exactly_for_equal_dtypes_and_cells(pair):
    frame, other = pair
    same = _same(frame, other)
    assert (frame_digest(frame) == frame_digest(other)) == same
    assert (_digest(frame) == _digest(other)) == same


def test_weights_recorded_by_the_scheme_before_are_still_checked_by_it():
    """A run stored with a ``fit-param-2`` digest (and no ``values_sha256``: recorded
    before both) is compared by recomputing that scheme, so the order of the weights is
    still checked; a NumPy array has one digest in both schemes."""
    w = pd.Series([1.0, 2.0, 0.0, 3.0], dtype="Float64")
    record = fit_params_record({"sample_weight": w})
    entry = record["sample_weight"]
    assert entry["sha256"] != _digest(w, "fit-param-2")  # pandas objects: tagged apart
    entry["digest_scheme"], entry["sha256"] = "fit-param-2", _digest(w, "fit-param-2")
    del entry["weights"]["values_sha256"]
    assert final_weights_differ(record, w) == (None, [])
    why, unchecked = final_weights_differ(record, w.iloc[[1, 0, 2, 3]])
    assert "another order" in why and unchecked == []
    array = np.array([1.0, 2.0])
    assert _digest(array) == _digest(array, "fit-param-2")
