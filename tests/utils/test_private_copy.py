"""What the unlearner, explainer and valuer keep of their training data is the rows as
given: neither a copy=False step writing into them during the fit nor the caller writing
into them afterwards reaches it. Truth: the same computation on a pristine copy."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.utils._private_copy import private_copy, shares_memory


def _two_sources(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(80, 3))
    a[::5, 0] = np.nan
    b = rng.normal(loc=3.0, size=(40, 3))
    b[::4, 0] = np.nan
    ya = (rng.random(80) > 0.5).astype(int)
    yb = (rng.random(40) > 0.3).astype(int)
    return a, b, ya, yb


@pytest.mark.parametrize("preprocessing", ["refit", "keep"])
def test_unlearner_removes_from_the_rows_as_given_when_steps_write_into_them(preprocessing):
    a, b, ya, yb = _two_sources()
    X = pd.concat([stp.from_numpy(a, "cf_a"), stp.from_numpy(b, "cf_b")])
    y = np.r_[ya, yb]
    tight = LogisticRegression(tol=1e-12, max_iter=10_000)
    pipe = stp.make_traced_pipeline(SimpleImputer(copy=False), StandardScaler(copy=False), tight)
    unlearner = stp.GradientCorrectionUnlearner(pipe, preprocessing=preprocessing).fit(X, y)
    assert not X.isna().any().any()  # the steps did write into the caller's frame
    unlearner.unlearn(source_id="cf_b")
    test = pd.DataFrame(np.random.default_rng(1).normal(size=(20, 3)), columns=X.columns)
    names = ["x0", "x1", "x2"]
    if preprocessing == "refit":
        truth = clone(pipe).fit(pd.DataFrame(a, columns=names), ya).decision_function(test.copy())
    else:  # the preprocessing fitted on every row as given, the model refitted on a's
        pre = clone(pipe)[:-1].fit(pd.DataFrame(np.r_[a, b], columns=names))
        model = clone(tight).fit(pre.transform(pd.DataFrame(a.copy(), columns=names)), ya)
        truth = model.decision_function(pre.transform(test.copy()))
    # (copies: the steps write into the rows they transform)
    gap = np.abs(unlearner.decision_function(test.copy()) - truth)
    assert gap.max() < 1e-5


def test_unlearner_is_not_reached_by_writes_to_the_callers_array_after_fit():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + rng.normal(size=120) > 0).astype(int)
    ids = stp.row_ids(stp.from_numpy(X, "written_after_fit"))
    tight = LogisticRegression(tol=1e-12, max_iter=10_000)
    unlearner = stp.GradientCorrectionUnlearner(tight).fit(X, y, sample_id=ids)
    pristine = X.copy()
    X[:] = 0.0  # the caller reuses its buffer
    unlearner.unlearn(sample_id=ids[:30])
    truth = clone(tight).fit(pristine[30:], y[30:])
    test = rng.normal(size=(10, 4))
    assert np.abs(unlearner.decision_function(test) - truth.decision_function(test)).max() < 1e-5


def test_explainer_keeps_the_rows_as_given():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    X[::6, 1] = np.nan
    y = (rng.random(60) > 0.5).astype(int)
    pristine = X.copy()
    train = stp.from_numpy(X, "explained_as_given")
    pipe = stp.make_traced_pipeline(SimpleImputer(copy=False), LogisticRegression()).fit(
        train.copy(), y
    )
    explainer = stp.InfluenceExplainer(pipe).fit(train, y)
    test = rng.normal(size=(4, 3))
    explanation = explainer.explain(test)
    before = explanation.top_scores.copy()
    # the row values an explanation shows are those given to fit, NaN included
    for rank in range(3):
        row = explanation.trace(0, rank)
        np.testing.assert_array_equal(
            np.array(list(row["values"].values()), dtype=float), pristine[row["train_index"]]
        )
    # a bare model: the caller writing into its array later changes no score
    Xb = np.nan_to_num(pristine.copy())
    model = LogisticRegression().fit(Xb, y)
    from sklearn.frozen import FrozenEstimator

    bare = stp.InfluenceExplainer(FrozenEstimator(model)).fit(Xb, y)
    scores = bare.explain(test).top_scores.copy()
    Xb[:] = 1.0
    np.testing.assert_array_equal(bare.explain(test).top_scores, scores)
    np.testing.assert_array_equal(explainer.explain(test).top_scores, before)


def test_valuer_is_not_reached_by_writes_to_the_callers_array():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 3))
    y = (rng.random(50) > 0.5).astype(int)
    Xt, yt = rng.normal(size=(10, 3)), (rng.random(10) > 0.5).astype(int)
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    before = valuer.value(Xt, yt).copy()
    X[:] = 0.0
    np.testing.assert_array_equal(valuer.value(Xt, yt), before)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["array", "frame", "mixed_frame", "sparse", "list"]),
    n=st.integers(1, 6),
)
def test_private_copy_shares_nothing_and_equals_the_data(kind, n):
    values = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    if kind == "array":
        data = values
    elif kind == "frame":
        data = pd.DataFrame(values, columns=list("abc"))
    elif kind == "mixed_frame":
        data = pd.DataFrame({"a": values[:, 0], "s": [str(v) for v in values[:, 1]]})
    elif kind == "sparse":
        data = sp.csr_matrix(values)
    else:
        data = values.tolist()
    copy = private_copy(data)
    if kind in ("frame", "mixed_frame"):
        pd.testing.assert_frame_equal(copy, data)
        assert not shares_memory(copy["a"].to_numpy(), data)
    elif kind == "sparse":
        assert (copy != data).nnz == 0 and not shares_memory(copy, data)
    elif kind == "array":
        np.testing.assert_array_equal(copy, data)
        assert not shares_memory(copy, data)
    else:
        assert copy == data and copy is not data and copy[0] is not data[0]
    # and a view is seen as one
    if kind == "array":
        assert shares_memory(data[:, :2], data)
    if kind == "frame":
        assert shares_memory(data["a"].to_numpy(), data)


def test_targets_and_weights_are_kept_as_given_when_the_caller_reuses_its_arrays():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(90, 3))
    y = (X[:, 0] + rng.normal(size=90) > 0).astype(np.int64)
    w = rng.uniform(0.5, 2.0, size=90)
    y_given, w_given = y.copy(), w.copy()
    tight = LogisticRegression(tol=1e-12, max_iter=10_000)
    frame = stp.from_numpy(X, "targets_reused")
    unlearner = stp.GradientCorrectionUnlearner(tight).fit(frame, y, sample_weight=w)
    explainer = stp.InfluenceExplainer(clone(tight)).fit(frame, y)
    test = rng.normal(size=(6, 3))
    scores = explainer.explain(pd.DataFrame(test, columns=frame.columns)).top_scores.copy()
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y.astype(float))
    values = valuer.value(test, (test[:, 0] > 0).astype(float)).copy()
    y[:] = 1 - y  # the caller reuses both buffers
    w[:] = 1.0
    # (explained before the removal: the explainer, fitted on the removed rows, drops its
    # fit at the removal)
    again = explainer.explain(pd.DataFrame(test, columns=frame.columns)).top_scores
    np.testing.assert_array_equal(again, scores)
    ids = stp.row_ids(frame)
    unlearner.unlearn(sample_id=ids[:20])
    truth = clone(tight).fit(X[20:], y_given[20:], sample_weight=w_given[20:])
    got = unlearner.decision_function(pd.DataFrame(test, columns=frame.columns))
    assert np.abs(got - truth.decision_function(test)).max() < 1e-5
    np.testing.assert_array_equal(valuer.value(test, (test[:, 0] > 0).astype(float)), values)
