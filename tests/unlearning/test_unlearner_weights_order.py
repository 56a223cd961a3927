"""An unlearner handed a traced model fitted with sample weights, and given weights for
the run's rows that are not those (the same weights on other rows: counts and sum
alike), warns: it fits its clone with the weights given, another model than the one
whose run it names as parent. Rows given in another order are mapped by row id."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning
from sktraceprop.unlearning import GradientCorrectionUnlearner

N = 24
W = np.random.default_rng(2).uniform(0.3, 3.0, N)
MATCH = "not those its estimator was fitted with"


def _fitted():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(N, 2)), columns=["a", "b"])
    y = (X["a"] + rng.normal(size=N) > 0).astype(int).to_numpy()
    X = stp.from_pandas(X, source_id="unl_worder")
    pipe = stp.make_traced_pipeline(LogisticRegression(tol=1e-10))
    return pipe.fit(X, y, logisticregression__sample_weight=W), X, y


def _quiet(pipe, X, y, w):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        return GradientCorrectionUnlearner(pipe).fit(X, y, sample_weight=w)


def test_permuted_weights_warn_and_the_right_ones_do_not():
    # before: no word; the clone was fitted with each row's weight on another row
    pipe, X, y = _fitted()
    with pytest.warns(LineageWarning, match=MATCH):
        unl = GradientCorrectionUnlearner(pipe).fit(X, y, sample_weight=W[::-1].copy())
    # truth: the unlearner's model is not the one it was handed
    assert not np.allclose(unl.estimator_[-1].coef_, pipe[-1].coef_, rtol=1e-3)
    unl = _quiet(pipe, X, y, W.copy())
    np.testing.assert_allclose(unl.estimator_[-1].coef_, pipe[-1].coef_, rtol=1e-5)


@settings(deadline=None, max_examples=6)
@example(perm=list(range(N)))  # the identity: no warning
@given(perm=st.permutations(list(range(N))))
def test_rows_in_another_order_are_mapped_by_row_id(perm):
    pipe, X, y = _fitted()
    perm = np.asarray(perm)
    Xp, yp = X.iloc[perm], y[perm]
    _quiet(pipe, Xp, yp, W[perm])  # each row with its own weight: the same weights
    if not np.array_equal(perm, np.arange(N)):
        with pytest.warns(LineageWarning, match=MATCH):
            GradientCorrectionUnlearner(pipe).fit(Xp, yp, sample_weight=W)
