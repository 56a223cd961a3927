import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import make_column_transformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, TargetEncoder

import sktraceprop as stp
from sktraceprop import InfluenceExplainer


def _data(n=160, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({"c": rng.choice(list("abcdefgh"), n), "x": rng.randn(n)})
    y = (X["c"].isin(list("abc")) ^ (rng.rand(n) < 0.2)).astype(int).to_numpy()
    return X, y


def _encoder():
    # seeded folds: the test reproduces the cross-fitted features independently
    return TargetEncoder(cv=5, shuffle=True, random_state=0)


def _leave_one_out_margins(Z, y, Z_test, y_test, rows):
    """Margin change of the test rows when each of ``rows`` is removed and the final
    LogisticRegression refitted on the other rows' features (preprocessing fixed)."""
    sign = 2 * y_test - 1

    def margins(keep):
        lr = LogisticRegression(tol=1e-12, max_iter=10_000).fit(Z[keep], y[keep])
        return lr.decision_function(Z_test) * sign

    full = margins(np.ones(len(y), dtype=bool))
    out = []
    for i in rows:
        keep = np.ones(len(y), dtype=bool)
        keep[i] = False
        out.append(full - margins(keep))
    return np.array(out).T  # (n_test, len(rows)): removing the row lowers by this


@pytest.mark.parametrize("traced", [False, True])
def test_target_encoder_scores_are_taken_at_the_cross_fitted_features(traced):
    X, y = _data()
    steps = (
        make_column_transformer((_encoder(), ["c"]), (StandardScaler(), ["x"])),
        LogisticRegression(tol=1e-12, max_iter=10_000),
    )
    pipe = stp.make_traced_pipeline(*steps) if traced else make_pipeline(*steps)
    Xin = stp.from_pandas(X, "cross_fit_toy") if traced else X
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)
        exp = InfluenceExplainer(pipe).fit(Xin, y)
    assert exp.stationarity_ < 1e-3
    assert exp.cross_fitted_ == ["columntransformer/targetencoder (TargetEncoder)"]
    # independent truth: the features a fit of the same preprocessing gives its rows
    Z = clone(steps[0]).fit_transform(X, y)
    np.testing.assert_allclose(exp.Xt_, Z, rtol=1e-12)
    assert np.abs(Z - exp.estimator_[:-1].transform(Xin)).max() > 0.05  # they differ
    Z_test = exp.estimator_[:-1].transform(Xin.iloc[:5])
    rows = np.arange(0, 160, 8)
    truth = _leave_one_out_margins(Z, y, Z_test, y[:5], rows)
    explanation = exp.explain(Xin.iloc[:5], y[:5], keep_scores=True)
    scores = explanation.scores[:, rows]
    assert np.corrcoef(scores.ravel(), truth.ravel())[0, 1] > 0.99
    np.testing.assert_allclose(scores, truth, atol=0.1 * np.abs(truth).max())
    assert "cross fits" in explanation.notes[0]


def test_prefit_target_encoder_pipeline_names_cross_fitting():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        pipe = make_pipeline(_encoder(), LogisticRegression()).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="TargetEncoder's fit_transform cross") as w:
        exp = InfluenceExplainer(pipe).fit(X, y)
    assert "clone(pipeline)" in str(w[0].message)
    assert exp.stationarity_ > 0.1
    notes = exp.explain(X[:2]).notes
    assert "The explainer did not see those features" in notes[0]
    assert f"stationarity_ = {exp.stationarity_:.2g}" in notes[0]


def test_plain_pipeline_has_no_cross_fitting_note():
    X, y = _data()
    pipe = make_pipeline(
        make_column_transformer((StandardScaler(), ["x"]), ("drop", ["c"])),
        LogisticRegression(),
    )
    exp = InfluenceExplainer(pipe).fit(X, y)
    assert exp.cross_fitted_ == []
    assert not any("cross fit" in note for note in exp.explain(X[:2]).notes)


def test_pipeline_fitted_inside_a_wrapper_names_cross_fitting():
    # a TracedEstimator fits its own clone, out of the explainer's sight: the warning
    # was the generic one (solver, sample_weight, separable classes), no word of the
    # encoder
    X, y = _data()
    wrapped = stp.TracedEstimator(make_pipeline(_encoder(), LogisticRegression()))
    with pytest.warns(ConvergenceWarning, match="TargetEncoder's fit_transform cross"):
        exp = InfluenceExplainer(wrapped).fit(stp.from_pandas(X, "cross_fit_wrapped"), y)
    assert exp.cross_fitted_ == ["targetencoder (TargetEncoder)"]


class _LeaveOneOutMean(TransformerMixin, BaseEstimator):
    """A user's leave-one-out target encoding of column 0: at fit each row is encoded
    without its own target; transform uses all of them."""

    def fit(self, X, y):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y):
        codes = np.asarray(X)[:, 0]
        y = np.asarray(y, dtype=float)
        self.sums_ = {c: y[codes == c].sum() for c in np.unique(codes)}
        self.counts_ = {c: (codes == c).sum() for c in np.unique(codes)}
        own = [(self.sums_[c] - t) / max(self.counts_[c] - 1, 1) for c, t in zip(codes, y)]
        return np.column_stack([own, np.asarray(X)[:, 1].astype(float)])

    def transform(self, X):
        codes = np.asarray(X)[:, 0]
        mean = np.array([self.sums_[c] / self.counts_[c] for c in codes])
        return np.column_stack([mean, np.asarray(X)[:, 1].astype(float)])


def test_any_step_whose_fit_transform_differs_is_caught():
    X, y = _data()
    X = X.to_numpy(dtype=object)
    exp = InfluenceExplainer(make_pipeline(_LeaveOneOutMean(), LogisticRegression())).fit(X, y)
    assert exp.stationarity_ < 1e-3 and exp._fit_features == "fit"
    assert "A preprocessing step gave the training rows" in exp.explain(X[:2]).notes[0]
    # five rows a category: leaving a row's own target out moves its encoding far
    X, y = _data(40)
    X = X.to_numpy(dtype=object)
    prefit = make_pipeline(_LeaveOneOutMean(), LogisticRegression()).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="a fit_transform that is not fit"):
        InfluenceExplainer(prefit).fit(X, y)
