"""``sample_id=`` given for a plain array in another order than its rows is refused.

A DataFrame with ids that are not its rows' is refused (``_misplaced``); an array was
not compared, and every line named was wrong, without a word. The truth is the raw
file: each record's first field is its key, which the array holds in column 0.
"""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._lineage._raw_files import keys_by_line

N = 80


def _read(tmp_path):
    path = tmp_path / "array_rows.csv"
    if not path.exists():
        rng = np.random.default_rng(7)
        lines = ["key,a,b,y"]
        for i in range(N):
            if i % 6 == 2:
                lines.append("# a comment")
            lines.append(f"{1000 + 7 * i},{rng.normal():.5f},{rng.normal():.5f},{i % 2}")
        path.write_text("\n".join(lines) + "\n")
    return path, stp.read_csv(path, source_id="array_rows", comment="#")


def _fit(X, ids):
    y = np.arange(len(X)) % 2
    return stp.make_traced_pipeline(LogisticRegression()).fit(X, y, sample_id=ids)


def _named_keys(model, path):
    truth = keys_by_line(path)
    return [int(truth[(path.stem, int(line))]) for line in model.lineage_.rows()["line"]]


def test_ids_in_another_order_are_refused_naming_both_lines(tmp_path):
    path, d = _read(tmp_path)
    X = d[["key", "a", "b"]].to_numpy()
    ids = stp.row_ids(d.sort_values("a"))  # the ids of a sorted copy: not X's order
    with pytest.raises(LineageError, match="sample_id=") as info:
        _fit(X, ids)
    # the lines named: the one whose record row 0 holds, and the one its id names
    held, named = map(int, re.findall(r"line (\d+)", str(info.value))[:2])
    truth = keys_by_line(path)
    assert int(truth[(path.stem, held)]) == X[0, 0]
    assert int(truth[(path.stem, named)]) == d.sort_values("a")["key"].iloc[0]
    assert "column 0 of the array (loaded as key)" in str(info.value)


def test_ids_of_the_rows_name_their_lines(tmp_path):
    path, d = _read(tmp_path)
    d = d.sample(frac=1, random_state=0)
    model = _fit(d[["key", "a", "b"]].to_numpy(np.float32), stp.row_ids(d))
    assert _named_keys(model, path) == d["key"].tolist()


def test_scaled_values_with_their_own_ids_name_their_lines(tmp_path):
    """Scaled values are compared unscaled (see test_scaled.py): the rows' own ids are
    not refused, and name their lines."""
    path, d = _read(tmp_path)
    Z = StandardScaler().fit_transform(d[["a", "b"]])
    model = _fit(Z, stp.row_ids(d))
    assert _named_keys(model, path) == d["key"].tolist()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.permutations(range(N)),
    ids_order=st.permutations(range(N)),
    size=st.integers(4, N),
    same=st.booleans(),
)
def test_lines_named_are_the_rows_or_the_fit_is_refused(tmp_path, rows, ids_order, size, same):
    """Any subset of rows in any order, with its own ids or with ids in another order:
    every line named holds its row's key, or the fit is refused; rows given ids in
    another order are always refused."""
    path, d = _read(tmp_path)
    rows = np.asarray(rows[:size])
    given_ids = rows if same else np.asarray(ids_order[:size])
    X = d[["key", "a", "b"]].to_numpy()[rows]
    try:
        model = _fit(X, stp.row_ids(d)[given_ids])
    except LineageError:
        assert (given_ids != rows).any()
        return
    assert _named_keys(model, path) == X[:, 0].astype(int).tolist()
    assert (given_ids == rows).all()


def test_worker_fits_say_the_array_ids_were_not_checked(tmp_path):
    """A joblib worker keeps no loaded values: a split fitted there cannot compare, and
    its run says so (as a frame's does) instead of naming wrong lines without a word."""
    from sklearn.model_selection import cross_validate

    path, d = _read(tmp_path)
    X, y = d[["key", "a", "b"]].to_numpy(), np.arange(N) % 2
    misordered = stp.row_ids(d.sort_values("a"))
    store = stp.stores.SQLiteStore(tmp_path / "runs.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    cross_validate(pipe, X, y, cv=2, n_jobs=2, params={"sample_id": misordered})
    runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
    assert len(runs) == 2
    for run in runs:
        assert any(
            "source 'array_rows' were not checked: the values loaded for them are not kept" in note
            for note in run.notes
        )
    with pytest.raises(LineageError):  # the same call in one process is refused
        cross_validate(pipe, X, y, cv=2, params={"sample_id": misordered}, error_score="raise")


@pytest.mark.parametrize("kind", ["one column", "text"])
def test_arrays_that_cannot_be_compared_say_their_ids_were_taken_as_given(tmp_path, kind):
    """A one-column or non-numeric array with ids was fitted without a word: its lines
    were neither checked nor said to be unchecked."""
    path, d = _read(tmp_path)
    misordered = stp.row_ids(d.sort_values("a"))
    if kind == "one column":
        X = d[["a"]].to_numpy()
    else:
        X = d[["a", "b"]].astype(str).to_numpy(dtype=object)  # text, as object values
    from sklearn.preprocessing import OrdinalEncoder

    steps = (
        [LogisticRegression()]
        if kind == "one column"
        else [OrdinalEncoder(), LogisticRegression()]
    )
    pipe = stp.make_traced_pipeline(*steps)
    pipe.fit(X, np.arange(N) % 2, sample_id=misordered)
    notes = [n for n in pipe.lineage_.notes if "were not checked against the array" in n]
    assert len(notes) == 1 and "'array_rows'" in notes[0]
    assert ("one column" in notes[0]) == (kind == "one column")
    assert ("object values, not numbers" in notes[0]) == (kind == "text")
