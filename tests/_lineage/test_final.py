"""Training rows traced through chains of pandas operations and row-changing steps.

Every row of the files carries a unique ``key``; the truth is the raw text of the files
(the line whose first field is the key), never the library's own ids.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageLostError


def _write_files(tmp_path):
    """Three CSV files (one with comment lines) whose ``key``/``rkey`` is unique per row."""
    rng = np.random.default_rng(0)
    paths = {}
    for name, n, start in (("ward_a", 40, 1000), ("ward_b", 30, 2000)):
        lines = ["key,grp,a,b,c,label"]
        for k in range(n):
            if name == "ward_a" and k % 4 == 1:
                lines.append("# audit comment")
            b = "" if k % 9 == 4 else f"{rng.normal():.3f}"
            lines.append(
                f"{start + k},g{rng.integers(3)},{rng.normal():.3f},{b},{rng.integers(4)},{k % 2}"
            )
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text("\n".join(lines) + "\n")
    lab = ["rkey,c,lab"] + [f"{5000 + c},{c},{c / 4}" for c in range(4)]
    paths["labs"] = tmp_path / "labs.csv"
    paths["labs"].write_text("\n".join(lab) + "\n")
    return paths


def _truth(paths):
    """key -> (file URI, line), read from the raw bytes."""
    out = {}
    for path in paths.values():
        uri = path.resolve().as_uri()
        for line, text in enumerate(path.read_text().split("\n")[1:], start=2):
            if text and not text.startswith("#"):
                out[int(text.split(",")[0])] = (uri, line)
    return out


def _load(paths):
    a = stp.read_csv(paths["ward_a"], comment="#")
    b = stp.read_csv(paths["ward_b"])
    labs = stp.read_csv(paths["labs"])
    return a, b, labs


def _lines_of(frame, truth):
    """For each row, the (uri, line) of every key it holds."""
    keys = [c for c in ("key", "rkey") if c in frame.columns]
    return [
        {truth[int(v)] for v in row if pd.notna(v)} for row in frame[keys].itertuples(index=False)
    ]


def _assert_traced(pipe, rows, truth):
    assert pipe.lineage_.n_samples == len(rows)
    trace = pipe.trace(np.arange(len(rows)))
    named = trace.groupby("train_index")[["uri", "line"]].apply(
        lambda g: set(zip(g["uri"].astype(str), g["line"]))
    )
    assert list(named) == _lines_of(rows, truth)


def _ops(other, labs):
    column = st.sampled_from(["a", "b", "c", "key"])
    seed = st.integers(0, 2**16)
    return st.one_of(
        st.tuples(column, st.booleans()).map(
            lambda p: lambda d: d.sort_values(p[0], ascending=p[1], kind="stable")
        ),
        st.just(lambda d: d.sort_index()),
        st.sampled_from(["grp", "c"]).map(lambda s: lambda d: d.drop_duplicates(subset=[s])),
        st.just(lambda d: d.dropna()),
        st.floats(-1, 1).map(lambda t: lambda d: d.query("a > @t", local_dict={"t": t})),
        st.lists(st.integers(0, 200), min_size=1, max_size=30).map(
            lambda p: lambda d: d.iloc[[i % len(d) for i in p]] if len(d) else d
        ),
        st.lists(st.integers(0, 200), min_size=1, max_size=30).map(
            lambda p: lambda d: d.loc[d.index[[i % len(d) for i in p]]] if len(d) else d
        ),
        st.tuples(st.floats(0.3, 2.0), seed).map(
            lambda p: lambda d: d.sample(frac=p[0], replace=True, random_state=p[1])
        ),
        st.integers(1, 5).map(lambda k: lambda d: d.groupby("grp").head(k)),
        st.integers(0, 3).map(lambda k: lambda d: d.groupby("grp").nth([0, k])),
        st.integers(0, 12).map(lambda k: lambda d: d.groupby("grp").filter(lambda g: len(g) > k)),
        st.integers(1, 4).map(
            lambda k: (
                lambda d: (
                    d.groupby("grp", group_keys=False)[list(d.columns)].apply(
                        lambda g: g.sort_values("a").head(k)
                    )
                    if len(d)
                    else d
                )  # pandas gives apply on no rows a RangeIndex
            )
        ),
        st.booleans().map(
            lambda keys: (
                lambda d: (
                    pd.concat([d, other], keys=["x", "y"]).droplevel(0)
                    if keys
                    else pd.concat([other, d])
                )
            )
        ),
        st.just(lambda d: d.set_index("grp", append=True).reset_index("grp")),
        st.just(lambda d: d.assign(e=[[1, 2]] * len(d)).explode("e").drop(columns="e")),
        st.just(
            lambda d: (
                d.rename(columns={"a": "A"}).astype({"c": "float64"}).rename(columns={"A": "a"})
            )
        ),
        st.just(lambda d: pickle.loads(pickle.dumps(d.copy(deep=False)))),
        st.sampled_from(["left", "inner"]).map(
            lambda how: (
                lambda d: (
                    d
                    if "rkey" in d.columns
                    else stp.merge(d, labs, on="c", how=how, validate="many_to_one")
                )
            )
        ),
    )


def _fit(final, frame):
    """Fit a traced pipeline of kind ``final``; return it and the rows it trained on."""
    X = frame.drop(columns="label").select_dtypes("number").fillna(0.0)
    if final == "classifier":
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
        return pipe.fit(X, frame["label"]), frame
    if final == "filter":  # a step keeps some rows of a DataFrame, for a clusterer
        keep = FunctionTransformer(lambda d: d[d["a"] > 0])
        pipe = stp.make_traced_pipeline(keep, KMeans(2, n_init=1, random_state=0))
        return pipe.fit(X), frame[frame["a"].fillna(0.0) > 0]
    if final == "sort":
        order = FunctionTransformer(lambda d: d.sort_values("a", kind="stable"))
        pipe = stp.make_traced_pipeline(order, KMeans(2, n_init=1, random_state=0))
        return pipe.fit(X), frame.iloc[np.argsort(X["a"].to_numpy(), kind="stable")]
    sampler = RandomUnderSampler(random_state=0)
    pipe = stp.TracedEstimator(make_imb_pipeline(sampler, LogisticRegression()))
    pipe.fit(X, frame["label"])
    return pipe, frame.iloc[pipe.estimator_[0].sample_indices_]


def test_chains_of_operations_trace_each_row_to_the_line_holding_its_key(tmp_path):
    paths = _write_files(tmp_path)
    truth = _truth(paths)
    a, b, labs = _load(paths)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(_ops(b, labs), max_size=5),
        st.sampled_from(["classifier", "filter", "sort", "imblearn"]),
    )
    def check(ops, final):
        frame = a
        for op in ops:
            frame = op(frame)
        frame = frame.dropna(subset=["a"])
        if frame["label"].nunique() < 2 or len(frame) < 4 or (frame["a"] > 0).sum() < 2:
            return
        pipe, rows = _fit(final, frame)
        _assert_traced(pipe, rows, truth)

    check()


def test_lost_ids_in_a_chain_are_refused(tmp_path):
    a, b, _ = _load(_write_files(tmp_path))
    pipe = stp.make_traced_pipeline(LogisticRegression())
    for frame in (
        pd.concat([a, b], ignore_index=True),
        a.sort_values("a").reset_index(drop=True),
        a.reset_index(),
    ):
        with pytest.raises(LineageLostError):
            pipe.fit(frame[["a", "c"]], frame["label"])


def test_a_step_that_drops_rows_without_ids_is_refused_and_nothing_is_stored(tmp_path):
    a, _, _ = _load(_write_files(tmp_path))
    store = stp.stores.MemoryStore()
    drop = FunctionTransformer(lambda d: d[d["a"] > 0].to_numpy())
    pipe = stp.make_traced_pipeline(drop, IsolationForest(random_state=0), store=store)
    with pytest.raises(LineageLostError, match=r"fitted on \d+ rows but 40 were given"):
        pipe.fit(a[["a", "c"]])
    assert store.list_runs().empty
    assert not hasattr(pipe, "lineage_")


def test_a_step_that_reorders_rows_but_not_y_is_refused(tmp_path):
    a, _, _ = _load(_write_files(tmp_path))
    order = FunctionTransformer(lambda d: d.sort_values("a"))
    pipe = stp.make_traced_pipeline(order, LogisticRegression())
    with pytest.raises(LineageError, match="y was passed on unchanged"):
        pipe.fit(a[["a", "c"]], a["label"])
    # the same step on rows already in that order changes nothing: accepted
    ordered = a.sort_values("a")
    pipe.fit(ordered[["a", "c"]], ordered["label"])
    assert np.array_equal(pipe.lineage_.row_ids, stp.row_ids(ordered))


def test_sample_id_is_followed_when_the_rows_reach_the_model_unchanged(tmp_path):
    paths = _write_files(tmp_path)
    a, _, _ = _load(paths)
    # other ids than X carries, deliberately: the same file read under another name
    again = stp.read_csv(paths["ward_a"], source_id="ward_a_again", comment="#")
    ids = stp.row_ids(again)
    keep = FunctionTransformer(lambda d: d)
    pipe = stp.make_traced_pipeline(keep, KMeans(2, n_init=1, random_state=0))
    pipe.fit(a[["a", "c"]], sample_id=ids)
    assert np.array_equal(pipe.lineage_.row_ids, ids)
    # ids that name other records than the rows hold are refused (they were followed,
    # every row traced to another row's line)
    with pytest.raises(LineageError, match="holds the values loaded for ward_a_again line 2 "):
        pipe.fit(a[["a", "c"]], sample_id=ids[::-1].copy())
    # rows dropped by a step: X's own ids cannot be translated to the given ones
    drop = FunctionTransformer(lambda d: d[d["a"] > 0])
    pipe = stp.make_traced_pipeline(drop, KMeans(2, n_init=1, random_state=0))
    with pytest.raises(LineageLostError):
        pipe.fit(a[["a", "c"]], sample_id=ids)


def test_a_final_estimator_that_sends_itself_to_workers_still_fits(tmp_path):
    # Bagging (IsolationForest) pickles itself for its joblib workers mid-fit.
    a, _, _ = _load(_write_files(tmp_path))
    model = IsolationForest(n_estimators=4, n_jobs=2, random_state=0)
    pipe = stp.make_traced_pipeline(StandardScaler(), model).fit(a[["a", "c"]])
    assert np.array_equal(pipe.lineage_.row_ids, stp.row_ids(a))
    assert "fit" not in vars(pipe[-1])
    clone = pickle.loads(pickle.dumps(pipe))
    assert np.array_equal(clone.fit(a[["a", "c"]]).lineage_.row_ids, stp.row_ids(a))


def test_a_frozen_final_estimator_is_refused_before_fitting(tmp_path):
    from sklearn.frozen import FrozenEstimator

    a, b, _ = _load(_write_files(tmp_path))
    a, b = a.dropna(), b.dropna()
    model = LogisticRegression().fit(a[["a", "c"]], a["label"])  # trained on ward_a
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), FrozenEstimator(model), store=store)
    with pytest.raises(LineageError, match="FrozenEstimator"):
        pipe.fit(b[["a", "c"]], b["label"])  # would have named ward_b's lines
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")
    with pytest.raises(LineageError, match="FrozenEstimator"):
        stp.TracedEstimator(FrozenEstimator(model)).fit(b[["a", "c"]], b["label"])


def test_a_warm_started_fit_names_the_run_it_continued(tmp_path):
    from sklearn.ensemble import RandomForestClassifier

    a, b, _ = _load(_write_files(tmp_path))
    a, b = a.dropna(), b.dropna()
    forest = RandomForestClassifier(n_estimators=2, warm_start=True, random_state=0)
    pipe = stp.make_traced_pipeline(StandardScaler(), forest)
    first = pipe.fit(a[["a", "c"]], a["label"]).lineage_
    assert not any("warm_start" in n for n in first.notes)
    # two more trees on ward_b: the first two, trained on ward_a, stay in the model
    pipe.set_params(randomforestclassifier__n_estimators=4).fit(b[["a", "c"]], b["label"])
    assert len(pipe[-1].estimators_) == 4
    [note] = [n for n in pipe.lineage_.notes if "warm_start" in n]
    assert f"(run {first.run_id})" in note
    # a fresh clone (GridSearchCV, cross_validate) starts cold: no note
    fresh = stp.make_traced_pipeline(StandardScaler(), forest.__class__(**forest.get_params()))
    assert not any("warm_start" in n for n in fresh.fit(b[["a", "c"]], b["label"]).lineage_.notes)


@pytest.mark.parametrize("early", [False, True])
def test_an_internal_validation_split_is_named_in_the_notes(tmp_path, early):
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import SGDClassifier

    a, _, _ = _load(_write_files(tmp_path))
    a = a.dropna()
    models = [
        SGDClassifier(early_stopping=early, validation_fraction=0.25, random_state=0),
        GradientBoostingClassifier(
            n_estimators=3, n_iter_no_change=2 if early else None, validation_fraction=0.25
        ),
    ]
    for model in models:
        for traced in (stp.make_traced_pipeline(model), stp.TracedEstimator(model)):
            notes = traced.fit(a[["a", "c"]], a["label"]).lineage_.notes
            held = [n for n in notes if "internal validation split" in n]
            assert len(held) == early and all("fraction 0.25 of its rows" in n for n in held)


@pytest.mark.parametrize("routed", [False, True])
def test_a_validation_set_given_as_x_val_is_named_not_called_a_split(tmp_path, routed):
    """HistGradientBoosting with X_val trains on every row and stops on X_val's rows; the
    run said a fraction of its own rows was held out (and named none of X_val's)."""
    import inspect

    import sklearn
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingClassifier

    if "X_val" not in inspect.signature(HistGradientBoostingClassifier.fit).parameters:
        pytest.skip("HistGradientBoosting takes X_val from scikit-learn 1.7")
    rng = np.random.default_rng(3)
    frames = {}
    for name, n in (("train", 120), ("val", 50)):
        x = rng.normal(size=(n, 2))
        label = (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
        text = "a,b,label\n" + "".join(f"{u:.4f},{v:.4f},{t}\n" for (u, v), t in zip(x, label))
        (tmp_path / f"{name}.csv").write_text(text)
        frames[name] = stp.read_csv(tmp_path / f"{name}.csv", source_id=name)
    X, y = frames["train"][["a", "b"]], frames["train"]["label"]
    X_val, y_val = frames["val"][["a", "b"]], frames["val"]["label"]
    model = HistGradientBoostingClassifier(
        early_stopping=True, max_iter=40, n_iter_no_change=2, random_state=0
    )
    with sklearn.config_context(enable_metadata_routing=routed):
        if routed:
            traced = stp.make_traced_pipeline(
                FunctionTransformer(feature_names_out="one-to-one"),
                clone(model).set_fit_request(X_val=True, y_val=True),
                transform_input=["X_val"],
            )
        else:
            traced = stp.TracedEstimator(model)
        traced.fit(X, y, X_val=X_val, y_val=y_val)
    fitted = traced[-1] if routed else traced.estimator_
    # truth: a fit by hand on every row with that validation set, and one that held out
    # a split of the rows instead
    by_hand = clone(model).fit(X.to_numpy(), y, X_val=X_val.to_numpy(), y_val=y_val)
    split = clone(model).fit(X.to_numpy(), y)
    proba = fitted.predict_proba(X.to_numpy())
    np.testing.assert_array_equal(proba, by_hand.predict_proba(X.to_numpy()))
    assert not np.array_equal(proba, split.predict_proba(X.to_numpy()))
    notes = traced.lineage_.notes
    assert not [n for n in notes if "internal validation split" in n]
    (note,) = [n for n in notes if "X_val" in n]
    assert "as X_val (50 rows" in note and "not among the run's rows" in note
    assert traced.lineage_.row_ids.size == 120
    assert traced.lineage_.fit_params["X_val"]["row_sources"] == {"val": 50}
    assert traced.lineage_.fit_params["y_val"]["row_sources"] == {"val": 50}


def test_a_y_val_out_of_the_order_of_x_val_is_refused(tmp_path):
    """HistGradientBoosting pairs X_val and y_val by position, as X and y."""
    import inspect

    from sklearn.ensemble import HistGradientBoostingClassifier

    if "X_val" not in inspect.signature(HistGradientBoostingClassifier.fit).parameters:
        pytest.skip("HistGradientBoosting takes X_val from scikit-learn 1.7")
    a, b, _ = _load(_write_files(tmp_path))
    X_val, y_val = b[["a", "c"]], b["label"]
    shuffled = y_val.sample(frac=1.0, random_state=1)
    traced = stp.TracedEstimator(HistGradientBoostingClassifier(early_stopping=True))
    with pytest.raises(LineageError, match="y_val is not in the order of X_val"):
        traced.fit(a[["a", "c"]], a["label"], X_val=X_val, y_val=shuffled)
    assert not hasattr(traced, "estimator_")
    traced.fit(a[["a", "c"]], a["label"], X_val=X_val, y_val=shuffled.loc[X_val.index])
    assert traced.lineage_.fit_params["y_val"]["row_sources"] == {"ward_b": len(b)}


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow])
@example(max_samples=0.25, n_estimators=4, bootstrap=True, seed=6)
@given(
    max_samples=st.floats(0.2, 1.0),
    n_estimators=st.integers(1, 4),
    bootstrap=st.booleans(),
    seed=st.integers(0, 50),
)
def test_rows_no_bagged_estimator_drew_are_named_in_the_notes(
    max_samples, n_estimators, bootstrap, seed
):
    # a BaggingRegressor trains each member on a sample of its rows: rows no member
    # drew are listed by the run but were not trained on (before: no note at all). A
    # regressor, as a classifier's member fails on a bag of one class (the example)
    from sklearn.ensemble import BaggingRegressor

    rng = np.random.default_rng(seed)
    X = stp.from_pandas(pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"]), "bag")
    y = rng.normal(size=40)
    model = BaggingRegressor(
        LinearRegression(),
        n_estimators=n_estimators,
        max_samples=max_samples,
        bootstrap=bootstrap,
        random_state=seed,
    )
    traced = stp.make_traced_pipeline(model).fit(X, y)
    # truth: each member's coefficients equal a LogisticRegression refitted on the rows
    # estimators_samples_ names, so those are the rows it trained on
    fitted = traced[-1]
    drawn = np.zeros(40, dtype=bool)
    for member, rows in zip(fitted.estimators_, fitted.estimators_samples_):
        ref = LinearRegression().fit(X.to_numpy()[rows], y[rows])
        np.testing.assert_allclose(member.coef_, ref.coef_, rtol=1e-6)
        drawn[rows] = True
    notes = [n for n in traced.lineage_.notes if "estimators_samples_" in n]
    assert len(notes) == 1
    assert f": {40 - drawn.sum()} of its 40 rows were drawn by none" in notes[0]
    assert "BaggingRegressor" in notes[0]
