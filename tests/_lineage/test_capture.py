"""Ids captured at fit: a target or weights in another row order than X is refused."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageLostError


def _rows(tmp_path, name, n, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / f"{name}.csv"
    body = [f"{k},{rng.normal():.3f},{k % 2}" for k in range(n)]
    path.write_text("key,a,label\n" + "\n".join(body) + "\n")
    return stp.read_csv(path, source_id=name)


def test_y_sorted_apart_from_x_is_refused_before_fitting(tmp_path):
    a = _rows(tmp_path, "a", 30, 0)
    X, y = a.sort_values("a")[["a"]], a["label"]
    pipe = stp.make_traced_pipeline(LogisticRegression())
    # row 0 of X is the smallest a, on line key + 2 of the file; row 0 of y is line 2
    first = int(a.sort_values("a")["key"].iloc[0]) + 2
    with pytest.raises(LineageError, match=rf"row 0 of X is a line {first} but row 0 of y"):
        pipe.fit(X, y)
    assert not hasattr(pipe[-1], "coef_")
    weights = pd.Series(1.0, index=a.index[::-1])
    with pytest.raises(LineageError, match="logisticregression__sample_weight is not in"):
        pipe.fit(a[["a"]], y, logisticregression__sample_weight=weights)


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(12)))
def test_y_is_accepted_exactly_when_its_ids_are_those_of_x(order):
    a = stp.from_pandas(pd.DataFrame({"a": np.arange(12.0), "label": np.arange(12) % 2}), "f")
    X = a.iloc[list(order)][["a"]]
    pipe = stp.make_traced_pipeline(LogisticRegression())
    if list(order) == sorted(order):
        pipe.fit(X, a["label"])
        return
    with pytest.raises(LineageError, match="y is not in the order of X"):
        pipe.fit(X, a["label"])
    pipe.fit(X, a["label"].loc[X.index])
    # X's row k holds a == its 1-based line - 1: the pairing the run records is right
    assert np.array_equal(pipe.lineage_.row_ids & (2**36 - 1), X["a"].to_numpy() + 1)


def test_a_deliberate_label_shuffle_is_named_and_works_without_row_ids():
    """scikit-learn's permutation_test_score permutes y on purpose: the refusal says how to
    run it, and run that way every stored fit's rows are X's training rows (the
    splitter's), whatever the labels' order."""
    from sklearn.model_selection import KFold, permutation_test_score

    a = stp.from_pandas(pd.DataFrame({"a": np.arange(30.0), "label": np.arange(30) % 2}), "p")
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    with pytest.raises(LineageError, match="permutation_test_score") as info:
        permutation_test_score(pipe, a[["a"]], a["label"], cv=KFold(3), n_permutations=2)
    assert "y.to_numpy()" in str(info.value)
    before = len(store.list_runs())  # the unpermuted score's folds ran before the refusal
    permutation_test_score(
        pipe, a[["a"]], a["label"].to_numpy(), cv=KFold(3), n_permutations=2, random_state=0
    )
    ids = a.index.to_numpy()
    expected = [ids[train].tolist() for train, _ in KFold(3).split(ids)]
    runs = [store.load_run(r) for r in store.list_runs()["run_id"][before:]]
    assert len(runs) == 9  # the score's 3 folds, then 3 for each permutation
    assert sorted(r.row_ids.tolist() for r in runs) == sorted(expected * 3)


def test_labels_from_another_source_are_paired_by_position(tmp_path):
    features = _rows(tmp_path, "features", 20, 1)
    labels = _rows(tmp_path, "labels", 20, 2)
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(features[["a"]], labels["label"])
    assert pipe.lineage_.source_ids() == ["features"]


def test_rows_built_from_several_rows_are_refused_naming_the_index(tmp_path):
    # groupby().mean() and melt() give frames whose rows are no file line (a group of
    # lines; one line per value column): the fit refuses them, naming what pandas built
    a = _rows(tmp_path, "a", 30, 3)
    means = a.groupby("label")[["a"]].mean()
    pipe = stp.make_traced_pipeline(LogisticRegression())
    with pytest.raises(LineageLostError, match=r"an Index named 'label'\).*groupby"):
        pipe.fit(means, [0, 1])
    long = a.melt(id_vars="label", value_vars=["key", "a"])
    with pytest.raises(LineageLostError, match=r"a RangeIndex\).*melt"):
        pipe.fit(long[["value"]], long["label"])
    both = pd.concat([a, _rows(tmp_path, "b", 5, 4)], ignore_index=True)
    with pytest.raises(LineageLostError, match=r"a RangeIndex\).*ignore_index=True \(pd.concat"):
        pipe.fit(both[["a"]], both["label"])
    assert not hasattr(pipe[-1], "coef_")
