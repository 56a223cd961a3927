"""Label balance of targets beyond one column of classes, against counts of the data."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multioutput import MultiOutputClassifier
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

import sktraceprop as stp
from sktraceprop.compliance._html_sources import _labels


def _two_sources(n_a, n_b, seed):
    rng = np.random.default_rng(seed)
    a = stp.from_pandas(pd.DataFrame(rng.normal(size=(n_a, 2)), columns=["x", "z"]), "sa")
    b = stp.from_pandas(pd.DataFrame(rng.normal(size=(n_b, 2)), columns=["x", "z"]), "sb")
    return pd.concat([a, b]), rng


def _by_source(pipe):
    return {s["source_id"]: s["labels"] for s in pipe.lineage_.source_stats["sources"]}


@settings(max_examples=20, deadline=None)
@given(
    n_a=st.integers(6, 30),
    n_b=st.integers(6, 30),
    seed=st.integers(0, 2**16),
    unlabelled=st.floats(0.0, 0.7),
    self_training=st.booleans(),
)
@pytest.mark.filterwarnings("ignore:y contains no unlabeled samples")
def test_unlabelled_rows_of_a_semi_supervised_fit_are_not_a_class(
    n_a, n_b, seed, unlabelled, self_training
):
    # SelfTrainingClassifier and LabelSpreading read y == -1 as "no label": the label
    # balance recorded "-1" as a third class (of 20 rows), and n_classes 3
    X, rng = _two_sources(n_a, n_b, seed)
    n = n_a + n_b
    y = np.arange(n) % 2  # both classes present
    y[rng.random(n) < unlabelled] = -1
    y[:2] = [0, 1]  # (some labelled rows for the classifier)
    model = SelfTrainingClassifier(LogisticRegression()) if self_training else LabelSpreading()
    pipe = stp.make_traced_pipeline(model).fit(X, y)
    stats = _by_source(pipe)
    for source, rows in (("sa", slice(0, n_a)), ("sb", slice(n_a, n))):
        part = y[rows]
        # every class of the fit is listed for each source, 0 where it has none
        expected = {str(k): int((part == k).sum()) for k in np.unique(y[y != -1])}
        assert stats[source]["counts"] == expected
        assert stats[source]["unlabelled"] == int((part == -1).sum())
        assert stats[source]["n_classes"] == len({*y[y != -1].tolist()})
        if (part == -1).any():
            assert f"unlabelled: {(part == -1).sum()}" in _labels(stats[source])


@pytest.mark.parametrize("self_training", [True, False])
def test_a_semi_supervised_fit_with_no_label_gets_scikit_learns_own_answer(self_training):
    # every row unlabelled: the label balance failed first, before the fit, with numpy's
    # "zero-size array to reduction operation minimum"; the traced fit now does what
    # scikit-learn's own does (an error of its own, or a fit)
    X, _ = _two_sources(10, 10, 0)
    y = -np.ones(20, dtype=np.int64)

    def model():
        return SelfTrainingClassifier(LogisticRegression()) if self_training else LabelSpreading()

    try:
        model().fit(X.to_numpy(), y)
        plain = None
    except ValueError as exc:
        plain = str(exc)
    if plain is None:
        stats = _by_source(stp.make_traced_pipeline(model()).fit(X, y))
        for source in ("sa", "sb"):
            assert stats[source]["counts"] == {}
            assert stats[source]["unlabelled"] == 10
    else:
        with pytest.raises(ValueError) as traced:
            stp.make_traced_pipeline(model()).fit(X, y)
        assert str(traced.value) == plain


def test_minus_one_stays_a_class_for_a_classifier_that_is_not_semi_supervised():
    X, rng = _two_sources(10, 10, 0)
    y = np.tile([-1, 0, 1, 0], 5)
    stats = _by_source(stp.make_traced_pipeline(LogisticRegression()).fit(X, y))
    assert stats["sa"]["counts"] == {"-1": 3, "0": 5, "1": 2}
    assert "unlabelled" not in stats["sa"]


@pytest.mark.parametrize("kind", ["multilabel", "regression", "frame"])
def test_a_target_of_several_columns_is_not_summarised_as_one(kind):
    # never classes or a continuous summary of the flattened columns
    X, rng = _two_sources(12, 9, 1)
    if kind == "multilabel":
        model, Y = (
            MultiOutputClassifier(LogisticRegression()),
            np.c_[np.arange(21) % 2, rng.integers(0, 2, 21)],
        )
    elif kind == "regression":
        model, Y = Ridge(), rng.normal(size=(21, 3))
    else:
        model, Y = Ridge(), pd.DataFrame(rng.normal(size=(21, 2)), index=X.index)
    stats = _by_source(stp.make_traced_pipeline(model).fit(X, Y))
    for source in ("sa", "sb"):
        assert stats[source]["kind"] == "not recorded"
        assert f"shape (21, {np.shape(Y)[1]})" in stats[source]["reason"]


@pytest.mark.parametrize("dtype", ["category", "string"])
def test_categorical_and_string_targets_are_counted_per_source(dtype):
    X, rng = _two_sources(15, 11, 2)
    values = rng.choice(["lo", "mid", "hi"], size=26)
    categories = ["lo", "mid", "hi", "unused"]
    dt = pd.CategoricalDtype(categories) if dtype == "category" else "string"
    y = pd.Series(values, index=X.index, dtype=dt)
    stats = _by_source(stp.make_traced_pipeline(LogisticRegression()).fit(X, y))
    for source, part in (("sa", values[:15]), ("sb", values[15:])):
        labels, counts = np.unique(part, return_counts=True)
        assert stats[source]["counts"] == {str(k): int(c) for k, c in zip(labels, counts)}


@pytest.mark.parametrize("form", ["column", "frame"])
@pytest.mark.parametrize("classifier", [True, False])
def test_a_target_of_one_column_is_counted_as_one_target(form, classifier):
    # y of shape (n, 1), or y = df[["label"]], is one target (scikit-learn fits it so):
    # its balance was "not recorded", the reason saying "(several outputs)"
    X, rng = _two_sources(14, 9, 3)
    y = rng.integers(0, 3, 23)
    Y = y[:, None] if form == "column" else pd.DataFrame({"label": y}, index=X.index)
    model = LogisticRegression() if classifier else Ridge()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        pipe = stp.make_traced_pipeline(model).fit(X, Y)
    assert pipe.lineage_.source_stats["target"] == (None if form == "column" else "label")
    stats = _by_source(pipe)
    for source, part in (("sa", y[:14]), ("sb", y[14:])):
        if classifier:
            labels, counts = np.unique(part, return_counts=True)
            assert stats[source]["counts"] == {str(k): int(c) for k, c in zip(labels, counts)}
        else:
            assert stats[source]["kind"] == "continuous"
            assert stats[source]["count"] == part.size
            assert stats[source]["mean"] == pytest.approx(part.mean(), rel=1e-12)
            assert stats[source]["max"] == part.max()
