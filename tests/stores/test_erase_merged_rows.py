"""``store.erase_rows(sample_id=...)`` with the training rows of a run fitted on rows
merged by ``stp.merge``: the ids a run lists (``stp.row_ids`` of the data given to fit).

Those ids name merged rows, not file lines. The check that some stored run was given
the rows looked only at the file lines behind each run's rows, so the request was
refused with "no run stored ... was given these rows", naming a row the run was fitted
on; and the objects of the process holding the rows were looked for by file line, so
none was named. The truth is the run's own training rows and the store's bytes.
"""

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp

MARK = "Vvqxzy"


def _frames(tmp_path, n=20):
    tmp_path.mkdir(parents=True, exist_ok=True)
    city = ["Aa", "Bb", "Cc", "Dd"] * (n // 4)
    city[3] = MARK
    pd.DataFrame({"key": np.arange(n), "city": city, "x": np.arange(n) / 3.0}).to_csv(
        tmp_path / "main.csv", index=False
    )
    pd.DataFrame({"key": np.arange(n), "z": np.sin(np.arange(n)), "y": np.arange(n) % 2}).to_csv(
        tmp_path / "lookup.csv", index=False
    )
    main, lookup = stp.read_csv(tmp_path / "main.csv"), stp.read_csv(tmp_path / "lookup.csv")
    merged = stp.merge(main, lookup, on="key", source_id="m")
    return merged[["city", "x", "z"]], merged["y"]


def _pipeline(store):
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), ("passthrough", ["x", "z"])
    )
    return stp.make_traced_pipeline(pre, LogisticRegression(), store=store)


def _erase(store, ids, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = store.erase_rows(sample_id=ids, reason="request 12", **kwargs)
    said = [
        str(w.message) for w in caught if "keep data of the rows being erased" in str(w.message)
    ]
    return out, said


def test_erasing_a_runs_merged_training_rows_by_their_ids(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    X, y = _frames(tmp_path / "data")
    pipe = _pipeline(store).fit(X, y)
    ids = stp.row_ids(X)[X["city"].eq(MARK).to_numpy()]
    assert np.isin(ids, pipe.lineage_.row_ids).all()  # the truth: rows it was fitted on
    out, said = _erase(store, ids, features=[f"onehotencoder__city_{MARK}"])
    assert [o["run_id"] for o in out] == [pipe.lineage_.run_id]
    assert said and "TracedPipeline (1 row(s))" in said[0]
    stats = store.load_run(pipe.lineage_.run_id).source_stats
    listed = stats["sources"] + (stats.get("through_merges") or [])
    assert {s["source_id"] for s in listed if "redacted" in s} == {"m", "main", "lookup"}
    assert store.verify()
    store.close()
    held = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert MARK.encode() not in held and b"city_Bb" in held


@settings(max_examples=12, deadline=None)
@given(named=st.sets(st.integers(0, 19), min_size=1, max_size=20))
def test_any_training_rows_named_by_their_ids_are_found_and_counted(tmp_path_factory, named):
    store = stp.stores.MemoryStore()
    X, y = _frames(tmp_path_factory.mktemp("e"))
    pipe = _pipeline(store).fit(X, y)
    ids = stp.row_ids(X)[sorted(named)]
    out, said = _erase(store, ids)
    assert [o["run_id"] for o in out] == [pipe.lineage_.run_id]
    assert f"TracedPipeline ({len(named)} row(s))" in said[0]
