"""The weights given to an InfluenceExplainer of a traced model are those it was fitted
with *on the same rows*: the run's counts and sum do not change when the weights are
permuted, its SHA-256 of them does (truth: the weights themselves, row for row)."""

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
from sktraceprop.exceptions import LineageWarning

N = 30
W = np.random.default_rng(7).uniform(0.2, 3.0, N)


def _fitted():
    # built in each test: the registry of sources is emptied between tests
    X, y = make_classification(N, 3, n_informative=2, n_redundant=0, random_state=1)
    X = stp.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), source_id="worder")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    pipe.fit(X, y, logisticregression__sample_weight=W)
    return pipe, X, y


def test_permuted_weights_are_refused_naming_both_digests():
    # before: the same weights in another row order passed (same counts, same sum) and
    # each row was scored with another row's weight
    pipe, X, y = _fitted()
    permuted = W[::-1].copy()
    recorded = pipe.lineage_.fit_params["logisticregression__sample_weight"]["sha256"]
    with pytest.raises(ValueError, match="not those the final estimator") as info:
        InfluenceExplainer(pipe).fit(X, y, sample_weight=permuted)
    assert recorded in str(info.value)
    assert fit_params_record({"w": permuted})["w"]["sha256"] in str(info.value)


def test_the_weights_it_was_fitted_with_pass():
    pipe, X, y = _fitted()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        explainer = InfluenceExplainer(pipe).fit(X, y, sample_weight=W.copy())
    np.testing.assert_array_equal(explainer.sample_weight_, W)
    # the same values as a list or a Series (another container) are the same weights
    InfluenceExplainer(pipe).fit(X, y, sample_weight=W.tolist())


def _swapped(n):
    return st.permutations(list(range(n)))


@settings(deadline=None, max_examples=25)
@example(perm=list(range(N)))  # the identity passes
@example(perm=[1, 0, *range(2, N)])  # one swap is refused
@given(perm=_swapped(N))
def test_any_permutation_is_refused_unless_it_keeps_every_weight(perm):
    # truth: the weights row for row; unit-level, the check the explainer calls
    record = fit_params_record({"sample_weight": W})
    differ, unchecked = final_weights_differ(record, W[np.asarray(perm)])
    assert unchecked == []
    assert (differ is None) == np.array_equal(W[np.asarray(perm)], W)


@settings(deadline=None, max_examples=8)
@example(perm=list(range(N)))
@given(perm=_swapped(N))
def test_the_explainer_refuses_any_permutation_but_the_identity(perm):
    pipe, X, y = _fitted()
    w = W[np.asarray(perm)]
    if np.array_equal(w, W):
        InfluenceExplainer(pipe).fit(X, y, sample_weight=w)
    else:
        with pytest.raises(ValueError, match="not those the final estimator"):
            InfluenceExplainer(pipe).fit(X, y, sample_weight=w)


def test_ties_permuted_among_themselves_are_the_same_weights():
    w = np.array([1.0, 2.0, 1.0, 3.0])
    record = fit_params_record({"sample_weight": w})
    assert final_weights_differ(record, w[[2, 1, 0, 3]]) == (None, [])


def test_a_series_is_compared_as_given():
    s = pd.Series(W, index=np.arange(N) + 100, name="w")
    record = fit_params_record({"sample_weight": s})
    assert final_weights_differ(record, s.copy()) == (None, [])
    differ, _ = final_weights_differ(record, s.iloc[::-1].reset_index(drop=True))
    # (named by the digests of the values row by row, which a Series' index does not
    # change: the hint that the digest covers the index no longer applies)
    assert differ is not None and record["sample_weight"]["weights"]["values_sha256"] in differ


def test_a_record_without_a_digest_of_this_scheme_says_the_order_is_unchecked():
    record = fit_params_record({"sample_weight": W})
    del record["sample_weight"]["digest_scheme"]  # as recorded before digests of scheme 2
    del record["sample_weight"]["weights"]["values_sha256"]  # (and of the values alone)
    assert final_weights_differ(record, W[::-1]) == (None, ["sample_weight"])
