"""After a removal, no value of a removed row remains in the unlearner or its store.

Marker values are planted in the rows to be removed (numbers no other row has, and a
category only they have); every byte of the pickled unlearner, of the events and of
the store's file is then searched for them. Before the removal the markers are there,
so each search can fail.
"""

import io
import json
import pickle
import struct
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import KNNImputer, SimpleImputer
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.stores import MemoryStore, SQLiteStore
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests.unlearning._markers import hits, traced_frame

N_ROWS = (40, 30, 30)
#: Markers: exact in float32 and float64, far from every other value.
MARK = 900_000.5


def _plant(X, rows):
    """Marker numbers and categories in ``rows`` (positions); returns the markers."""
    X = X.copy()
    numbers = MARK + np.arange(len(rows), dtype=np.float64)
    categories = [f"zqmarker{i}" for i in range(len(rows))]
    X.iloc[rows, X.columns.get_loc("x0")] = numbers
    X.iloc[rows, X.columns.get_loc("colour")] = categories
    return X, numbers, categories


def _encoder():
    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["x0", "x1", "x2"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
        ]
    )


def _estimator(kind, store=None):
    if kind == "pipeline":
        return make_pipeline(_encoder(), LogisticRegression(C=0.5))
    if kind == "traced":
        return stp.make_traced_pipeline(_encoder(), LogisticRegression(C=0.5), store=store)
    return LogisticRegression(C=0.5)


def _request(kind, X, rows):
    ids = stp.row_ids(X)
    if kind == "sample_id":
        return {"sample_id": ids[rows]}
    mask = np.zeros(len(X), bool)
    mask[rows] = True
    return {"mask": mask}


def _pickled(obj):
    """``pickle.dumps(obj)`` with every store left out (stores are searched apart)."""
    from sktraceprop.stores._base import BaseStore

    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            return "a store" if isinstance(o, BaseStore) else None

    buffer = io.BytesIO()
    Pickler(buffer).dump(obj)
    return buffer.getvalue()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.integers(0, sum(N_ROWS) - 1), min_size=1, max_size=12, unique=True),
    kind=st.sampled_from(["pipeline", "traced", "bare"]),
    request=st.sampled_from(["sample_id", "mask"]),
    at_fit=st.booleans(),
)
def test_no_value_of_a_removed_row_remains_in_the_pickle(rows, kind, request, at_fit):
    X, y = traced_frame("marked", n=N_ROWS)
    X, numbers, categories = _plant(X, rows)
    if kind == "bare":
        X, categories = X[["x0", "x2"]], []
    store = MemoryStore()
    unl = GradientCorrectionUnlearner(_estimator(kind, store), store=store)
    if at_fit:
        unl.set_params(forget=stp.row_ids(X)[rows].tolist()).fit(X, y)
    else:
        unl.fit(X, y)
        # the markers are there before the removal: the search below can fail
        assert hits(_pickled(unl), numbers[:1], categories[:1])
        unl.unlearn(**_request(request, X, rows))
    assert hits(_pickled(unl), numbers, categories) == []
    event = unl.unlearning_log_[-1]
    assert event["n_removed"] == len(rows)
    stored = json.dumps([e["payload"] for e in store.events()]).encode()
    assert hits(stored, numbers, categories) == []
    # The store's run record (append-only, written at fit) holds no removed number; it
    # lists one-hot features of the marker categories, which the event says.
    in_store = pickle.dumps(store)
    assert hits(in_store, numbers) == []
    if hits(in_store, [], categories):
        assert "feature name(s) the refitted preprocessing no longer outputs" in event["caveat"]
    if kind == "traced":
        # the copy of the run describes the retained rows: as counted on them alone
        from sktraceprop._lineage._stats import source_stats

        kept = np.setdiff1d(np.arange(len(X)), rows)
        truth = source_stats(X.iloc[kept], y[kept], stp.row_ids(X)[kept], classes=True)
        copy = dict(unl.estimator_.lineage_.source_stats)
        assert copy.pop("retained")["n_rows"] == kept.size
        assert copy == truth
    # still a working model after it
    assert unl.predict(X).shape == (len(X),)


def test_store_file_holds_no_removed_value_and_the_event_names_what_the_run_keeps(tmp_path):
    X, y = traced_frame("stored", n=N_ROWS)
    rows = np.arange(5, 12)
    X, numbers, categories = _plant(X, rows)
    store = SQLiteStore(tmp_path / "lineage.db")
    unl = GradientCorrectionUnlearner(_estimator("traced", store)).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert hits(raw, numbers) == []
    # The run record (append-only) lists the one-hot features of the marker categories,
    # which only removed rows had: the event says so, without naming them.
    assert hits(raw, [], categories) == categories
    event = unl.unlearning_log_[-1]
    said = f"lists {len(rows)} feature name(s) the refitted preprocessing no longer outputs"
    assert said in event["caveat"]
    assert hits(json.dumps(event.payload()).encode(), numbers, categories) == []
    # the unlearner's own copy of the run no longer lists them
    assert hits(pickle.dumps(unl.estimator_.lineage_), [], categories) == []
    assert hits(_pickled(unl), numbers, categories) == []


def test_kept_preprocessing_is_named_in_the_caveat_and_really_keeps_rows():
    """``preprocessing="keep"`` is the documented exception: the caveat must be true."""
    X, y = traced_frame("kept", n=N_ROWS)
    rows = np.arange(3, 9)
    X, numbers, _ = _plant(X, rows)
    X = X[["x0", "x1", "x2"]]
    pipe = Pipeline([("impute", KNNImputer(n_neighbors=3)), ("ridge", Ridge())])
    unl = GradientCorrectionUnlearner(pipe, preprocessing="keep").fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert "such as KNNImputer" in unl.unlearning_log_[-1]["caveat"]
    assert hits(pickle.dumps(unl.estimator_[0]), numbers)  # the imputer keeps the rows
    # ... and nothing else does: the correction itself holds only the retained rows
    assert hits(pickle.dumps(unl._method), numbers) == []
    refitted = GradientCorrectionUnlearner(pipe).fit(X, y)
    refitted.unlearn(sample_id=stp.row_ids(X)[rows])
    assert "caveat" not in refitted.unlearning_log_[-1]
    assert hits(pickle.dumps(refitted), numbers) == []


def test_rows_merged_from_a_removed_parent_are_gone():
    rng = np.random.default_rng(1)
    visits = stp.from_pandas(
        pd.DataFrame({"patient": rng.integers(0, 10, 60), "x0": rng.normal(size=60)}),
        "visits_marked",
    )
    patients = pd.DataFrame({"patient": np.arange(10), "x1": rng.normal(size=10)})
    patients.loc[4, "x1"] = MARK
    patients = stp.from_pandas(patients, "patients_marked")
    X = stp.merge(visits, patients, on="patient").drop(columns="patient")
    y = (X["x0"].to_numpy() > 0).astype(int)
    unl = GradientCorrectionUnlearner(make_pipeline(StandardScaler(), LogisticRegression()))
    unl.fit(X, y)
    assert hits(pickle.dumps(unl), [MARK])
    patient_4 = stp.row_ids(patients)[4]
    unl.unlearn(sample_id=[patient_4])
    assert hits(pickle.dumps(unl), [MARK]) == []
    merged_with_4 = stp.row_lineage(X).query("row_id == @patient_4")["row"].to_numpy()
    assert unl.unlearning_log_[-1]["n_removed"] == merged_with_4.size > 1


def test_parent_rows_of_removed_merged_rows_that_stay_in_the_model_are_named():
    """Removing visits removes their merged rows whole; the patients rows they were
    merged with are counted under ``sources`` but most stay, through other visits."""
    rng = np.random.default_rng(2)
    visits = stp.from_pandas(
        pd.DataFrame({"patient": rng.integers(0, 8, 50), "x0": rng.normal(size=50)}), "visits"
    )
    patients = stp.from_pandas(
        pd.DataFrame({"patient": np.arange(8), "x1": rng.normal(size=8)}), "patients"
    )
    X = stp.merge(visits, patients, on="patient").drop(columns="patient")
    y = (X["x0"].to_numpy() > 0).astype(int)
    unl = GradientCorrectionUnlearner(make_pipeline(StandardScaler(), LogisticRegression()))
    unl.fit(X, y)
    lineage = stp.row_lineage(X)
    gone = stp.row_ids(visits)[:20]
    unl.unlearn(sample_id=gone)
    event = unl.unlearning_log_[-1]
    # the truth, row by row: patients rows behind removed rows and behind retained rows
    removed_rows = set(lineage.loc[lineage["row_id"].isin(gone), "row"])
    by_row = lineage.groupby("row")["row_id"].apply(set)
    behind_removed = set().union(*(by_row[r] for r in removed_rows))
    behind_kept = set().union(*(by_row[r] for r in set(by_row.index) - removed_rows))
    patient_ids = set(stp.row_ids(patients).tolist())
    still = behind_removed & behind_kept & patient_ids
    assert event["sources"]["patients"] == len(removed_rows)
    assert event["merged_parents_kept"] == {"patients": len(still)} and still
    assert f"{len(still)} row(s) of patients were merged into retained rows" in event["note"]
    # removing a patient's row removes every visit merged with it: nothing of it stays
    patient = stp.row_ids(patients)[[3]]
    unl.unlearn(sample_id=patient)
    last = unl.unlearning_log_[-1]
    assert last["sources"] == {"patients": last["n_removed"], "visits": last["n_removed"]}
    assert "merged_parents_kept" not in last and "note" not in last


@pytest.mark.parametrize("traced", [False, True])
def test_a_column_computed_outside_from_other_rows_is_named_in_the_caveat(traced):
    """``prev = x0.shift(1)`` puts each removed row's value into the next, retained row:
    no source holds the column, and the removal says that it cannot reach it."""
    X, y = traced_frame(f"shifted_{traced}", n=N_ROWS)
    X = X[["x0", "x1"]].assign(prev=X["x0"].shift(1).fillna(0.0))
    rows = np.arange(5, 9)
    X.iloc[rows, 0] = MARK + np.arange(rows.size)
    X["prev"] = X["x0"].shift(1).fillna(0.0)
    steps = (SimpleImputer(), StandardScaler(), LogisticRegression(C=0.5))
    est = stp.make_traced_pipeline(*steps) if traced else make_pipeline(*steps)
    unl = GradientCorrectionUnlearner(est).fit(X, y)
    with pytest.warns(UserWarning, match=r"input column\(s\) prev are in none of the sources"):
        unl.unlearn(sample_id=stp.row_ids(X)[rows])
    event = unl.unlearning_log_[-1]
    assert event["columns_in_no_source"] == ["prev"]
    assert "retained rows may still carry the removed rows' values" in event["caveat"]
    # ... and it is true: the retained row after the last removed one holds its value
    assert X["prev"].iloc[rows[-1] + 1] == X["x0"].iloc[rows[-1]]
    # columns every source holds: nothing to say
    clean = GradientCorrectionUnlearner(clone(est)).fit(X[["x0", "x1"]], y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean.unlearn(sample_id=stp.row_ids(X)[rows])
    assert "columns_in_no_source" not in clean.unlearning_log_[-1]


@pytest.mark.parametrize("kind", ["bare", "pipeline"])
def test_held_data_shrinks_to_the_retained_rows(kind):
    X, y = traced_frame(f"shrink_{kind}", n=N_ROWS)
    if kind == "bare":
        X = X[["x0", "x2"]]
    unl = GradientCorrectionUnlearner(_estimator(kind)).fit(X, y)
    before = len(pickle.dumps(unl._method))
    unl.unlearn(source_id=f"shrink_{kind}_0")
    held = unl._method.Z if kind == "bare" else unl._method.X
    assert held.shape[0] == unl.retained_mask_.sum() == sum(N_ROWS[1:])
    assert len(pickle.dumps(unl._method)) < before


def _params(model):
    final = model[-1] if isinstance(model, Pipeline) else model
    return np.concatenate([np.ravel(final.coef_), np.ravel(final.intercept_)])


@pytest.mark.parametrize(
    "model, task",
    [
        (Ridge(), "regression"),
        (LinearRegression(), "regression"),
        (LogisticRegression(C=0.5), "binary"),
        (LogisticRegression(C=0.5), "multiclass"),
        (RidgeClassifier(), "binary"),
        (SGDClassifier(loss="log_loss", tol=None, max_iter=500, random_state=0), "binary"),
        (SGDClassifier(loss="log_loss", average=True, random_state=0), "binary"),
        (SGDClassifier(loss="log_loss", class_weight="balanced", random_state=0), "binary"),
    ],
    ids=[
        "ridge",
        "linreg",
        "logreg",
        "multinomial",
        "ridgeclassifier",
        "sgd",
        "sgd-avg",
        "sgd-cw",
    ],
)
@pytest.mark.parametrize("wrap", ["bare", "keep"])
def test_the_model_before_a_removal_is_not_kept(model, task, wrap):
    """The Newton correction kept the point of its cached Hessian: the parameters of the
    model before the removal. With the retained rows, which the unlearner keeps, the old
    parameters give the removed rows' gradients, and from them their features: from a
    pickled Ridge unlearner, one removed row's planted 123.456 came back, to the digit.
    An averaged SGDClassifier kept them too (its last iterate and running average), and
    one with class weights the weights of every row's class (with the retained targets,
    the removed rows' classes)."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    score = X["a"].to_numpy() + rng.normal(size=60)
    y = {
        "regression": score,
        "binary": (score > 0).astype(int),
        "multiclass": np.digitize(score, [-0.5, 0.5]),
    }[task]
    X.loc[7, "a"] = 123.456
    X = stp.from_pandas(X, f"before_{wrap}_{task}_{type(model).__name__}")
    ids = stp.row_ids(X)
    model = clone(model) if wrap == "bare" else make_pipeline(StandardScaler(), clone(model))
    unl = GradientCorrectionUnlearner(model, preprocessing="keep").fit(X, y)
    olds = [_params(unl.estimator_)]
    for rows in ([7], [3, 11]):
        unl.unlearn(sample_id=ids[rows])
        assert unl.unlearning_log_[-1]["method"] == "newton"
        olds.append(_params(unl.estimator_))
        blob = pickle.dumps(unl)
        for old in olds[:-1]:  # every model before a removal, value by value
            assert not [v for v in old if struct.pack("<d", v) in blob]
    # what it keeps is what a fit of the corrected model on the retained rows keeps
    from sktraceprop.unlearning._convex import NewtonCorrection

    final = unl.estimator_[-1] if wrap == "keep" else unl.estimator_
    kept = unl._method
    fresh = NewtonCorrection.fit(final, kept.Z, kept.y, kept.sample_weight)
    assert_array_equal(kept.hessian_theta, fresh.hessian_theta)
    assert_allclose(kept.hessian, fresh.hessian, rtol=1e-12, atol=1e-12)
    if getattr(final, "class_weight", None) == "balanced":
        retained = np.delete(y, [3, 7, 11])
        weights = len(retained) / (2 * np.bincount(retained))  # sklearn's "balanced"
        assert_allclose(final._expanded_class_weight, weights, rtol=1e-12)


@pytest.mark.parametrize("preprocessing", ["refit", "keep"])
def test_run_statistics_are_recounted_over_the_retained_rows(preprocessing):
    """The unlearner's copy of the run describes the retained rows (truth: the statistics
    of a fit on them); the stored run keeps the fit's, and the event says so."""
    from sktraceprop._lineage._stats import source_stats

    X, y = traced_frame(f"recount_{preprocessing}", n=N_ROWS)
    y = np.where(y == 1, "yes", "no").astype(object)
    y[5:9] = "zqclass"  # a class only removed rows have
    rows = np.r_[3:12, 50:55]
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(_encoder(), LogisticRegression(C=0.5), store=store)
    unl = GradientCorrectionUnlearner(pipe, preprocessing=preprocessing).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    kept = np.setdiff1d(np.arange(len(X)), rows)
    truth = source_stats(X.iloc[kept], y[kept], stp.row_ids(X)[kept], classes=True)
    copy = unl.estimator_.lineage_.source_stats
    assert copy["retained"]["n_rows"] == kept.size
    for got, want in zip(copy["sources"], truth["sources"], strict=True):
        assert got["n_rows"] == want["n_rows"] and got["labels"] == want["labels"]
        if preprocessing == "refit":
            assert got["missing"] == want["missing"]
    assert copy["retained"]["not_recounted"] == (
        [] if preprocessing == "refit" else ["missing values"]
    )
    assert b"zqclass" not in _pickled(unl)
    assert unl.classes_.tolist() == ["no", "yes"]  # as a retrain: the class went with its rows
    assert "class(es) only removed rows had" in unl.unlearning_log_[-1]["note"]
    # the stored record is append-only: it still counts the removed rows, said in the event
    (stored,) = [store.load_run(r) for r in store.list_runs()["run_id"]]
    assert "zqclass" in json.dumps(stored.source_stats)
    caveat = unl.unlearning_log_[-1]["caveat"]
    assert "counted at fit over all its rows, removed rows included" in caveat
    assert "naming the label(s) of 1 class(es) only removed rows had" in caveat
    # and, as it says, the stored counts less the copy's are the removed rows' own
    source_of = stp.row_lineage(X)["source_id"].astype(str).to_numpy()
    for at_fit, now in zip(stored.source_stats["sources"], copy["sources"], strict=True):
        gone = pd.Series(y[rows][source_of[rows] == at_fit["source_id"]]).value_counts()
        left = {
            k: at_fit["labels"]["counts"][k] - now["labels"]["counts"].get(k, 0)
            for k in at_fit["labels"]["counts"]
        }
        assert {k: v for k, v in left.items() if v} == gone.to_dict()


def test_a_continuous_target_of_removed_rows_leaves_the_copy_not_the_stored_run():
    X, _ = traced_frame("continuous", n=N_ROWS)
    X = X[["x0", "x1", "x2"]]
    y = X["x0"].to_numpy() + 1.0
    rows = np.arange(0, 4)
    y[rows] = MARK + np.arange(4)  # the largest targets: the max of the fit
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(SimpleImputer(), Ridge(), store=store)
    unl = GradientCorrectionUnlearner(pipe).fit(X, y)
    assert hits(_pickled(unl), y[rows])
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert hits(_pickled(unl), y[rows]) == []
    (labels,) = [
        r["labels"]
        for r in unl.estimator_.lineage_.source_stats["sources"]
        if r["source_id"] == "continuous_0"
    ]
    kept = np.delete(y, rows)[: N_ROWS[0] - rows.size]
    assert labels["max"] == kept.max() and labels["count"] == kept.size
    assert labels["mean"] == pytest.approx(kept.mean(), rel=1e-12)
    assert hits(pickle.dumps(store), y[rows][-1:])  # the max at fit, in the stored run
    caveat = unl.unlearning_log_[-1]["caveat"]
    assert "as the target's max of 'continuous_0' value(s) only removed rows have" in caveat
    # a source that lost one row: the stored figures less the copy's give its target
    (stored,) = [store.load_run(r) for r in store.list_runs()["run_id"]]
    unl.unlearn(sample_id=stp.row_ids(X)[[45]])  # a row of continuous_1, not its extreme
    at_fit, now = (
        next(r["labels"] for r in stats["sources"] if r["source_id"] == "continuous_1")
        for stats in (stored.source_stats, unl.estimator_.lineage_.source_stats)
    )
    recovered = at_fit["count"] * at_fit["mean"] - now["count"] * now["mean"]
    assert recovered == pytest.approx(y[45], abs=1e-9)
    caveat = unl.unlearning_log_[-1]["caveat"]
    assert "for a source that lost one row, that row's label or target" in caveat
    assert "only removed rows have" not in caveat  # not an extreme: not named as one


def test_replaced_steps_are_not_kept_and_predictions_still_say_replaced():
    X, y = traced_frame("replaced", n=N_ROWS)
    rows = np.arange(2, 6)
    X, numbers, categories = _plant(X, rows)
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(
        _encoder(), LogisticRegression(C=0.5), store=store, log_predictions=True
    )
    unl = GradientCorrectionUnlearner(pipe).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    assert hits(_pickled(unl), numbers, categories) == []
    unl.predict(X.iloc[:3])
    assert store.events()[-1]["payload"]["replaced_since_fit"] == [
        "columntransformer",
        "logisticregression",
    ]


def test_the_clone_is_stored_as_an_unlearning_run_of_the_users_model():
    X, y = traced_frame("purpose", n=N_ROWS)
    X = X[["x0", "x2"]]
    store = MemoryStore()
    user = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    user.fit(X, y)
    unl = GradientCorrectionUnlearner(user).fit(X, y)
    runs = store.list_runs()
    assert runs["purpose"].tolist() == ["fit", "unlearning"]
    assert runs["parent_run_id"].tolist()[1] == user.lineage_.run_id
    assert runs["run_id"].tolist()[1] == unl.run_id_


@pytest.mark.filterwarnings("ignore:pipeline step.* do not accept sample_weight")
@pytest.mark.parametrize("preprocessing", ["refit", "keep"])
def test_sample_weight_record_is_recounted_over_the_retained_rows(preprocessing):
    """The copy's fit_params are those a traced fit on the retained rows with their
    weights records; the stored run keeps the fit's, and the event says so."""
    X, y = traced_frame(f"weights_{preprocessing}", n=N_ROWS)
    w = np.ones(len(X))
    w[[3, 4, 60]] = 0.0  # rows of weight 0: two removed below, one retained
    w[20:30] = 2.5
    rows = np.r_[3:12]
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(_encoder(), LogisticRegression(), store=store)
    unl = GradientCorrectionUnlearner(pipe, preprocessing=preprocessing)
    unl.fit(X, y, sample_weight=w)
    before = unl.estimator_.lineage_.fit_params
    assert before["logisticregression__sample_weight"]["weights"]["n_zero"] == 3
    unl.unlearn(sample_id=stp.row_ids(X)[rows])
    kept = np.setdiff1d(np.arange(len(X)), rows)
    truth = clone(pipe).set_params(store=None)
    truth.fit(X.iloc[kept], y[kept], **{name: w[kept] for name in before})
    copy = unl.estimator_.lineage_
    for name, want in truth.lineage_.fit_params.items():
        got = dict(copy.fit_params[name])
        assert got.pop("retained").startswith("counted over the retained rows")
        assert got == want
    assert copy.fit_params["logisticregression__sample_weight"]["weights"]["n_zero"] == 1
    assert [n for n in copy.notes if "weight 0" in n] == [
        n for n in truth.lineage_.notes if "weight 0" in n
    ]
    (stored,) = [store.load_run(r) for r in store.list_runs()["run_id"]]
    assert stored.fit_params["logisticregression__sample_weight"]["weights"]["n_zero"] == 3
    caveat = unl.unlearning_log_[-1]["caveat"]
    assert "sample weights given to fit" in caveat
    assert "summed weight" in caveat  # the recount makes the difference exact: said
    # ... and it is exact: stored sum less the copy's is the removed rows' weight
    key = "logisticregression__sample_weight"
    gone = stored.fit_params[key]["weights"]["sum"] - copy.fit_params[key]["weights"]["sum"]
    assert gone == pytest.approx(w[rows].sum())


def test_events_logged_before_a_removal_that_list_a_removed_class_are_counted():
    """Prediction and explanation events list the model's classes; logged before a
    removal that takes a class away (only removed rows had it), they keep its label
    under the chain, and the caveat said nothing of them. Truth: the events' JSON."""
    X, y = traced_frame("listed", n=N_ROWS)
    X = X[["x0", "x2"]]
    y = np.where(y == 1, "yes", "no").astype(object)
    y[[4, 9]] = "zqlisted"
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    unl = GradientCorrectionUnlearner(pipe.set_params(log_predictions=True)).fit(X, y)
    unl.predict(X.iloc[:5])
    unl.predict_proba(X.iloc[:5])  # its columns' classes are listed too
    stp.InfluenceExplainer(unl.estimator_).fit(X, y).explain(X.iloc[:3], log=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the explainer holds the rows: said apart
        unl.unlearn(sample_id=stp.row_ids(X)[[4, 9]])
    unl.predict(X.iloc[:5])  # after the removal: the model has no such class
    listing = [e for e in store.events() if "zqlisted" in json.dumps(e["payload"])]
    assert [e["kind"] for e in listing] == ["prediction", "prediction", "explanation"]
    caveat = unl.unlearning_log_[-1]["caveat"]
    assert "; 3 prediction or explanation event(s) logged for the run before this" in caveat
    assert hits(_pickled(unl), [], ["zqlisted"]) == []


@pytest.mark.parametrize("nested", [False, True])
def test_a_frozen_step_is_named_not_claimed_refitted(nested):
    """A FrozenEstimator step (fitted before, kept by clone) was not refitted by a
    removal, yet the event said the preprocessing was "refitted on the retained rows",
    with no caveat, while the step (a KNNImputer fitted on every row) still held the
    removed row's planted value. Truth: the bytes of the pickle."""
    from sklearn.frozen import FrozenEstimator

    X, y = traced_frame(f"frozen_{nested}", n=N_ROWS)
    X, numbers, _ = _plant(X, [4])
    X = X[["x0", "x1", "x2"]]
    imputer = FrozenEstimator(KNNImputer().fit(X))
    if nested:
        pre = ColumnTransformer([("num", imputer, ["x0", "x1", "x2"])])
        path = "columntransformer__num"
    else:
        pre, path = imputer, "frozenestimator"
    unl = GradientCorrectionUnlearner(make_pipeline(pre, StandardScaler(), LogisticRegression()))
    unl.fit(X, y)
    with pytest.warns(UserWarning, match=f"step\\(s\\) {path} were fitted before"):
        unl.unlearn(sample_id=stp.row_ids(X)[[4]])
    event = unl.unlearning_log_[-1]
    assert event["steps_not_refitted"] == [path]
    assert f"preprocessing step(s) {path} were fitted before" in event["caveat"]
    assert hits(_pickled(unl), numbers)  # as the caveat says: the step keeps the row
    # the steps it did refit are not named
    assert "standardscaler" not in event["steps_not_refitted"]


def _typed_frame(prefix):
    """A traced frame with a column of each dtype, marker values in row 0 of source 1."""
    rng = np.random.default_rng(17)
    parts = []
    for k in range(2):
        n = 30
        part = pd.DataFrame(
            {
                "f32": rng.normal(size=n).astype(np.float32),
                "i64": rng.integers(0, 50, n),
                "Int64": pd.array(rng.integers(0, 9, n), dtype="Int64"),
                "Float64": pd.array(rng.normal(size=n), dtype="Float64"),
                "obj": rng.choice(["a", "b"], n).astype(object),
                "string": pd.array(rng.choice(["u", "v"], n), dtype="string"),
                "cat": pd.Categorical(rng.choice(["x", "y"], n), categories=["x", "y", "zqcat"]),
            }
        )
        if k:
            part.loc[0, ["f32", "i64", "Int64", "Float64"]] = [
                23456.75,
                987654321,
                876543219,
                345678.125,
            ]
            part.loc[0, ["obj", "string", "cat"]] = ["zqobj", "zqstring", "zqcat"]
        parts.append(stp.from_pandas(part, f"{prefix}_{k}"))
    return pd.concat(parts)


TYPED_NUMBERS = (23456.75, 987654321.0, 876543219.0, 345678.125)
TYPED_STRINGS = ("zqobj", "zqstring", "zqcat")


def _typed_hits(blob):
    found = [v for v in TYPED_NUMBERS if hits(blob, [v])]
    ints = [v for v in TYPED_NUMBERS[1:3] if struct.pack("<q", int(v)) in blob]
    return found + ints + [s for s in TYPED_STRINGS if s.encode() in blob]


@pytest.mark.parametrize("kind", ["traced", "pipeline", "bare"])
def test_markers_in_columns_of_every_dtype_leave_the_unlearner_and_store(kind, tmp_path):
    """float32, int64, pandas Int64/Float64/string, object and categorical columns (a
    category only the removed row has, kept in the dtype by pandas): after the removal
    no marker is in the unlearner's pickle, nor a number in the store's file."""
    X = _typed_frame(f"typed_{kind}")
    y = np.tile([0, 1], 30)
    numeric = ["f32", "i64", "Int64", "Float64"]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["obj", "string", "cat"]),
        ]
    )
    store = SQLiteStore(tmp_path / "lineage.db")
    if kind == "bare":
        X = X[["f32", "i64"]]
        model = LogisticRegression()
    elif kind == "traced":
        model = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    else:
        model = make_pipeline(pre, LogisticRegression())
    unl = GradientCorrectionUnlearner(model, store=store).fit(X, y)
    assert _typed_hits(_pickled(unl))  # the search can fail
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(sample_id=stp.row_ids(X)[[30]])
    assert _typed_hits(_pickled(unl)) == []
    assert _typed_hits(pickle.dumps(clone(unl))) == []
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert [v for v in TYPED_NUMBERS if hits(raw, [v])] == []
