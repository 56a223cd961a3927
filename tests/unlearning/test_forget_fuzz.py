"""Forgetting, fuzzed: after a removal no value of a removed row remains, and the
removal reaches what was derived from the removed rows.

Truth is independent of the code under test: marker values planted in the rows to be
removed (numbers and categories no other row can have), searched for in the raw bytes
of what the library keeps or writes, and retrains on the retained rows.
"""

import io
import json
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.impute import KNNImputer, SimpleImputer
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    KBinsDiscretizer,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
    TargetEncoder,
)

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, UnknownSourceError, UnlearningError
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests.unlearning._markers import hits, traced_frame

#: Markers: exact in float32 and float64, far from every other value.
MARK = 1234.56789e3
CAT = "ZQXMARK7"


def test_a_frequent_category_of_removed_rows_leaves_the_run_copy_when_another_takes_its_place():
    """OneHotEncoder(max_categories=3): the removed rows' category was among the most
    frequent; without it another category is, so the features keep their number but not
    their names. The copy of the run named the removed category (it looked for dropped
    names only when the number of features fell)."""
    X, y = traced_frame("renamed")
    X = X.copy()
    X["colour"] = np.where(np.arange(len(X)) % 10 == 0, "beta", "alpha")
    X.iloc[1, X.columns.get_loc("colour")] = "gamma"
    rows = np.r_[3, 7, 50:60, 61:64]
    X.iloc[rows, X.columns.get_loc("colour")] = CAT

    def pipeline():
        encoder = OneHotEncoder(max_categories=3, handle_unknown="infrequent_if_exist")
        pre = ColumnTransformer(
            [("num", SimpleImputer(), ["x0", "x1", "x2"]), ("cat", encoder, ["colour"])]
        )
        store = stp.stores.MemoryStore()
        return stp.make_traced_pipeline(pre, LogisticRegression(), store=store)

    unl = GradientCorrectionUnlearner(pipeline()).fit(X, y)
    assert hits(pickle.dumps(unl.estimator_.lineage_), strings=[CAT])
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    copy = unl.estimator_.lineage_
    assert hits(pickle.dumps(copy), strings=[CAT]) == []
    event = unl.unlearning_log_[-1]
    assert "lists 1 feature name(s) the refitted preprocessing no longer" in event["caveat"]
    assert "under other names" in event["note"]
    # truth: the run of a retrain on the retained rows
    kept = np.setdiff1d(np.arange(len(X)), rows)
    retrain = pipeline().fit(X.iloc[kept], y[kept]).lineage_
    assert copy.feature_lineage == retrain.feature_lineage
    assert [op.features_in for op in copy.ops] == [op.features_in for op in retrain.ops]
    assert [op.features_out for op in copy.ops] == [op.features_out for op in retrain.ops]


def test_the_run_copy_lists_only_the_retained_rows_so_an_explainer_scores_no_removed_row():
    """The copy of the run listed every row of the fit: an InfluenceExplainer of the
    corrected pipeline accepted all of them, scored the removed rows as its training
    rows (with their values in its pickle) and refused the retained rows alone."""
    X, y = traced_frame("explained")
    X = X[["x0", "x1", "x2"]].copy()
    rows = np.array([3, 7, 50])
    X.iloc[rows, 0] = MARK + np.arange(rows.size)
    kept = np.setdiff1d(np.arange(len(X)), rows)

    def pipeline():
        model = LogisticRegression(tol=1e-12, max_iter=1000)  # a retrain at the optimum
        return stp.make_traced_pipeline(SimpleImputer(), StandardScaler(), model)

    unl = GradientCorrectionUnlearner(pipeline()).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    copy = unl.estimator_.lineage_
    np.testing.assert_array_equal(copy.row_ids, stp.row_ids(X)[kept])
    assert copy.input_row_ids is None
    with pytest.raises(ValueError, match="not the data the fitted model was trained on"):
        stp.InfluenceExplainer(unl.estimator_).fit(X, y)
    explainer = stp.InfluenceExplainer(unl.estimator_).fit(X.iloc[kept], y[kept])
    assert hits(pickle.dumps(explainer), X.iloc[rows, 0]) == []
    # truth: the explainer of a retrain on the retained rows
    retrain = stp.InfluenceExplainer(pipeline()).fit(X.iloc[kept], y[kept])
    got = explainer.explain(X.iloc[:4], top_k=5).top(5)
    want = retrain.explain(X.iloc[:4], top_k=5).top(5)
    np.testing.assert_array_equal(got["row_id"], want["row_id"])
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-4, atol=1e-8)
    assert not np.isin(got["row_id"], stp.row_ids(X)[rows]).any()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_regression_forgets_the_singular_values_of_the_removed_rows(
    weighted, fit_intercept
):
    """The correction set coef_ and intercept_ but kept singular_ and rank_ of the
    training matrix with the removed rows in it (a marker row dominates the largest)."""
    X, _ = traced_frame(f"singular_{weighted}_{fit_intercept}")
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    rows = np.array([3, 7, 50])
    X.iloc[rows, 0] = MARK + np.arange(rows.size)
    y = 2.0 * X["x2"].to_numpy() + 1.0
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(X)) if weighted else None
    kept = np.setdiff1d(np.arange(len(X)), rows)
    model = LinearRegression(fit_intercept=fit_intercept)
    unl = GradientCorrectionUnlearner(model).fit(X, y, sample_weight=sw)
    assert unl.estimator_.singular_[0] > MARK
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert unl.unlearning_log_[-1]["method"] == "newton"
    retrain = clone(model).fit(X.iloc[kept], y[kept], None if sw is None else sw[kept])
    np.testing.assert_allclose(unl.estimator_.singular_, retrain.singular_, rtol=1e-10)
    assert unl.estimator_.rank_ == retrain.rank_


def test_a_fitted_estimator_parameter_that_keeps_removed_rows_is_named_and_warned_of():
    """GradientCorrectionUnlearner(fitted_model): the parameter is the user's fitted
    model, referenced unchanged and pickled with the unlearner; a KNNImputer in it keeps
    the removed rows themselves. The removal said nothing of it."""
    X, y = traced_frame("given_fitted")
    X = X[["x0", "x1", "x2"]].copy()
    rows = np.array([3, 7, 50])
    X.iloc[rows, 0] = MARK + np.arange(rows.size)
    marks = X.iloc[rows, 0]
    fitted = make_pipeline(KNNImputer(n_neighbors=2), LogisticRegression()).fit(X, y)
    unl = GradientCorrectionUnlearner(fitted).fit(X, y)
    with pytest.warns(UserWarning, match="the estimator parameter is a fitted model"):
        unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert "may have been fitted on removed rows" in unl.unlearning_log_[-1]["caveat"]
    assert hits(pickle.dumps(unl), marks)  # the caveat is true
    assert hits(pickle.dumps(unl.estimator_), marks) == []
    # a clone, as the caveat asks: nothing to say, nothing kept
    unl = GradientCorrectionUnlearner(clone(fitted)).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert "caveat" not in unl.unlearning_log_[-1]
    assert hits(pickle.dumps(unl), marks) == []
    # a traced model fitted on other rows keeps nothing of these
    other = stp.make_traced_pipeline(SimpleImputer(), LogisticRegression())
    other.fit(X.iloc[60:], y[60:])
    unl = GradientCorrectionUnlearner(other).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert "fitted model" not in unl.unlearning_log_[-1].get("caveat", "")
    with pytest.warns(UserWarning, match="the estimator parameter is a fitted model"):
        unl.unlearn(sample_id=stp.row_ids(X)[[70]])
    assert "was fitted on removed rows" in unl.unlearning_log_[-1]["caveat"]


def _numbers_of(X, rows):
    """Marker numbers planted in ``rows`` (column 0), as float64."""
    return np.asarray(X)[rows, 0].astype(np.float64)


def _plant(X, rows, dtype=np.float64):
    X = X.copy()
    X.iloc[rows, 0] = MARK + np.arange(len(rows))
    if "colour" in X.columns:
        X.iloc[rows, X.columns.get_loc("colour")] = [f"{CAT}{i}" for i in range(len(rows))]
    return X.astype({c: dtype for c in ("x0", "x1", "x2")})


MODELS = ["logistic", "multinomial", "ridge", "ridge_classifier", "sgd", "linear"]


def _model(kind):
    return {
        "logistic": LogisticRegression(C=0.5),
        "multinomial": LogisticRegression(C=0.5),
        "ridge": Ridge(alpha=0.3),
        "ridge_classifier": RidgeClassifier(),
        "sgd": SGDClassifier(loss="log_loss", alpha=0.01, random_state=0),
        "linear": LinearRegression(),
    }[kind]


def _kbins(**params):
    """KBinsDiscretizer with ``quantile_method="linear"`` (scikit-learn >= 1.7 warns when it
    is left out; 1.6 has no such parameter and bins that way)."""
    est = KBinsDiscretizer(**params)
    if "quantile_method" in est.get_params():
        est.set_params(quantile_method="linear")
    return est


def _preprocessing(kind):
    numbers = {
        "scale": StandardScaler(),
        "bins": _kbins(n_bins=3, encode="onehot-dense"),
        "poly": make_pipeline(PolynomialFeatures(2), StandardScaler()),
    }[kind]
    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), numbers), ["x0", "x1", "x2"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
            ("target", TargetEncoder(), ["colour"]),
        ]
    )


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(
        ["logistic", "multinomial", "ridge", "ridge_classifier", "sgd", "linear"]
    ),
    pre=st.sampled_from([None, "scale", "bins", "poly"]),
    numpy_input=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
    requests=st.lists(
        st.tuples(st.sampled_from(["sample_id", "source_id", "mask"]), st.integers(0, 10**6)),
        min_size=1,
        max_size=3,
    ),
)
def test_no_marker_survives_any_sequence_of_removals(model, pre, numpy_input, dtype, requests):
    X, y = traced_frame("fuzz", n=(24, 18, 18))
    if model in ("ridge", "linear"):
        y = X["x2"].fillna(0).to_numpy() + y
    elif model == "multinomial":
        y = y + (X["x2"].to_numpy() > 0.5)
    numbers_only = pre is None or numpy_input
    X = X[["x0", "x1", "x2"]].fillna(0.0) if numbers_only else X
    ids = stp.row_ids(X)
    rng = np.random.default_rng(requests[0][1])
    marked = rng.choice(len(X), size=6, replace=False)
    X = _plant(X, marked, dtype)
    marks = _numbers_of(X, marked)
    cats = [f"{CAT}{i}" for i in range(marked.size)] if not numbers_only else []
    if pre is None:
        estimator = _model(model)
    elif numpy_input:
        estimator = make_pipeline(StandardScaler(), _model(model))
    else:
        estimator = stp.make_traced_pipeline(_preprocessing(pre), _model(model))
    fit_X = X.to_numpy() if numpy_input else X
    unl = GradientCorrectionUnlearner(estimator, max_iter=50).fit(fit_X, y, sample_id=ids)
    removed = np.zeros(len(X), bool)
    for i, (how, seed) in enumerate(requests):
        rng = np.random.default_rng(seed)
        live = np.flatnonzero(~removed)
        if i == len(requests) - 1:  # the last request takes every marked row left
            take = np.intersect1d(marked, live)
            if take.size == 0:
                continue
            how = "sample_id" if how == "source_id" else how
        else:
            take = rng.choice(live, size=min(3, live.size - 1), replace=False)
        if how == "source_id":
            source = f"fuzz_{int(rng.integers(0, 3))}"
            of_source = np.flatnonzero(np.char.startswith(_sources(ids), source))
            if not np.setdiff1d(live, of_source).size or not np.isin(of_source, live).any():
                continue
            unl.unlearn(source_id=source)
            take = np.intersect1d(of_source, live)
        elif how == "mask":
            mask = np.zeros(len(X), bool)
            mask[take] = True
            unl.unlearn(mask=mask)
        else:
            unl.unlearn(sample_id=ids[take])
        removed[take] = True
        np.testing.assert_array_equal(unl.retained_mask_, ~removed)
    assert removed[marked].all()
    blob = pickle.dumps(unl)
    assert hits(blob, marks, cats) == []
    buffer = io.BytesIO()
    joblib.dump(unl, buffer)
    assert hits(buffer.getvalue(), marks, cats) == []
    shown = f"{unl!r}{unl.unlearning_log_!r}{unl.unlearning_log_}".encode()
    assert hits(shown, marks, cats) == []
    assert unl.predict(fit_X[:3]).shape == (3,)


def _sources(ids):
    return np.array([str(s) for s in stp.row_lineage(ids)["source_id"]])


REFUSED = {
    "an unknown source": ({"source_id": "zq_never_registered"}, UnknownSourceError, "unknown"),
    "a source never trained on": (
        {"source_id": "refused_other_0"},
        UnlearningError,
        "it was never trained on",
    ),
    "rows never trained on": ({"sample_id": "other"}, UnlearningError, "never trained on"),
    "a row removed before": ({"sample_id": "removed"}, UnlearningError, "already removed"),
    "a source removed before": (
        {"source_id": "refused_0"},
        UnlearningError,
        "all removed before",
    ),
    "every retained row": ({"sample_id": "retained"}, UnlearningError, "every training row"),
    "every row by mask": ({"mask": "retained"}, UnlearningError, "every training row"),
    "nothing": ({"sample_id": "none"}, UnlearningError, "names no retained"),
    "float ids": ({"sample_id": "float"}, TypeError, "int64 row ids"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.integers(0, 2))
def test_a_refused_request_says_why_and_changes_nothing_stored_or_held(case, first):
    X, y = traced_frame("refused", n=(12, 12, 12))
    other, _ = traced_frame("refused_other", n=(5, 5, 5))
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    ids = stp.row_ids(X)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    unl = GradientCorrectionUnlearner(pipe).fit(X, y)
    unl.unlearn(source_id="refused_0")
    unl.unlearn(sample_id=ids[[12 + first, 30]])
    retained = unl.retained_mask_.copy()
    kwargs, error, message = REFUSED[case]
    value = next(iter(kwargs.values()))
    value = {
        "other": stp.row_ids(other)[[first]],
        "removed": ids[[12 + first, 13 + first]],
        "retained": ids[retained] if "sample_id" in kwargs else retained,
        "none": np.empty(0, np.int64),
        "float": ids[[14]].astype(np.float64),
    }.get(value, value)
    kwargs = {next(iter(kwargs)): value}
    before = (pickle.dumps(unl), pickle.dumps(store.events()), store.list_runs().to_dict())
    with pytest.raises(error, match=message):
        unl.unlearn(**kwargs)
    after = (pickle.dumps(unl), pickle.dumps(store.events()), store.list_runs().to_dict())
    assert after == before


def test_a_source_whose_rows_are_all_removed_leaves_the_run_copy_and_its_exports():
    """After a whole source was removed, the copy of the run still named it among the
    model's sources, so an OpenLineage event of the corrected model listed it as input."""
    from sktraceprop.exporters import to_openlineage

    X, y = traced_frame("whole")
    X = X[["x0", "x1", "x2"]].fillna(0.0)

    def pipeline():
        return stp.make_traced_pipeline(StandardScaler(), LogisticRegression())

    unl = GradientCorrectionUnlearner(pipeline()).fit(X, y)
    unl.unlearn(source_id="whole_1")
    copy = unl.estimator_.lineage_
    kept = stp.row_lineage(X)["source_id"].astype(str).ne("whole_1").to_numpy()
    retrain = pipeline().fit(X[kept], y[kept]).lineage_  # truth
    assert sorted(copy.source_ids()) == sorted(retrain.source_ids()) == ["whole_0", "whole_2"]
    assert copy.source_counts().to_dict() == retrain.source_counts().to_dict()

    def inputs(run):
        return sorted(d["name"] for d in to_openlineage(run)["inputs"])

    assert inputs(copy) == inputs(retrain) == ["whole_0", "whole_2"]


def test_a_bare_model_is_corrected_in_place_so_what_was_derived_from_it_sees_the_removal():
    """A bare model was swapped for a corrected copy: a reference to estimator_ kept
    predicting with the removed rows' influence, and an explainer fitted on it before the
    removal went on explaining that model, while a pipeline's explainer refused."""
    X, y = traced_frame("in_place")
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    rows = np.arange(0, 30)
    kept = np.setdiff1d(np.arange(len(X)), rows)
    model = LogisticRegression(tol=1e-12, max_iter=1000)
    unl = GradientCorrectionUnlearner(model).fit(X, y)
    held = unl.estimator_
    explainer = stp.InfluenceExplainer(held).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert held is unl.estimator_
    retrain = clone(model).fit(X.iloc[kept], y[kept])  # truth
    np.testing.assert_allclose(
        held.decision_function(X), retrain.decision_function(X), rtol=1e-6, atol=1e-8
    )
    # (the explainer, fitted on the removed rows, dropped its fit at the removal: it
    # refuses naming it, before it could find the model changed)
    with pytest.raises(ValueError, match=r"unlearn \(event 0 of its unlearning_log_\)"):
        explainer.explain(X.iloc[:2], top_k=3)


def test_no_pipeline_cache_keeps_steps_fitted_on_removed_rows(tmp_path):
    """Pipeline(memory=...) had the unlearner's fit write the fitted steps to joblib
    files (OneHotEncoder categories of removed rows among them) that no removal reached."""
    X, y = traced_frame("cached")
    X = _plant(X, np.array([3, 7, 50]))
    cats = [f"{CAT}{i}" for i in range(3)]
    inner, numbers = str(tmp_path / "inner"), ["x0", "x1", "x2"]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler(), memory=inner), numbers),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
        ]
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), memory=str(tmp_path / "outer"))
    with pytest.warns(UserWarning, match="fits without the pipeline cache"):
        unl = GradientCorrectionUnlearner(pipe).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[[3, 7, 50]])
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert hits(written, _numbers_of(X, [3, 7, 50]), cats) == []
    assert pipe.get_params()["memory"] == str(tmp_path / "outer")  # the user's, unchanged
    # the same model as without a cache
    plain = clone(pipe).set_params(memory=None, columntransformer__num__memory=None)
    plain = GradientCorrectionUnlearner(plain).fit(X, y)
    plain.unlearn(sample_id=stp.row_ids(X)[[3, 7, 50]])
    np.testing.assert_allclose(unl.decision_function(X), plain.decision_function(X))


def test_a_new_fit_on_rows_this_unlearner_removed_says_so():
    """fit after unlearn() starts over: rows removed on request are trained on again and
    the log that named them is reset; nothing said it."""
    X, y = traced_frame("fit_again")
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    ids = stp.row_ids(X)
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    unl.unlearn(sample_id=ids[[3, 7]])
    unl.unlearn(source_id="fit_again_2")
    with pytest.warns(UserWarning, match="trains on 32 row"):
        unl.fit(X, y)
    assert unl.retained_mask_.all() and unl.unlearning_log_ == []
    # rows kept out by forget= are not trained on again: nothing to say of them; the
    # rows of fit_again_2 its second removal took are, by the refit-on-removed check
    # (RefitOnRemovedWarning, naming them alone)
    unl.unlearn(sample_id=ids[[3, 7]])
    for fit in (
        lambda: unl.set_params(forget=ids[[3, 7]].tolist()).fit(X, y),
        # (with forget= still set, this fit would say that it holds no row it names)
        lambda: unl.set_params(forget=None).fit(
            X.drop(index=X.index[[3, 7]]), np.delete(y, [3, 7])
        ),
    ):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            fit()
        # (fillna above changed x1 after loading: each removal says so, rightly)
        said = [str(w.message) for w in record if "input column(s) x1" not in str(w.message)]
        assert len(said) == 1 and said[0].startswith("this fit of"), said
        assert "trains on 30 row(s) removed" in said[0] and "fit_again_0" not in said[0]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(MODELS),
    pre=st.sampled_from(["scale", "bins", "poly"]),
    seed=st.integers(0, 10**6),
    n_requests=st.integers(1, 3),
)
def test_no_marker_in_the_store_file_or_the_exports_after_removals(
    tmp_path_factory, model, pre, seed, n_requests
):
    """The raw bytes of the SQLite file, and the OpenLineage event and Parquet tables of
    the unlearner's copy of the run, hold no marker; the stored run (append-only) lists
    the marker categories as feature names only when the events say so."""
    from sktraceprop.exporters import to_openlineage, to_parquet

    X, y = traced_frame("exported", n=(24, 18, 18))
    regression = model in ("ridge", "linear")
    if regression:
        y = X["x2"].fillna(0).to_numpy() + y
    elif model == "multinomial":
        y = y + (X["x2"].to_numpy() > 0.5)
    rng = np.random.default_rng(seed)
    marked = rng.choice(len(X), size=5, replace=False)
    X = _plant(X, marked)
    marks = _numbers_of(X, marked)
    if regression:
        y = y.astype(np.float64)
        y[marked] = 7654.321e3 + np.arange(marked.size)
        marks = np.r_[marks, y[marked]]
    cats = [f"{CAT}{i}" for i in range(marked.size)]
    where = tmp_path_factory.mktemp("store")
    store = stp.stores.SQLiteStore(where / "lineage.db")
    pipe = stp.make_traced_pipeline(_preprocessing(pre), _model(model), store=store)
    unl = GradientCorrectionUnlearner(pipe, max_iter=50).fit(X, y)
    for chunk in np.array_split(rng.permutation(marked), n_requests):
        unl.unlearn(sample_id=stp.row_ids(X)[chunk])
    copy = unl.estimator_.lineage_
    assert hits(json.dumps(to_openlineage(copy)).encode(), marks, cats) == []
    to_parquet(copy, where / "parquet")
    written = b"".join(p.read_bytes() for p in (where / "parquet").rglob("*") if p.is_file())
    assert hits(written, marks, cats) == []
    store.close()
    raw = b"".join(p.read_bytes() for p in where.glob("lineage.db*"))
    caveats = " ".join(e.get("caveat", "") for e in unl.unlearning_log_)
    assert hits(raw, marks[: marked.size]) == []
    if hits(raw, [], cats):
        assert "feature name(s) the refitted preprocessing no longer outputs" in caveats
    if regression and hits(raw, marks[marked.size :]):
        # the largest targets: each marked source's stored max, named as only removed
        # rows' by the removal that took it
        assert "value(s) only removed rows have" in caveats
        for k in np.unique(np.searchsorted([24, 42], marked, side="right")):
            assert f"max of 'exported_{k}'" in caveats


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scaled_values_of_removed_rows_leave_a_kept_preprocessing_correction(dtype):
    """With preprocessing="keep" the correction holds the final step's features: the
    removed rows' scaled values, computed here with NumPy from the fit's mean and
    standard deviation, are in its pickle before the removal and nowhere after."""
    X, y = traced_frame(f"scaled_{np.dtype(dtype).name}")
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    rows = np.array([3, 7, 50])
    X = _plant(X, rows, dtype)
    A = X.to_numpy()
    scaled = ((A - A.mean(axis=0)) / A.std(axis=0))[rows].astype(np.float64).ravel()
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    unl = GradientCorrectionUnlearner(pipe, preprocessing="keep").fit(X, y)
    assert hits(pickle.dumps(unl), scaled)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert hits(pickle.dumps(unl), np.r_[scaled, _numbers_of(X, rows)]) == []


@pytest.mark.parametrize("traced", [False, True])
def test_steps_fitted_outside_on_sources_of_removed_rows_are_named(traced):
    """A scaler fitted per source outside the pipeline (TracedEstimator) standardised the
    retained rows of a source with the mean and scale of its removed rows too; the
    removal corrected the model and said nothing of it."""
    X, y = traced_frame(f"outside_{traced}")
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    source = stp.row_lineage(X)["source_id"].astype(str).to_numpy()
    parts = []
    for k in (0, 1):  # source 2 is not scaled outside
        scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        parts.append(scaler.fit_transform(X[source == f"outside_{traced}_{k}"]))
    Xs = pd.concat([*parts, X[source == f"outside_{traced}_2"]])
    source = stp.row_lineage(Xs)["source_id"].astype(str).to_numpy()
    model = LogisticRegression()
    unl = GradientCorrectionUnlearner(stp.make_traced_pipeline(model) if traced else model)
    unl.fit(Xs, y)
    ids = stp.row_ids(Xs)
    with pytest.warns(UserWarning, match="fitted outside the model"):
        unl.unlearn(sample_id=ids[[2, 5]])  # rows of source 0
    event = unl.unlearning_log_[-1]
    left = int(np.sum(source == f"outside_{traced}_0")) - 2
    assert event["steps_fitted_outside_over_removed_rows"] == {
        f"standardscaler@outside_{traced}_0": left
    }
    assert f"'standardscaler@outside_{traced}_0' ({left} rows)" in event["caveat"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unl.unlearn(sample_id=ids[source == f"outside_{traced}_2"][:3])
    assert "steps_fitted_outside_over_removed_rows" not in unl.unlearning_log_[-1]


BAD_FORGET = {
    "an unknown source": (["zq_no_such_source"], UnknownSourceError),
    "a row id and an unknown source": ([0, "zq_no_such_source"], UnknownSourceError),
    "an id of no source": ([12345], UnknownSourceError),
    "an id past its source's last row": ([-1], LineageError),
    "a bool": ([True], TypeError),
    "a float": ([0, 1.5], TypeError),
    "every row": (["bad_forget_0", "bad_forget_1", "bad_forget_2"], UnlearningError),
}


@pytest.mark.parametrize("case", sorted(BAD_FORGET))
def test_a_forget_that_cannot_be_honoured_leaves_nothing_fitted_or_stored(case):
    """fit(forget=...) validated the request only after fitting: the run was stored and
    the unlearner stayed fitted on every row, those it was asked to forget included (a
    valid id beside a mistyped source was not removed either); an id of no source was
    silently ignored."""
    X, y = traced_frame("bad_forget", n=(12, 12, 12))
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    ids = stp.row_ids(X)
    forget, error = BAD_FORGET[case]
    forget = [int(ids[3]) if f == 0 else f for f in forget]
    if forget == [-1]:
        forget = [int(ids[-1]) + 1000]  # source bad_forget_2 has 12 rows
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    unl = GradientCorrectionUnlearner(pipe, forget=forget)
    with pytest.raises(error):
        unl.fit(X, y)
    assert store.list_runs().empty and store.events() == []
    with pytest.raises(NotFittedError):
        unl.predict(X)


def test_grid_search_and_clone_of_an_unlearner_keep_no_marker():
    """GridSearchCV over an unlearner with forget=: cv_results_, best_estimator_ and the
    search's pickle hold no value of the forgotten rows; nor does a clone."""
    from sklearn.model_selection import GridSearchCV

    X, y = traced_frame("searched")
    rows = np.array([3, 7, 50, 81])
    X = _plant(X, rows)
    marks, cats = _numbers_of(X, rows), [f"{CAT}{i}" for i in range(rows.size)]
    pipe = make_pipeline(_preprocessing("scale"), LogisticRegression())
    forget = stp.row_ids(X)[rows].tolist()
    search = GridSearchCV(
        GradientCorrectionUnlearner(pipe, forget=forget),
        {"estimator__logisticregression__C": [0.3, 1.0]},
        cv=3,
    ).fit(X, y)
    assert search.best_estimator_.unlearning_log_[-1]["n_removed"] == rows.size
    assert hits(pickle.dumps(search), marks, cats) == []
    assert hits(pickle.dumps(search.cv_results_), marks, cats) == []
    assert hits(pickle.dumps(clone(search.best_estimator_)), marks, cats) == []
    # the search can fail: the data it was given holds the markers
    assert hits(pickle.dumps(X), marks, cats)


def test_the_run_copy_exports_without_the_store_and_says_why_not_with_it(tmp_path):
    from sktraceprop.exporters import to_openlineage

    X, y = traced_frame("exported_copy")
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    store = stp.stores.SQLiteStore(tmp_path / "lineage.db")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    unl = GradientCorrectionUnlearner(pipe).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[[1, 2]])
    copy = unl.estimator_.lineage_
    with pytest.raises(LineageError, match="an unlearner's copy of a run"):
        to_openlineage(copy, store=store)
    stored = store.load_run(unl.run_id_)
    assert to_openlineage(stored, store=store)["run"]["runId"] == unl.run_id_
    assert to_openlineage(copy)["run"]["runId"] == unl.run_id_
    # the copy's training rows are the retained ones, the stored run's every row
    assert copy.n_samples == stored.n_samples - 2 == len(X) - 2
    # training rows 0 and 1 of the corrected model: lines 1 and 4 (2 and 3 were removed)
    assert unl.estimator_.trace([0, 1])["line"].tolist() == [1, 4]


def test_the_witness_values_kept_in_the_process_forget_the_removed_rows():
    """Each load keeps the values of a few hundred rows in this process, to notice
    columns changed later (every row of a small frame): the removed rows' values,
    markers loaded with the data, stayed there after the removal."""
    from sktraceprop._lineage._witness import WITNESSES

    def kept():
        return pickle.dumps(
            {k: [v[0], [vars_of(w) for w in v[1]]] for k, v in WITNESSES._by_code.items()}
        )

    def vars_of(load):
        return {k: getattr(load, k) for k in load.__slots__}

    rng = np.random.default_rng(5)
    visits = pd.DataFrame({"patient": rng.integers(0, 8, 50), "x0": rng.normal(size=50)})
    visits.loc[[3, 7], "x0"] = [MARK, MARK + 1]
    patients = pd.DataFrame({"patient": np.arange(8), "x1": rng.normal(size=8)})
    patients.loc[5, "x1"] = MARK + 2
    visits = stp.from_pandas(visits, "witnessed_visits")
    patients = stp.from_pandas(patients, "witnessed_patients")
    X = stp.merge(visits, patients, on="patient").drop(columns="patient")
    y = (X["x0"].to_numpy() > 0).astype(int)
    marks = [MARK, MARK + 1, MARK + 2]
    assert hits(kept(), marks) == marks  # loaded with the data: the search can fail
    unl = GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    )
    unl.fit(X, y)
    merged = stp.row_lineage(X)
    with_marks = merged["row_id"].isin(stp.row_ids(visits)[[3, 7]]).to_numpy()
    unl.unlearn(sample_id=stp.row_ids(X)[np.unique(merged["row"][with_marks])])
    unl.unlearn(sample_id=stp.row_ids(patients)[[5]])  # a parent: its merged rows go
    assert hits(kept(), marks) == []
    # the rows kept are still compared: a column changed after loading is still noticed
    X2 = X.copy()
    X2["x0"] = X2["x0"] * 2.0
    refit = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X2, y)
    assert any(
        "x0" in note and "differ from what was loaded" in note for note in refit.lineage_.notes
    )


@pytest.mark.parametrize("kind", ["bare", "pipeline"])
def test_a_model_without_a_run_is_explained_by_the_rows_it_still_holds(kind):
    """A bare model (or a plain sklearn Pipeline) an unlearner corrected has no run: the
    explainer refused nothing and scored the removed rows as training rows. It now
    knows the rows the model holds, whether given the unlearner, its estimator_, or an
    unfitted unlearner to fit, and scores as the explainer of a retrain does."""
    X, y = traced_frame("bare")
    X = X[["x0", "x1", "x2"]].fillna(0.0)
    rows = np.array([3, 7, 50, 51])
    kept = np.setdiff1d(np.arange(len(X)), rows)
    ids = stp.row_ids(X)

    def model():
        est = LogisticRegression(tol=1e-12, max_iter=1000)  # a retrain at the optimum
        return est if kind == "bare" else make_pipeline(StandardScaler(), est)

    unl = GradientCorrectionUnlearner(model(), forget=list(ids[rows])).fit(X, y)
    for fitted in (unl, unl.estimator_):
        with pytest.raises(ValueError, match="not the data the fitted model was trained on"):
            stp.InfluenceExplainer(fitted).fit(X, y)
    retrain = stp.InfluenceExplainer(model()).fit(X.iloc[kept], y[kept])
    want = retrain.explain(X.iloc[:4], top_k=5).top(5)
    for explainer in (
        stp.InfluenceExplainer(unl).fit(X[unl.retained_mask_], y[unl.retained_mask_]),
        stp.InfluenceExplainer(unl.estimator_).fit(X.iloc[kept], y[kept]),
        stp.InfluenceExplainer(GradientCorrectionUnlearner(model(), forget=list(ids[rows]))).fit(
            X, y
        ),
    ):
        assert explainer.n_train_ == kept.size
        np.testing.assert_array_equal(explainer.train_row_ids_, ids[kept])
        got = explainer.explain(X.iloc[:4], top_k=5).top(5)
        np.testing.assert_array_equal(got["row_id"], want["row_id"])
        np.testing.assert_allclose(got["score"], want["score"], rtol=1e-4, atol=1e-8)
    # a model changed after the unlearner (refitted by the user) is not its record
    unl.estimator_.fit(X, y)
    stp.InfluenceExplainer(unl.estimator_).fit(X, y)
    # untraced data: a subset has new ids, so it cannot be matched, and the error says why
    plain = X.to_numpy()
    unl = GradientCorrectionUnlearner(model()).fit(plain, y)
    unl.unlearn(mask=np.isin(np.arange(len(X)), rows))
    with pytest.raises(ValueError, match="carries no row ids"):
        stp.InfluenceExplainer(unl).fit(plain[kept], y[kept])
