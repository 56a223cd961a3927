import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge

from sktraceprop import InfluenceExplainer
from sktraceprop.gradients import linear_model_objective
from sktraceprop.metrics import linear_datamodeling_score
from sktraceprop.metrics._lds import _rowwise_spearman


def test_rowwise_spearman_matches_scipy_and_constant_rows_count_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 30))
    b = a + rng.normal(size=(5, 30))
    b[:, :3] = b[:, 3:6]  # ties
    a[4] = 1.0  # constant row
    got = _rowwise_spearman(a, b)
    for j in range(4):
        assert got[j] == pytest.approx(spearmanr(a[j], b[j]).statistic, abs=1e-12)
    assert got[4] == 0.0


def _data():
    X, y = make_classification(200, 5, n_informative=4, n_redundant=0, random_state=0)
    return X[:150], y[:150], X[150:], y[150:]


def test_lds_matches_brute_force_definition():
    Xtr, ytr, Xte, yte = _data()
    explainer = InfluenceExplainer(LogisticRegression()).fit(Xtr, ytr)
    lds, per_row = linear_datamodeling_score(
        explainer, Xtr, ytr, Xte, yte, n_subsets=12, random_state=3, return_per_row=True
    )
    # Independent recomputation: same subsets, full score matrix, scipy's Spearman.
    rng = np.random.RandomState(3)
    scores = explainer.explain(Xte, yte, keep_scores=True).scores
    pred, actual = [], []
    for _ in range(12):
        idx = rng.choice(150, size=75, replace=False)
        pred.append(scores[:, idx].sum(axis=1))
        model = LogisticRegression().fit(Xtr[idx], ytr[idx])
        actual.append(linear_model_objective(model).margins(Xte, yte)[0])
    pred, actual = np.array(pred), np.array(actual)
    expect = [spearmanr(pred[:, j], actual[:, j]).statistic for j in range(50)]
    np.testing.assert_allclose(per_row, expect, atol=1e-12)
    assert lds == pytest.approx(np.mean(expect))
    assert lds > 0.9


def test_lds_is_near_zero_for_shuffled_attributions():
    Xtr, ytr, Xte, yte = _data()
    explainer = InfluenceExplainer(LogisticRegression()).fit(Xtr, ytr)
    good = linear_datamodeling_score(explainer, Xtr, ytr, Xte, yte, n_subsets=30, random_state=0)
    # Attributions assigned to the wrong training rows: predictions unrelated to subsets.
    perm = np.random.default_rng(0).permutation(150)
    right = explainer.influence_sums
    explainer.influence_sums = lambda X, y, masks: right(X, y, masks[:, perm])
    bad = linear_datamodeling_score(explainer, Xtr, ytr, Xte, yte, n_subsets=30, random_state=0)
    assert good > 0.9
    assert abs(bad) < 0.3


def test_lds_parallel_matches_serial_and_unfitted_explainer_is_fitted():
    X, y = make_regression(120, 4, noise=10.0, random_state=0)
    explainer = InfluenceExplainer(Ridge(alpha=1.0))
    one = linear_datamodeling_score(
        explainer, X[:90], y[:90], X[90:], y[90:], n_subsets=10, random_state=1
    )
    two = linear_datamodeling_score(
        clone(explainer).fit(X[:90], y[:90]),
        X[:90],
        y[:90],
        X[90:],
        y[90:],
        n_subsets=10,
        random_state=1,
        n_jobs=2,
    )
    assert one == pytest.approx(two, abs=1e-12)
    assert one > 0.9


def test_lds_validates_arguments():
    Xtr, ytr, Xte, yte = _data()
    explainer = InfluenceExplainer(LogisticRegression()).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="alpha"):
        linear_datamodeling_score(explainer, Xtr, ytr, Xte, yte, alpha=1.0)
    with pytest.raises(ValueError, match="n_subsets"):
        linear_datamodeling_score(explainer, Xtr, ytr, Xte, yte, n_subsets=1)
    with pytest.raises(ValueError, match="rows"):
        linear_datamodeling_score(explainer, Xtr[:10], ytr[:10], Xte, yte)


def test_lds_refuses_other_training_rows_of_the_same_size():
    # the retrains use the explainer's rows: X_train reversed (or another sample of the
    # same size) gave the explainer's LDS as if it were computed on those rows
    Xtr, ytr, Xte, yte = _data()
    explainer = InfluenceExplainer(LogisticRegression()).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="not the data the explainer was fitted on"):
        linear_datamodeling_score(explainer, Xtr[::-1], ytr[::-1], Xte, yte, n_subsets=2)
    kwargs = {"n_subsets": 4, "random_state": 0}
    same = linear_datamodeling_score(explainer, Xtr.copy(), ytr, Xte, yte, **kwargs)
    assert same == linear_datamodeling_score(explainer, None, None, Xte, yte, **kwargs)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(2, 12),
    st.integers(0, 2**32 - 1),
    st.integers(0, 4),
    st.floats(0, 0.3),
)
@example(2, 5, 0, 2, 0.2)
def test_rowwise_spearman_is_scipys_with_ties_and_nan(n, m, seed, levels, nan_share):
    # a NaN margin (a retrain that diverged) counted as a correlation of 0, silently
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, n, m))
    if levels:  # few distinct values: ties
        a, b = np.round(a * levels / 2), np.round(b * levels / 2)
    a[rng.random((n, m)) < nan_share] = np.nan
    got = _rowwise_spearman(a, b)
    for j in range(n):
        if np.isnan(a[j]).any():
            assert np.isnan(got[j])
        elif np.ptp(a[j]) == 0 or np.ptp(b[j]) == 0:
            assert got[j] == 0.0  # constant rows count 0, as documented
        else:
            assert got[j] == pytest.approx(spearmanr(a[j], b[j]).statistic, abs=1e-12)


def test_subsets_that_leave_out_a_whole_class_are_refused():
    # two rows of class 2: about a quarter of the half-size subsets hold neither, and
    # their retrains are binary models, whose "margin" for a class-2 row was three
    # times a decision value (16 where the three-class retrains gave about 2)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    y[:2] = 2
    X[:2] += 3
    explainer = InfluenceExplainer(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="leaves out every training row of class 2 "):
        linear_datamodeling_score(explainer, X, y, X[:3], y[:3], n_subsets=12, random_state=0)
    # subsets that keep every class are scored as before
    lds = linear_datamodeling_score(
        explainer, X, y, X[:3], y[:3], n_subsets=12, alpha=0.95, random_state=0
    )
    assert -1 <= lds <= 1


def test_a_column_of_test_labels_scores_as_the_labels():
    # explain takes y_test of shape (n, 1) as one target; the score crashed after all its
    # retrains ("too many values to unpack") on the same labels
    Xtr, ytr, Xte, yte = _data()
    explainer = InfluenceExplainer(LogisticRegression()).fit(Xtr, ytr)
    flat = linear_datamodeling_score(explainer, Xtr, ytr, Xte, yte, n_subsets=6, random_state=0)
    column = yte.reshape(-1, 1)
    assert linear_datamodeling_score(
        explainer, Xtr, ytr, Xte, column, n_subsets=6, random_state=0
    ) == pytest.approx(flat, abs=0)
    with pytest.raises(ValueError, match="one class per row of X"):
        linear_datamodeling_score(explainer, Xtr, ytr, Xte, yte[:10], n_subsets=6)


def test_without_test_labels_the_retrains_compare_the_predicted_classes():
    # explain(X, None) explains the model's predicted classes; the score's retrains
    # crashed ("'<' not supported between 'NoneType'") on the same call
    Xtr, ytr, Xte, yte = _data()
    explainer = InfluenceExplainer(LogisticRegression()).fit(Xtr, ytr)
    predicted = explainer.model_.predict(Xte)
    assert (predicted != yte).any()
    kwargs = dict(n_subsets=6, random_state=0, return_per_row=True)
    lds, per_row = linear_datamodeling_score(explainer, Xtr, ytr, Xte, None, **kwargs)
    want, want_rows = linear_datamodeling_score(explainer, Xtr, ytr, Xte, predicted, **kwargs)
    assert lds == want
    np.testing.assert_array_equal(per_row, want_rows)


def test_an_unfitted_explainer_without_training_data_is_refused_by_name():
    # it failed deep in the fit with "Expected 2D array, got scalar array instead"
    Xtr, ytr, Xte, yte = _data()
    for X_train, y_train in ((None, ytr), (Xtr, None)):
        with pytest.raises(ValueError, match="the explainer is not fitted"):
            linear_datamodeling_score(
                InfluenceExplainer(LogisticRegression()), X_train, y_train, Xte, yte
            )
