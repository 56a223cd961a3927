"""A run says which steps each fit parameter was given to, as scikit-learn routed it."""

import hashlib

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.metadata_routing import MetadataRouter, get_routing_for_object

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import _feed
from tests.conftest import lines_from_key


def _data(tmp_path, n=48, seed=0):
    """A CSV file whose ``key`` column is each row's physical line, read back traced."""
    rng = np.random.default_rng(seed)
    lines = ["key,a,b,g,y"]
    for i in range(n):
        a, b = rng.normal(size=2)
        lines.append(f"{i + 2},{a:.4f},{b:.4f},{i % 4},{int(a + 0.5 * b > 0)}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    df = stp.read_csv(path)
    return df[["a", "b"]], df["y"], df


def _weights(n):
    w = np.arange(n, dtype=float) % 3  # a third of the rows weigh 0
    w[5] = 2.5
    return w


def _digest(value):
    # the record's digest (scheme fit-param-2), computed here from the array the truth
    # names
    h = hashlib.sha256(b"sktraceprop fit-param digest 2\0")
    _feed(h, value)
    return h.hexdigest()


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _scored_with_weights(pipe):
    """``pipe``, whose score model selection gives sample weights.

    scikit-learn before 1.8 reads the request of a pipeline's own ``score`` signature
    (``set_score_request``) for that; later releases route the weights to the final
    step, as it requested.
    """
    scorer = check_scoring(make_pipeline(LogisticRegression()))
    if not isinstance(get_routing_for_object(scorer), MetadataRouter):
        pipe.set_score_request(sample_weight=True)
    return pipe


def _note(lineage, name):
    (note,) = [n for n in lineage.notes if n.startswith(f"fitted with {name} ")]
    return note


def test_weights_only_a_scaler_requested_are_not_the_models(tmp_path, routing):
    X, y, _ = _data(tmp_path)
    w = _weights(len(y))
    pipe = stp.make_traced_pipeline(
        StandardScaler().set_fit_request(sample_weight=True),
        LogisticRegression().set_fit_request(sample_weight=False),
    ).fit(X, y, sample_weight=w)
    # truth: the model equals one fitted by hand without weights on the weighted scaling
    scaled = StandardScaler().fit(X, sample_weight=w).transform(X)
    np.testing.assert_allclose(
        pipe[-1].coef_, LogisticRegression().fit(scaled, y).coef_, rtol=1e-10
    )
    entry = pipe.lineage_.fit_params["sample_weight"]
    assert entry["given_to"] == [{"step": "standardscaler", "as": "sample_weight", "final": False}]
    note = _note(pipe.lineage_, "sample_weight")
    assert "final estimator was not given them" in note
    assert "did not learn from them" not in note
    zero = sum(1 for v in w.tolist() if v == 0)
    assert f"{zero} row(s) of weight 0 were left out by those steps only" in note


def test_an_alias_is_recorded_as_the_models_weights(tmp_path, routing):
    X, y, _ = _data(tmp_path)
    w = _weights(len(y))
    pipe = stp.make_traced_pipeline(
        StandardScaler().set_fit_request(sample_weight=False),
        LogisticRegression().set_fit_request(sample_weight="w_model"),
    ).fit(X, y, w_model=w)
    scaled = StandardScaler().fit(X).transform(X)
    np.testing.assert_allclose(
        pipe[-1].coef_, LogisticRegression().fit(scaled, y, sample_weight=w).coef_, rtol=1e-10
    )
    entry = pipe.lineage_.fit_params["w_model"]
    assert entry["given_to"] == [
        {"step": "logisticregression", "as": "sample_weight", "final": True}
    ]
    assert entry["weights"]["n_zero"] == sum(1 for v in w.tolist() if v == 0)
    assert entry["weights"]["sum"] == pytest.approx(sum(w.tolist()), rel=1e-12)
    note = _note(pipe.lineage_, "w_model")
    assert "did not learn from them" in note and "logisticregression" in note


def test_step_named_weights_without_routing_name_the_step(tmp_path):
    X, y, _ = _data(tmp_path)
    w = _weights(len(y))
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(X, y, standardscaler__sample_weight=w)
    entry = pipe.lineage_.fit_params["standardscaler__sample_weight"]
    assert entry["given_to"] == [{"step": "standardscaler", "as": "sample_weight", "final": False}]
    assert "final estimator was not given them" in _note(
        pipe.lineage_, "standardscaler__sample_weight"
    )
    pipe.fit(X, y, logisticregression__sample_weight=w)
    entry = pipe.lineage_.fit_params["logisticregression__sample_weight"]
    assert entry["given_to"] == [
        {"step": "logisticregression", "as": "sample_weight", "final": True}
    ]


def test_traced_estimator_routes_as_a_meta_estimator(tmp_path, routing):
    X, y, _ = _data(tmp_path)
    w = _weights(len(y))
    # the user said the model takes no weights: scikit-learn's meta-estimators refuse the
    # call; the wrapper trained the model with them
    est = stp.TracedEstimator(LogisticRegression().set_fit_request(sample_weight=False))
    with pytest.raises(TypeError, match="sample_weight"):
        est.fit(X, y, sample_weight=w)
    assert not hasattr(est, "estimator_")
    with pytest.raises(TypeError, match="sample_weight"):
        make_pipeline(LogisticRegression().set_fit_request(sample_weight=False)).fit(
            X, y, sample_weight=w
        )
    inner = make_pipeline(
        StandardScaler().set_fit_request(sample_weight="w_scale"),
        LogisticRegression().set_fit_request(sample_weight=False),
    )
    est = stp.TracedEstimator(inner).fit(X, y, w_scale=w)
    scaled = StandardScaler().fit(X, sample_weight=w).transform(X)
    np.testing.assert_allclose(
        est.estimator_[-1].coef_, LogisticRegression().fit(scaled, y).coef_, rtol=1e-10
    )
    assert est.lineage_.fit_params["w_scale"]["given_to"] == [
        {"step": "estimator__standardscaler", "as": "sample_weight", "final": False}
    ]


def test_each_cv_split_records_its_rows_and_its_slice_of_the_weights(tmp_path, routing):
    X, y, df = _data(tmp_path)
    w = _weights(len(y))
    groups = df["g"].to_numpy()
    lines = lines_from_key(df)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler().set_fit_request(sample_weight=False),
        LogisticRegression()
        .set_fit_request(sample_weight=True)
        .set_score_request(sample_weight=True),
        store=store,
    )
    pipe = _scored_with_weights(pipe)
    cv = GroupKFold(n_splits=3)
    GridSearchCV(pipe, {"logisticregression__C": [0.5]}, cv=cv).fit(
        X, y, sample_weight=w, groups=groups
    )
    cross_validate(pipe, X, y, cv=cv, params={"sample_weight": w, "groups": groups})
    runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
    folds = [r for r in runs if r.purpose == "cv_fold"]
    splits = [train for train, _ in cv.split(X, y, groups)]
    assert len(folds) == 2 * len(splits)
    by_lines = {tuple(sorted(lines[train])): train for train in splits}
    for run in folds:
        got = tuple(sorted(run.trace(np.arange(run.row_ids.size))["line"]))
        train = by_lines[got]  # the run names exactly one split's training lines
        entry = run.fit_params["sample_weight"]
        assert entry["sha256"] == _digest(w[train])
        assert entry["weights"]["n_zero"] == sum(1 for v in w[train].tolist() if v == 0)
        assert entry["given_to"] == [
            {"step": "logisticregression", "as": "sample_weight", "final": True}
        ]
        assert "groups" not in run.fit_params  # the splitter's, not given to the pipeline


def test_a_refused_fit_leaves_the_last_fit_of_a_traced_estimator(tmp_path, routing):
    X, y, _ = _data(tmp_path)
    est = stp.TracedEstimator(LogisticRegression().set_fit_request(sample_weight=True))
    est.fit(X, y, sample_weight=_weights(len(y)))
    fitted, run = est.estimator_, est.lineage_
    with pytest.raises(TypeError, match="not_routed"):
        est.fit(X, y, not_routed=np.ones(len(y)))
    assert est.estimator_ is fitted and est.lineage_ is run
    assert est.trace([0])["line"].tolist() == [2]


def test_model_selection_scores_a_traced_pipeline_as_a_plain_one(tmp_path, routing):
    X, y, _ = _data(tmp_path)
    w = _weights(len(y))
    scores = []
    for make in (make_pipeline, stp.make_traced_pipeline):
        pipe = make(
            StandardScaler().set_fit_request(sample_weight=False),
            LogisticRegression()
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=True),
        )
        # the pipeline's own sample_id request asked nothing of score's sample_weight
        pipe = _scored_with_weights(pipe)
        search = GridSearchCV(pipe, {"logisticregression__C": [0.5]}, cv=3, error_score="raise")
        scores.append(search.fit(X, y, sample_weight=w).cv_results_["mean_test_score"])
    assert scores[0] == scores[1]
    # truth: the weighted accuracy of the first split, by hand
    train, test = next(iter(StratifiedKFold(3).split(X, y)))
    scale = StandardScaler().fit(X.iloc[train])
    model = LogisticRegression(C=0.5).fit(
        scale.transform(X.iloc[train]), y.iloc[train], sample_weight=w[train]
    )
    hits = model.predict(scale.transform(X.iloc[test])) == y.iloc[test].to_numpy()
    first = search.cv_results_["split0_test_score"][0]
    assert first == pytest.approx(np.sum(hits * w[test]) / np.sum(w[test]), rel=1e-12)


def test_an_alias_out_of_the_order_of_x_is_refused_like_sample_weight(tmp_path, routing):
    import pandas as pd

    X, y, _ = _data(tmp_path)
    w = pd.Series(_weights(len(y)), index=X.index)
    shuffled = w.sample(frac=1.0, random_state=0)  # same rows, other order: positions lie
    for name in ("sample_weight", "w_model"):
        pipe = stp.make_traced_pipeline(
            LogisticRegression().set_fit_request(
                sample_weight=True if name == "sample_weight" else name
            )
        )
        with pytest.raises(stp.exceptions.LineageError, match=f"{name} is not in the order"):
            pipe.fit(X, y, **{name: shuffled})
        assert not hasattr(pipe[-1], "coef_")  # refused before fitting
        pipe.fit(X, y, **{name: shuffled.loc[X.index]})
        truth = LogisticRegression().fit(X, y, sample_weight=w.to_numpy())
        np.testing.assert_allclose(pipe[-1].coef_, truth.coef_, rtol=1e-10)


@pytest.mark.parametrize("routing", [False, True])
def test_a_meta_estimator_given_weights_is_not_said_to_leave_weight_0_rows_out(tmp_path, routing):
    """Found by an audit: a CalibratedClassifierCV as the final step, given the weights
    but with an inner estimator that was not (routing on: its request False), learnt from
    the rows of weight 0, which the run said the model did not learn from."""
    from sklearn.calibration import CalibratedClassifierCV

    X, y, _ = _data(tmp_path)
    w = _weights(len(y))
    inner = LogisticRegression()
    try:
        sklearn.set_config(enable_metadata_routing=routing)
        scaler = StandardScaler()
        calibrated = CalibratedClassifierCV(inner, cv=3)
        if routing:
            scaler.set_fit_request(sample_weight=False)
            inner.set_fit_request(sample_weight=False)
            calibrated.set_fit_request(sample_weight=True)
        pipe = stp.make_traced_pipeline(scaler, calibrated)
        given = {"sample_weight": w} if routing else {"calibratedclassifiercv__sample_weight": w}
        pipe.fit(X, y, **given)
        if routing:  # the truth: the weight-0 rows changed what the inner estimators learnt
            kept = w > 0
            without = make_pipeline(
                StandardScaler().set_fit_request(sample_weight=False),
                CalibratedClassifierCV(
                    LogisticRegression().set_fit_request(sample_weight=False), cv=3
                ).set_fit_request(sample_weight=True),
            ).fit(X.to_numpy()[kept], y.to_numpy()[kept], sample_weight=w[kept])
            assert not np.allclose(
                without.predict_proba(X.to_numpy())[:, 1], pipe.predict_proba(X)[:, 1]
            )
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    (note,) = [n for n in pipe.lineage_.notes if "weight" in n]
    assert "fits estimators of its own" in note and "may have learnt from them" in note
    assert "did not learn from them" not in note
    (route,) = next(iter(pipe.lineage_.fit_params.values()))["given_to"]
    assert route["meta"] is True and route["final"] is True
