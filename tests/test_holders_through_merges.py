"""A removal names the objects that keep values of removed rows through a merge: one
fitted on merged rows built from a removed file line. The truth is the file lines behind
each object's rows, read with ``row_lineage`` (uri, line).

Objects were matched by exact row id: an unlearner on a/data.csv's rows removing two of
them did not name a KNNShapleyValuer fitted on stp.merge(a, b) (held_elsewhere None),
though the valuer keeps those lines' x1 in its merged rows. A valuer now drops such rows
(tests/valuation/test_valuer_forgets_merged_rows.py): the object named here is a
RowKeeper (tests/_row_keeper.py), which keeps its rows as a traced model's steps do.
"""

import itertools
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests._row_keeper import RowKeeper


def _write(path, keys, seed):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(keys)
    frame = pd.DataFrame({"k": keys, "x1": rng.normal(size=n), "y": np.arange(n) % 2})
    frame.to_csv(path, index=False)
    return path


def _lines(frame):
    """``{(uri, line)}`` of the file lines behind the rows of ``frame``."""
    lineage = stp.row_lineage(frame)
    return set(zip(lineage["uri"], lineage["line"]))


def _removal(unlearner, ids):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unlearner.unlearn(sample_id=ids)
    return unlearner.unlearning_log_[-1].get("held_elsewhere")


def _files(tmp_path, seed, keys_b):
    a = _write(tmp_path / f"a{seed}" / "data.csv", np.arange(30), seed)
    b = _write(tmp_path / f"b{seed}" / "data.csv", keys_b, seed + 1)
    A, B = stp.read_csv(a), stp.read_csv(b)
    merged = stp.merge(A, B[["k", "x1"]].rename(columns={"x1": "x2"}), on="k", source_id="m")
    return a, A, merged


def test_a_valuer_of_merged_rows_is_named_when_their_lines_are_removed(tmp_path):
    a, A, merged = _files(tmp_path, 0, np.arange(30))
    valuer = RowKeeper().fit(merged[["x1", "x2"]], merged["y"])
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(A[["x1"]], A["y"])
    removed = A.iloc[[10, 11]]
    # the truth: both lines of a/data.csv are behind rows the valuer keeps
    assert _lines(removed) <= _lines(merged)
    assert _lines(removed) == {(a.resolve().as_uri(), 12), (a.resolve().as_uri(), 13)}
    assert _removal(unlearner, stp.row_ids(removed)) == {"RowKeeper": 2}
    del valuer


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(4, 7),
    keys_b=st.lists(st.integers(0, 39), min_size=12, max_size=30),
    valued=st.sets(st.integers(0, 29), min_size=8, max_size=30),
    removed=st.sets(st.integers(0, 29), min_size=1, max_size=6),
)
def test_the_count_is_of_removed_lines_behind_the_valuers_merged_rows(
    tmp_path_factory, seed, keys_b, valued, removed
):
    # b/data.csv's keys: some repeated (a line of a behind several merged rows), some
    # absent from a (merged rows of b only have none)
    _, A, merged = _files(tmp_path_factory.mktemp("h"), seed, keys_b)
    kept = merged[merged["k"].isin(sorted(valued))]
    if kept["y"].nunique() < 2:
        return
    valuer = RowKeeper().fit(kept[["x1", "x2"]], kept["y"])
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(A[["x1"]], A["y"])
    gone = A.iloc[sorted(removed)]
    expected = len(_lines(gone) & _lines(kept))
    held = _removal(unlearner, stp.row_ids(gone)) or {}
    assert held.get("RowKeeper", 0) == expected
    del valuer


def _erase_warnings(store, ids):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store.erase_rows(sample_id=ids, reason="request")
    return [
        str(w.message) for w in caught if "keep data of the rows being erased" in str(w.message)
    ]


def test_erase_rows_names_a_valuer_of_merged_rows_built_from_the_erased_lines(tmp_path):
    # the valuer's merged rows were in no stored run: matched by exact id, not named
    _, A, merged = _files(tmp_path, 8, np.arange(30))
    store = stp.stores.MemoryStore()
    stp.make_traced_pipeline(LogisticRegression(), store=store).fit(A[["x1"]], A["y"])
    valuer = RowKeeper().fit(merged[["x1", "x2"]], merged["y"])
    erased = A.iloc[[3, 4, 5]]
    assert _lines(erased) <= _lines(merged)
    (said,) = _erase_warnings(store, stp.row_ids(erased))
    assert "RowKeeper (3 row(s))" in said
    del valuer


def test_erase_rows_does_not_name_a_valuer_of_the_other_files_lines(tmp_path):
    # the rows merged with the erased lines were b's too: a valuer fitted on b/data.csv
    # alone was named as keeping data of the rows being erased (it keeps none)
    b_path = tmp_path / "b10" / "data.csv"
    _, A, merged = _files(tmp_path, 10, np.arange(30))
    B = stp.read_csv(b_path)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(merged[["x1", "x2"]], merged["y"])
    valuer = RowKeeper().fit(B[["x1"]], B["y"])
    erased = A.iloc[[3, 4]]
    assert not _lines(erased) & _lines(B)
    (said,) = _erase_warnings(store, stp.row_ids(erased))
    assert "TracedPipeline (2 row(s))" in said and "RowKeeper" not in said
    del valuer, pipe


def test_a_valuer_of_a_files_lines_is_named_when_an_unlearner_of_merged_rows_removes_them(
    tmp_path,
):
    # the reverse: the unlearner trained on merged rows, the valuer on a/data.csv's own
    # rows. Removing two of a's lines removed the merged rows built from them, and the
    # event checked only those merged rows: held_elsewhere was None, though the valuer
    # keeps the two lines' x1
    a, A, merged = _files(tmp_path, 3, np.arange(30))
    valuer = RowKeeper().fit(A[["x1"]], A["y"])  # noqa: F841
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(
        merged[["x1", "x2"]], merged["y"]
    )
    removed = A.iloc[[10, 11]]
    assert _lines(removed) <= _lines(A)  # the truth: the valuer's rows hold both lines
    assert _removal(unlearner, stp.row_ids(removed)) == {"RowKeeper": 2}


def test_a_valuer_of_the_unlearners_merged_rows_counts_each_removed_row_once(tmp_path):
    # unlearner and valuer fitted on the same merged rows; removing a's lines by source
    # counted every removed merged row twice, once as itself and once as the a line
    # behind it ({'KNNShapleyValuer': 20} for 10 removed rows, more than were removed)
    _, A, merged = _files(tmp_path, 11, np.arange(30))
    X, y = merged[["x1", "x2"]], merged["y"]
    valuer = RowKeeper().fit(X, y)  # noqa: F841
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    gone = A.iloc[:10]
    held = _removal(unlearner, stp.row_ids(gone))
    event = unlearner.unlearning_log_[-1]
    assert event["n_removed"] == 10
    assert held == {"RowKeeper": 10}


_SEEDS = itertools.count(1000, 2)  # one content per example: equal bytes are one source


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys_b=st.lists(st.integers(0, 39), min_size=12, max_size=30),
    valued=st.sets(st.integers(0, 29), min_size=8, max_size=30),
    removed=st.sets(st.integers(0, 29), min_size=1, max_size=6),
)
def test_the_count_is_of_removed_merged_rows_the_valuer_holds(
    tmp_path_factory, keys_b, valued, removed
):
    # the unlearner trained on every merged row, the valuer on some; a's lines removed:
    # the truth, by key, is the merged rows the valuer holds that were built from them
    # (a line of a behind several merged rows when b repeats its key)
    _, A, merged = _files(tmp_path_factory.mktemp("m"), next(_SEEDS), keys_b)
    kept = merged[merged["k"].isin(sorted(valued))]
    gone = A.iloc[sorted(removed)]
    gone = gone[gone["k"].isin(merged["k"])]  # lines of a merged into no row: refused
    left = merged[~merged["k"].isin(gone["k"])]
    if gone.empty or left["y"].nunique() < 2 or kept["y"].nunique() < 2:
        return
    valuer = RowKeeper().fit(kept[["x1", "x2"]], kept["y"])
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(
        merged[["x1", "x2"]], merged["y"]
    )
    held = _removal(unlearner, stp.row_ids(gone)) or {}
    expected = int(kept["k"].isin(gone["k"]).sum())
    assert held.get("RowKeeper", 0) == expected
    assert expected <= unlearner.unlearning_log_[-1]["n_removed"]
    del valuer
