"""Objects fitted on rows a removal takes away are named by the removal.

The truth is which rows each object was given to fit (known by construction), never the
objects' own records.
"""

import gc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests._row_keeper import RowKeeper

N = 120


def _frame(seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(N, 3)), columns=list("abc"))
    frame["y"] = (frame["a"] + rng.normal(size=N) > 0).astype(int)
    return stp.from_pandas(frame, f"holders{seed}")


def _positions(draw_set):
    return np.array(sorted(draw_set), dtype=np.intp)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 3),
    explained=st.sets(st.integers(0, N - 1), min_size=20, max_size=N),
    valued=st.sets(st.integers(0, N - 1), min_size=20, max_size=N),
    removed=st.sets(st.integers(0, N - 1), min_size=1, max_size=8),
    keep_valuer=st.booleans(),
)
def test_a_removal_names_the_objects_fitted_on_removed_rows(
    seed, explained, valued, removed, keep_valuer
):
    df = _frame(seed)
    X, y = df[list("abc")], df["y"]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    unlearner = GradientCorrectionUnlearner(clone(pipe)).fit(X, y)
    e, v, r = _positions(explained), _positions(valued), _positions(removed)
    if len(np.unique(y.iloc[e])) < 2 or len(np.unique(y.iloc[v])) < 2:
        return
    explainer = stp.InfluenceExplainer(clone(pipe).fit(X.iloc[e], y.iloc[e]))
    explainer.fit(X.iloc[e], y.iloc[e])
    # a valuer drops the removed rows it holds; a RowKeeper (tests/_row_keeper.py, which
    # keeps its rows as a traced model's steps do) is named
    valuer = stp.KNNShapleyValuer().fit(X.iloc[v], y.iloc[v])
    keeper = RowKeeper().fit(X.iloc[v])
    if not keep_valuer:
        del valuer, keeper
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unlearner.unlearn(sample_id=stp.row_ids(df)[r])
    event = unlearner.unlearning_log_[-1]
    expected = {}
    dropped = {}
    if np.isin(r, e).sum():
        # the explainer drops its fit (tests/influence/test_explainer_forgets_removed_rows.py)
        dropped["InfluenceExplainer"] = int(np.isin(r, e).sum())
        # the pipeline it explains, fitted on the same rows, named as held by it
        expected["TracedPipeline in InfluenceExplainer"] = int(np.isin(r, e).sum())
    if keep_valuer and np.isin(r, v).sum():
        expected["RowKeeper"] = int(np.isin(r, v).sum())
        dropped["KNNShapleyValuer"] = int(np.isin(r, v).sum())
    assert event.get("held_elsewhere", {}) == expected
    assert event.get("dropped_elsewhere", {}) == dropped
    if keep_valuer:  # the truth: the rows it was given less those removed
        kept = np.setdiff1d(stp.row_ids(df)[v], stp.row_ids(df)[r])
        np.testing.assert_array_equal(np.sort(valuer.row_ids_), kept)
    named = [str(w.message) for w in caught if "other fitted objects" in str(w.message)]
    assert bool(named) == bool(expected)
    if expected:
        assert "other fitted objects" in event["caveat"]
        for name, n in expected.items():
            assert f"{name} ({n} removed row(s))" in named[0]
    del explainer


def test_another_unlearner_is_named_with_its_retained_rows_only():
    df = _frame(9)
    X, y = df[list("abc")], df["y"]
    ids = stp.row_ids(df)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    first = GradientCorrectionUnlearner(clone(pipe)).fit(X, y)
    second = GradientCorrectionUnlearner(clone(pipe)).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        second.unlearn(sample_id=ids[:4])  # names `first`: it keeps all rows
    assert second.unlearning_log_[-1]["held_elsewhere"] == {
        "GradientCorrectionUnlearner": 4,
        "TracedPipeline in GradientCorrectionUnlearner": 4,  # its model
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first.unlearn(sample_id=ids[:6])  # `second` keeps rows 4 and 5 only
    assert first.unlearning_log_[-1]["held_elsewhere"] == {
        "GradientCorrectionUnlearner": 2,
        "TracedPipeline in GradientCorrectionUnlearner": 2,
    }
    del second
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing else holds rows 6-7: no warning
        first.unlearn(sample_id=ids[6:8])
    assert "held_elsewhere" not in first.unlearning_log_[-1]


def test_a_copy_loaded_from_a_pickle_is_named():
    import pickle

    df = _frame(11)
    X, y = df[list("abc")], df["y"]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    unlearner = GradientCorrectionUnlearner(clone(pipe)).fit(X, y)
    keeper = RowKeeper().fit(X.iloc[:50])
    copy = pickle.loads(pickle.dumps(keeper))
    valuer = stp.KNNShapleyValuer().fit(X.iloc[:50], y.iloc[:50])
    valuer_copy = pickle.loads(pickle.dumps(valuer))
    del keeper, valuer
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unlearner.unlearn(sample_id=stp.row_ids(df)[45:55])
    assert unlearner.unlearning_log_[-1]["held_elsewhere"] == {"RowKeeper": 5}
    # a valuer loaded from a pickle drops them
    assert unlearner.unlearning_log_[-1]["dropped_elsewhere"] == {"KNNShapleyValuer": 5}
    np.testing.assert_array_equal(valuer_copy.row_ids_, stp.row_ids(df)[:45])
    del copy, valuer_copy


def test_an_object_let_go_in_a_reference_cycle_is_not_named():
    # garbage that the cyclic collector has not freed yet is no holder: the removal
    # collects it (only when some registered object holds removed rows)
    df = _frame(0)
    X, y = df[list("abc")], df["y"]
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    gc.collect()
    gc.disable()
    try:
        valuer = RowKeeper().fit(X, y)
        valuer.cycle = [valuer]  # freed only by the cyclic collector
        del valuer
        unlearner.unlearn(sample_id=stp.row_ids(df)[:5])
    finally:
        gc.enable()
    assert "held_elsewhere" not in unlearner.unlearning_log_[-1]
    # a live one is named
    valuer = RowKeeper().fit(X, y)
    with pytest.warns(UserWarning, match="other fitted objects"):
        unlearner.unlearn(sample_id=stp.row_ids(df)[5:8])
    assert unlearner.unlearning_log_[-1]["held_elsewhere"] == {"RowKeeper": 3}
    del valuer


def test_a_traced_model_fitted_on_removed_rows_is_named_and_the_unlearners_own_is_not():
    """A TracedPipeline fitted on the same rows (the model in use, say) keeps what its
    steps learnt from them, an encoder their categories; a removal made by an unlearner
    of a clone said nothing of it. Truth: the rows each pipeline was given to fit, and
    the bytes of its pickle."""
    import pickle

    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(13)
    frame = pd.DataFrame(rng.normal(size=(N, 2)), columns=["a", "b"])
    frame["colour"] = ["zqheld"] * 50 + list(rng.choice(["red", "blue"], N - 50))
    frame["y"] = (frame["a"] + rng.normal(size=N) > 0).astype(int)
    df = stp.from_pandas(frame, "holders_traced")
    X, y = df[["a", "b", "colour"]], df["y"]
    # (a traced step: each removal refits one in the unlearner's model, never named)
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["colour"]), (StandardScaler(), ["a", "b"])
    )
    in_use = stp.make_traced_pipeline(pre, LogisticRegression()).fit(X, y)
    part = clone(in_use).fit(X.iloc[40:], y.iloc[40:])
    unlearner = GradientCorrectionUnlearner(clone(in_use)).fit(X, y)
    removed = stp.row_ids(df)[:50]
    with pytest.warns(UserWarning, match="other fitted objects"):
        unlearner.unlearn(sample_id=removed)
    # both pipelines hold removed rows: 50 distinct ones (part's 10 are among in_use's 50)
    assert unlearner.unlearning_log_[-1]["held_elsewhere"] == {"TracedPipeline": 50}
    assert b"zqheld" in pickle.dumps(in_use) and b"zqheld" in pickle.dumps(part)
    assert b"zqheld" not in pickle.dumps(unlearner.estimator_.steps)
    del in_use, part
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its own model, refitted twice now, is not named
        unlearner.unlearn(sample_id=stp.row_ids(df)[50:55])
        unlearner.unlearn(sample_id=stp.row_ids(df)[55:60])
    assert "held_elsewhere" not in unlearner.unlearning_log_[-1]


def test_each_holder_is_matched_once_per_removal(monkeypatch):
    """A removal that another object's rows matched compared the removed ids with every
    registered object's rows twice (before and after collecting garbage): np.isin over
    each holder's rows, twice. Once is enough (a collection frees objects and makes
    none), and the objects freed by it are still left out."""
    df = _frame(5)
    X, y = df[list("abc")], df["y"]
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    valuer = RowKeeper().fit(X, y)
    calls = []
    held = type(valuer)._held_row_ids

    def counted(self):
        calls.append(id(self))  # (not the object: that would keep the garbage alive)
        return held(self)

    monkeypatch.setattr(type(valuer), "_held_row_ids", counted)
    gc.collect()
    gc.disable()
    try:
        garbage = RowKeeper().fit(X, y)
        garbage.cycle = [garbage]  # freed only by the cyclic collector
        del garbage
        with pytest.warns(UserWarning, match="other fitted objects"):
            unlearner.unlearn(sample_id=stp.row_ids(df)[:5])
    finally:
        gc.enable()
    assert unlearner.unlearning_log_[-1]["held_elsewhere"] == {"RowKeeper": 5}
    assert len(calls) == 2 and id(valuer) in calls  # the live one and the garbage, once
    del valuer


def test_a_model_in_use_that_an_explainer_holds_is_named_with_it():
    """An object held by another one named (the fitted pipeline an explainer explains)
    was left out of the removal's record as named through its holder: the pipeline in
    use, fitted on the removed rows and predicting on, went unnamed, and discarding
    the explainer, as the warning advised, left it as it was."""
    df = _frame(21)
    X, y = df[list("abc")], df["y"]
    in_use = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    explainer = stp.InfluenceExplainer(in_use).fit(X, y)
    unlearner = GradientCorrectionUnlearner(clone(in_use)).fit(X, y)
    with pytest.warns(UserWarning, match="an object 'in' another is held by it") as caught:
        unlearner.unlearn(sample_id=stp.row_ids(df)[:5])
    held = unlearner.unlearning_log_[-1]["held_elsewhere"]
    # the explainer drops its fit (it was named before it could); the model in use stays
    assert held == {"TracedPipeline in InfluenceExplainer": 5}
    assert unlearner.unlearning_log_[-1]["dropped_elsewhere"] == {"InfluenceExplainer": 5}
    assert "TracedPipeline in InfluenceExplainer (5 removed row(s))" in str(caught[0].message)
    del explainer
    gc.collect()
    with pytest.warns(UserWarning, match="other fitted objects"):
        unlearner.unlearn(sample_id=stp.row_ids(df)[5:8])  # still in use: named alone
    assert unlearner.unlearning_log_[-1]["held_elsewhere"] == {"TracedPipeline": 3}
    del in_use


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fitted_on=st.lists(
        st.sets(st.integers(0, N - 1), min_size=30, max_size=N), min_size=1, max_size=4
    ),
    removed=st.sets(st.integers(0, N - 1), min_size=1, max_size=10),
)
def test_removed_rows_held_count_each_row_once_however_many_objects_hold_it(fitted_on, removed):
    """held_elsewhere summed the removed rows each object held: three pipelines fitted on
    the same rows logged {"TracedPipeline": 9} for a removal of 3 rows, and the warnings
    of unlearn and store.erase_rows said "TracedPipeline (9 removed row(s))". Each count
    is now of distinct removed rows. Truth: the rows each pipeline was given to fit."""
    df = _frame(7)
    X, y = df[list("abc")], df["y"]
    r = _positions(removed)
    pipes, truth = [], np.zeros(N, bool)
    for rows in fitted_on:
        p = _positions(rows)
        if len(np.unique(y.iloc[p])) < 2:
            continue
        pipes.append(stp.make_traced_pipeline(StandardScaler(), LogisticRegression()))
        pipes[-1].fit(X.iloc[p], y.iloc[p])
        truth[p] = True
    expected = int(truth[r].sum())
    store = stp.stores.MemoryStore()
    unlearner = GradientCorrectionUnlearner(LogisticRegression(), store=store).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unlearner.unlearn(sample_id=stp.row_ids(df)[r])
    event = unlearner.unlearning_log_[-1]
    assert event.get("held_elsewhere", {}) == ({"TracedPipeline": expected} if expected else {})
    assert all(n <= event["n_removed"] for n in event.get("held_elsewhere", {}).values())
    if expected:
        messages = " ".join(str(w.message) for w in caught)
        assert f"TracedPipeline ({expected} removed row(s))" in messages
    del pipes
