"""Training features of a valuer given a transformer whose fit_transform differs from
transform (a TargetEncoder cross fits) or that resamples rows (imbalanced-learn)."""

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, TargetEncoder

import sktraceprop as stp

pytestmark = pytest.mark.filterwarnings(
    "ignore::FutureWarning", "ignore:In .* validation rows:UserWarning"
)


def _encoder():
    # unshuffled folds: the cross-fitted encodings are the same at every fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_column_transformer(
            (TargetEncoder(shuffle=False, cv=2), [0]), remainder="passthrough"
        )


def _data(seed, n):
    rng = np.random.default_rng(seed)
    X = np.c_[rng.integers(0, 3, n), rng.normal(size=n)]
    y = np.arange(n) % 2
    rng.shuffle(y)
    return X, y


def _brute_shapley(F, y, f, yv, k):
    """Shapley values of U(S) = (1/k) sum_{j <= min(k,|S|)} 1[y_(j) = yv], the
    neighbours of f in S ranked by distance, ties to the smaller index."""
    n = len(y)
    order = np.argsort(((F - f) ** 2).sum(axis=1), kind="stable")

    def utility(S):
        near = [i for i in order if i in S][:k]
        return sum(y[i] == yv for i in near) / k

    values = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for S in itertools.combinations(others, size):
                S = set(S)
                values[i] += w * (utility(S | {i}) - utility(S))
    return values


@settings(deadline=None, max_examples=8)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 3))
@example(seed=0, k=2)
def test_unfitted_transformer_values_the_cross_fitted_features(seed, k):
    X, y = _data(seed, 7)
    Xv, yv = _data(seed + 1, 3)
    pipe = make_pipeline(_encoder(), KNeighborsClassifier(k)).fit(X, y)
    F = pipe[-1]._fit_X  # what the model after the encoder was fitted on
    Fv = pipe[:-1].transform(Xv)
    values = stp.KNNShapleyValuer(k, transformer=_encoder()).fit(X, y).value(Xv, yv)
    truth = np.mean([_brute_shapley(F, y, Fv[j], yv[j], k) for j in range(len(yv))], axis=0)
    np.testing.assert_allclose(values, truth, atol=1e-12)


def test_fitted_cross_fitting_transformer_warns_naming_the_step():
    X, y = _data(0, 40)
    pipe = make_pipeline(_encoder(), KNeighborsClassifier(3)).fit(X, y)
    with pytest.warns(UserWarning, match=r"TargetEncoder\) cross fits"):
        stp.KNNShapleyValuer(3, transformer=pipe[:-1]).fit(X, y)


def test_plain_fitted_transformer_does_not_warn():
    X, y = _data(0, 40)
    scaler = StandardScaler().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stp.KNNShapleyValuer(3, transformer=scaler).fit(X, y)


def test_samplers_refused_or_named():
    imblearn = pytest.importorskip("imblearn")
    from imblearn.over_sampling import RandomOverSampler

    X, y = _data(0, 30)
    y = (np.arange(30) < 8).astype(int)
    t = imblearn.pipeline.make_pipeline(RandomOverSampler(random_state=0), StandardScaler())
    with pytest.raises(ValueError, match=r"sampler .*RandomOverSampler"):
        stp.KNNShapleyValuer(3, transformer=t).fit(X, y)
    fitted = clone(t).fit(X, y)
    with pytest.warns(UserWarning, match=r"RandomOverSampler\) resampled the rows"):
        stp.KNNShapleyValuer(3, transformer=fitted).fit(X, y)


@pytest.mark.parametrize("fitted", [False, True])
def test_a_traced_imb_pipeline_cut_before_its_model_is_refused_naming_the_sampler(fitted):
    # pipe[:-1] of a TracedImbPipeline ends in its sampler and has no transform: the
    # TypeError said to "pass its preprocessing steps", which the user had done
    pytest.importorskip("imblearn")
    from imblearn.over_sampling import SMOTE

    X, y = _data(0, 40)
    y = (np.arange(40) < 12).astype(int)
    pipe = stp.make_traced_pipeline(
        StandardScaler(), SMOTE(random_state=0, k_neighbors=3), KNeighborsClassifier(3)
    )
    if fitted:
        with pytest.warns(stp.exceptions.LineageWarning, match="sample_indices_"):
            pipe.fit(X, y)
    assert not hasattr(pipe[:-1], "transform")
    with pytest.raises(TypeError, match=r"smote \(SMOTE, step 1\).*leave the sampler out"):
        stp.KNNShapleyValuer(3, transformer=pipe[:-1]).fit(X, y)
    # the steps before it are valued as asked, one row each
    valuer = stp.KNNShapleyValuer(3, transformer=pipe[:1]).fit(X, y)
    assert valuer.n_samples_fit_ == len(X)


def _subset_shapley(n, utility):
    """Shapley values of ``utility`` (a function of a sorted tuple of rows), every
    subset enumerated."""
    values = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                with_i = tuple(sorted((*subset, i)))
                values[i] += weight * (utility(with_i) - utility(subset))
    return values


def test_unfitted_transformer_is_fitted_once_and_every_subset_valued_in_its_space():
    # What the docs state: the scaler is fitted on all training rows, not per subset.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 2)) * [1, 10], rng.integers(0, 2, 6)
    X_val, y_val = rng.normal(size=(3, 2)) * [1, 10], rng.integers(0, 2, 3)
    k = 2

    def utility(subset, refit):
        if not subset:
            return 0.0
        rows = list(subset)
        scaler = StandardScaler().fit(X[rows] if refit else X)
        A, B = scaler.transform(X[rows]), scaler.transform(X_val)
        total = 0.0
        for b, label in zip(B, y_val):
            d = ((A - b) ** 2).sum(1)
            near = sorted(range(len(rows)), key=lambda j: (d[j], rows[j]))[:k]
            total += sum(y[rows[j]] == label for j in near) / k
        return total / len(y_val)

    values = stp.KNNShapleyValuer(k, transformer=StandardScaler()).fit(X, y).value(X_val, y_val)
    fixed = _subset_shapley(6, lambda s: utility(s, refit=False))
    np.testing.assert_allclose(values, fixed, rtol=0, atol=1e-12)
    refitted = _subset_shapley(6, lambda s: utility(s, refit=True))
    assert np.abs(values - refitted).max() > 0.04  # another question, not answered
