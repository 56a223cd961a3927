"""Feature lineage against what the transformer computes: perturb an input column and see
which outputs move. An output that moves must list that input (never a dependency left
out); where the library claims one output per input, nothing else may move it."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, MissingIndicator, SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
)

from sktraceprop._lineage._features import feature_lineage

NAMES = ["a", "b", "c"]


def _transformers():
    return {
        "standard": StandardScaler(),
        "minmax": MinMaxScaler(),
        "robust": RobustScaler(),
        "maxabs": MaxAbsScaler(),
        "quantile": QuantileTransformer(n_quantiles=10),
        "power": PowerTransformer(),
        "binarizer": Binarizer(),
        "kbins": KBinsDiscretizer(
            n_bins=3, encode="ordinal", quantile_method="averaged_inverted_cdf"
        ),
        "spline": SplineTransformer(n_knots=3, degree=2),
        "poly": PolynomialFeatures(2),
        "pca": PCA(2),
        "log1p": FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
        "normalizer": Normalizer(),
        "simple_imputer": SimpleImputer(add_indicator=True),
        "knn_imputer": KNNImputer(n_neighbors=2, add_indicator=True),
        "iterative_imputer": IterativeImputer(max_iter=3, add_indicator=True),
        "missing_indicator": MissingIndicator(features="all"),
        "impute_then_scale": make_pipeline(KNNImputer(n_neighbors=2), StandardScaler()),
    }


IMPUTERS = {"simple_imputer", "knn_imputer", "iterative_imputer", "missing_indicator"}


def _moved(est, X, column, rng):
    """Outputs that change when the present values of one input column change."""
    other = X.copy()
    present = ~np.isnan(other[:, column])
    other[present, column] = other[present, column] * 1.7 + rng.uniform(0.5, 2.0, present.sum())
    frame = lambda values: pd.DataFrame(values, columns=NAMES)  # noqa: E731
    before, after = est.transform(frame(X)), est.transform(frame(other))
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    return ~np.all(np.isclose(before, after, equal_nan=True), axis=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(_transformers())),
    st.integers(0, 2**32 - 1),
)
def test_every_output_that_moves_with_an_input_lists_it(kind, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.1, 5.0, size=(30, 3))
    if kind in IMPUTERS or kind == "impute_then_scale":
        # missing values in every column, in rows where the others are present
        for j in range(3):
            X[rng.choice(np.arange(j, 30, 3), 3, replace=False), j] = np.nan
    est = _transformers()[kind].fit(pd.DataFrame(X, columns=NAMES))
    names, deps = feature_lineage(est, NAMES)
    assert (
        len(names)
        == len(deps)
        == np.asarray(est.transform(pd.DataFrame(X, columns=NAMES))).shape[1]
    )
    for column, name in enumerate(NAMES):
        moved = _moved(est, X, column, rng)
        for j in np.flatnonzero(moved):
            assert name in deps[j], (kind, names[j], name, deps[j])


@pytest.mark.parametrize(
    "est", [KNNImputer(), IterativeImputer(max_iter=3), Normalizer()], ids=type
)
def test_transformers_that_mix_a_rows_columns_name_every_input(est):
    """Their outputs keep their input's name, and are computed from the whole row."""
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, size=(20, 3))
    X[::4, 0] = np.nan if not isinstance(est, Normalizer) else 1.0
    est.fit(pd.DataFrame(X, columns=NAMES))
    names, deps = feature_lineage(est, NAMES)
    assert names == NAMES and deps == [NAMES] * 3
