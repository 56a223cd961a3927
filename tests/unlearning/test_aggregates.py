"""Group statistics over removed rows: refitted inside a pipeline, named when outside."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.preprocessing import GroupStatistics
from sktraceprop.unlearning import GradientCorrectionUnlearner

EXACT = {"solver": "newton-cholesky", "tol": 1e-13, "max_iter": 1000}


def _visits(prefix):
    """Visits of two hospitals, each in one of four wards, and a label."""
    rng = np.random.default_rng(7)
    parts = []
    for k, n in enumerate((60, 50)):
        part = pd.DataFrame(
            {
                "ward": rng.integers(0, 4, n),
                "bp": rng.normal(120 + 15 * k, 10, n),
                "age": rng.normal(60, 10, n),
            }
        )
        parts.append(stp.from_pandas(part, f"{prefix}_{k}"))
    visits = pd.concat(parts)
    y = (visits["bp"].to_numpy() + 3 * visits["ward"].to_numpy() > 130).astype(int)
    return visits, y


def _joined(visits, name):
    """Visits with their ward's mean blood pressure, computed over every visit."""
    stats = stp.aggregate(visits, by="ward", bp_ward=("bp", "mean"), source_id=name)
    X = stp.merge(visits, stats, on="ward")
    return X, (X["bp"].to_numpy() + 3 * X["ward"].to_numpy() > 130).astype(int)


def test_a_statistic_computed_outside_is_named_with_what_remains():
    visits, _ = _visits("agg_out")
    X, y = _joined(visits, "agg_out_ward_bp")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    unl = GradientCorrectionUnlearner(pipe).fit(X, y)
    with pytest.warns(UserWarning, match="50 retained training row"):
        unl.unlearn(source_id="agg_out_0")
    event = unl.unlearning_log_[-1]
    assert event["n_removed"] == 60
    assert event["aggregates_over_removed_rows"] == {"agg_out_ward_bp": 50}
    assert "aggregate(s) 'agg_out_ward_bp' (50 rows) (features bp_ward" in event["caveat"]
    assert "Recompute the aggregate" in event["caveat"]
    # What the caveat says is true: a retrain with the statistic recomputed without the
    # removed hospital differs from the unlearned model, which kept its values.
    kept = visits.loc[stp.row_lineage(visits)["source_id"].eq("agg_out_1").to_numpy()]
    X_true, y_true = _joined(kept, "agg_out_ward_bp_without_0")
    truth = make_pipeline(StandardScaler(), LogisticRegression(**EXACT)).fit(X_true, y_true)
    assert np.abs(unl.predict_proba(X_true) - truth.predict_proba(X_true)).max() > 1e-3


def test_a_single_row_reaches_the_rows_of_its_group():
    visits, _ = _visits("agg_row")
    X, y = _joined(visits, "agg_row_ward_bp")
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    visit = stp.row_ids(visits)[0]
    ward = visits["ward"].iloc[0]
    same_ward = int((visits["ward"] == ward).sum()) - 1
    with pytest.warns(UserWarning, match=f"{same_ward} retained training row"):
        unl.unlearn(sample_id=[visit])
    event = unl.unlearning_log_[-1]
    assert event["n_removed"] == 1
    assert event["aggregates_over_removed_rows"] == {"agg_row_ward_bp": same_ward}
    # in a fresh process, the unlearner still knows which rows each group was made of
    from sktraceprop._lineage import REGISTRY

    blob = pickle.dumps(unl)
    REGISTRY.clear()
    again = pickle.loads(blob)
    with pytest.warns(UserWarning, match="aggregate"):
        again.unlearn(source_id="agg_row_1")
    assert again.unlearning_log_[-1]["aggregates_over_removed_rows"]


def test_no_aggregate_no_warning():
    visits, y = _visits("agg_none")
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(visits, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unl.unlearn(source_id="agg_none_0")
    assert "aggregates_over_removed_rows" not in unl.unlearning_log_[-1]


def test_a_statistic_computed_inside_the_pipeline_is_refitted():
    visits, y = _visits("agg_in")
    pipe = make_pipeline(
        GroupStatistics(by=["ward"], columns=["bp"]), StandardScaler(), LogisticRegression()
    )
    unl = GradientCorrectionUnlearner(pipe, tol=1e-11).fit(visits, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unl.unlearn(source_id="agg_in_0")
    keep = stp.row_lineage(visits)["source_id"].eq("agg_in_1").to_numpy()
    stats = unl.estimator_[0].statistics_
    assert_allclose(stats["bp"], visits[keep].groupby("ward")["bp"].mean(), rtol=1e-12)
    exact = clone(pipe).set_params(**{f"logisticregression__{k}": v for k, v in EXACT.items()})
    truth = exact.fit(visits[keep], y[keep])
    assert_allclose(unl.predict_proba(visits), truth.predict_proba(visits), atol=1e-7)
    assert unl.unlearning_log_[-1]["preprocessing"] == "refitted on the retained rows"
