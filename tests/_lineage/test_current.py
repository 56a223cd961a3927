"""Models changed after their run: every consumer that names the model's training rows
refuses (or says so), and an unchanged model is never refused.

The truth is what was done to the model: a step refitted on other rows, trained further
(``partial_fit``, a warm start), replaced, or corrected by an unlearner no longer
trained on the run's rows only, so the run's rows must not be named as its rows.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop.compliance import find_predictions
from sktraceprop.exceptions import LineageError


def _data(tmp_path, n=60):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"key": np.arange(n), "a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["y"] = (df["a"] + 0.5 * rng.normal(size=n) > 0).astype(int)
    path = tmp_path / "rows.csv"
    df.to_csv(path, index=False)
    frame = stp.read_csv(path, source_id="rows")
    return path, frame[["key", "a", "b"]], frame["y"]


def _pipe(final, store=None):
    pre = stp.make_traced_column_transformer((StandardScaler(), ["a", "b"]))
    return stp.make_traced_pipeline(pre, final, store=store)


def _other(pipe, X, y):
    """Other rows, transformed as the final step sees them."""
    return pipe[:-1].transform(X.iloc[:25]), y.iloc[:25]


def _partial_fit(pipe, X, y):
    pipe[-1].partial_fit(*_other(pipe, X, y))


def _refit_final(pipe, X, y):
    pipe[-1].set_params(C=0.1).fit(*_other(pipe, X, y))


def _warm_start(pipe, X, y):
    pipe[-1].set_params(warm_start=True).fit(*_other(pipe, X, y))


def _refit_preprocessing(pipe, X, y):
    pipe[0].fit(X.iloc[:25])


def _replace_final(pipe, X, y):
    pipe.set_params(logisticregression=LogisticRegression().fit(*_other(pipe, X, y)))


CHANGES = {
    "partial_fit": (lambda: SGDClassifier(loss="log_loss", random_state=0), _partial_fit),
    "set_params_fit": (LogisticRegression, _refit_final),
    "warm_start": (LogisticRegression, _warm_start),
    "refit_preprocessing": (LogisticRegression, _refit_preprocessing),
    "replace_final": (LogisticRegression, _replace_final),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_trace_and_explainer_refuse_a_model_changed_after_its_run(tmp_path, change):
    _, X, y = _data(tmp_path)
    final, act = CHANGES[change]
    pipe = _pipe(final()).fit(X, y)
    recorded = pipe.lineage_.trace([0, 5])
    act(pipe, X, y)
    with pytest.raises(LineageError, match=f"changed since its run {pipe.lineage_.run_id}"):
        pipe.trace([0, 5])
    with pytest.raises(LineageError, match="changed since its run"):
        stp.InfluenceExplainer(pipe).fit(X, y)
    with pytest.raises(LineageError, match="changed since its run"):
        stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X, y)
    # the run as recorded stays readable, and says what it said at fit
    pd.testing.assert_frame_equal(pipe.lineage_.trace([0, 5]), recorded)


def test_trace_of_an_unchanged_model_names_the_rows_it_trained_on(tmp_path):
    # No false alarm: predicting, pickling and setting the pipeline's own logging
    # parameter change no step; the lines hold the rows' keys.
    path, X, y = _data(tmp_path)
    pipe = _pipe(LogisticRegression(), store=stp.stores.MemoryStore()).fit(X, y)
    pipe.predict(X)
    pipe.set_params(log_predictions=True).predict(X.iloc[:3])
    pipe = pickle.loads(pickle.dumps(pipe))
    lines = path.read_bytes().split(b"\n")
    out = pipe.trace([0, 7, 59])
    keys = [int(lines[line - 1].split(b",")[0]) for line in out["line"]]
    assert keys == X["key"].iloc[[0, 7, 59]].tolist()
    assert stp.InfluenceExplainer(pipe).fit(X, y).explain(X.iloc[:2]).top(1).shape[0] == 2


def test_traced_estimator_trace_refuses_after_partial_fit(tmp_path):
    _, X, y = _data(tmp_path)
    est = stp.TracedEstimator(SGDClassifier(loss="log_loss", random_state=0))
    est.fit(X[["a", "b"]], y)
    assert est.trace([3])["line"].tolist() == [5]  # header on line 1, row 3 on line 5
    est.estimator_.partial_fit(X[["a", "b"]].iloc[:10], y.iloc[:10])
    with pytest.raises(LineageError, match="sgdclassifier"):
        est.trace([3])


def test_unlearned_model_is_traced_to_its_retained_rows_only(tmp_path):
    # The unlearner's copy of the run describes the corrected model: its retained rows
    # and the fingerprints of its corrected steps. Tracing and explaining the corrected
    # model name retained rows only; changed behind the unlearner's back, it is refused.
    path, X, y = _data(tmp_path)
    lines = path.read_bytes().split(b"\n")
    pipe = _pipe(LogisticRegression()).fit(X, y)
    removed = stp.row_ids(X)[:5]
    unl = stp.GradientCorrectionUnlearner(clone(pipe), forget=list(removed)).fit(X, y)
    copy = unl.estimator_.lineage_
    assert not np.isin(removed, copy.row_ids).any()
    out = unl.estimator_.trace([0, 1])
    keys = [int(lines[line - 1].split(b",")[0]) for line in out["line"]]
    assert keys == X["key"].iloc[[5, 6]].tolist()  # the first retained rows, from the file
    kept = X.iloc[5:]
    stp.InfluenceExplainer(unl.estimator_).fit(kept, y.iloc[5:])
    with pytest.raises(ValueError, match="not the data the fitted model was trained on"):
        stp.InfluenceExplainer(unl.estimator_).fit(X, y)
    unl.estimator_[-1].set_params(C=0.01).fit(unl.estimator_[:-1].transform(kept), y.iloc[5:])
    with pytest.raises(LineageError, match="changed since its run"):
        unl.estimator_.trace([0])


def test_prediction_log_says_the_model_changed_in_place(tmp_path):
    _, X, y = _data(tmp_path)
    store = stp.stores.MemoryStore()
    pipe = _pipe(SGDClassifier(loss="log_loss", random_state=0), store=store)
    pipe.set_params(log_predictions=True).fit(X, y)
    pipe.predict(X.iloc[:4])
    _partial_fit(pipe, X, y)
    pipe.predict(X.iloc[:4])
    first, second = [e["payload"] for e in store.events(kind="prediction")]
    assert "changed_since_fit" not in first
    assert second["changed_since_fit"] == ["sgdclassifier"]
    assert second["model_fingerprint"] == pipe.lineage_.model_fingerprint
    # the model that answered, by its own fingerprint (the run's is not its)
    assert "model_fingerprint_now" not in first
    assert second["model_fingerprint_now"] == fingerprint(pipe)
    assert second["model_fingerprint_now"] != pipe.lineage_.model_fingerprint
    (found,) = find_predictions(store, X.iloc[:4]).iloc[1:].itertuples()
    assert found.model_fingerprint_now == fingerprint(pipe)


def test_lineage_display_refuses_a_changed_model(tmp_path):
    pytest.importorskip("matplotlib")
    from sktraceprop.plotting import LineageDisplay

    _, X, y = _data(tmp_path)
    pipe = _pipe(LogisticRegression()).fit(X, y)
    _refit_preprocessing(pipe, X, y)
    with pytest.raises(LineageError, match="columntransformer"):
        LineageDisplay.from_estimator(pipe)


def test_knn_by_op_names_the_fitted_steps_of_a_transformer_changed_after_its_run(tmp_path):
    from sktraceprop._lineage._fingerprint import fingerprint

    _, X, y = _data(tmp_path)
    features = X[["a", "b"]]
    transformer = stp.make_traced_pipeline(StandardScaler()).fit(features)
    recorded = transformer.lineage_.ops[-1].fingerprint
    transformer[0].fit(features.iloc[:20] * 3.0)
    val = stp.KNNShapleyValuer(n_neighbors=3, transformer=transformer).fit(features, y)
    prints = {op.fingerprint for op in val.ops_}
    assert fingerprint(transformer[0]) in prints
    assert recorded not in prints


def test_a_skorch_net_is_its_run_until_trained_further(tmp_path):
    # A traced fit patches fit methods on the net's instance while it runs, and skorch
    # lists instance attributes as parameters: the run must not record them (it did,
    # so the fitted net never matched its own run and trace refused it).
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    _, X, y = _data(tmp_path)
    features = X[["a", "b"]].to_numpy(np.float32)
    net = skorch.NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=2,
        module__out_features=2,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
    pipe = stp.make_traced_pipeline(net).fit(features, y.to_numpy(), sample_id=stp.row_ids(X))
    assert not {"fit", "partial_fit", "get_split_datasets"} & set(pipe.lineage_.ops[-1].params)
    pipe.predict(features)
    assert pipe.trace([3])["line"].tolist() == [5]
    pipe[-1].partial_fit(features[:10], y.to_numpy()[:10])
    with pytest.raises(LineageError, match="neuralnetclassifier"):
        pipe.trace([3])


def test_explainer_warns_that_a_warm_started_run_does_not_list_every_row(tmp_path):
    # A traced refit that warm-starts trains further from the previous fit: its run
    # lists only the rows of this fit, so the scores miss rows that shaped the model.
    _, X, y = _data(tmp_path)
    pipe = _pipe(SGDClassifier(loss="log_loss", warm_start=True, random_state=0))
    pipe.fit(X.iloc[:30], y.iloc[:30])
    first = pipe.lineage_.run_id
    pipe.fit(X.iloc[30:], y.iloc[30:])
    with pytest.warns(stp.exceptions.LineageWarning, match=f"previous fit \\(run {first}\\)"):
        stp.InfluenceExplainer(pipe).fit(X.iloc[30:], y.iloc[30:])
    cold = _pipe(SGDClassifier(loss="log_loss", random_state=0)).fit(X.iloc[30:], y.iloc[30:])
    with warnings.catch_warnings():
        warnings.simplefilter("error", stp.exceptions.LineageWarning)
        stp.InfluenceExplainer(cold).fit(X.iloc[30:], y.iloc[30:])


def _bump(array):
    """Edit one value of a fitted array in place; return the undo."""
    flat = array.reshape(-1)
    old = flat[-1].copy()
    if array.dtype.kind == "f":
        flat[-1] = np.nextafter(old, np.inf)
    else:
        flat[-1] = old + 1

    def undo():
        flat[-1] = old

    return undo


def test_every_logged_call_sees_an_in_place_edit_of_any_fitted_value(tmp_path):
    """Each fitted array edited in place by one ulp or one unit (and a parameter or a
    fitted value rebound) is named in the next logged call's event, and no longer once
    undone: nothing is remembered from one call to the next."""
    _, X, y = _data(tmp_path)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    pipe.set_params(log_predictions=True).fit(X, y)
    scaler, model = pipe[0], pipe[1]
    edits = [
        ("standardscaler", lambda name=name: _bump(getattr(scaler, name)))
        for name in ("mean_", "var_", "scale_")
    ] + [
        ("logisticregression", lambda name=name: _bump(getattr(model, name)))
        for name in ("coef_", "intercept_", "classes_", "n_iter_")
    ]

    def rebind(est, name, value):
        def edit():
            old = getattr(est, name)
            setattr(est, name, value)
            return lambda: setattr(est, name, old)

        return edit

    edits += [
        ("logisticregression", rebind(model, "C", 0.5)),
        ("logisticregression", rebind(model, "tol", 1e-3)),
        ("standardscaler", rebind(scaler, "n_samples_seen_", np.int64(59))),
    ]
    checked = 0
    for step, edit in edits:
        pipe.predict(X.iloc[:3])
        undo = edit()
        pipe.predict(X.iloc[:3])
        undo()
        pipe.predict(X.iloc[:3])
        before, changed, after = [e["payload"] for e in store.events(kind="prediction")[-3:]]
        assert "changed_since_fit" not in before
        assert changed["changed_since_fit"] == [step]
        assert "changed_since_fit" not in after
        checked += 1
    assert checked == 10
