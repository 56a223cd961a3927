"""An explainer of an unlearner takes its retained rows at the features its final step
was fitted on.

A ``TargetEncoder`` cross fits: its ``fit_transform`` encodes each training row with
the targets of the other folds, its ``transform`` with all of them. The unlearner's
final step sits at the minimum of its objective on the former (``preprocessing="keep"``:
the encodings of its fit, less the removed rows; ``"refit"``: the encodings of the
preprocessing refitted on the retained rows). The explainer took ``transform``'s and
said nothing: ``stationarity_`` 0.038-0.066 here, under the warning's 0.1.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import make_column_transformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop.exceptions import LineageWarning
from sktraceprop.stores import MemoryStore
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _sites(prefix, seed=5):
    rng = np.random.default_rng(seed)
    frames, ys = [], []
    for k, n in enumerate((60, 50, 40)):
        cat = rng.integers(0, 6, size=n)
        num = rng.normal(size=n)
        frames.append(stp.from_pandas(pd.DataFrame({"cat": cat, "num": num}), f"{prefix}_{k}"))
        sign = -1.0 if k == 2 else 1.0  # site 2 labels category 3 the other way
        ys.append(sign * (cat == 3) + 0.5 * num + rng.normal(scale=0.5, size=n) > 0.3)
    return pd.concat(frames), np.concatenate(ys).astype(int)


def _pre(encoder=True):
    # unshuffled cross-fitting folds: one encoding per fit, the truth's included
    first = TargetEncoder(cv=5, shuffle=False) if encoder else OneHotEncoder(sparse_output=False)
    return make_column_transformer((first, ["cat"]), (StandardScaler(), ["num"]))


def _pipe(traced, encoder=True):
    final = LogisticRegression(tol=1e-12, max_iter=10_000)  # at its minimum before removals
    if traced:
        return stp.make_traced_pipeline(_pre(encoder), final, store=MemoryStore())
    return make_pipeline(_pre(encoder), final)


def _strict():
    warnings.simplefilter("error", ConvergenceWarning)
    warnings.simplefilter("error", LineageWarning)
    warnings.simplefilter("ignore", FutureWarning)


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("removed", [False, True])
@pytest.mark.parametrize("preprocessing", ["keep", "refit"])
def test_an_unlearners_retained_rows_are_explained_at_their_trained_features(
    preprocessing, removed, traced
):
    prefix = f"ulf_{preprocessing}{int(removed)}{int(traced)}"
    X, y = _sites(prefix)
    unl = GradientCorrectionUnlearner(_pipe(traced), preprocessing=preprocessing, tol=1e-10)
    unl.fit(X, y)
    keep = np.ones(len(X), dtype=bool)
    if removed:
        unl.unlearn(source_id=f"{prefix}_2")
        unl.unlearn(sample_id=stp.row_ids(X)[:10])
        keep[:10] = keep[-40:] = False
    # the truth, independently: the features the final step sits at the minimum on (the
    # encoder's fit_transform: of all rows when kept, of the retained rows when refitted)
    # and a plain LogisticRegression fitted on the retained rows' ones
    if preprocessing == "keep" or not removed:
        Z = _pre().fit_transform(X, y)[keep]
    else:
        Z = _pre().fit_transform(X[keep], y[keep])
    test_rows = X.iloc[np.flatnonzero(keep)[:6]]
    Z_test = unl.estimator_[:-1].transform(test_rows)
    assert np.abs(Z - unl.estimator_[:-1].transform(X[keep])).max() > 0.05  # cross fitted
    truth = LogisticRegression(tol=1e-12, max_iter=10_000).fit(Z, y[keep])
    with warnings.catch_warnings():
        _strict()
        exp = InfluenceExplainer(unl).fit(X[keep], y[keep])
        reference = InfluenceExplainer(truth).fit(Z, y[keep])
    assert reference.stationarity_ < 1e-5
    assert exp.stationarity_ < 1e-5  # 0.038-0.066 at transform's features
    ours = exp.explain(test_rows, y[keep][:6], keep_scores=True)
    theirs = reference.explain(Z_test, y[keep][:6], keep_scores=True)
    assert_allclose(ours.scores, theirs.scores, rtol=1e-4, atol=1e-6 * np.abs(theirs.scores).max())
    assert_allclose(exp.Xt_, Z, rtol=1e-10, atol=1e-12)
    assert exp._fit_features == "fit"
    assert exp.cross_fitted_ == ["columntransformer/targetencoder (TargetEncoder)"]
    assert any("at the features the final estimator was trained on" in n for n in ours.notes)


def test_the_corrected_pipeline_alone_names_the_cross_fitting_it_cannot_see():
    """``unlearner.estimator_`` alone holds the retained rows (recorded) but not the
    features its final step was fitted on: a warning names the step, the features are
    transform's."""
    X, y = _sites("ulf_alone")
    unl = GradientCorrectionUnlearner(_pipe(False), preprocessing="keep", tol=1e-10).fit(X, y)
    unl.unlearn(source_id="ulf_alone_2")
    keep = np.arange(len(X)) < 110
    with pytest.warns(LineageWarning, match=r"columntransformer/targetencoder \(TargetEncoder\)"):
        exp = InfluenceExplainer(unl.estimator_).fit(X[keep], y[keep])
    assert exp._fit_features == "unknown"
    assert 0 < exp.stationarity_ < 0.1  # under the ConvergenceWarning's threshold


@pytest.mark.parametrize("preprocessing", ["keep", "refit"])
def test_a_pipeline_without_cross_fitting_is_explained_at_transform(preprocessing):
    prefix = f"ulf_plain_{preprocessing}"
    X, y = _sites(prefix)
    unl = GradientCorrectionUnlearner(
        _pipe(False, encoder=False), preprocessing=preprocessing, tol=1e-10
    ).fit(X, y)
    unl.unlearn(source_id=f"{prefix}_2")
    keep = np.arange(len(X)) < 110
    with warnings.catch_warnings():
        _strict()
        exp = InfluenceExplainer(unl).fit(X[keep], y[keep])
    assert exp._fit_features == "transform" and exp.cross_fitted_ == []
    assert_allclose(exp.Xt_, unl.estimator_[:-1].transform(X[keep]), rtol=1e-12)
    assert exp.stationarity_ < 1e-5
    assert not any("cross fit" in note for note in exp.explain(X[:2]).notes)


def test_a_neural_unlearners_retained_rows_are_explained_at_their_trained_inputs():
    """A JaxClassifier after a TargetEncoder: the net was fitted on the encoder's
    fit_transform, and the explainer of the unlearner takes those inputs (it took
    transform's, no word said)."""
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _sites("ulf_net")
    init_fn, apply_fn = mlp(hidden=(4,))
    net = JaxClassifier(apply_fn, init_fn, n_epochs=5, random_state=0)
    unl = GradientCorrectionUnlearner(make_pipeline(_pre(), net), n_steps=2, calibration="none")
    unl.fit(X, y).unlearn(source_id="ulf_net_2")
    keep = np.arange(len(X)) < 110
    trained_on = _pre().fit_transform(X, y).astype(np.float32)[keep]
    assert np.abs(trained_on - unl.estimator_[:-1].transform(X[keep])).max() > 0.05
    with warnings.catch_warnings():
        _strict()
        exp = InfluenceExplainer(unl, method="ggn").fit(X[keep], y[keep])
    assert_allclose(exp.Xt_, trained_on, rtol=1e-6)
    assert exp._fit_features == "fit"


@pytest.mark.parametrize("preprocessing", ["keep", "refit"])
def test_an_unfitted_unlearner_is_fitted_and_explained_at_its_trained_features(preprocessing):
    """Given an unfitted unlearner (forget= set), the explainer fits it on every row and
    scores the retained ones at the features its corrected final step sits on."""
    prefix = f"ulf_unfitted_{preprocessing}"
    X, y = _sites(prefix)
    unl = GradientCorrectionUnlearner(
        _pipe(False), preprocessing=preprocessing, tol=1e-10, forget=f"{prefix}_2"
    )
    with warnings.catch_warnings():
        _strict()
        exp = InfluenceExplainer(unl).fit(X, y)
    keep = np.arange(len(X)) < 110
    Z = _pre().fit_transform(X, y)[keep] if preprocessing == "keep" else None
    Z = _pre().fit_transform(X[keep], y[keep]) if Z is None else Z
    assert exp.stationarity_ < 1e-5
    assert_allclose(exp.Xt_, Z, rtol=1e-10, atol=1e-12)
    assert exp._fit_features == "fit" and exp.n_train_ == 110


class _ShiftAtFit(TransformerMixin, BaseEstimator):
    """A leave-one-out-like step of a user's own: its fit_transform gives the training
    rows other values (shifted by 0.5) than its transform gives the same rows."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=np.float64)

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X) + 0.5 * np.sign(np.asarray(X, dtype=np.float64))


class _CountedScaler(StandardScaler):
    """A StandardScaler that counts its transform calls (fit_transform is fit, then
    transform: TransformerMixin's)."""

    calls = 0

    def transform(self, X, copy=None):
        type(self).calls += 1
        return super().transform(X, copy=copy)


def test_a_users_step_whose_fit_transform_differs_is_explained_at_its_fit_features():
    # not a TargetEncoder: any step defining its own fit_transform is compared
    X, y = _sites("ulf_shift")
    pre = make_column_transformer(
        (OneHotEncoder(sparse_output=False), ["cat"]), (_ShiftAtFit(), ["num"])
    )
    final = LogisticRegression(tol=1e-12, max_iter=10_000)
    unl = GradientCorrectionUnlearner(make_pipeline(pre, final), tol=1e-10).fit(X, y)
    unl.unlearn(source_id="ulf_shift_2")
    keep = np.arange(len(X)) < 110
    with warnings.catch_warnings():
        _strict()
        explainer = InfluenceExplainer(unl).fit(X[keep], y[keep])
    assert explainer._fit_features == "fit"
    assert explainer.stationarity_ < 1e-5


def test_a_refit_without_a_step_of_its_own_fit_transform_transforms_nothing_more():
    # each removal refits the preprocessing by fit_transform; comparing its features
    # with transform's (to keep those an explainer needs) cost a transform of every
    # retained row and doubled the peak memory of a removal (34 -> 84 MB on Adult's
    # 20,000 rows): where every step's fit_transform is fit then transform it is skipped
    X, y = _sites("ulf_count")
    pre = make_column_transformer(
        (OneHotEncoder(sparse_output=False), ["cat"]), (_CountedScaler(), ["num"])
    )
    unl = GradientCorrectionUnlearner(make_pipeline(pre, LogisticRegression())).fit(X, y)
    _CountedScaler.calls = 0
    unl.unlearn(source_id="ulf_count_2")
    assert _CountedScaler.calls == 1  # the refit's own fit_transform (fit, transform)
    keep = np.arange(len(X)) < 110
    with warnings.catch_warnings():
        _strict()
        explainer = InfluenceExplainer(unl).fit(X[keep], y[keep])
    assert explainer._fit_features == "transform"
