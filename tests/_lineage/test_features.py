"""Feature lineage against what the transformer computes: perturb an input column (at
transform, and in the rows it is fitted on) or the target, and see which outputs move.
An output that moves must list that input, or ``TARGET`` (never a dependency left out);
where the library claims one output per input, nothing else may move it."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import make_column_transformer
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import StackingClassifier
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.feature_selection import SelectFromModel, SelectKBest, VarianceThreshold
from sklearn.frozen import FrozenEstimator
from sklearn.impute import IterativeImputer, KNNImputer, MissingIndicator, SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)
from sklearn.utils import all_estimators

import sktraceprop as stp
from sktraceprop._lineage._features import feature_lineage
from sktraceprop._lineage._target_name import TARGET

NAMES = ["a", "b", "c"]


def _kbins(**params):
    """KBinsDiscretizer with ``quantile_method`` where it exists (scikit-learn >= 1.7 warns
    when it is left out; 1.6 has no such parameter)."""
    est = KBinsDiscretizer(**params)
    if "quantile_method" in est.get_params():
        est.set_params(quantile_method="averaged_inverted_cdf")
    return est


def _transformers():
    return {
        "standard": StandardScaler(),
        "minmax": MinMaxScaler(),
        "robust": RobustScaler(),
        "maxabs": MaxAbsScaler(),
        "quantile": QuantileTransformer(n_quantiles=10),
        "power": PowerTransformer(),
        "binarizer": Binarizer(),
        "kbins": _kbins(n_bins=3, encode="ordinal"),
        "spline": SplineTransformer(n_knots=3, degree=2),
        "poly": PolynomialFeatures(2),
        "pca": PCA(2),
        "log1p": FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
        "normalizer": Normalizer(),
        "tfidf": TfidfTransformer(),
        "simple_imputer": SimpleImputer(add_indicator=True),
        "knn_imputer": KNNImputer(n_neighbors=2, add_indicator=True),
        "iterative_imputer": IterativeImputer(max_iter=3, add_indicator=True),
        "missing_indicator": MissingIndicator(features="all"),
        "impute_then_scale": make_pipeline(KNNImputer(n_neighbors=2), StandardScaler()),
        "variance_threshold": VarianceThreshold(0.5),
        # fitted on the target
        "target_encoder": TargetEncoder(),
        "target_encoder_then_poly": make_pipeline(TargetEncoder(), PolynomialFeatures(2)),
        "select_k_best": SelectKBest(k=2),
        "select_from_model": SelectFromModel(LogisticRegression()),
        "lda": LinearDiscriminantAnalysis(),
        "stacking": StackingClassifier([("lr", LogisticRegression())], cv=2),
    }


IMPUTERS = {"simple_imputer", "knn_imputer", "iterative_imputer", "missing_indicator"}
CATEGORIES = {"target_encoder", "target_encoder_then_poly"}
FITTED_ON_TARGET = {
    "target_encoder",
    "target_encoder_then_poly",
    "select_k_best",
    "select_from_model",
    "lda",
    "stacking",
}


def _frame(values):
    return pd.DataFrame(values, columns=NAMES)


def _out(est, X):
    Z = est.transform(_frame(X))
    return np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=float)


def _moved(before, after):
    """Outputs that differ; all of them when the outputs are others (a selection)."""
    if before.shape != after.shape:
        return np.ones(before.shape[1], dtype=bool)
    return ~np.all(np.isclose(before, after, equal_nan=True), axis=0)


def _perturbed(X, column, rng, categories=False):
    """``X`` with the present values of one column changed."""
    other = X.copy()
    present = ~np.isnan(other[:, column])
    if categories:
        other[present, column] = 4.0 - other[present, column]
    else:
        values = other[present, column] * 1.7 + rng.uniform(0.5, 2.0, present.sum())
        other[present, column] = values
    return other


def _data(rng, missing=False, categories=False):
    X = rng.uniform(0.1, 5.0, size=(30, 3))
    if categories:
        X = rng.integers(1, 4, size=(30, 3)).astype(float)
    y = (X[:, 0] + rng.normal(scale=1.0, size=30) > 2.5).astype(int)
    y[:2] = [0, 1]  # both classes, always
    if missing:
        # missing values in every column, in rows where the others are present
        for j in range(3):
            X[rng.choice(np.arange(j, 30, 3), 3, replace=False), j] = np.nan
    return X, y


def _fixed(est):
    """``est`` with every ``random_state`` set: a refit on the same rows is the same."""
    params = est.get_params()
    return est.set_params(
        **{k: 0 for k, v in params.items() if k.endswith("random_state") and v != "deprecated"}
    )


def _check_lineage(est, X, y, rng, categories=False):
    """Fit ``est`` and check its lineage against perturbations of each input, at
    transform and at fit, and of the target. Returns the lineage."""
    est = _fixed(clone(est))
    fitted = clone(est).fit(_frame(X), y)
    names, deps = feature_lineage(fitted, NAMES)
    before = _out(fitted, X)
    assert len(names) == len(deps) == before.shape[1]
    assert not _moved(before, _out(clone(est).fit(_frame(X), y), X)).any()  # deterministic
    for column, name in enumerate(NAMES):
        other = _perturbed(X, column, rng, categories)
        at_transform = _moved(before, _out(fitted, other))
        at_fit = _moved(before, _out(clone(est).fit(_frame(other), y), X))
        for j in np.flatnonzero(at_transform | at_fit):
            assert name in deps[j], (names[j], name, deps[j])
    flipped = y.copy()
    flip = rng.choice(np.arange(2, y.size), y.size // 3, replace=False)
    flipped[flip] = 1 - flipped[flip]
    by_target = _moved(before, _out(clone(est).fit(_frame(X), flipped), X))
    for j in np.flatnonzero(by_target):
        assert TARGET in deps[j], (names[j], deps[j])
    return names, deps


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(_transformers())),
    st.integers(0, 2**32 - 1),
)
def test_every_output_that_moves_with_an_input_or_the_target_lists_it(kind, seed):
    rng = np.random.default_rng(seed)
    missing = kind in IMPUTERS or kind == "impute_then_scale"
    categories = kind in CATEGORIES
    X, y = _data(rng, missing=missing, categories=categories)
    _, deps = _check_lineage(_transformers()[kind], X, y, rng, categories)
    # the target is named by the transformers fitted on it, and by no other
    listed = any(TARGET in d for d in deps)
    assert listed == (kind in FITTED_ON_TARGET), (kind, deps)


def test_a_target_encoding_names_its_column_and_the_target():
    """The values of a target encoding are the category's mean target; both change them."""
    X = _frame([[1.0, 2.0, 3.0], [2.0, 2.0, 3.0]] * 10)
    y = np.array([0, 1] * 10)
    est = TargetEncoder().fit(X, y)
    names, deps = feature_lineage(est, NAMES)
    assert names == NAMES and deps == [["a", TARGET], ["b", TARGET], ["c", TARGET]]
    # through a pipeline the target stays named, last
    pipe = make_pipeline(TargetEncoder(), PolynomialFeatures(2)).fit(X, y)
    names, deps = feature_lineage(pipe, NAMES)
    assert dict(zip(names, deps))["a b"] == ["a", "b", TARGET]


def test_the_constant_of_polynomial_features_depends_on_no_input():
    """Its column "1" is 1 whatever the inputs: an empty list, not every input (an
    over-approximation) and not None (unknown)."""
    est = PolynomialFeatures(2).fit(_frame(np.arange(12.0).reshape(4, 3)))
    names, deps = feature_lineage(est, NAMES)
    assert names[0] == "1" and deps[0] == []
    assert deps[1:4] == [["a"], ["b"], ["c"]]
    # an input named "1" is no constant
    est = PolynomialFeatures(2).fit(pd.DataFrame(np.ones((4, 2)), columns=["1", "b"]))
    names, deps = feature_lineage(est, ["1", "b"])
    assert names[:3] == ["1", "1", "b"] and deps[:3] == [[], ["1"], ["b"]]


def test_a_supervised_selection_names_every_input_and_the_target():
    """Which columns SelectKBest keeps depends on how every column scores against the
    target: a column's score moves another out of the top k."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    est = SelectKBest(k=1).fit(_frame(X), y)
    assert list(est.get_feature_names_out()) == ["a"]
    X2 = X.copy()
    X2[:, 2] = y * 3.0  # c now predicts the target best: a is no longer kept
    assert list(SelectKBest(k=1).fit(_frame(X2), y).get_feature_names_out()) == ["c"]
    names, deps = feature_lineage(est, NAMES)
    assert names == ["a"] and deps == [["a", "b", "c", TARGET]]
    # an unsupervised selection keeps a column for its own variance
    names, deps = feature_lineage(VarianceThreshold().fit(_frame(X)), NAMES)
    assert deps == [["a"], ["b"], ["c"]]


@pytest.mark.parametrize(
    "est",
    [KNNImputer(), IterativeImputer(max_iter=3), Normalizer(), TfidfTransformer()],
    ids=type,
)
def test_transformers_that_mix_a_rows_columns_name_every_input(est):
    """Their outputs keep their input's name, and are computed from the whole row."""
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, size=(20, 3))
    X[::4, 0] = np.nan if isinstance(est, KNNImputer | IterativeImputer) else 1.0
    est.fit(pd.DataFrame(X, columns=NAMES))
    names, deps = feature_lineage(est, NAMES)
    assert names == NAMES and deps == [NAMES] * 3
    # without its normalisation, tf-idf scales each column by its own weight
    if isinstance(est, TfidfTransformer):
        names, deps = feature_lineage(TfidfTransformer(norm=None).fit(_frame(X)), NAMES)
        assert deps == [["a"], ["b"], ["c"]]


#: scikit-learn transformers the sweep below cannot run on a small numeric frame.
CANNOT_RUN = {
    "ColumnTransformer": "a composition: its parts are checked (tests/compose)",
    "FeatureUnion": "a composition of transformers, checked through them",
    "DictVectorizer": "takes dicts",
    "FeatureHasher": "takes dicts or strings",
    "HashingVectorizer": "takes text",
    "PatchExtractor": "takes images",
    "KernelCenterer": "takes a kernel matrix",
    "LabelBinarizer": "transforms the target only",
    "LabelEncoder": "transforms the target only",
    "MultiLabelBinarizer": "transforms the target only",
    "TSNE": "has no transform",
    "IsotonicRegression": "takes one feature",
}


def _sklearn_transformer(name, cls):
    """An instance of a scikit-learn transformer for three numeric columns, small."""
    if name in ("RFE", "RFECV", "SelectFromModel", "SequentialFeatureSelector"):
        est = cls(LogisticRegression())
    elif name == "SparseCoder":
        est = cls(dictionary=np.random.default_rng(0).normal(size=(2, 3)))
    elif name in ("StackingClassifier", "VotingClassifier"):
        est = cls([("lr", LogisticRegression()), ("lr2", LogisticRegression(C=0.1))])
    elif name in ("StackingRegressor", "VotingRegressor"):
        est = cls([("lr", LinearRegression())])
    elif name == "RadiusNeighborsTransformer":
        est = cls(radius=3.0)
    else:
        est = cls()
    small = {
        "n_components": 1,
        "n_clusters": 2,
        "n_neighbors": 3,
        "k": 2,
        "n_features_to_select": 2,
        "n_quantiles": 10,
        "n_knots": 3,
        "degree": 2,
        "n_bins": 3,
        "quantile_method": "averaged_inverted_cdf",
        "max_iter": 20,
        "cv": 2,
        "n_estimators": 10,
    }
    own = est.get_params(deep=False)
    return est.set_params(**{k: v for k, v in small.items() if k in own})


SWEPT = sorted(
    (name, cls)
    for name, cls in all_estimators(type_filter="transformer")
    if name not in CANNOT_RUN
)


@pytest.mark.filterwarnings("ignore")  # convergence on 30 rows, not what is tested
@pytest.mark.parametrize(("name", "cls"), SWEPT, ids=[name for name, _ in SWEPT])
def test_every_sklearn_transformer_lists_what_moves_its_outputs(name, cls):
    est = _sklearn_transformer(name, cls)
    categories = name in ("TargetEncoder", "OneHotEncoder", "OrdinalEncoder")
    for seed in range(2):
        rng = np.random.default_rng(seed)
        X, y = _data(rng, categories=categories)
        if name == "FunctionTransformer":  # without feature_names_out: unknown, said so
            assert feature_lineage(clone(est).fit(_frame(X), y), NAMES) is None
            return
        _check_lineage(est, X, y, rng, categories)


class _TargetMean(TransformerMixin, BaseEstimator):
    """Each row's mean target: fitted on the target, and names no output."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def transform(self, X):
        return np.full((len(X), 1), self.mean_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def test_wrapped_and_unnamed_transformers_keep_their_dependencies():
    """A TracedEstimator or FrozenEstimator computes what its estimator computes; the
    unnamed outputs of a part of a ColumnTransformer keep the target it was fitted on."""
    rng = np.random.default_rng(0)
    X = _frame(rng.normal(size=(30, 3)))
    y = np.arange(30) % 2
    _, deps = feature_lineage(stp.TracedEstimator(SelectKBest(k=2)).fit(X, y), NAMES)
    assert deps == [[*NAMES, TARGET]] * 2
    _, deps = feature_lineage(FrozenEstimator(Normalizer().fit(X)), NAMES)
    assert deps == [NAMES] * 3
    ct = make_column_transformer((_TargetMean(), ["a"]), (StandardScaler(), ["b"])).fit(X, y)
    _, deps = feature_lineage(ct, NAMES)
    assert deps == [["a", TARGET], ["b"]]


def test_category_encoders_supervised_encoders_name_the_target():
    """category_encoders' target, WOE, James-Stein... encoders share one mixin; releases
    before scikit-learn 1.6 tags said so only through it."""
    mixin = type("SupervisedTransformerMixin", (TransformerMixin,), {})
    mixin.__module__ = "category_encoders.utils"
    encoder = type(
        "WOEEncoder",
        (mixin, BaseEstimator),
        {
            "fit": lambda self, X, y: setattr(self, "n_features_in_", 3) or self,
            "get_feature_names_out": lambda self, names=None: np.asarray(
                NAMES if names is None else names, dtype=object
            ),
        },
    )
    _, deps = feature_lineage(encoder().fit(None, None), NAMES)
    assert deps == [["a", TARGET], ["b", TARGET], ["c", TARGET]]


def test_compositions_follow_features_by_position_not_by_name():
    """PolynomialFeatures of inputs ``a``, ``b`` and ``"a b"`` outputs two features named
    ``"a b"``: the input and the interaction. When a later step keeps only the input
    (the interaction is constant here), its lineage is the input's, not the interaction's
    (a name lookup took the last ``"a b"``: ``["a", "b"]``, leaving out ``"a b"``)."""
    X = pd.DataFrame({"a": [1.0, 2.0, 4.0, 1.0, 2.0], "b": [4.0, 2.0, 1.0, 4.0, 2.0]})
    X["a b"] = [0.0, 3.0, 1.0, 5.0, 2.0]
    pipe = make_pipeline(
        PolynomialFeatures(2, include_bias=False), VarianceThreshold(1e-12), StandardScaler()
    ).fit(X)
    names, deps = feature_lineage(pipe, list(X.columns))
    assert names.count("a b") == 1
    lineage = dict(zip(names, deps))
    assert lineage["a b"] == ["a b"]
    # the truth: the kept "a b" moves with the input "a b", and with neither a nor b
    before = pipe.transform(X)[:, names.index("a b")]
    for column, moves in (("a", False), ("b", False), ("a b", True)):
        other = X.assign(**{column: X[column] + 1.5})
        after = pipe.transform(other)[:, names.index("a b")]
        assert (not np.allclose(before, after)) == moves, column


def test_a_category_written_like_a_sentinel_names_no_input_past_the_last():
    """The sentinel names read back from output names are checked against the inputs: a
    category value ``"__stp7__"`` of two inputs raised IndexError in the fit."""
    X = pd.DataFrame({"a": ["__stp7__", "x"], "b": ["__stp0__", "v"]})
    names, deps = feature_lineage(OneHotEncoder().fit(X), ["a", "b"])
    assert names == ["a___stp7__", "a_x", "b___stp0__", "b_v"]
    assert deps == [["a"], ["a"], ["a", "b"], ["b"]]  # (a superset where a value misleads)
