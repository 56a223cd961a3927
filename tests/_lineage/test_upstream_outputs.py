"""Steps fitted outside a pipeline are listed for a run only where its rows went through
them, told by the values (``sktraceprop._lineage._upstream_outputs``).

The truth is what the test did: which transformer's output (or the loaded frame) it gave
to the fit. Before, every op a ``TracedEstimator`` logged on a source was listed for every
later run of that source: each fold's scaler of a ``GridSearchCV``, a scaler tried before.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._upstream_outputs import CAP, OUTPUTS
from sktraceprop._lineage._witness import WITNESSES
from tests.conftest import write_two_features


def _upstream(run):
    return [op for op in run.ops if "@" in op.name]


def _fingerprint(wrapper):
    return wrapper.lineage_.ops[-1].fingerprint


def _traced(est):
    return stp.TracedEstimator(est).set_output(transform="pandas")


@pytest.fixture
def frame(tmp_path):
    df = stp.read_csv(write_two_features(tmp_path / "data.csv", 300, 0.0, 0))
    return df[["x1", "x2"]], df["y"]


def test_a_grid_search_lists_only_the_refit_scaler(frame):
    X, y = frame
    model = stp.TracedEstimator(LogisticRegression())
    pipe = Pipeline([("sc", _traced(StandardScaler())), ("lr", model)])
    grid = GridSearchCV(pipe, {"lr__estimator__C": [0.1, 1.0]}, cv=3).fit(X, y)
    best = grid.best_estimator_
    run = best.named_steps["lr"].lineage_
    assert [op.fingerprint for op in _upstream(run)] == [_fingerprint(best.named_steps["sc"])]
    assert len(REGISTRY.op_log()) == 4  # three folds' scalers and the refit one
    assert any("left out of this run's ops" in note for note in run.notes)
    ops = best.named_steps["lr"].trace([0, 1])["ops"]
    assert all(len([o for o in listed if o.startswith("standardscaler")]) == 1 for listed in ops)


def test_a_scaler_tried_before_is_not_listed_for_a_fit_on_the_loaded_rows(frame):
    X, y = frame
    _traced(StandardScaler()).fit_transform(X)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert _upstream(pipe.lineage_) == []
    assert any("standardscaler@data" in note for note in pipe.lineage_.notes)
    assert pipe.trace([0])["ops"][0] == ["standardscaler", "logisticregression"]


def test_each_hospitals_scaler_stays_listed_for_its_rows(tmp_path):
    a = stp.read_csv(write_two_features(tmp_path / "a.csv", 120, 0.0, 1), source_id="a")
    b = stp.read_csv(write_two_features(tmp_path / "b.csv", 90, 3.0, 2), source_id="b")
    sa, sb = _traced(StandardScaler()), _traced(MinMaxScaler())
    X = pd.concat([sa.fit_transform(a[["x1", "x2"]]), sb.fit_transform(b[["x1", "x2"]])])
    y = pd.concat([a["y"], b["y"]])
    model = stp.TracedEstimator(LogisticRegression()).fit(X, y)
    listed = {op.fingerprint for op in _upstream(model.lineage_)}
    assert listed == {_fingerprint(sa), _fingerprint(sb)}
    notes = model.lineage_.notes
    assert not any("left out" in note or "not established" in note for note in notes)
    trace = model.trace([0, len(a)])
    assert trace["ops"][0] == ["standardscaler@a", "logisticregression"]
    assert trace["ops"][1] == ["minmaxscaler@b", "logisticregression"]


def test_a_step_before_a_listed_step_is_listed_too(frame):
    X, y = frame
    scaler, pca = _traced(StandardScaler()), _traced(PCA(n_components=2))
    Z = pca.fit_transform(scaler.fit_transform(X))
    _traced(RobustScaler()).fit_transform(X)  # tried, not used
    model = stp.TracedEstimator(LogisticRegression()).fit(Z, y)
    listed = [op.fingerprint for op in _upstream(model.lineage_)]
    assert listed == [_fingerprint(scaler), _fingerprint(pca)]


def test_values_changed_again_keep_the_step_listed_and_say_it_is_not_established(frame):
    X, y = frame
    scaler = _traced(StandardScaler())
    Z = np.exp(scaler.fit_transform(X))  # code the library does not see
    model = stp.TracedEstimator(LogisticRegression()).fit(Z, y)
    assert [op.fingerprint for op in _upstream(model.lineage_)] == [_fingerprint(scaler)]
    assert any("not established" in note for note in model.lineage_.notes)


def test_a_numpy_fit_keeps_every_step_listed_and_says_so(frame):
    X, y = frame
    scaler = stp.TracedEstimator(StandardScaler())
    Z = scaler.fit_transform(X)  # NumPy out: nothing kept
    model = stp.TracedEstimator(LogisticRegression()).fit(Z, y, sample_id=stp.row_ids(X))
    assert [op.fingerprint for op in _upstream(model.lineage_)] == [_fingerprint(scaler)]
    assert any("not established" in note for note in model.lineage_.notes)


def test_kept_outputs_are_capped_and_forget_removed_rows(tmp_path):
    df = stp.read_csv(write_two_features(tmp_path / "big.csv", 4000, 0.0, 3))
    X = df[["x1", "x2"]]
    scaler = _traced(StandardScaler())
    scaler.fit_transform(X)
    scaler.transform(X.iloc[::-1])
    kept = OUTPUTS.get(_fingerprint(scaler))
    assert 0 < kept.ids.size <= CAP
    assert np.unique(kept.ids).size == kept.ids.size
    gone = kept.ids[:5]
    WITNESSES.forget(gone)
    assert not np.isin(gone, OUTPUTS.get(_fingerprint(scaler)).ids).any()
    REGISTRY.clear()
    assert OUTPUTS.get(_fingerprint(scaler)) is None


_STEPS = [
    lambda: StandardScaler(),
    lambda: StandardScaler(with_mean=False),
    lambda: MinMaxScaler(),
    lambda: MinMaxScaler(feature_range=(-3, 2)),
    lambda: RobustScaler(),
]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tried=st.lists(st.integers(0, len(_STEPS) - 1), min_size=1, max_size=4, unique=True),
    used=st.integers(-1, 3),
    rows=st.integers(20, 700),
)
def test_exactly_the_steps_the_rows_went_through_are_listed(tmp_path, tried, used, rows):
    """Several transformers fitted on a source; the fit gets the output of one of them
    (or the loaded rows): the run lists that one alone (or none)."""
    REGISTRY.clear()
    df = stp.read_csv(write_two_features(tmp_path / f"d{rows}.csv", rows, 1.0, rows))
    X, y = df[["x1", "x2"]], df["y"]
    wrappers = [_traced(_STEPS[k]()) for k in tried]
    outputs = [w.fit_transform(X) for w in wrappers]
    if used >= len(wrappers):
        used = -1
    Z = X if used < 0 else outputs[used]
    model = stp.TracedEstimator(LogisticRegression()).fit(Z, y)
    expected = [] if used < 0 else [_fingerprint(wrappers[used])]
    assert [op.fingerprint for op in _upstream(model.lineage_)] == expected


def test_the_valuer_and_the_unlearner_leave_out_a_step_the_rows_did_not_go_through(frame):
    from sktraceprop.unlearning import GradientCorrectionUnlearner

    X, y = frame
    _traced(StandardScaler()).fit_transform(X)  # tried, not used
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    assert [op.name for op in valuer.ops_] == []
    unl = GradientCorrectionUnlearner(stp.make_traced_pipeline(LogisticRegression())).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[:3])
    assert "steps_fitted_outside_over_removed_rows" not in unl.unlearning_log_[-1]


def test_a_step_applied_to_one_part_of_the_rows_is_listed(tmp_path):
    """A scaler fitted on the first chunk of a file and applied to that chunk only: a
    minority of the rows went through it, and it is listed."""
    df = stp.read_csv(write_two_features(tmp_path / "data.csv", 400, 0.0, 5))
    X, y = df[["x1", "x2"]], df["y"]
    scaler = _traced(StandardScaler())
    X = pd.concat([scaler.fit_transform(X.iloc[:100]), X.iloc[100:]])
    model = stp.TracedEstimator(LogisticRegression()).fit(X, y)
    assert [op.fingerprint for op in _upstream(model.lineage_)] == [_fingerprint(scaler)]


def test_a_step_whose_kept_rows_were_all_unlearned_is_unchecked(frame):
    X, y = frame
    scaler = _traced(StandardScaler())
    Z = scaler.fit_transform(X)
    WITNESSES.forget(OUTPUTS.get(_fingerprint(scaler)).ids)
    model = stp.TracedEstimator(LogisticRegression()).fit(Z, y)
    assert [op.fingerprint for op in _upstream(model.lineage_)] == [_fingerprint(scaler)]
