"""Lineage views given no store mark the rows an erasure request made in this process
named.

Before: ``stp.row_lineage``, ``Lineage.trace`` and ``Lineage.rows`` given no store said
``<NA>`` ("not known here") for every row, although the process records its own
erasure requests (``stores._erased_here``: a refit on them is warned). Now a row a
request made here named (by line, by its whole source, or a merged row built from one)
is True, the request named (its event's seq, store and time); every other row stays
``<NA>``: a request made in another process is recorded only in its store. The truth:
the same view given the store (its own record), on every row, and the file's raw bytes.
"""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop.exceptions import ErasedRowsHeldWarning
from sktraceprop.stores import MemoryStore, SQLiteStore

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

N = 12


def _data(folder):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {"key": 500 + np.arange(N), "pid": np.arange(N) % 4, "y": [0, 1] * (N // 2)}
    ).to_csv(folder / "visits.csv", index=False)
    pd.DataFrame({"pid": np.arange(4), "age": 20.0 + 3 * np.arange(4)}).to_csv(
        folder / "people.csv", index=False
    )
    visits = stp.read_csv(folder / "visits.csv")
    people = stp.read_csv(folder / "people.csv")
    df = stp.merge(visits.sample(frac=1, random_state=1), people, on="pid", how="left")
    return df, visits


def _store(kind, folder):
    return SQLiteStore(folder / "audit.db") if kind == "sqlite" else MemoryStore()


def _fit(store, df):
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    return pipe.fit(df[["age"]], df["y"])


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if w.category is ErasedRowsHeldWarning]


def _erase(store, **request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(reason="art. 17", **request)
    return store.events(kind="store.erasure", include_store_events=True)


def _agrees(view, store, events):
    """``view(store)`` given no store against ``view(store)`` given it: True exactly
    where the store says True, ``<NA>`` everywhere else (never False), every request
    named; returns the store's frame."""
    checked, _ = _caught(lambda: view(store))
    assert checked.attrs["erasures_checked"] is True
    here, said = _caught(lambda: view(None))
    truth = checked["erased"].to_numpy(bool)
    assert here["erased"].dtype == "boolean" and here.attrs["erasures_checked"] is False
    np.testing.assert_array_equal(here["row_id"].to_numpy(), checked["row_id"].to_numpy())
    np.testing.assert_array_equal(here["erased"].isna().to_numpy(), ~truth)
    assert here["erased"].fillna(True).all()
    named = here.attrs["erasures_requests_here"]
    if truth.any():
        assert named and all(w in here.attrs["erasures_note"] for w in named)
        assert set(named) <= {
            f"erasure event {e['seq']} in {store!r} at {e['created_at']}" for e in events
        }
        (message,) = said
        assert all(w in message for w in named)
    else:
        assert named == [] and said == []
    return checked


def _views(pipe, df, visits):
    n = len(df)
    return [
        lambda s: stp.row_lineage(df, store=s),
        lambda s: stp.row_lineage(stp.row_ids(visits), store=s),
        lambda s: pipe.lineage_.trace(np.arange(n), store=s),
        lambda s: pipe.lineage_.rows(store=s),
    ]


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_rows_erased_by_line_are_true_and_named_the_others_unknown(kind, tmp_path):
    df, visits = _data(tmp_path / "data")
    store = _store(kind, tmp_path)
    pipe = _fit(store, df)
    before = stp.row_lineage(df)
    assert before["erased"].isna().all()
    assert "made no erasure request" in before.attrs["erasures_note"]
    keys = [503, 508]
    events = _erase(store, sample_id=stp.row_ids(visits[visits["key"].isin(keys)]))
    for view in _views(pipe, df, visits):
        _agrees(view, store, events)
    # the truth in the file's bytes: the lines marked hold the keys erased
    here, _ = _caught(lambda: stp.row_lineage(stp.row_ids(visits)))
    raw = (tmp_path / "data" / "visits.csv").read_bytes().decode().splitlines()
    marked = here["line"][here["erased"].fillna(False).to_numpy(bool)]
    assert sorted(int(raw[line - 1].split(",")[0]) for line in marked) == keys
    (event,) = events
    assert here.attrs["erasures_requests_here"] == [
        f"erasure event {event['seq']} in {store!r} at {event['created_at']}"
    ]
    # the pipeline's own trace() given no store says the same
    if kind == "memory":
        plain = _fit(None, df)
        frame, said = _caught(lambda: plain.trace(np.arange(len(df))))
        marked = frame["erased"].fillna(False).to_numpy(bool)
        # (a merged row once per file line behind it: visits and people)
        assert sorted(df["key"].to_numpy()[frame["train_index"][marked]]) == sorted(keys * 2)
        assert frame["erased"].isna().sum() == 2 * (len(df) - 2) and len(said) == 1


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_a_source_erased_whole_marks_every_row_of_it_and_built_from_it(kind, tmp_path):
    df, visits = _data(tmp_path / "data")
    store = _store(kind, tmp_path)
    pipe = _fit(store, df)
    events = _erase(store, source_id="people")
    for view in _views(pipe, df, visits):
        _agrees(view, store, events)
    here, _ = _caught(lambda: stp.row_lineage(df))
    # every merged row was built from a row of people; visits' own lines were not erased
    assert here["erased"].all()
    alone, said = _caught(lambda: stp.row_lineage(stp.row_ids(visits)))
    assert alone["erased"].isna().all() and said == []


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_merged_rows_erased_are_true_their_parents_lines_unknown(kind, tmp_path):
    df, visits = _data(tmp_path / "data")
    store = _store(kind, tmp_path)
    pipe = _fit(store, df)
    events = _erase(store, sample_id=stp.row_ids(df.iloc[[0, 5]]))
    for view in _views(pipe, df, visits):
        _agrees(view, store, events)
    here, _ = _caught(lambda: stp.row_lineage(df))
    assert sorted(np.unique(here["row"][here["erased"].fillna(False).to_numpy(bool)])) == [0, 5]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.sets(st.integers(0, N - 1), min_size=1, max_size=N),
    merged=st.sets(st.integers(0, N - 1), max_size=3),
    kind=st.sampled_from(["sqlite", "memory"]),
)
@example(lines={0}, merged=set(), kind="sqlite")
@example(lines=set(range(N)), merged={11}, kind="memory")
def test_any_rows_erased_here_agree_with_the_store(tmp_path_factory, lines, merged, kind):
    _removed_rows.clear()  # (each example its own requests: earlier ones name these rows)
    folder = tmp_path_factory.mktemp("ex")
    df, visits = _data(folder / "data")
    store = _store(kind, folder)
    pipe = _fit(store, df)
    events = _erase(store, sample_id=stp.row_ids(visits.iloc[sorted(lines)]))
    if merged:
        events = _erase(store, sample_id=stp.row_ids(df.iloc[sorted(merged)]))
    for view in _views(pipe, df, visits):
        _agrees(view, store, events)


def test_a_request_made_in_another_process_stays_unknown_never_false(tmp_path):
    df, visits = _data(tmp_path / "data")
    store = SQLiteStore(tmp_path / "audit.db")
    pipe = _fit(store, df)
    mine = _erase(store, sample_id=stp.row_ids(visits.iloc[[1]]))
    script = textwrap.dedent(
        f"""
        import warnings
        warnings.simplefilter("ignore")
        import sktraceprop as stp
        from sktraceprop.stores import SQLiteStore
        visits = stp.read_csv({str(tmp_path / "data" / "visits.csv")!r})
        SQLiteStore({str(tmp_path / "audit.db")!r}).erase_rows(
            sample_id=stp.row_ids(visits.iloc[[6]]), reason="elsewhere")
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    store = SQLiteStore(tmp_path / "audit.db")
    events = store.events(kind="store.erasure", include_store_events=True)
    assert len(events) == 2
    checked, _ = _caught(lambda: stp.row_lineage(stp.row_ids(visits), store=store))
    here, _ = _caught(lambda: stp.row_lineage(stp.row_ids(visits)))
    assert checked["erased"].tolist() == [i in (1, 6) for i in range(N)]
    # the row erased here is True; the one erased elsewhere is not known, not False
    assert here["erased"].tolist()[1] is True and pd.isna(here["erased"].iloc[6])
    assert here["erased"].isna().sum() == N - 1
    (named,) = here.attrs["erasures_requests_here"]
    assert named.startswith(f"erasure event {mine[0]['seq']} in ")
    for view in _views(pipe, df, visits):
        checked, _ = _caught(lambda view=view: view(store))
        here, _ = _caught(lambda view=view: view(None))
        known = ~here["erased"].isna().to_numpy()
        assert here["erased"][known].all()
        assert checked["erased"][known].all()
        assert checked["erased"].sum() > here["erased"].sum()
