import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from packaging.version import Version
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageLostError, LineageWarning
from tests.conftest import lines_from_key


def _split(hospital_frames):
    a, b = hospital_frames
    df = pd.concat([a, b])
    df = df[df["age"] > 18].dropna()
    X, y = df.drop(columns=["label", "note"]), df["label"]
    return train_test_split(X, y, random_state=0)


def _pipe(store=None):
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(sparse_output=False), ["sex"]), (StandardScaler(), ["age", "bp"])
    )
    return stp.make_traced_pipeline(pre, LogisticRegression(), store=store)


def test_issue_example_end_to_end(hospital_frames, tmp_path):
    X_tr, X_te, y_tr, y_te = _split(hospital_frames)
    store = stp.stores.SQLiteStore(tmp_path / "lineage.db")
    pipe = _pipe(store).fit(X_tr, y_tr)

    rows = stp.row_lineage(X_tr.iloc[:3])
    with pytest.raises(TypeError, match="lineage_"):
        stp.row_lineage(pipe)  # a fitted estimator is not data
    assert list(rows.columns) == [
        "row",
        "row_id",
        "source_id",
        "uri",
        "line",
        "file_state",
        "erased",
    ]
    np.testing.assert_array_equal(rows["line"], X_tr["key"].iloc[:3])

    run = pipe.lineage_
    np.testing.assert_array_equal(run.row_ids, stp.row_ids(X_tr))
    assert run.input_row_ids is None
    assert set(run.source_ids()) == {"hospital_a", "hospital_b"}
    assert [op.name for op in run.ops] == [
        "tracedcolumntransformer/onehotencoder",
        "tracedcolumntransformer/standardscaler",
        "tracedcolumntransformer",
        "logisticregression",
    ]
    assert run.ops[0].features_in == ["sex"] and run.ops[0].features_out == ["sex_F", "sex_M"]
    assert run.feature_lineage == {
        "onehotencoder__sex_F": ["sex"],
        "onehotencoder__sex_M": ["sex"],
        "standardscaler__age": ["age"],
        "standardscaler__bp": ["bp"],
    }
    assert run.feature_sources()["standardscaler__bp"] == ["hospital_a", "hospital_b"]
    assert run.versions["scikit-learn"] == sklearn.__version__

    trace = pipe.trace([0, 5])
    assert trace["train_index"].tolist() == [0, 5]
    assert trace["line"].tolist() == X_tr["key"].iloc[[0, 5]].tolist()
    assert trace["ops"].iloc[0] == [op.name for op in run.ops]
    assert store.load_run(run.run_id) == run
    assert store.list_runs()["run_id"].tolist() == [run.run_id]


def test_fit_ops_fingerprints_change_with_state(hospital_frames):
    X_tr, _, y_tr, _ = _split(hospital_frames)
    first = _pipe().fit(X_tr, y_tr).lineage_
    again = _pipe().fit(X_tr, y_tr).lineage_
    other = _pipe().fit(X_tr.iloc[:-3], y_tr.iloc[:-3]).lineage_
    assert [o.fingerprint for o in first.ops] == [o.fingerprint for o in again.ops]
    assert first.ops[-1].fingerprint != other.ops[-1].fingerprint
    assert first.run_id != again.run_id


def test_runs_are_append_only(hospital_frames, tmp_path):
    X_tr, _, y_tr, _ = _split(hospital_frames)
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    pipe = _pipe(store)
    first = pipe.fit(X_tr, y_tr).lineage_
    second = pipe.fit(X_tr.iloc[:10], y_tr.iloc[:10]).lineage_
    assert store.list_runs()["run_id"].tolist() == [first.run_id, second.run_id]
    assert store.load_run(first.run_id) == first
    assert store.load_run(first.run_id).n_samples == len(X_tr)


def test_lost_ids_are_reported(hospital_frames):
    X_tr, _, y_tr, _ = _split(hospital_frames)
    with pytest.raises(LineageLostError, match="reset_index"):
        _pipe().fit(X_tr.reset_index(drop=True), y_tr.to_numpy())
    with pytest.raises(LineageLostError, match="set_index"):
        _pipe().fit(X_tr.reset_index(), y_tr.to_numpy())
    a, b = hospital_frames
    merged = a.merge(b[["key", "bp"]].rename(columns={"bp": "bp_b"}), on="key")
    # a plain merge keeps the frame's marker from pandas 3 on: before, the source
    # columns it holds are the evidence, in a warning
    lost = (
        pytest.raises(LineageLostError, match="merge")
        if Version(pd.__version__) >= Version("3")
        else pytest.warns(LineageWarning, match="use sktraceprop.merge")
    )
    with lost:
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(
            merged[["age", "bp"]].fillna(0), merged["label"]
        )


def test_untraced_numpy_is_an_anonymous_source():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    rows = pipe.lineage_.rows()
    assert rows["source_id"].iloc[0].startswith("anonymous:")
    assert rows["line"].tolist() == list(range(1, 31))
    assert pipe.lineage_.feature_lineage == {f"x{j}": [f"x{j}"] for j in range(3)}


def test_sample_id_with_numpy_and_cross_validate(hospital_frames):
    X_tr, _, y_tr, _ = _split(hospital_frames)
    ids = stp.row_ids(X_tr)
    Xn = X_tr[["age", "bp"]].to_numpy()
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    cross_validate(pipe, Xn, y_tr.to_numpy(), cv=KFold(3), params={"sample_id": ids})
    runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
    assert len(runs) == 3
    for run, (train, _) in zip(runs, KFold(3).split(Xn)):
        np.testing.assert_array_equal(run.row_ids, ids[train])


def test_sample_id_is_kept_as_given_when_the_caller_reuses_its_array(hospital_frames):
    # the run keeps the ids: a caller writing into its sample_id array after the fit
    # must not change which file lines the run names
    X_tr, _, y_tr, _ = _split(hospital_frames)
    ids = np.array(stp.row_ids(X_tr))
    Xn = X_tr[["age", "bp"]].to_numpy()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(Xn, y_tr.to_numpy(), sample_id=ids)
    lines = pipe.lineage_.rows()["line"].to_numpy().copy()
    np.testing.assert_array_equal(lines, X_tr["key"])
    ids[:] = ids[::-1]
    np.testing.assert_array_equal(pipe.lineage_.rows()["line"], lines)
    np.testing.assert_array_equal(pipe.trace([0])["line"], lines[:1])


def test_grid_search_folds_record_their_rows(hospital_frames, tmp_path):
    X_tr, _, y_tr, _ = _split(hospital_frames)
    store = stp.stores.SQLiteStore(tmp_path / "grid.db")
    pipe = _pipe(store)
    grid = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=KFold(2), n_jobs=2)
    grid.fit(X_tr, y_tr)
    runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
    assert len(runs) == 2 * 2 + 1  # folds x candidates, plus the refit
    ids = stp.row_ids(X_tr)
    expected = [set(ids[train]) for train, _ in KFold(2).split(X_tr)] + [set(ids)]
    got = [set(run.row_ids) for run in runs]
    for want in expected:
        assert want in got
    # the refit on all rows resolves to file lines in the worker-free parent too
    np.testing.assert_array_equal(grid.best_estimator_.lineage_.rows()["line"], X_tr["key"])


def test_metadata_routing_sample_id(hospital_frames):
    X_tr, _, y_tr, _ = _split(hospital_frames)
    ids = stp.row_ids(X_tr)
    Xn = X_tr[["age", "bp"]].to_numpy()
    with sklearn.config_context(enable_metadata_routing=True):
        store = stp.stores.MemoryStore()
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        pipe.set_fit_request(sample_id=True)
        GridSearchCV(pipe, {"logisticregression__C": [1.0]}, cv=KFold(2)).fit(
            Xn, y_tr.to_numpy(), sample_id=ids
        )
        runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
        assert [set(r.row_ids) for r in runs[:2]] == [set(ids[t]) for t, _ in KFold(2).split(Xn)]
        unrequested = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
        with pytest.raises(Exception, match="sample_id"):
            GridSearchCV(unrequested, {"logisticregression__C": [1.0]}, cv=2).fit(
                Xn, y_tr.to_numpy(), sample_id=ids
            )


def test_imblearn_sampler_rows_are_followed(hospital_frames):
    imblearn = pytest.importorskip("imblearn")
    from imblearn.over_sampling import SMOTE, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    X_tr, _, y_tr, _ = _split(hospital_frames)
    X = X_tr[["age", "bp"]]
    for sampler in (RandomUnderSampler(random_state=0), RandomOverSampler(random_state=0)):
        pipe = stp.make_traced_pipeline(StandardScaler(), sampler, LogisticRegression())
        assert type(pipe).__name__ == "TracedImbPipeline"
        pipe.fit(X, y_tr)
        kept = pipe.steps[1][1].sample_indices_
        np.testing.assert_array_equal(pipe.lineage_.row_ids, stp.row_ids(X)[kept])
        np.testing.assert_array_equal(pipe.lineage_.input_row_ids, stp.row_ids(X))
        # truth: the final estimator's row count
        assert pipe.lineage_.n_samples == len(kept)
        np.testing.assert_array_equal(
            pipe.trace([0])["line"],
            X["key"].iloc[[kept[0]]] if "key" in X else X_tr["key"].iloc[[kept[0]]],
        )
    pipe = stp.make_traced_pipeline(SMOTE(k_neighbors=2, random_state=0), LogisticRegression())
    with pytest.warns(LineageWarning, match="sample_indices_"):
        pipe.fit(X, y_tr)
    assert pipe.lineage_.notes and imblearn


def test_set_output_pandas_keeps_ids(hospital_frames):
    X_tr, _, y_tr, _ = _split(hospital_frames)
    pipe = _pipe().set_output(transform="pandas").fit(X_tr, y_tr)
    Xt = pipe[:-1].transform(X_tr)
    assert isinstance(Xt, pd.DataFrame)
    np.testing.assert_array_equal(stp.row_ids(Xt), stp.row_ids(X_tr))
    assert list(Xt.columns) == list(pipe.lineage_.feature_lineage)


def test_clone_and_pickle(hospital_frames):
    X_tr, X_te, y_tr, _ = _split(hospital_frames)
    pipe = _pipe().fit(X_tr, y_tr)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(X_te), pipe.predict(X_te))
    assert restored.lineage_ == pipe.lineage_
    cloned = clone(pipe)
    assert not hasattr(cloned, "lineage_")
    assert cloned.get_params()["store"] is None


def test_pickled_estimator_carries_sources_to_a_fresh_process(hospital_frames, tmp_path):
    import subprocess
    import sys

    X_tr, _, y_tr, _ = _split(hospital_frames)
    payload = tmp_path / "job.pkl"
    payload.write_bytes(pickle.dumps((_pipe(), X_tr, y_tr)))
    code = (
        "import pickle, sys; pipe, X, y = pickle.load(open(sys.argv[1], 'rb')); "
        "pipe.fit(X, y); print(sorted(pipe.lineage_.source_ids()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(payload)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['hospital_a', 'hospital_b']"


def test_traced_estimator_logs_upstream_ops(hospital_frames):
    a, b = hospital_frames
    a, b = a.dropna(), b.dropna()
    cols = ["age", "bp"]
    scaled = []
    for part in (a, b):
        scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        out = scaler.fit(part[cols]).transform(part[cols])
        scaled.append(out)
    X = pd.concat(scaled)
    y = pd.concat([a, b])["label"]
    np.testing.assert_array_equal(stp.row_ids(X), np.concatenate([stp.row_ids(a), stp.row_ids(b)]))
    clf = stp.TracedEstimator(LogisticRegression()).fit(X, y)
    trace = clf.trace([0, len(a)])
    assert trace["ops"].iloc[0] == ["standardscaler@hospital_a", "logisticregression"]
    assert trace["ops"].iloc[1] == ["standardscaler@hospital_b", "logisticregression"]
    np.testing.assert_array_equal(clf.predict(X), clf.estimator_.predict(X))


def test_traced_estimator_plain_pipeline_and_errors():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    wrapped = stp.TracedEstimator(make_pipeline(StandardScaler(), LogisticRegression()))
    wrapped.fit(X, y)
    assert [o.name for o in wrapped.lineage_.ops] == ["standardscaler", "logisticregression"]
    assert wrapped.score(X, y) == wrapped.estimator_.score(X, y)
    with pytest.raises(IndexError, match="out of range"):
        wrapped.trace([40])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        stp.TracedEstimator(LogisticRegression()).trace([0])


def test_skorch_internal_split_is_recorded(hospital_frames):
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    X_tr, _, y_tr, _ = _split(hospital_frames)
    X = X_tr[["age", "bp"]].astype("float32")
    y = y_tr.to_numpy().astype("int64")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x)

    def make_net(split):
        return skorch.NeuralNetClassifier(
            Net,
            max_epochs=2,
            lr=0.01,
            train_split=split,
            verbose=0,
            criterion=torch.nn.CrossEntropyLoss,
        )

    torch.manual_seed(0)
    pipe = stp.make_traced_pipeline(
        StandardScaler(), make_net(skorch.dataset.ValidSplit(0.2, random_state=0))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
    run = pipe.lineage_
    # independent truth: the same deterministic split computed by skorch itself
    net = pipe[-1]
    ds_train, _ = net.get_split_datasets(pipe[:-1].transform(X), y)
    np.testing.assert_array_equal(run.row_ids, stp.row_ids(X)[np.asarray(ds_train.indices)])
    assert run.n_samples < len(X) and "validation" in run.notes[0]
    no_split = stp.TracedEstimator(make_net(None)).fit(X.to_numpy(), y, sample_id=stp.row_ids(X))
    np.testing.assert_array_equal(no_split.lineage_.row_ids, stp.row_ids(X))
    assert lines_from_key is not None


def test_untraced_frames_with_the_same_columns_are_not_lost_ids():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(20, 2)), columns=["a", "b"])
    y = (X["a"] > 0).astype(int)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(X, y)
    pipe.fit(X.iloc[::-1].reset_index(drop=True), y.iloc[::-1].to_numpy())  # a new anonymous frame
    assert pipe.lineage_.rows()["source_id"].iloc[0].startswith("anonymous:")


def _target_pipe(store=None):
    """A target encoding of sex, and polynomial features (with their constant) of age, bp."""
    from sklearn.preprocessing import PolynomialFeatures, TargetEncoder

    pre = stp.make_traced_column_transformer(
        (TargetEncoder(), ["sex"]), (PolynomialFeatures(2), ["age", "bp"])
    )
    return stp.make_traced_pipeline(pre, LogisticRegression(max_iter=1000), store=store)


def test_features_computed_from_the_target_name_it_and_a_constant_names_nothing(
    hospital_frames,
):
    from sktraceprop._lineage._target_name import TARGET

    X_tr, _, y_tr, _ = _split(hospital_frames)
    store = stp.stores.MemoryStore()
    run = _target_pipe(store).fit(X_tr, y_tr).lineage_
    lineage = run.feature_lineage
    assert lineage["targetencoder__sex"] == ["sex", TARGET]
    assert lineage["polynomialfeatures__1"] == []  # no input: not unknown (None)
    assert lineage["polynomialfeatures__age bp"] == ["age", "bp"]
    assert run.target_features() == ["targetencoder__sex"]
    # the target is no input column that no source holds
    assert not any("in none of the sources" in note for note in run.notes)
    sources = run.feature_sources()
    assert sources["targetencoder__sex"] == ["hospital_a", "hospital_b"]
    assert sources["polynomialfeatures__1"] == []
    # stored and loaded, "depends on nothing" stays an empty list
    loaded = store.load_run(run.run_id)
    assert loaded.feature_lineage["polynomialfeatures__1"] == []
    assert loaded.target_features() == ["targetencoder__sex"]


def test_an_input_column_named_like_the_target_leaves_feature_lineage_unknown(
    hospital_frames,
):
    from sktraceprop._lineage._target_name import TARGET

    X_tr, _, y_tr, _ = _split(hospital_frames)
    X_tr = X_tr.rename(columns={"bp": TARGET})
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(
        X_tr[["age", TARGET]], y_tr
    )
    assert set(pipe.lineage_.feature_lineage.values()) == {None}
    assert any(f"named {TARGET!r}" in note for note in pipe.lineage_.notes)
