"""Influence on a free-text column: sparse TF-IDF features from a messy CSV file.

The scores are checked against the derivative they claim to be, measured by refitting
the model with each training row's weight moved up and down (the preprocessing held
fixed, as the explanation's note says), and leave-one-out retrains must agree in sign
and order; the rows named must be the lines their records start on in the file. A
vocabulary too large for the dense Hessian is refused before anything is allocated.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier

import sktraceprop as stp
from sktraceprop.gradients import _dense_size
from sktraceprop.influence import _inverse_hessian
from tests._text_data import notes_file, text_pipeline

_TIGHT = {"solver": "newton-cg", "tol": 1e-12, "max_iter": 10_000}


def _margins(model, Z, y):
    return model.decision_function(Z) * (2 * np.asarray(y) - 1)


def _weight_derivatives(model, Z, y, Zt, yt, step=1e-3):
    """d margin(test) / d weight(train row i), by central differences of refits."""
    out = np.empty((Z.shape[0], Zt.shape[0]))
    for i in range(Z.shape[0]):
        margins = []
        for sign in (1.0, -1.0):
            weight = np.ones(Z.shape[0])
            weight[i] += sign * step
            margins.append(_margins(clone(model).fit(Z, y, sample_weight=weight), Zt, yt))
        out[i] = (margins[0] - margins[1]) / (2 * step)
    return out


@pytest.mark.parametrize("vectorizer", [TfidfVectorizer(), CountVectorizer(binary=True)])
def test_text_influence_is_the_derivative_a_refit_measures(tmp_path, vectorizer):
    X, y, lines = notes_file(tmp_path, seed=5, n=48)
    X_tr, X_te, y_tr, y_te = X.iloc[:40], X.iloc[40:], y.iloc[:40], y.iloc[40:]
    pipe = text_pipeline(vectorizer, LogisticRegression(C=2.0, **_TIGHT)).fit(X_tr, y_tr)
    Z, Zt = pipe[:-1].transform(X_tr), pipe[:-1].transform(X_te)
    assert sparse.issparse(Z) and Z.shape[1] > 10

    explainer = stp.InfluenceExplainer(pipe, random_state=0).fit(X_tr, y_tr)
    exp = explainer.explain(X_te, y_te, top_k=5)
    scores = np.asarray(exp.scores)  # (test, train)
    truth = _weight_derivatives(pipe[-1], Z, y_tr.to_numpy(), Zt, y_te.to_numpy())
    assert_allclose(scores, truth.T, rtol=1e-4, atol=1e-6 * np.abs(truth).max())

    # leave-one-out retrains (the features held fixed) agree in sign and order
    base = _margins(pipe[-1], Zt, y_te)
    keep = np.ones(40, dtype=bool)
    loo = np.empty_like(truth)
    for i in range(40):
        keep[:] = True
        keep[i] = False
        loo[i] = base - _margins(clone(pipe[-1]).fit(Z[keep], y_tr[keep]), Zt, y_te)
    assert np.corrcoef(loo.ravel(), truth.ravel())[0, 1] > 0.99

    # each top row is named by the line its record starts on in the file
    top = exp.top(5)
    assert_allclose(top["line"].to_numpy(), lines[top["train_index"].to_numpy()])


def test_a_vocabulary_too_large_for_memory_is_refused_before_allocating(tmp_path, monkeypatch):
    # found feeding a 10^5-term vocabulary to the explainer: NumPy's bare MemoryError for
    # a 74.5 GiB array, and below the machine's limit with overcommit, a killed process
    X, y, _ = notes_file(tmp_path, seed=6, n=40)
    pipe = text_pipeline(TfidfVectorizer(), SGDClassifier(loss="log_loss", random_state=0))
    pipe.fit(X, y)
    n_params = pipe[-1].coef_.size + 1
    # a machine just too small for the explainer's five matrices, large enough for two
    monkeypatch.setattr(_dense_size, "physical_memory", lambda: 5 * 8 * n_params**2 - 1)
    with pytest.raises(MemoryError, match=f"{n_params} x {n_params}.*max_features="):
        stp.InfluenceExplainer(pipe).fit(X, y)
    monkeypatch.setattr(_dense_size, "physical_memory", lambda: 2 * 8 * n_params**2 - 1)
    unl = stp.GradientCorrectionUnlearner(clone(pipe), preprocessing="keep")
    with pytest.raises(MemoryError, match="The Hessian of SGDClassifier needs 2 dense"):
        unl.fit(X, y)
    monkeypatch.setattr(_dense_size, "physical_memory", lambda: 5 * 8 * n_params**2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stp.InfluenceExplainer(pipe).fit(X, y)


def test_a_large_vocabulary_warns_of_the_cost(tmp_path, monkeypatch):
    X, y, _ = notes_file(tmp_path, seed=7, n=40)
    pipe = text_pipeline(TfidfVectorizer(), LogisticRegression(**_TIGHT)).fit(X, y)
    n_params = pipe[-1].coef_.size + 1
    monkeypatch.setattr(_inverse_hessian, "LARGE_HESSIAN", n_params - 1)
    with pytest.warns(UserWarning, match=f"final step has {n_params} parameters"):
        stp.InfluenceExplainer(pipe).fit(X, y)
    monkeypatch.setattr(_inverse_hessian, "LARGE_HESSIAN", n_params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", "input column")  # the fillna note
        stp.InfluenceExplainer(pipe).fit(X, y)
