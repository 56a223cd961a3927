"""Lineage queries say whether the rows they name were erased at request.

An erasure request is recorded only in a store; ``lineage_.trace`` and
``stp.row_lineage`` used to name an erased row's file and line with no word. Given a
store they now mark it (column ``erased``, an ``ErasedRowsHeldWarning``); given none they
mark the rows of the requests made in this process, and say the others were not checked
(``<NA>``, never False). The truth: each training row's
key, read from the data fitted on, and the raw bytes of the file line named.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from sktraceprop.exceptions import ErasedRowsHeldWarning

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _data(folder):
    folder.mkdir(exist_ok=True)
    n = 30
    pd.DataFrame(
        {"key": 1000 + np.arange(n), "pid": np.arange(n) % 10, "city": ["Aa", "Bb", "Cc"] * 10}
    ).assign(y=[0, 1] * 15).to_csv(folder / "visits.csv", index=False)
    pd.DataFrame({"pid": np.arange(10), "age": np.arange(10) * 3.0 + 20}).to_csv(
        folder / "people.csv", index=False
    )
    visits = stp.read_csv(folder / "visits.csv")
    people = stp.read_csv(folder / "people.csv")
    # shuffled, so that a training position is not a file line
    df = stp.merge(visits.sample(frac=1, random_state=0), people, on="pid", how="left")
    return df, visits


def _fit(store, df):
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), ("passthrough", ["age"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    return pipe.fit(df[["city", "age"]], df["y"])


def _erased_by_key(store, visits, keys, reason):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(visits[visits["key"].isin(keys)]), reason=reason)


def _check(frame, position_keys, keys, folder):
    """Each row of ``frame`` against the truth: ``erased`` is True exactly where the
    key of the data at its position was erased, and the visits line named holds that
    key in the file's raw bytes."""
    raw = (folder / "visits.csv").read_bytes().decode().splitlines()
    truth = np.isin(position_keys, sorted(keys))
    assert frame["erased"].dtype == "boolean" and not frame["erased"].isna().any()
    assert frame.attrs["erasures_checked"] is True
    np.testing.assert_array_equal(frame["erased"].to_numpy(bool), truth)
    lines = frame[frame["source_id"] == "visits"]
    for position, line in zip(lines.index, lines["line"]):
        assert raw[line - 1].split(",")[0] == str(position_keys[position])


def _not_checked(frame):
    assert frame["erased"].isna().all() and frame["erased"].dtype == "boolean"
    assert frame.attrs["erasures_checked"] is False
    assert "no store was given" in frame.attrs["erasures_note"]


def _known_here(frame, checked, said, store, seqs, said_checked):
    """``frame`` (a view given no store, in the process that made the requests ``seqs``
    of ``store``) agrees with ``checked`` (the same view given ``store``, which warned
    ``said_checked``) on every row: True where it is, never False (``<NA>`` elsewhere),
    naming the requests, and warns of as many rows."""
    assert frame["erased"].dtype == "boolean" and len(frame) == len(checked)
    assert frame.attrs["erasures_checked"] is False
    assert "no store was given" in frame.attrs["erasures_note"]
    truth = checked["erased"].to_numpy(bool)
    np.testing.assert_array_equal(frame["erased"].isna().to_numpy(), ~truth)
    assert frame["erased"].fillna(True).all()  # (never False)
    named = frame.attrs["erasures_requests_here"]
    assert [w.split(" in ")[0] for w in named] == [f"erasure event {s}" for s in seqs]
    assert all(f" in {store!r} at " in w for w in named)
    if truth.any():
        (message,) = said
        assert message.split(" named are")[0] == said_checked[-1].split(" named are")[0]
        assert all(w in message for w in named)
    else:
        assert said == []


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if w.category is ErasedRowsHeldWarning]


def test_every_entry_point_marks_the_erased_rows_or_says_it_did_not_check(backend, tmp_path):
    folder = tmp_path / "data"
    store = backend.make()
    df, visits = _data(folder)
    pipe = _fit(store, df)
    n = len(df)
    keys = {1002, 1007}
    _erased_by_key(store, visits, keys, "first")
    # rows of a source whose statistics the first request erased: recorded anew
    _erased_by_key(store, visits, {1020, 1025}, "second")
    keys |= {1020, 1025}
    train_keys = df["key"].to_numpy()

    def per_frame_row(frame, position):
        return train_keys[frame[position].to_numpy()]

    # the pipeline checks its own store (its warning names the model holding the rows)
    frame, said = _caught(lambda: pipe.trace(np.arange(n)))
    assert len(said) == 1 and "holds 4 training row(s)" in said[0]
    _check(frame.reset_index(drop=True), per_frame_row(frame, "train_index"), keys, folder)

    # the run itself: checked with a store; without one, against the requests made here
    seqs = [e["seq"] for e in store.events(kind="store.erasure", include_store_events=True)]
    for run in (pipe.lineage_, backend.make().load_run(pipe.lineage_.run_id)):
        checked, was = _caught(lambda run=run: run.trace(np.arange(n), store=backend.make()))
        _check(checked.reset_index(drop=True), per_frame_row(checked, "train_index"), keys, folder)
        assert len(was) == 1 and "4 of the 30 row(s)" in was[0]
        frame, said = _caught(lambda run=run: run.trace(np.arange(n)))
        _known_here(frame, checked, said, store, seqs, was)

    # traced data: the same
    checked, was = _caught(lambda: stp.row_lineage(df, store=store))
    _check(checked.reset_index(drop=True), per_frame_row(checked, "row"), keys, folder)
    assert len(was) == 1 and "seq" in was[0]
    frame, said = _caught(lambda: stp.row_lineage(df))
    _known_here(frame, checked, said, store, seqs, was)
    frame, _ = _caught(lambda: stp.row_lineage(stp.row_ids(visits), store=store))
    _check(frame, visits["key"].to_numpy(), keys, folder)


def test_a_source_erased_whole_marks_every_row_built_from_it(tmp_path):
    folder = tmp_path / "data"
    store = stp.stores.MemoryStore()
    df, _ = _data(folder)
    pipe = _fit(store, df)
    untouched, _ = _caught(lambda: pipe.trace([0, 1]))
    assert not untouched["erased"].any() and untouched.attrs["erasures_checked"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(source_id="people", reason="withdrawn")
    # every training row was merged from a row of people: each holds its values
    frame, _ = _caught(lambda: pipe.lineage_.trace(np.arange(len(df)), store=store))
    assert frame["erased"].all()
    frame, said = _caught(lambda: stp.row_lineage(df, store=store))
    assert frame["erased"].all() and len(said) == 1


def test_a_pipeline_without_a_store_says_it_could_not_check(tmp_path):
    df, _ = _data(tmp_path / "data")
    pipe = _fit(None, df)
    frame, said = _caught(lambda: pipe.trace([0, 3]))
    _not_checked(frame)
    assert said == []
