import numpy as np
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import GradientCorrectionUnlearner
from tests.unlearning.test_gradient_correction import _data, _truth


def test_balanced_with_sample_weight_equals_retrain():
    # LogisticRegression balances the classes' summed sample weights; the objective
    # balanced their counts, so the unlearner certified (gradient 2e-11) a model whose
    # decision values differed from scikit-learn's retrain by 0.11
    X, y = _data("multiclass")
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    model = LogisticRegression(C=0.3, class_weight="balanced")
    unl = GradientCorrectionUnlearner(model, tol=1e-10).fit(X, y, sample_weight=sw)
    unl.unlearn(source_id="site_1")
    keep = stp.row_lineage(X)["source_id"].to_numpy() != "site_1"
    truth = _truth(model, X[keep], y[keep], sample_weight=sw[keep])
    assert_allclose(unl.decision_function(X), truth.decision_function(X), rtol=1e-6, atol=1e-7)
