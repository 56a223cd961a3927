"""polars input rows in the prediction log: hashed by their names and values.

Before, ``hash_rows`` read a polars frame as ``np.asarray(X)``: without its column names
(a batch under other names found as the same call, and the event's note said predict
was given an array) and with a null of an integer column made a float NaN.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import find_predictions, hash_rows
from sktraceprop.stores._prediction_salts import input_was

from .test_row_hash import _spec

pl = pytest.importorskip("polars")

texts = st.one_of(st.none(), st.text(max_size=6))
floats = st.one_of(st.none(), st.just(float("nan")), st.floats(allow_nan=False, width=64))
ints = st.one_of(st.none(), st.integers(-(2**40), 2**40))
bools = st.one_of(st.none(), st.booleans())


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 20).flatmap(
        lambda n: st.tuples(
            *(st.lists(kind, min_size=n, max_size=n) for kind in (floats, ints, texts, bools))
        )
    )
)
def test_a_polars_frame_hashes_by_the_specification(data):
    f, i, t, b = data
    frame = pl.DataFrame(
        [
            pl.Series("f", f, dtype=pl.Float64),
            pl.Series("i", i, dtype=pl.Int64),
            pl.Series("t", t, dtype=pl.String),
            pl.Series("b", b, dtype=pl.Boolean),
        ]
    )
    expected = _spec(
        [("f", f, "float"), ("i", i, "int"), ("t", t, "text"), ("b", b, "bool")], len(f)
    )
    assert hash_rows(frame) == expected
    # the same rows as a pandas frame (nullable where polars had nulls) hash alike
    pandas = pd.DataFrame(
        {
            "f": pd.array(f, dtype="Float64"),
            "i": pd.array(i, dtype="Int64"),
            "t": pd.array(t, dtype=object),
            "b": pd.array(b, dtype="boolean"),
        }
    )
    assert hash_rows(pandas) == expected


def test_names_and_integer_nulls_tell_polars_batches_apart():
    a = pl.DataFrame({"age": [30, 41], "bp": [120.0, 130.0]})
    assert hash_rows(a) != hash_rows(a.rename({"age": "income"}))
    assert hash_rows(a) != hash_rows(a.select("bp", "age"))
    assert hash_rows(pl.DataFrame({"a": [1, None]})) != hash_rows(
        pl.DataFrame({"a": [1.0, float("nan")]})
    )
    # a Series is one column named as it is
    assert hash_rows(a["age"]) == hash_rows(a.select("age"))


def test_times_hash_in_utc_as_pandas_times_do():
    times = pl.Series("t", ["2024-03-31 01:30", "2024-03-31 03:30"]).str.to_datetime()
    paris = times.dt.replace_time_zone("Europe/Paris").to_frame()
    expected = pd.DataFrame(
        {"t": pd.to_datetime(["2024-03-31 01:30", "2024-03-31 03:30"]).tz_localize("Europe/Paris")}
    )
    assert hash_rows(paris) == hash_rows(expected)
    assert hash_rows(paris) != hash_rows(times.to_frame())


def test_a_polars_batch_is_found_by_its_rows_and_names():
    rng = np.random.default_rng(0)
    X = pl.DataFrame({"age": rng.normal(50, 10, 40), "bp": rng.normal(130, 15, 40)})
    y = (X["age"] > 50).cast(pl.Int64)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    ).fit(X, y)
    batch = X[5:8]
    answered = pipe.predict_proba(batch)
    (event,) = store.events(kind="prediction")
    assert input_was(store, event, hash_rows(batch.to_pandas()))

    found = find_predictions(store, batch)
    assert len(found) == 1 and found["matched_as"].tolist() == [None]
    np.testing.assert_array_equal(found["output"].iloc[0], answered)
    # the same rows read again with pandas: the same batch
    again = find_predictions(store, pd.DataFrame(batch.to_dict(as_series=False)))
    assert found["seq"].tolist() == again["seq"].tolist()
    assert again["matched_as"].tolist() == [None]
    # other names are other rows, not the same call found as given
    with pytest.warns(UserWarning, match="no logged call"):
        assert find_predictions(store, batch.rename({"age": "income"})).empty


def test_one_file_read_by_polars_and_every_pandas_backend_hashes_alike(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        '# c\nage,bp,ward,label\n30,120.5,A,0\n41,,B,1\n52,130.0,"C\nD",1\n25,99.0,,1\n'
    )
    frames = {
        "polars": pl.read_csv(path, comment_prefix="#"),
        "numpy": pd.read_csv(path, comment="#"),
        "pyarrow": pd.read_csv(path, comment="#", dtype_backend="pyarrow"),
        "numpy_nullable": pd.read_csv(path, comment="#", dtype_backend="numpy_nullable"),
    }
    digests = {name: hash_rows(frame) for name, frame in frames.items()}
    assert len(set(digests.values())) == 1, digests
    # and the rows are what the file says (the spec, from the text by hand)
    expected = _spec(
        [
            ("age", [30, 41, 52, 25], "int"),
            ("bp", [120.5, None, 130.0, 99.0], "float"),
            ("ward", ["A", "B", "C\nD", None], "text"),
            ("label", [0, 1, 1, 1], "int"),
        ],
        4,
    )
    assert digests["polars"] == expected
