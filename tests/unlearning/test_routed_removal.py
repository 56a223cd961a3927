"""Sample weights with metadata routing: a removal weights what the fit weighted."""

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)) * [1.0, 3.0, 0.5] + [0.0, 2.0, -1.0])
    X.columns = ["a", "b", "c"]
    y = (X["a"] - 0.3 * X["b"] + rng.normal(size=n) > -0.5).astype(int).to_numpy()
    w = 0.5 + (np.arange(n) % 4)  # weights that matter: 0.5 to 3.5
    return stp.from_pandas(X, source_id=f"routed_{seed}"), y, w


@pytest.fixture(autouse=True)
def _routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _removed(seed, scaler, model, rows, preprocessing):
    """``(X, y, w, pipe, unl, kept)``: a routed pipeline fitted through the unlearner with
    weights, then ``rows`` removed."""
    X, y, w = _data(seed=seed)
    pipe = stp.make_traced_pipeline(
        StandardScaler().set_fit_request(sample_weight=scaler),
        LogisticRegression(tol=1e-12, max_iter=10_000).set_fit_request(sample_weight=model),
    )
    unl = GradientCorrectionUnlearner(pipe, preprocessing=preprocessing, tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the weights' notes)
        unl.fit(X, y, sample_weight=w)
        unl.unlearn(sample_id=stp.row_ids(X)[rows])
    return X, y, w, pipe, unl, np.setdiff1d(np.arange(len(y)), rows)


@pytest.mark.parametrize("requests", [(True, False), (False, True)])
def test_a_removal_weights_the_parts_the_fit_weighted(requests):
    X, y, w, pipe, unl, kept = _removed(0, *requests, np.r_[2:9], "refit")
    # truth: the same routed fit, from scratch, on the retained rows
    truth = clone(pipe).fit(X.iloc[kept], y[kept], sample_weight=w[kept])
    before = clone(pipe).fit(X, y, sample_weight=w)
    moved = np.abs(before[-1].coef_ - truth[-1].coef_).max()
    assert moved > 1e-2  # the removal matters
    np.testing.assert_allclose(unl.estimator_[-1].coef_, truth[-1].coef_, atol=1e-6)
    np.testing.assert_allclose(unl.estimator_[-1].intercept_, truth[-1].intercept_, atol=1e-6)


def test_a_model_that_did_not_request_the_weights_is_corrected_unweighted():
    X, y, _, _, unl, kept = _removed(1, True, False, np.r_[10:16], "keep")
    # truth ("keep": the scaler fitted on all rows stays): the model refitted unweighted on
    # the retained rows' kept scaling
    scaler = unl.estimator_[0]
    truth = LogisticRegression(tol=1e-12, max_iter=10_000).fit(
        scaler.transform(X.iloc[kept]), y[kept]
    )
    np.testing.assert_allclose(unl.estimator_[-1].coef_, truth.coef_, atol=1e-6)


def test_a_model_fitted_with_routed_weights_refitted_without_them_is_warned():
    # the unlearner fits a clone: given no weights, its model is not the weighted model
    # it was handed (whose run it names as parent). Before: no word of it.
    X, y, w = _data(seed=3)
    pipe = stp.make_traced_pipeline(
        StandardScaler().set_fit_request(sample_weight=False),
        LogisticRegression(tol=1e-12).set_fit_request(sample_weight=True),
    ).fit(X, y, sample_weight=w)
    with pytest.warns(
        stp.exceptions.LineageWarning, match="fitted with sample weights, not all 1"
    ):
        unl = GradientCorrectionUnlearner(pipe).fit(X, y)
    # truth: the unlearner's model is the unweighted refit, not the weighted one given
    unweighted = clone(pipe).fit(X, y)
    np.testing.assert_allclose(unl.estimator_[-1].coef_, unweighted[-1].coef_, rtol=1e-6)
    assert not np.allclose(unl.estimator_[-1].coef_, pipe[-1].coef_, rtol=1e-3)
    # with the weights, nothing to warn of, and the model is the weighted one
    with warnings.catch_warnings():
        warnings.simplefilter("error", stp.exceptions.LineageWarning)
        weighted = GradientCorrectionUnlearner(clone(pipe)).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(weighted.estimator_[-1].coef_, pipe[-1].coef_, rtol=1e-6)
