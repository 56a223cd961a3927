"""Feature lineage recorded by traced fits, against perturbation of the frames they were
fitted on: frames read with ``stp.read_csv`` (and ``stp.merge``), one input column changed
in some rows at a time, pushed through the fitted preprocessing (and through a refit on
them). An output that moves must list the column; the record may list more than moves
(a superset, where it cannot know), never less."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.compose import (
    TransformedTargetRegressor,
    make_column_selector,
    make_column_transformer,
)
from sklearn.decomposition import PCA
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.feature_selection import SelectKBest, VarianceThreshold
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)

import sktraceprop as stp
from sktraceprop._lineage._features import feature_lineage
from sktraceprop._lineage._target_name import TARGET


def _csv(tmp_path, name="people", n=60, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.normal(50, 10, n),
            "hours": rng.uniform(1, 60, n),
            "city": rng.choice(["a", "b", "c", "d"], n, p=[0.5, 0.3, 0.15, 0.05]),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    df.loc[rng.choice(n, 6, replace=False), "income"] = np.nan
    df["y"] = (df["age"] / 40 + rng.normal(0, 0.5, n) > 1.1).astype(int)
    path = tmp_path / f"{name}.csv"
    df.to_csv(path, index=False)
    return path


def _dense(Z):
    return np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=float)


def _moved(before, after):
    if before.shape != after.shape:  # other features: every one may have moved
        return np.ones(before.shape[1], dtype=bool)
    return ~np.all(np.isclose(before, after, equal_nan=True), axis=0)


def _perturbed(X, column, rng):
    """``X`` with about half the rows of ``column`` given other values of its kind."""
    other = X.copy()
    rows = rng.random(len(X)) < 0.5
    values = X[column]
    if not pd.api.types.is_numeric_dtype(values):
        categories = sorted(values.dropna().unique())
        other.loc[rows, column] = [
            categories[(categories.index(v) + 1) % len(categories)] for v in values[rows]
        ]
    else:
        base = values[rows].to_numpy(dtype=float)
        other.loc[rows, column] = base * rng.uniform(0.3, 1.7, base.size) + 2.0
    return other


def _by_name(before, names, pre, X):
    """Outputs of ``names`` that ``pre`` (a refit) moves or no longer outputs."""
    after = _dense(pre.transform(X))
    position = {str(n): k for k, n in enumerate(pre.get_feature_names_out())}
    moved = np.ones(len(names), dtype=bool)
    for j, name in enumerate(names):
        if name in position:
            k = position[name]
            moved[j] = _moved(before[:, [j]], after[:, [k]])[0]
    return moved


def _moves_with(pipe, X, y, rng, repeats=3):
    """``{input column: outputs of the fitted preprocessing that move with it}``, at
    transform and through a refit (whose outputs are matched by name: a category made
    frequent by the change adds one)."""
    pre = pipe[:-1]
    before = _dense(pre.transform(X))
    names = [str(n) for n in pre.get_feature_names_out()]
    found = {}
    for column in X.columns:
        moved = np.zeros(before.shape[1], dtype=bool)
        for _ in range(repeats):
            other = _perturbed(X, column, rng)
            moved |= _moved(before, _dense(pre.transform(other)))
            refit = clone(pipe).fit(other, y)[:-1]
            try:
                moved |= _by_name(before, names, refit, X)
            except ValueError:  # a category the change took out of the fit's rows
                continue
        found[column] = moved
    return found


def _check(pipe, X, y, seed=0):
    """Fit ``pipe`` and check its recorded feature lineage by perturbation; returns the run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = clone(pipe).fit(X, y)
        run = pipe.lineage_
        names, deps = list(run.feature_lineage), list(run.feature_lineage.values())
        real = [str(n) for n in pipe[:-1].get_feature_names_out()]
        assert len(set(real)) == len(real) == len(names) and real == names
        found = _moves_with(pipe, X, y, np.random.default_rng(seed))
    for column, moved in found.items():
        for j in np.flatnonzero(moved):
            assert deps[j] is None or column in deps[j], (names[j], column, deps[j])
    return run


def test_a_feature_named_like_another_lists_the_inputs_of_both(tmp_path):
    """Inputs ``a``, ``b`` and ``"a b"`` through PolynomialFeatures make two features named
    ``"a b"``: the run's dict holds one, listing the inputs of both, and says so (it
    held the last one's, ``["a", "b"]``: the model input ``"a b"``, the input column
    itself, was recorded as made of a and b)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(1, 5, size=(30, 3)), columns=["a", "b", "a b"])
    frame["y"] = np.arange(30) % 2
    frame.to_csv(tmp_path / "d.csv", index=False)
    X = stp.read_csv(tmp_path / "d.csv")
    y = X.pop("y")
    pipe = stp.make_traced_pipeline(
        PolynomialFeatures(2, include_bias=False), StandardScaler(), LogisticRegression()
    ).fit(X, y)
    run = pipe.lineage_
    real = list(pipe[:-1].get_feature_names_out())
    assert real.count("a b") == 2 and len(run.feature_lineage) == len(real) - 1
    assert run.feature_lineage["a b"] == ["a", "b", "a b"]
    assert any("'a b'" in note and "more than one model input" in note for note in run.notes)
    # the truth: the first "a b" (the input) moves with "a b" alone
    pre = pipe[:-1]
    before = pre.transform(X)
    after = pre.transform(X.assign(**{"a b": X["a b"] + 1.0}))
    assert _moved(before, after)[real.index("a b")]


@pytest.mark.parametrize("traced", ["pipeline", "estimator"])
def test_a_pipeline_as_final_step_records_the_inputs_of_its_model(tmp_path, traced):
    """The model of ``make_traced_pipeline(ct, make_pipeline(PolynomialFeatures(2),
    SelectKBest(k=2), LogisticRegression()))`` takes the two polynomial features the
    target chose: the run recorded the column transformer's three outputs, none from the
    target (target_features() was empty, so no removal or report said the model's inputs
    were chosen by the removed rows' targets)."""
    X = stp.read_csv(_csv(tmp_path))
    y = X.pop("y")
    ct = make_column_transformer((SimpleImputer(), ["age", "income", "hours"]))
    model = make_pipeline(
        PolynomialFeatures(2, include_bias=False), SelectKBest(k=2), LogisticRegression()
    )
    if traced == "pipeline":
        pipe = stp.make_traced_pipeline(ct, model)
    else:
        pipe = stp.TracedEstimator(make_pipeline(ct, model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
    run = pipe.lineage_
    fitted = pipe if traced == "pipeline" else pipe.estimator_
    inner = fitted[-1]
    kept = list(inner[:-1].get_feature_names_out(fitted[0].get_feature_names_out()))
    assert list(run.feature_lineage) == kept and inner[-1].n_features_in_ == 2
    every = ["age", "income", "hours", TARGET]
    assert list(run.feature_lineage.values()) == [every, every]
    assert run.target_features() == kept


NUMERIC = ["age", "income", "hours"]
CATEGORICAL = ["city", "sex"]


def _shares(Z):
    """Each value's share of its row's sum: every output from the whole row."""
    Z = np.asarray(Z, dtype=float)
    return Z / Z.sum(axis=1, keepdims=True)


def _abs_log(Z):
    """Elementwise: each output from its own column."""
    return np.log1p(np.abs(np.asarray(Z, dtype=float)))


def _kbins():
    est = KBinsDiscretizer(n_bins=3, encode="onehot-dense")
    if "quantile_method" in est.get_params():
        est.set_params(quantile_method="averaged_inverted_cdf")
    return est


def _numeric_steps():
    """Transformers a user puts after an imputer on numeric columns (after ``impute``)."""
    return {
        "scale": StandardScaler(),
        "poly": PolynomialFeatures(2),
        "spline": SplineTransformer(n_knots=3, degree=2),
        "kbins": _kbins(),
        "pca": PCA(2),
        "select": SelectKBest(k=2),
        "variance": VarianceThreshold(20.0),
        "log": FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
        # a user's functions: names that only declare their inputs, checked at fit
        "abs_log": FunctionTransformer(_abs_log, feature_names_out="one-to-one"),
        "shares": FunctionTransformer(_shares, feature_names_out="one-to-one"),
        "union": make_union(PCA(1), StandardScaler()),
    }


def _impute():
    return {
        "simple": SimpleImputer(add_indicator=True),
        "knn": KNNImputer(n_neighbors=3, add_indicator=True),
        "iterative": IterativeImputer(max_iter=3, random_state=0),
    }


def _encoders():
    return {
        "onehot": OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=6, sparse_output=False
        ),
        "onehot_drop": OneHotEncoder(drop="first", sparse_output=False),
        "ordinal": OrdinalEncoder(),
        "target": TargetEncoder(random_state=0),
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    numeric=st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=3, unique=True),
    categorical=st.lists(st.sampled_from(CATEGORICAL), max_size=2, unique=True),
    impute=st.sampled_from(sorted(_impute())),
    step=st.sampled_from(sorted(_numeric_steps())),
    encoder=st.sampled_from(sorted(_encoders())),
    remainder=st.sampled_from(["drop", "passthrough", "scaled"]),
    verbose=st.booleans(),
    pandas_out=st.booleans(),
    seed=st.integers(0, 2**16),
)
# (a find: the ColumnTransformer's transform rewrote its _transformers_feature_names_out,
# and the step watch refused the fit as changed by other code)
@example(
    numeric=["age"],
    categorical=[],
    impute="iterative",
    step="abs_log",
    encoder="onehot",
    remainder="drop",
    verbose=False,
    pandas_out=True,
    seed=0,
)
def test_recorded_lineage_lists_every_column_that_moves_a_feature(
    tmp_path_factory,
    numeric,
    categorical,
    impute,
    step,
    encoder,
    remainder,
    verbose,
    pandas_out,
    seed,
):
    """Random column sets and transformers in a traced ColumnTransformer (a nested
    pipeline per part, columns by name and by dtype, a remainder) before a model."""
    X = stp.read_csv(_csv(tmp_path_factory.mktemp("csv"), seed=seed))
    y = X.pop("y")
    if step in ("select", "pca"):
        numeric = NUMERIC  # (SelectKBest(k=2) and PCA(2) need two columns)
    rest = [] if remainder == "drop" else [c for c in ("age", "hours") if c not in numeric]
    X = X[numeric + categorical + rest]
    parts = [(make_pipeline(_impute()[impute], _numeric_steps()[step]), numeric)]
    if categorical:
        strings = make_column_selector(dtype_exclude="number")
        parts.append((_encoders()[encoder], strings))
    if remainder == "scaled":
        remainder = StandardScaler()
    ct = stp.make_traced_column_transformer(
        *parts, remainder=remainder, verbose_feature_names_out=verbose
    )
    if pandas_out:
        ct.set_output(transform="pandas")
    _check(stp.make_traced_pipeline(ct, LogisticRegression(max_iter=2000)), X, y, seed)


class _RowCentred(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Each value minus its row's mean: one-to-one names, every output from the row."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        return X - X.mean(axis=1, keepdims=True)


@pytest.mark.parametrize(
    "step",
    [
        FunctionTransformer(_shares, feature_names_out="one-to-one"),
        FunctionTransformer(
            lambda Z: Z / Z.sum(axis=1, keepdims=True), feature_names_out="one-to-one"
        ),
        _RowCentred(),
    ],
    ids=["function", "lambda", "custom_class"],
)
def test_names_that_leave_out_inputs_a_step_computes_from_are_widened(tmp_path, step):
    """A user's FunctionTransformer (or class) with one-to-one names that divides by the
    row's sum: each share moves with every column of the row. Lineage recorded each as
    made of its own column alone (a subset), with no word; now every output of the step
    lists every input of the step, and the run's notes say why."""
    X = stp.read_csv(_csv(tmp_path))
    y = X.pop("y")
    numeric = ["age", "income", "hours"]
    ct = make_column_transformer(
        (make_pipeline(SimpleImputer(), step), numeric), (OneHotEncoder(), ["sex"])
    )
    run = _check(stp.make_traced_pipeline(ct, LogisticRegression(max_iter=2000)), X, y)
    lineage = run.feature_lineage
    assert [lineage[f"pipeline__{c}"] for c in numeric] == [numeric] * 3
    assert lineage["onehotencoder__sex_M"] == ["sex"]
    assert any("names its outputs after inputs" in note for note in run.notes)


def test_names_a_step_computes_from_alone_stay_precise(tmp_path):
    """An elementwise user function (a lambda, checked) and a NumPy ufunc (elementwise by
    definition, not run) keep one input per output, with no note."""
    X = stp.read_csv(_csv(tmp_path))
    y = X.pop("y")
    numeric = ["age", "income", "hours"]
    for func in (lambda Z: np.log1p(np.abs(Z)), np.log1p):
        step = FunctionTransformer(func, feature_names_out="one-to-one")
        ct = make_column_transformer((make_pipeline(SimpleImputer(), step), numeric))
        run = _check(stp.make_traced_pipeline(ct, LogisticRegression(max_iter=2000)), X, y)
        assert list(run.feature_lineage.values()) == [[c] for c in numeric]
        assert not any("step" in note for note in run.notes)


@pytest.mark.parametrize("traced", ["pipeline", "estimator"])
def test_a_transformed_target_regressor_records_the_inputs_of_its_regressor(tmp_path, traced):
    """``TransformedTargetRegressor(regressor=make_pipeline(ct, PolynomialFeatures(2),
    Ridge()), func=np.log1p)``, the scikit-learn way of a log target: its Ridge takes 5
    polynomial features of two columns, and the run recorded the 5 input columns each
    as a feature made of itself."""
    X = stp.read_csv(_csv(tmp_path))
    target = X.pop("hours")
    ct = make_column_transformer((SimpleImputer(), ["age", "income"]))
    model = TransformedTargetRegressor(
        regressor=make_pipeline(ct, PolynomialFeatures(2, include_bias=False), Ridge()),
        func=np.log1p,
        inverse_func=np.expm1,
    )
    if traced == "pipeline":
        pipe = stp.make_traced_pipeline(model).fit(X, target)
        fitted = pipe[-1]
    else:
        pipe = stp.TracedEstimator(model).fit(X, target)
        fitted = pipe.estimator_
    run = pipe.lineage_
    assert fitted.regressor_[-1].n_features_in_ == len(run.feature_lineage) == 5
    assert run.feature_lineage["simpleimputer__age simpleimputer__income"] == ["age", "income"]
    assert run.feature_lineage["simpleimputer__age^2"] == ["age"]


class _Noisy(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Each value plus fresh noise: other values at each call, from its own column."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        return X + np.random.default_rng().normal(scale=1e-3, size=X.shape)


def test_a_step_that_gives_other_values_each_time_is_not_checked_and_says_so(tmp_path):
    """Noise is no other column: the names are kept, and the notes say they were not
    checked (every output moves at every call)."""
    X = stp.read_csv(_csv(tmp_path))[["age", "hours"]]
    y = np.arange(len(X)) % 2
    pipe = stp.make_traced_pipeline(_Noisy(), LogisticRegression()).fit(X, y)
    assert pipe.lineage_.feature_lineage == {"age": ["age"], "hours": ["hours"]}
    assert any("gave other values for the same rows" in n for n in pipe.lineage_.notes)


def test_an_unlearner_names_every_feature_made_from_an_aggregate_of_removed_rows(tmp_path):
    """A group statistic over two hospitals (stp.aggregate, merged back) feeds a user's
    row-share function and a PolynomialFeatures interaction; removing one hospital, the
    unlearner's caveat names the features that still carry its rows' data. The truth:
    the features that move when the aggregate column changes. The share named after
    ``age`` was missing from the caveat (its lineage said ``age`` alone)."""
    a = stp.read_csv(_csv(tmp_path, "a", n=50, seed=1), source_id="a")
    b = stp.read_csv(_csv(tmp_path, "b", n=40, seed=2), source_id="b")
    rows = pd.concat([a, b])
    groups = stp.aggregate(rows, by="city", city_hours=("hours", "mean"))
    X = stp.merge(rows, groups, on="city", how="left")[["age", "city_hours", "sex", "y"]]
    y = X.pop("y")
    share = FunctionTransformer(_shares, feature_names_out="one-to-one")
    ct = make_column_transformer(
        (share, ["age", "city_hours"]),
        (PolynomialFeatures(2, include_bias=False), ["age", "city_hours"]),
        (OneHotEncoder(), ["sex"]),
    )
    pipe = stp.make_traced_pipeline(ct, StandardScaler(), LogisticRegression(max_iter=1000))
    pipe.fit(X, y)
    pre = pipe[:-1]
    names = list(pre.get_feature_names_out())
    moved = _moved(pre.transform(X), pre.transform(X.assign(city_hours=X["city_hours"] * 2)))
    truth = sorted(n for n, m in zip(names, moved) if m)
    assert "functiontransformer__age" in truth
    assert sorted(pipe.lineage_.feature_aggregates()) == truth
    unlearner = stp.GradientCorrectionUnlearner(pipe, preprocessing="keep").fit(X, y)
    with pytest.warns(UserWarning, match="group statistics"):
        unlearner.unlearn(source_id="b")
    caveat = unlearner.unlearning_log_[-1]["caveat"]
    named = caveat.split("(features ")[1].split(")")[0].split(", ")
    assert sorted(named) == truth


def test_names_given_by_a_callable_are_checked_even_for_a_ufunc(tmp_path):
    """``feature_names_out`` as a callable names outputs as the user writes it: here each
    log after the other column (a slip), which the record took at its word."""
    X = stp.read_csv(_csv(tmp_path))[["age", "hours"]]
    y = np.arange(len(X)) % 2
    swapped = FunctionTransformer(
        np.log1p, feature_names_out=lambda self, names: [f"log_{n}" for n in names[::-1]]
    )
    run = _check(stp.make_traced_pipeline(swapped, LogisticRegression()), X, y)
    assert run.feature_lineage == {"log_hours": ["age", "hours"], "log_age": ["age", "hours"]}
    assert any("names its outputs after inputs" in note for note in run.notes)


class _FillByZone(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fills a missing income with its zone's mean income: the zone is used only in the
    rows whose income is missing. ``in_place`` writes into the frame it is given."""

    def __init__(self, in_place=False):
        self.in_place = in_place

    def fit(self, X, y=None):
        self.means_ = X.groupby("zone")["income"].mean()
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        if self.in_place:
            X["income"] = X["income"].fillna(X["zone"].map(self.means_))
            return X
        return X.assign(income=X["income"].fillna(X["zone"].map(self.means_)))


def test_a_step_filling_missing_values_from_another_column_is_checked_where_they_are(
    tmp_path,
):
    """Missing incomes only in lines 2 and 3, which 16 rows spread over 60 leave out:
    the rows with a missing value are run too, and show the zone used. Each run is on
    a copy: a step filling them in place left none for the runs after the first."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"income": rng.normal(50, 10, 60), "zone": rng.integers(1, 4, 60).astype(float)}
    )
    frame.loc[[1, 2], "income"] = np.nan
    frame["y"] = np.arange(60) % 2
    frame.to_csv(tmp_path / "z.csv", index=False)
    X = stp.read_csv(tmp_path / "z.csv")
    y = X.pop("y")
    # (a zone the harness makes up has no mean: the imputer fills what it leaves)
    pipe = stp.make_traced_pipeline(_FillByZone(), SimpleImputer(), LogisticRegression())
    run = _check(pipe, X, y)
    assert run.feature_lineage["income"] == ["income", "zone"]
    in_place = _FillByZone(in_place=True).fit(X)
    notes = []
    _, deps = feature_lineage(in_place, ["income", "zone"], X, notes)
    assert deps == [["income", "zone"]] * 2 and X["income"].isna().sum() == 2
    assert any("names its outputs after inputs" in note for note in notes)


def test_a_step_whose_outputs_list_every_input_already_is_not_run():
    """Names that embed no input (``jlprojector0``) list every input: no check to make,
    and no note that it was not made, however many inputs."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(20, 300)), columns=[f"c{j}" for j in range(300)])
    step = stp.JLProjector(n_components=4, random_state=0).fit(X)
    notes = []
    names, deps = feature_lineage(step, list(X.columns), X, notes)
    assert len(names) == 4 and deps == [list(X.columns)] * 4 and notes == []


def test_sparse_rows_of_any_format_are_sampled():
    """A DIA or COO matrix cannot be indexed by rows: sampling one raised TypeError in
    the fit of a pipeline holding a step outside scikit-learn."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    dense = rng.uniform(1, 2, size=(20, 3))
    for matrix in (sp.dia_array(dense), sp.coo_matrix(dense), sp.csr_matrix(dense)):
        step = FunctionTransformer(
            lambda Z: _shares(Z.toarray()), feature_names_out="one-to-one", accept_sparse=True
        ).fit(matrix)
        notes = []
        _, deps = feature_lineage(step, ["a", "b", "c"], matrix, notes)
        assert deps == [["a", "b", "c"]] * 3, type(matrix)
        assert any("names its outputs after inputs" in note for note in notes)
