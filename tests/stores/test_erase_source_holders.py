"""``store.erase_rows``'s warning of the objects of this process that keep erased data,
for rows merged by ``stp.merge``.

A request by ``source_id=`` looked for the objects holding the erased rows by the file
lines behind the rows of the stored runs only: erasing a merge's source (or one nested
in another merge) named no object, though a pipeline fitted on the merged rows keeps
them whole (no warning at all); an object holding rows of the erased file that no stored
run was given was not named either. Counts took a merged row held and the lines behind
it, both named by the request, for two rows. The truth is the rows each object was
fitted on: with merges on a key 0..n-1 each training row i is built from the rows i of
every source behind it.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from tests._row_keeper import RowKeeper

N = 20


def _files(path, seed=0):
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    keys = np.arange(N)
    pd.DataFrame({"key": keys, "x": rng.normal(size=N)}).to_csv(path / "a.csv", index=False)
    pd.DataFrame({"key": keys, "z": rng.normal(size=N), "y": keys % 2}).to_csv(
        path / "b.csv", index=False
    )
    pd.DataFrame({"key": keys, "w": rng.normal(size=N)}).to_csv(path / "c.csv", index=False)
    return path


def _merged(path):
    """``m = merge(a, b)`` and ``m2 = merge(m, c)``; the frames of a, b, c let go."""
    a, b, c = (stp.read_csv(path / f"{k}.csv") for k in "abc")
    m = stp.merge(a, b, on="key", source_id="m")
    m2 = stp.merge(m, c, on="key", source_id="m2")
    return m, m2


def _said(erase):
    """The counts the warning names, ``{name: n}`` (None when it did not warn)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        erase()
    said = [
        str(w.message) for w in caught if "keep data of the rows being erased" in str(w.message)
    ]
    if not said:
        return None
    assert len(said) == 1
    named = said[0].split("erased: ")[1].split(". Erasing")[0]
    return {
        part.split(" (")[0]: int(part.split(" (")[1].split(" row")[0])
        for part in named.split(", ")
    }


def test_erasing_a_merge_source_names_the_objects_fitted_on_its_rows(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    m, _ = _merged(_files(tmp_path / "data"))
    # only the merged frame is kept: no object holds a row of a.csv or b.csv itself
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store).fit(m[["x", "z"]], m["y"])
    # (a RowKeeper, tests/_row_keeper.py, is named; a valuer drops the rows erased)
    valuer = RowKeeper().fit(m[["x", "z"]], m["y"])
    assert np.array_equal(pipe.lineage_.row_ids, stp.row_ids(m))  # the truth: fitted on m
    assert np.array_equal(valuer._held_row_ids(), stp.row_ids(m))
    knn = stp.KNNShapleyValuer(n_neighbors=3).fit(m[["x", "z"]], m["y"])
    # old code: no warning (it looked for the file lines of m, which m's rows are not)
    said = _said(lambda: store.erase_rows(source_id="m", reason="request 3"))
    assert said == {"TracedPipeline": N, "RowKeeper": N}
    assert knn.n_samples_fit_ == 0 and not knn.row_ids_.size  # every row dropped
    with pytest.raises(ValueError, match="every training row of this KNNShapleyValuer"):
        knn.value(m[["x", "z"]], m["y"])
    # a file the merge read: the same objects, the same rows (each merged row once)
    said = _said(lambda: store.erase_rows(source_id="a", reason="request 4"))
    assert said == {"TracedPipeline": N, "RowKeeper": N}
    assert store.verify()
    store.close()


def test_erasing_a_merge_nested_in_another_names_the_objects_of_the_outer_rows(tmp_path):
    store = stp.stores.MemoryStore()
    _, m2 = _merged(_files(tmp_path))
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(m2[["x", "w"]], m2["y"])
    assert _said(lambda: store.erase_rows(source_id="m", reason="r")) == {"TracedPipeline": N}


def test_rows_of_the_erased_source_no_stored_run_was_given_are_looked_for(tmp_path):
    store = stp.stores.MemoryStore()
    m, _ = _merged(_files(tmp_path))
    first, rest = m.iloc[:10], m.iloc[10:]
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(first[["x", "z"]], first["y"])
    valuer = RowKeeper().fit(rest[["x", "z"]], rest["y"])
    # the truth: the valuer keeps x of a.csv's lines behind the last 10 rows, which the
    # request erases (the whole source) and no stored run was given
    lineage = stp.row_lineage(valuer._held_row_ids())
    assert (lineage["source_id"] == "a").sum() == 10
    knn = stp.KNNShapleyValuer(n_neighbors=3).fit(rest[["x", "z"]], rest["y"])
    said = _said(lambda: store.erase_rows(source_id="a", reason="r"))
    assert said == {"TracedPipeline": 10, "RowKeeper": 10}
    assert knn.n_samples_fit_ == 0  # a KNNShapleyValuer drops them


def test_a_merged_row_and_the_lines_behind_it_named_together_are_one_row(tmp_path):
    store = stp.stores.MemoryStore()
    m, m2 = _merged(_files(tmp_path))
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(m2[["x", "w"]], m2["y"])
    a_ids = stp.row_lineage(m).query("source_id == 'a'")["row_id"].to_numpy(np.int64)
    ids = np.concatenate([stp.row_ids(m2)[:3], stp.row_ids(m)[:3], a_ids[:3]])
    # old code: 9 (each of the three training rows counted once per id naming it)
    assert _said(lambda: store.erase_rows(sample_id=ids, reason="r")) == {"TracedPipeline": 3}


def _units(m, m2):
    """``{name: row ids in key order}`` of every source behind m2's rows."""
    frame = stp.row_lineage(m2)
    out = {
        s: frame.loc[frame["source_id"] == s].sort_values("row")["row_id"].to_numpy(np.int64)
        for s in "abc"
    }
    return {**out, "m": stp.row_ids(m), "m2": stp.row_ids(m2)}


def _truth(named, rows):
    """Rows of the request an object fitted on m2's ``rows`` holds, each held row once:
    a named row behind another named row it holds is that row."""
    n = 0
    for i in rows:
        if "m2" in named[i]:
            n += 1
            continue
        n += 1 if "m" in named[i] else ("a" in named[i]) + ("b" in named[i])
        n += "c" in named[i]
    return n


@settings(max_examples=15, deadline=None)
@given(
    sources=st.sets(st.sampled_from(["a", "b", "c", "m", "m2"]), min_size=1),
    rows=st.sets(st.integers(0, N - 1), min_size=2),
    by_source=st.booleans(),
)
def test_counts_are_of_the_requests_rows_each_held_once(
    tmp_path_factory, sources, rows, by_source
):
    store = stp.stores.MemoryStore()
    m, m2 = _merged(_files(tmp_path_factory.mktemp("e")))
    rows = sorted(rows)
    fitted = m2.iloc[rows]
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(fitted[["x", "w"]], np.arange(len(rows)) % 2)
    if by_source:
        named = {i: sources for i in range(N)}
        said = _said(lambda: store.erase_rows(source_id=sorted(sources), reason="r"))
    else:  # the rows of those sources behind the first half of the fitted rows
        half = rows[: len(rows) // 2]
        named = {i: sources if i in half else set() for i in range(N)}
        units = _units(m, m2)
        ids = np.concatenate([units[s][half] for s in sorted(sources)])
        said = _said(lambda: store.erase_rows(sample_id=ids, reason="r"))
    assert said == {"TracedPipeline": _truth(named, rows)}
