"""Sample weights are compared with those a traced model was fitted with by their values
row by row: given to fit as a Series and to the explainer as an array (or the other way
round), the same values in the same order are the same weights; the same values in
another order, a reordered Series included, are not (truth: the values row by row)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop._lineage._fit_params import final_weights_differ, fit_params_record
from sktraceprop.exceptions import LineageError, LineageWarning

N = 24
W = np.random.default_rng(3).uniform(0.2, 3.0, N).round(3)


def _fitted(as_series):
    X, y = make_classification(N, 3, n_informative=2, n_redundant=0, random_state=2)
    X = stp.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), source_id="wcontainer")
    w = pd.Series(W, index=X.index, name="w") if as_series else W.copy()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    pipe.fit(X, y, logisticregression__sample_weight=w)
    return pipe, X, y


@pytest.mark.parametrize("fit_series", [True, False])
@pytest.mark.parametrize("form", ["array", "series", "list"])
def test_the_same_values_in_another_container_pass(fit_series, form):
    # Before: a Series at fit and an array here (or the reverse) were refused, the
    # digest covering the Series' index and name
    pipe, X, y = _fitted(fit_series)
    w = {
        "array": W.copy(),
        "series": pd.Series(W, index=X.index, name="other"),
        "list": W.tolist(),
    }[form]
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        explainer = InfluenceExplainer(pipe).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(np.asarray(explainer.sample_weight_), W)


@pytest.mark.parametrize("fit_series", [True, False])
def test_a_reordered_series_is_refused(fit_series):
    pipe, X, y = _fitted(fit_series)
    order = np.random.default_rng(0).permutation(N)
    reordered = pd.Series(W, index=X.index).iloc[order]  # (values and index moved)
    with pytest.raises((ValueError, LineageError)):
        InfluenceExplainer(pipe).fit(X, y, sample_weight=reordered)
    # its values, row by row, are not the model's: refused by the weights alone too
    with pytest.raises(ValueError, match="not those the final estimator"):
        InfluenceExplainer(pipe).fit(X, y, sample_weight=reordered.to_numpy())


@settings(deadline=None, max_examples=30)
@example(perm=list(range(N)), series=True)
@example(perm=[1, 0, *range(2, N)], series=True)
@given(perm=st.permutations(list(range(N))), series=st.booleans())
def test_a_series_record_compares_values_row_by_row(perm, series):
    # unit level, the check the explainer and the unlearner call
    fitted = pd.Series(W, index=np.arange(N) + 500, name="w") if series else W
    record = fit_params_record({"sample_weight": fitted})
    given_ = W[np.asarray(perm)]
    for form in (given_, pd.Series(given_), given_.tolist()):
        differ, unchecked = final_weights_differ(record, form)
        assert unchecked == []
        assert (differ is None) == np.array_equal(given_, W)
