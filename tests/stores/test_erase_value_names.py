"""store.erase_rows says when the runs it erases from keep feature names made of values.

A category only the erased rows had (``job_falconer`` of a one-hot encoder) stayed in
the SQLite file after ``erase_rows(source_id=...)``, and nothing said so (the redaction
counted no names): the store holds no data, so it cannot tell which names only those
rows made. The truth is the raw bytes of the store's file.
"""

import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import StoreBusyError

_WARNED = "keep feature names that are not input column names"


def _fit(tmp_path, categorical=True, keep=None):
    rng = np.random.default_rng(0)
    a = pd.DataFrame(
        {"job": rng.choice(["clerk", "nurse"], 40), "age": rng.normal(40, 5, 40)}
    ).assign(y=rng.integers(0, 2, 40))
    b = pd.DataFrame({"job": ["falconer"] * 5, "age": rng.normal(40, 5, 5), "y": [0, 1] * 2 + [1]})
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    X = pd.concat([stp.read_csv(tmp_path / f"{s}.csv", source_id=s) for s in "ab"])
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    steps = [(StandardScaler(), ["age"])] + ([(OneHotEncoder(), ["job"])] if categorical else [])
    pipe = stp.make_traced_pipeline(
        make_column_transformer(*steps), LogisticRegression(), store=store
    )
    pipe.fit(X[["job", "age"]], X["y"])
    if keep is not None:
        keep.append(pipe)  # alive: a fitted object holding the rows
    return store, pipe.lineage_.run_id


def test_names_made_of_values_are_said_to_stay_and_can_be_erased(tmp_path):
    store, run_id = _fit(tmp_path)
    with pytest.warns(UserWarning, match=_WARNED) as info:
        store.erase_rows(source_id="b", reason="erasure request")
    (message,) = [str(w.message) for w in info if _WARNED in str(w.message)]
    assert f"3 in run {run_id}" in message  # the job_ names; age is an input column
    assert "falconer" not in message  # the names are not shown: they may be the data
    store.close()
    assert b"falconer" in (tmp_path / "s.db").read_bytes()  # what the warning says
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    store.redact(run_id, features=["onehotencoder__job_falconer"], reason="category of b")
    # a name erased already is not counted again
    with pytest.warns(UserWarning, match=_WARNED) as info:
        store.erase_rows(source_id="a", reason="erasure request")
    (message,) = [str(w.message) for w in info if _WARNED in str(w.message)]
    assert f"2 in run {run_id}" in message
    store.close()
    assert b"falconer" not in (tmp_path / "s.db").read_bytes()


def test_no_warning_where_every_such_name_is_named_or_none_is_kept(tmp_path):
    store, _ = _fit(tmp_path)
    names = [f"onehotencoder__job_{j}" for j in ("clerk", "falconer", "nurse")]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        store.erase_rows(source_id="b", reason="erasure request", features=names)
    assert not [w for w in seen if _WARNED in str(w.message)]
    store.close()
    assert b"falconer" not in (tmp_path / "s.db").read_bytes()
    numeric = tmp_path / "numeric"
    numeric.mkdir()
    store, _ = _fit(numeric, categorical=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        store.erase_rows(source_id="b", reason="erasure request")
    assert not [w for w in seen if _WARNED in str(w.message)]


def test_an_erasure_refused_by_a_busy_store_says_nothing_was_erased_from(tmp_path):
    # the warning "the stored runs erased from keep feature names..." came before the
    # store was written: an erasure that a busy store refused (nothing written, as its
    # error says) still told of runs erased from
    store, _ = _fit(tmp_path)
    store.close()
    store = stp.stores.SQLiteStore(tmp_path / "s.db", timeout=0.2)
    holder = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with pytest.raises(StoreBusyError, match="Nothing was written"):
                store.erase_rows(source_id="b", reason="erasure request")
        assert not [w for w in seen if _WARNED in str(w.message)]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with pytest.warns(UserWarning, match=_WARNED):  # said once the erasure is done
        store.erase_rows(source_id="b", reason="erasure request")
    store.close()


def test_a_dry_run_counts_the_names_it_would_keep_and_warns_of_holders(tmp_path, capsys):
    # a dry run said nothing of the names an erasure would keep, nor of the fitted
    # objects it would not reach: it now counts the first (never naming them) and gives
    # the second's warning; nothing is written
    from sktraceprop.cli import main

    alive = []
    store, run_id = _fit(tmp_path, keep=alive)
    n_events = len(store.events(include_store_events=True))
    with pytest.warns(UserWarning, match="fitted objects in this process keep data"):
        (planned,) = store.erase_rows(source_id="b", reason="request", dry_run=True)
    assert planned["run_id"] == run_id and planned["value_names_kept"] == 3
    names = ["onehotencoder__job_falconer"]
    (planned,) = store.erase_rows(source_id="b", reason="request", features=names, dry_run=True)
    assert planned["value_names_kept"] == 2
    assert len(store.events(include_store_events=True)) == n_events
    store.close()
    main(["erase", str(tmp_path / "s.db"), "--source", "b", "--reason", "r", "--dry-run"])
    out = capsys.readouterr().out
    assert "3 feature name(s) made of values (one-hot categories) would stay" in out
    assert "falconer" not in out
    assert b"falconer" in (tmp_path / "s.db").read_bytes()  # nothing erased
