"""A logged decision is found from its rows read again in another exact form."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.compliance import find_predictions

from .conftest import logged_pipeline, traced_frames

COLUMNS = ["age", "bp", "n"]


def _numeric_model(store):
    X = pd.DataFrame(
        {"age": [30.0, 44, 51, 60, 38], "bp": [1.5, 2, 3, 4, 2.5], "n": [1, 2, 3, 4, 2]}
    )
    pipe = stp.make_traced_pipeline(
        SimpleImputer(), LogisticRegression(), store=store, log_predictions=True
    )
    return pipe.fit(X, [0, 1, 0, 1, 1])


def _quiet_find(store, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return find_predictions(store, X, **kw)


def test_an_integer_column_read_as_float_is_found_with_a_note():
    store = stp.stores.MemoryStore()
    pipe = _numeric_model(store)
    given = pd.DataFrame({"age": [44], "bp": [2.0], "n": [2]})  # n: int64
    label = pipe.predict(given)[0]
    (found,) = find_predictions(store, given.astype({"n": "float64"})).itertuples()
    assert found.output[0] == str(label)
    assert found.matched_as == "column n: float64 -> int64"
    # and as given: no note
    assert find_predictions(store, given).matched_as.tolist() == [None]


def test_a_missing_value_that_made_a_column_float_in_the_batch():
    """The batch was scored with n as float (one row had no value); the applicant's row
    read alone has n as int64."""
    store = stp.stores.MemoryStore()
    pipe = _numeric_model(store)
    batch = pd.DataFrame({"age": [44, 51], "bp": [2.0, 3.0], "n": [2, np.nan]})
    labels = pipe.predict(batch)
    batch.to_csv(path := pd.io.common.StringIO(), index=False)
    path.seek(0)
    again = pd.read_csv(path)
    assert again["n"].dtype == np.float64  # as it was given
    one = pd.DataFrame({"age": [44, 51], "bp": [2.0, 3.0], "n": pd.array([2, None], "Int64")})
    (found,) = find_predictions(store, one, row=0).itertuples()
    assert found.output == str(labels[0]) and found.matched_as == "column n: Int64 -> float64"


def test_columns_in_another_order_and_an_array_are_found():
    store = stp.stores.MemoryStore()
    pipe = _numeric_model(store)
    given = pd.DataFrame({"age": [44.0], "bp": [2.0], "n": [2]})
    pipe.predict(given)
    (found,) = find_predictions(store, given[["n", "age", "bp"]]).itertuples()
    assert found.matched_as == "columns reordered as the run's input (age, bp, n)"
    (found,) = find_predictions(store, np.array([[44.0, 2.0, 2.0]])).itertuples()
    assert found.matched_as == (
        "columns named as the run's input (age, bp, n); column n: float64 -> int64"
    )
    # a model given an array is found from a frame of the same values
    store = stp.stores.MemoryStore()
    X = np.array([[30.0, 1], [44, 2], [51, 3], [60, 4]])
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X, [0, 1, 0, 1]).predict(X[[1]])
    frame = pd.DataFrame({"age": [44], "n": [2]})
    (found,) = find_predictions(store, frame).itertuples()
    assert "column names dropped" in found.matched_as and "int64 -> float64" in found.matched_as


def test_a_category_column_is_found_as_its_text(hospitals, tmp_path):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    pipe = logged_pipeline(store, X, y)
    row = pd.DataFrame({"age": [44], "sex": ["F"], "bp": [131.5]}).astype({"age": "float64"})
    pipe.predict(row)
    read = row.astype({"sex": "category", "age": "int64"})[["bp", "sex", "age"]]
    (found,) = find_predictions(store, read).itertuples()
    assert "reordered" in found.matched_as and "age: int64 -> float64" in found.matched_as


def test_a_lossy_cast_is_never_used():
    store = stp.stores.MemoryStore()
    pipe = _numeric_model(store)
    pipe.predict(pd.DataFrame({"age": [44], "bp": [2.0], "n": [2]}))
    with pytest.warns(UserWarning, match="Common reasons") as caught:
        found = find_predictions(store, pd.DataFrame({"age": [44], "bp": [2.0], "n": [2.5]}))
    assert found.empty and "prediction event" in found.attrs["not_found"]
    assert "pass the batch and row=" in str(caught[0].message)
    # 2**53 + 1 as float would be 2**53: not exact, not tried
    big = pd.DataFrame({"age": [2**53 + 1], "bp": [2.0], "n": [2]})
    pipe.predict(big.astype({"age": "float64"}))
    assert _quiet_find(store, big).empty


def test_the_command_prints_what_was_converted(tmp_path, capsys):
    db = tmp_path / "bank.db"
    store = stp.stores.SQLiteStore(db)
    pipe = _numeric_model(store)
    labels = pipe.predict(pd.DataFrame({"age": [44.0, 51], "bp": [2.0, 3], "n": [2.0, 3]}))
    store.close()
    pd.DataFrame({"n": [2, 3], "age": [44, 51], "bp": [2.0, 3]}).to_csv(
        tmp_path / "read.csv", index=False
    )
    assert main(["predictions", str(db), "--input", str(tmp_path / "read.csv")]) == 0
    out = capsys.readouterr().out
    assert "matched as: columns reordered as the run's input (age, bp, n);" in out
    assert "age: int64 -> float64" in out and f"row 1: {labels[1]}" in out
    pd.DataFrame({"age": [44], "bp": [2.0], "n": [2]}).to_csv(tmp_path / "one.csv", index=False)
    assert main(["predictions", str(db), "--input", str(tmp_path / "one.csv")]) == 0
    out = capsys.readouterr().out
    # the one row alone: inside the batch, by its row digest, in the same exact forms
    assert "age: int64 -> float64" in out
    assert f"at position 0 of the call's 2 rows: {labels[0]}" in out
    pd.DataFrame({"age": [45], "bp": [2.0], "n": [2]}).to_csv(tmp_path / "no.csv", index=False)
    assert main(["predictions", str(db), "--input", str(tmp_path / "no.csv")]) == 0
    out = capsys.readouterr().out
    assert "no logged call" in out and "Common reasons" in out


_cells = st.integers(-(2**40), 2**40)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    n_rows=st.integers(1, 4),
    kinds=st.lists(st.sampled_from(["int", "float", "half"]), min_size=3, max_size=3),
    flips=st.lists(st.booleans(), min_size=3, max_size=3),
    order=st.permutations(COLUMNS),
    as_array=st.booleans(),
    data=st.data(),
)
def test_found_iff_an_exact_form_exists(n_rows, kinds, flips, order, as_array, data):
    """The logged batch is found from any exact form of it, and never from rows that
    differ in a value (not even as a neighbouring batch's decision)."""
    store = stp.stores.MemoryStore()
    pipe = _numeric_model(store)
    columns = {}
    for name, kind in zip(COLUMNS, kinds):
        values = data.draw(st.lists(_cells, min_size=n_rows, max_size=n_rows))
        if kind == "int":
            columns[name] = np.array(values, dtype=np.int64)
        elif kind == "float":
            columns[name] = np.array(values, dtype=np.float64)
        else:
            columns[name] = np.array(values, dtype=np.float64) + 0.5
    given = pd.DataFrame(columns)
    other = given.copy()
    other.iloc[0, 0] += 1
    pipe.predict(other)
    pipe.predict(given)
    pipe.predict(other)  # calls before and after, of other rows
    seq = [e["seq"] for e in store.events(kind="prediction")][1]
    read = given.copy()
    for name, kind, flip in zip(COLUMNS, kinds, flips):
        if flip and kind != "half":  # the exact other dtype
            read[name] = read[name].astype(np.float64 if kind == "int" else np.int64)
    read = read[list(order)]
    if as_array:
        read = read[COLUMNS].to_numpy(dtype=np.float64)
    found = _quiet_find(store, read)
    # as a whole batch: that call only (the neighbouring calls share rows with it, and
    # are found by those rows alone, at their positions: tests/compliance/test_find_rows.py)
    assert found[found.positions.isna()].seq.tolist() == [seq]
    assert set(found.seq) <= {e["seq"] for e in store.events(kind="prediction")}
    # one value off by a half (an integer one) or one (a float one): no exact form exists
    changed = given.astype(np.float64)
    changed.iloc[n_rows - 1, 2] += 0.5 if kinds[2] == "int" else 1
    again = _quiet_find(store, changed[list(order)])
    assert again.positions.notna().all() and (n_rows - 1) not in set(again.row)


def test_many_columns_one_read_as_float_is_found():
    """Past MAX_COMBINATIONS not every dtype combination is hashed; one column
    converted alone still is (a missing value made one column float)."""
    store = stp.stores.MemoryStore()
    names = [f"x{j}" for j in range(10)]  # 2**10 combinations
    X = pd.DataFrame(np.arange(40).reshape(4, 10) % 7, columns=names)
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X.astype(np.float64), [0, 1, 0, 1])
    given = X.astype(np.float64).astype({"x3": np.int64})
    pipe.predict(given)
    (found,) = find_predictions(store, X.astype(np.float64)).itertuples()
    assert found.matched_as == "column x3: float64 -> int64"
    with pytest.warns(UserWarning, match="not every combination of column dtypes"):
        assert find_predictions(store, X.astype(np.float64) + 1).empty
