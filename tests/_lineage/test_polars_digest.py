"""A polars frame's identity (scheme "polars-1"): its names, dtypes and every cell.

Before it, an untraced polars frame given to a traced fit was named by the bytes of
``np.asarray(X)``: the column names and dtypes dropped and a null made a NaN, so
different frames (``a`` and ``b``; ``[1, null]`` and ``[1.0, NaN]``; a categorical
and its text; two columns swapped with their names) were one anonymous source.
"""

import datetime as dt
import math
import warnings
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._polars_digest import SCHEME, polars_digest

pl = pytest.importorskip("polars")

NAN = float("nan")

#: Pairs of different frames that np.asarray(X) made one (or that a careless
#: serialization would).
DIFFERENT = {
    "names": (lambda: pl.DataFrame({"a": [1, 2]}), lambda: pl.DataFrame({"b": [1, 2]})),
    "null, NaN (int)": (
        lambda: pl.DataFrame({"a": [1, None]}),
        lambda: pl.DataFrame({"a": [1.0, NAN]}),
    ),
    "null, NaN (float)": (
        lambda: pl.DataFrame({"a": [1.0, None]}),
        lambda: pl.DataFrame({"a": [1.0, NAN]}),
    ),
    "swapped with names": (
        lambda: pl.DataFrame({"a": [1, 2], "b": [3, 4]}),
        lambda: pl.DataFrame({"b": [1, 2], "a": [3, 4]}),
    ),
    "categorical, text": (
        lambda: pl.DataFrame({"a": ["x", "y"]}).cast(pl.Categorical),
        lambda: pl.DataFrame({"a": ["x", "y"]}),
    ),
    "Int32, Int64": (
        lambda: pl.DataFrame({"a": [1, 2]}, schema={"a": pl.Int32}),
        lambda: pl.DataFrame({"a": [1, 2]}, schema={"a": pl.Int64}),
    ),
    "null, text None": (
        lambda: pl.DataFrame({"a": ["x", None]}),
        lambda: pl.DataFrame({"a": ["x", "None"]}),
    ),
    "null, empty text": (
        lambda: pl.DataFrame({"a": ["x", None]}),
        lambda: pl.DataFrame({"a": ["x", ""]}),
    ),
    "text split": (
        lambda: pl.DataFrame({"a": ["ab", "c"]}),
        lambda: pl.DataFrame({"a": ["a", "bc"]}),
    ),
    "-0.0, 0.0": (lambda: pl.DataFrame({"a": [-0.0]}), lambda: pl.DataFrame({"a": [0.0]})),
    "time zone": (
        lambda: pl.DataFrame({"t": [dt.datetime(2020, 1, 1)]}).with_columns(
            pl.col("t").dt.replace_time_zone("UTC")
        ),
        lambda: pl.DataFrame({"t": [dt.datetime(2020, 1, 1)]}).with_columns(
            pl.col("t").dt.replace_time_zone("Europe/Paris")
        ),
    ),
    "date, int": (
        lambda: pl.DataFrame({"a": [dt.date(1970, 1, 2)]}),
        lambda: pl.DataFrame({"a": [1]}, schema={"a": pl.Int32}),
    ),
    "enum order": (
        lambda: pl.DataFrame({"a": ["x"]}, schema={"a": pl.Enum(["x", "y"])}),
        lambda: pl.DataFrame({"a": ["x"]}, schema={"a": pl.Enum(["y", "x"])}),
    ),
    "lists": (
        lambda: pl.DataFrame({"a": [[1, 2], [3]]}),
        lambda: pl.DataFrame({"a": [[1], [2, 3]]}),
    ),
    "decimal scale": (
        lambda: pl.DataFrame({"a": [Decimal("1.5")]}, schema={"a": pl.Decimal(10, 1)}),
        lambda: pl.DataFrame({"a": [Decimal("1.50")]}, schema={"a": pl.Decimal(10, 2)}),
    ),
    "null struct, struct of null": (
        lambda: pl.DataFrame({"a": [{"x": 1}, {"x": 2}]}).with_columns(
            pl.when(pl.int_range(pl.len()) == 1).then(None).otherwise(pl.col("a")).alias("a")
        ),
        lambda: pl.DataFrame({"a": [{"x": 1}, {"x": None}]}),
    ),
    "rows": (lambda: pl.DataFrame({"a": [1]}), lambda: pl.DataFrame({"a": [1, 1]})),
}


def _fit_source(X):
    """The source a traced fit records for the untraced polars frame ``X``."""
    y = np.arange(X.height) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(LogisticRegression()).fit(
            X.select(pl.all().to_physical().cast(pl.Float64).fill_null(0.0)), y
        )
    (source,) = pipe.lineage_.sources.values()
    return source


@pytest.mark.parametrize("name", DIFFERENT)
def test_different_frames_get_different_digests(name):
    a, b = (make() for make in DIFFERENT[name])
    if a.to_series(0).is_null().to_list() == b.to_series(0).is_null().to_list() == [False, True]:
        pytest.skip(f"polars {pl.__version__} makes a struct of nulls a null struct")
    assert polars_digest(a) != polars_digest(b)


@pytest.mark.parametrize("name", ["names", "null, NaN (int)", "null, NaN (float)", "swapped"])
def test_a_traced_fit_names_different_polars_frames_apart(name):
    # the frames as fitted: numbers only, so the model takes them; the run's anonymous
    # source must still tell them apart
    pairs = dict(DIFFERENT, swapped=DIFFERENT["swapped with names"])
    a, b = (make() for make in pairs[name])
    sa, sb = (_anonymous(X) for X in (a, b))
    assert sa.sha256 != sb.sha256
    assert sa.source_id != sb.source_id
    for source, X in ((sa, a), (sb, b)):
        assert source.digest_scheme == SCHEME
        assert source.columns == tuple(X.columns)
        assert source.dtypes == tuple(map(str, X.dtypes))
        assert source.n_rows == X.height


def _anonymous(X):
    from sktraceprop._lineage._capture import resolve_row_ids
    from sktraceprop._lineage._ids import codes_of
    from sktraceprop._lineage._source import REGISTRY

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = resolve_row_ids(X)
    return REGISTRY.by_code(int(codes_of(ids[0])))


def test_fit_records_the_polars_frame_it_was_given():
    X = pl.DataFrame({"a": [0.5, None, 2.0, 3.0], "b": [1, 2, 3, 4]})
    source = _fit_source(X)
    # the frame fitted is the cast one, named as itself
    fitted = X.select(pl.all().to_physical().cast(pl.Float64).fill_null(0.0))
    assert source.sha256 == polars_digest(fitted)
    assert source.kind == "anonymous" and source.digest_scheme == SCHEME


def test_equal_frames_stored_differently_get_one_digest():
    one = pl.DataFrame({"a": [1.0, None, NAN, 4.0], "s": ["x", None, "zz", "é"]})
    chunked = pl.concat([one[:1], one[1:3], one[3:]], rechunk=False)
    assert chunked.n_chunks() > 1
    sliced = pl.concat([pl.DataFrame({"a": [9.0], "s": ["q"]}), one])[1:]
    # another NaN bit pattern is the same NaN
    bits = np.array([1.0, 0.0, 0.0, 4.0])
    bits.view(np.uint64)[2] = 0x7FF8000000000001
    other_nan = one.with_columns(
        pl.Series("a", bits).set(pl.Series([False, True, False, False]), None)
    )
    assert np.isnan(other_nan["a"][2])
    digests = {polars_digest(f) for f in (one, chunked, sliced, other_nan)}
    assert len(digests) == 1


def test_a_null_slot_holding_other_bytes_is_the_same_null():
    # the value under a null is no data: set through a mask over different values
    a = pl.DataFrame({"a": [1, 2, 3]}).with_columns(
        pl.when(pl.col("a") == 2).then(None).otherwise(pl.col("a")).alias("a")
    )
    b = pl.DataFrame({"a": [1, 7, 3]}).with_columns(
        pl.when(pl.col("a") == 7).then(None).otherwise(pl.col("a")).alias("a")
    )
    assert polars_digest(a) == polars_digest(b)


# -- property: one digest exactly when names, dtypes and cells are equal --------------

_KINDS = {
    "Int64": (pl.Int64, st.one_of(st.none(), st.integers(-3, 3))),
    "Int32": (pl.Int32, st.one_of(st.none(), st.integers(-3, 3))),
    "Float64": (pl.Float64, st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, NAN]))),
    "Boolean": (pl.Boolean, st.one_of(st.none(), st.booleans())),
    "String": (pl.String, st.one_of(st.none(), st.sampled_from(["", "a", "ab", "b", "é"]))),
    "Categorical": (pl.Categorical, st.one_of(st.none(), st.sampled_from(["x", "y"]))),
    "Date": (pl.Date, st.one_of(st.none(), st.dates(dt.date(1969, 12, 30), dt.date(1970, 1, 3)))),
    "List": (pl.List(pl.Int64), st.one_of(st.none(), st.lists(st.integers(0, 2), max_size=2))),
}


@st.composite
def _frames(draw):
    n = draw(st.integers(0, 4))
    names = draw(st.lists(st.sampled_from("abc"), min_size=1, max_size=3, unique=True))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(_KINDS)))
        dtype, cells = _KINDS[kind]
        values = draw(st.lists(cells, min_size=n, max_size=n))
        columns[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(list(columns.values()))


@st.composite
def _edited(draw, frame):
    """``frame`` with one edit (which may leave it equal), or the same content again."""
    edit = draw(st.sampled_from(["copy", "cell", "dtype", "name"]))
    if edit == "copy" or not frame.height:
        return pl.concat([frame[: frame.height // 2], frame[frame.height // 2 :]], rechunk=False)
    j = draw(st.integers(0, frame.width - 1))
    column = frame.to_series(j)
    if edit == "name":
        new = draw(st.sampled_from("abcd"))
        taken = new in frame.columns and new != column.name
        return frame if taken else frame.rename({column.name: new})
    if edit == "dtype":
        target = draw(st.sampled_from([pl.Float64, pl.Int64, pl.String]))
        try:
            changed = column.cast(target)
        except Exception:  # noqa: BLE001 - a cast polars refuses: no edit
            return frame
    else:
        kind = next(k for k, (d, _) in _KINDS.items() if column.dtype == d)
        i = draw(st.integers(0, frame.height - 1))
        values = column.to_list()
        values[i] = draw(_KINDS[kind][1])
        changed = pl.Series(column.name, values, dtype=column.dtype)
    return frame.with_columns(changed)


def _cell_key(value):
    """A cell as the digest should tell it (NaN one value, -0.0 apart from 0.0)."""
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    if isinstance(value, float):
        return ("float", value, math.copysign(1.0, value))
    if isinstance(value, list):
        return ("list", tuple(_cell_key(v) for v in value))
    return (type(value).__name__, value)


def _same(a, b):
    """The independent truth: names, dtypes and every cell (as Python values) equal."""
    return (
        a.height == b.height
        and a.columns == b.columns
        and a.dtypes == b.dtypes
        and all(
            [_cell_key(v) for v in a.to_series(j).to_list()]
            == [_cell_key(v) for v in b.to_series(j).to_list()]
            for j in range(a.width)
        )
    )


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_one_digest_exactly_for_equal_names_dtypes_and_cells(data):
    frame = data.draw(_frames())
    other = data.draw(_edited(frame))
    assert (polars_digest(frame) == polars_digest(other)) == _same(frame, other)
