"""Feature lineage and feature sources of random ColumnTransformer layouts over two CSV
sources joined with ``stp.merge``, against an independent truth: change one input column
(in the rows fitted on, and in the rows transformed) and see which outputs move. Columns
are selected by name, dtype, boolean mask, position and callable; the remainder is
dropped, passed through or transformed."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline, make_union
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    StandardScaler,
)

import sktraceprop as stp

SOURCE = {"age": "A", "bp": "A", "sex": "A", "chol": "B", "hr": "B", "smoker": "B"}
NUMERIC = ["age", "bp", "chol", "hr"]
CATEGORICAL = ["sex", "smoker"]


def _frame(tmp_path, seed=0, n=40):
    """Columns from two CSV files (``A`` and ``B``) joined on an id, and a label."""
    rng = np.random.default_rng(seed)
    a = pd.DataFrame(
        {
            "pid": range(n),
            "age": rng.uniform(20, 80, n).round(1),
            "bp": rng.uniform(90, 160, n).round(0),
            "sex": rng.choice(["F", "M"], n),
            "y": np.r_[0, 1, rng.integers(0, 2, n - 2)],
        }
    )
    a.loc[rng.choice(n, 4, replace=False), "bp"] = np.nan
    b = pd.DataFrame(
        {
            "pid": range(n),
            "chol": rng.uniform(150, 300, n).round(0),
            "hr": rng.uniform(50, 100, n).round(0),
            "smoker": rng.choice(["yes", "no"], n),
        }
    )
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    df = stp.merge(
        stp.read_csv(tmp_path / "a.csv", source_id="A"),
        stp.read_csv(tmp_path / "b.csv", source_id="B"),
        on="pid",
    )
    return df.drop(columns=["pid", "y"]), df["y"].to_numpy()


def _dense(Z):
    return np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=float)


def _perturbed(X, column, k):
    other = X.copy()
    values = other[column]
    if pd.api.types.is_numeric_dtype(values):
        scale = np.random.default_rng(k).uniform(0.5, 2.0, len(values))
        other[column] = values * scale + 3.0
    else:
        other[column] = np.roll(values.to_numpy(), 1 + k)
    return other


def _moves(pre, X, y):
    """Input column -> outputs of ``pre`` that move when it changes."""
    fitted = clone(pre).fit(X, y)
    before = _dense(fitted.transform(X))
    moved = {}
    for column in X.columns:
        hit = np.zeros(before.shape[1], dtype=bool)
        for k in range(2):
            other = _perturbed(X, column, k)
            for after in (
                _dense(fitted.transform(other)),
                _dense(clone(pre).fit(other, y).transform(X)),
            ):
                if after.shape != before.shape:
                    hit[:] = True
                else:
                    hit |= ~np.all(np.isclose(before, after, equal_nan=True), axis=0)
        moved[column] = hit
    return fitted, moved


def _check(pre, X, y):
    """Fit ``pre`` before a model in a traced pipeline; every output's recorded inputs
    and sources include every column (and its source) that moves it."""
    pipe = stp.make_traced_pipeline(clone(pre), LogisticRegression(max_iter=500))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
        fitted, moved = _moves(pre, X, y)
    run = pipe.lineage_
    lineage, sources = run.feature_lineage, run.feature_sources()
    names = list(fitted.get_feature_names_out())
    assert list(lineage) == names
    for k, name in enumerate(names):
        columns = lineage[name]
        assert columns is not None, name
        need = {c for c, hit in moved.items() if hit[k]}
        assert need <= set(columns), (name, columns, need)
        assert set(sources[name]) == {SOURCE[c] for c in columns}, (name, sources[name])
    return lineage


def _selector(kind, columns, order):
    if kind == "names":
        return list(columns)
    if kind == "mask":
        return [c in columns for c in order]
    if kind == "positions":
        return [order.index(c) for c in columns]
    return lambda X: [c for c in X.columns if c in columns]  # (a callable)


def _numeric_step(kind):
    return {
        "scale": make_pipeline(SimpleImputer(), StandardScaler()),
        "poly": make_pipeline(SimpleImputer(), PolynomialFeatures(2, interaction_only=True)),
        "pca": make_pipeline(SimpleImputer(), PCA(1)),
        "indicator": SimpleImputer(add_indicator=True),
        "union": make_pipeline(SimpleImputer(), make_union(PCA(1), "passthrough")),
    }[kind]


def _encoder(kind):
    if kind == "onehot":
        return OneHotEncoder(drop="first", sparse_output=False)
    return OrdinalEncoder()


@pytest.mark.filterwarnings("ignore:.*holds the same bytes")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(
    numeric=["age", "chol"],
    categorical=["smoker"],
    select="positions",
    step="union",
    encoder="onehot",
    remainder="passthrough",
    verbose=True,
    pandas_out=False,
    seed=0,
)
@given(
    numeric=st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=3, unique=True),
    categorical=st.lists(st.sampled_from(CATEGORICAL), max_size=2, unique=True),
    select=st.sampled_from(["names", "mask", "positions", "callable", "dtype"]),
    step=st.sampled_from(["scale", "poly", "pca", "indicator", "union"]),
    encoder=st.sampled_from(["onehot", "ordinal"]),
    remainder=st.sampled_from(["drop", "passthrough", "scaled"]),
    verbose=st.booleans(),
    pandas_out=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_layouts_list_every_column_and_source_that_moves_a_feature(
    tmp_path_factory,
    numeric,
    categorical,
    select,
    step,
    encoder,
    remainder,
    verbose,
    pandas_out,
    seed,
):
    X, y = _frame(tmp_path_factory.mktemp("csv"), seed)
    # (a column passed through as it is holds no missing value: the model takes it)
    rest = [] if remainder == "drop" else [c for c in ("hr", "age") if c not in numeric][:1]
    order = numeric + categorical + rest
    X = X[order]
    if select == "dtype":
        parts = [(_numeric_step(step), make_column_selector(dtype_include="number"))]
        if categorical:
            parts.append((_encoder(encoder), make_column_selector(dtype_exclude="number")))
        rest = []
    else:
        parts = [(_numeric_step(step), _selector(select, numeric, order))]
        if categorical:
            parts.append((_encoder(encoder), _selector(select, categorical, order)))
    if remainder == "scaled":
        remainder = make_pipeline(SimpleImputer(), StandardScaler())
    pre = ColumnTransformer(
        [(f"t{k}", est, cols) for k, (est, cols) in enumerate(parts)],
        remainder=remainder,
        verbose_feature_names_out=verbose,
    )
    if pandas_out:
        pre.set_output(transform="pandas")
    _check(pre, X, y)


def test_a_composition_after_an_array_step_names_features_as_the_pipeline_does(tmp_path):
    """A ColumnTransformer or FeatureUnion fitted on an earlier step's array output (no
    column names of its own) records the names the pipeline gives its outputs
    (``a__age``), not names of unnamed columns (``a__x0``) that say nothing of them."""
    X, y = _frame(tmp_path)
    numeric = SimpleImputer().set_output(transform="default")
    first = ColumnTransformer([("n", numeric, NUMERIC)], verbose_feature_names_out=False)
    then_ct = make_pipeline(
        first, ColumnTransformer([("a", StandardScaler(), [0, 2]), ("b", PCA(1), [1, 3])])
    )
    lineage = _check(then_ct, X, y)
    assert lineage["a__age"] == ["age"]
    assert lineage["a__chol"] == ["chol"]
    then_union = make_pipeline(clone(first), FeatureUnion([("p", "passthrough"), ("pca", PCA(1))]))
    lineage = _check(then_union, X, y)
    assert lineage["p__hr"] == ["hr"]
    assert lineage["pca__pca0"] == NUMERIC


class _ScaledByFirst(TransformerMixin, BaseEstimator):
    """Names its outputs one-to-one, and divides every column by the spread the FIRST
    column had at fit: each output depends on the first input, at fit only."""

    def fit(self, X, y=None):
        values = np.asarray(X, dtype=float)
        self.scale_ = values[:, 0].std() + 1.0
        self.names_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) / self.scale_

    def get_feature_names_out(self, input_features=None):
        return self.names_ if input_features is None else np.asarray(input_features, object)


def test_names_that_leave_out_an_input_used_only_at_fit_are_widened(tmp_path):
    """A step from outside scikit-learn whose one-to-one names hide an input it uses only
    at fit: its outputs list every input of the step, and the notes say why."""
    X, y = _frame(tmp_path)
    pre = ColumnTransformer(
        [
            (
                "n",
                make_pipeline(SimpleImputer().set_output(transform="pandas"), _ScaledByFirst()),
                NUMERIC,
            )
        ]
    )
    pre.set_output(transform="pandas")
    lineage = _check(pre, X, y)
    assert all(columns == NUMERIC for columns in lineage.values()), lineage
    pipe = stp.make_traced_pipeline(clone(pre), LogisticRegression(max_iter=500)).fit(X, y)
    assert any("training rows a copy of the step was fitted on" in n for n in pipe.lineage_.notes)


class _Doubled(TransformerMixin, BaseEstimator):
    """Each column doubled; names none of its outputs (no get_feature_names_out)."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) * 2


def test_a_part_that_names_no_output_lists_all_its_columns_and_says_so(tmp_path):
    """A ColumnTransformer part without output names: each of its outputs is recorded as
    using every column given to the part (a superset), under ``part__k``, and the notes
    say that this is not known output by output."""
    X, y = _frame(tmp_path)
    pre = ColumnTransformer(
        [
            ("n", make_pipeline(SimpleImputer(), _Doubled()), ["age", "chol"]),
            ("c", OneHotEncoder(sparse_output=False), ["sex"]),
        ]
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, y)
    run = pipe.lineage_
    assert run.feature_lineage == {
        "n__0": ["age", "chol"],
        "n__1": ["age", "chol"],
        "c__sex_F": ["sex"],
        "c__sex_M": ["sex"],
    }
    assert run.feature_sources()["n__0"] == ["A", "B"]
    assert any("part 'n' (Pipeline)" in n and "not known output by output" in n for n in run.notes)


def test_a_column_named_in_one_source_and_renamed_from_another_names_both(tmp_path):
    """Rows of source A hold ``age`` by name; rows of source B, concatenated below them,
    hold B's ``chol`` renamed to ``age`` outside the pipeline (identified by its values).
    The feature made from ``age`` holds values of both sources: both are named."""
    _frame(tmp_path)
    a = stp.read_csv(tmp_path / "a.csv", source_id="A")
    b = stp.read_csv(tmp_path / "b.csv", source_id="B").rename(columns={"chol": "age"})
    both = pd.concat([a[["age", "sex"]], b[["age", "smoker"]].rename(columns={"smoker": "sex"})])
    y = np.arange(len(both)) % 2
    pre = ColumnTransformer([("n", StandardScaler(), ["age"])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(pre, LogisticRegression()).fit(both[["age"]], y)
    run = pipe.lineage_
    assert run.feature_lineage == {"n__age": ["age"]}
    [(code, loaded)] = run.renamed_columns["age"]
    assert (run.sources[code].source_id, loaded) == ("B", "chol")
    assert run.feature_sources() == {"n__age": ["A", "B"]}


def test_a_search_over_a_pipeline_records_the_features_its_best_model_takes(tmp_path):
    """A GridSearchCV over a pipeline as the final step, or traced on its own: the
    features recorded are those its refitted best pipeline's model takes (a selection
    there keeps some, chosen with the target; a PCA mixes them), as for a pipeline given
    as the final step. Before, the search's inputs were recorded, and no feature was said
    to use the target."""
    from sklearn.feature_selection import SelectKBest
    from sklearn.model_selection import GridSearchCV

    X, y = _frame(tmp_path)
    pre = ColumnTransformer([("n", SimpleImputer(), ["age", "bp", "chol"])])
    search = GridSearchCV(
        make_pipeline(SelectKBest(k=2), LogisticRegression()), {"selectkbest__k": [1, 2]}, cv=2
    )
    pipe = stp.make_traced_pipeline(pre, search).fit(X, y)
    best = pipe[-1].best_estimator_
    kept = list(best[:-1].get_feature_names_out(pre.get_feature_names_out()))
    every = ["age", "bp", "chol", "<target>"]
    assert pipe.lineage_.feature_lineage == dict.fromkeys(kept, every)
    assert pipe.lineage_.target_features() == kept
    whole = GridSearchCV(
        make_pipeline(clone(pre), PCA(1), LogisticRegression()), {"pca__whiten": [False]}, cv=2
    )
    traced = stp.TracedEstimator(whole).fit(X[["age", "sex", "bp", "chol"]], y)
    assert traced.lineage_.feature_lineage == {"pca0": ["age", "bp", "chol"]}
