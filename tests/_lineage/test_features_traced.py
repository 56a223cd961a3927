"""Feature lineage recorded by traced fits, against perturbation of the frames they were
fitted on: frames read with ``stp.read_csv`` (and ``stp.merge``), one input column changed
in some rows at a time, pushed through the fitted preprocessing (and through a refit on
them). An output that moves must list the column; the record may list more than moves
(a superset, where it cannot know), never less."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.feature_selection import SelectKBest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._features import TARGET


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
    if values.dtype == object:
        categories = sorted(values.dropna().unique())
        other.loc[rows, column] = [
            categories[(categories.index(v) + 1) % len(categories)] for v in values[rows]
        ]
    else:
        base = values[rows].to_numpy(dtype=float)
        other.loc[rows, column] = base * rng.uniform(0.3, 1.7, base.size) + 2.0
    return other


def _moves_with(pipe, X, y, rng, repeats=3):
    """``{input column: outputs of the fitted preprocessing that move with it}``, at
    transform and through a refit."""
    pre = pipe[:-1]
    before = _dense(pre.transform(X))
    found = {}
    for column in X.columns:
        moved = np.zeros(before.shape[1], dtype=bool)
        for _ in range(repeats):
            other = _perturbed(X, column, rng)
            moved |= _moved(before, _dense(pre.transform(other)))
            moved |= _moved(before, _dense(clone(pipe).fit(other, y)[:-1].transform(X)))
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
