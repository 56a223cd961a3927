"""The correction starts from the features the final step was trained on.

A ``TargetEncoder`` cross fits: its ``fit_transform`` encodes each training row with
the targets of the other folds, its ``transform`` with all of them. The final step
is at the minimum of its objective on the former; corrected on the latter, it
converged to the minimum on features no fit gave it (17.7% of its parameters off a
retrain of the final step on its training features, certificate 5e-11).
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, TargetEncoder

import sktraceprop as stp
from sktraceprop.stores import MemoryStore
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _sites(prefix, seed=5):
    rng = np.random.default_rng(seed)
    frames, ys = [], []
    for k, n in enumerate((60, 50, 40)):
        cat = rng.integers(0, 6, size=n)
        num = rng.normal(size=n)
        frames.append(stp.from_pandas(pd.DataFrame({"cat": cat, "num": num}), f"{prefix}_{k}"))
        # site 2 labels category 3 the other way: its rows move that category's encoding
        sign = -1.0 if k == 2 else 1.0
        ys.append(sign * (cat == 3) + 0.5 * num + rng.normal(scale=0.5, size=n) > 0.3)
    return pd.concat(frames), np.concatenate(ys).astype(int)


def _pre():
    # unshuffled cross-fitting folds: one encoding per fit, a retrain's included
    # (scikit-learn 1.6 takes no splitter as cv: 5 unshuffled stratified folds)
    return [(TargetEncoder(cv=5, shuffle=False), ["cat"]), (StandardScaler(), ["num"])]


def _params(model):
    return np.r_[np.ravel(model.coef_), np.ravel(model.intercept_)]


@pytest.mark.parametrize("traced", [True, False])
def test_a_kept_cross_fitting_step_corrects_the_final_step_on_its_training_features(traced):
    """preprocessing="keep": the final step equals a retrain of it on the features it was
    fitted on (the encoder's fit_transform), less the removed rows."""
    X, y = _sites(f"cfk{int(traced)}")
    if traced:
        pipe = stp.make_traced_pipeline(
            stp.make_traced_column_transformer(*_pre()),
            LogisticRegression(),
            store=MemoryStore(),
        )
    else:
        pipe = make_pipeline(make_column_transformer(*_pre()), LogisticRegression())
    unl = GradientCorrectionUnlearner(pipe, preprocessing="keep", tol=1e-10).fit(X, y)
    forget = np.zeros(len(X), dtype=bool)
    forget[-40:] = True  # the third site
    forget[::7] = True
    unl.unlearn(mask=forget)

    # the truth, independently: the encodings the final step was fitted on, and the
    # final step retrained on the retained rows' ones
    trained_on = make_column_transformer(*_pre()).fit_transform(X, y)
    assert not np.allclose(trained_on, unl.estimator_[:-1].transform(X))  # cross fitted
    truth = LogisticRegression(tol=1e-12, max_iter=10_000).fit(trained_on[~forget], y[~forget])
    assert_allclose(_params(unl.estimator_[-1]), _params(truth), rtol=1e-6, atol=1e-7)
    assert unl.unlearning_log_[0]["method"] == "newton"


def test_a_kept_cross_fitting_step_stays_on_its_training_features_over_removals():
    X, y = _sites("cfs")
    pipe = make_pipeline(make_column_transformer(*_pre()), LogisticRegression())
    unl = GradientCorrectionUnlearner(pipe, preprocessing="keep", tol=1e-10).fit(X, y)
    trained_on = make_column_transformer(*_pre()).fit_transform(X, y)
    ids = stp.row_ids(X)
    unl.unlearn(source_id="cfs_2")
    unl.unlearn(sample_id=ids[:10])
    keep = np.ones(len(X), dtype=bool)
    keep[:10] = keep[-40:] = False
    truth = LogisticRegression(tol=1e-12, max_iter=10_000).fit(trained_on[keep], y[keep])
    assert_allclose(_params(unl.estimator_[-1]), _params(truth), rtol=1e-6, atol=1e-7)


def test_a_refitted_cross_fitting_step_equals_a_retrain_of_the_whole_pipeline():
    """preprocessing="refit" (the default) refits the encoder on the retained rows and
    corrects on its fit_transform: a retrain of the whole pipeline (2e-9 measured)."""
    X, y = _sites("cfr")
    pipe = make_pipeline(make_column_transformer(*_pre()), LogisticRegression())
    unl = GradientCorrectionUnlearner(clone(pipe), tol=1e-10).fit(X, y)
    unl.unlearn(source_id="cfr_2")
    keep = np.arange(len(X)) < 110
    retrain = make_pipeline(
        make_column_transformer(*_pre()), LogisticRegression(tol=1e-12, max_iter=10_000)
    ).fit(X[keep], y[keep])
    assert_allclose(unl.decision_function(X), retrain.decision_function(X), atol=1e-6)


def test_a_neural_correction_starts_from_the_inputs_the_net_was_trained_on():
    """A JaxClassifier after a TargetEncoder: the influence step and the fine-tuning run
    on the inputs the net was fitted on (the encoder's fit_transform), not transform's.

    Measured (400 rows, 20 categories, 60 removed, 30 fine-tuning steps): the function
    space distance to the net retrained on its training inputs of the retained rows,
    over the original's, 0.83 on transform's inputs, 0.55 on the trained ones."""
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _sites("cfn")
    init_fn, apply_fn = mlp(hidden=(4,))
    net = JaxClassifier(apply_fn, init_fn, n_epochs=5, random_state=0)
    pipe = make_pipeline(make_column_transformer(*_pre()), net)
    unl = GradientCorrectionUnlearner(pipe, n_steps=2, calibration="none").fit(X, y)
    trained_on = make_column_transformer(*_pre()).fit_transform(X, y).astype(np.float32)
    assert not np.allclose(trained_on, unl.estimator_[:-1].transform(X))
    assert_allclose(unl._method.Z, trained_on)
    unl.unlearn(source_id="cfn_2")
    assert_allclose(unl._method.Z, trained_on[:110])


def test_a_prefit_net_after_a_cross_fitting_step_is_refused_naming_the_cross_fitting():
    """A fitted pipeline's JaxClassifier keeps the digest of the cross-fitted inputs it
    was trained on; an explainer given the pipeline and exactly its rows compares that
    with transform()'s inputs: refused, as before, but the error named only other rows,
    another order, other values or labels. It names the cross fitting now; an unfitted
    clone, whose fit the explainer watches, is explained."""
    pytest.importorskip("jax")
    from sktraceprop import InfluenceExplainer
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _sites("cfp")
    init_fn, apply_fn = mlp(hidden=(4,))
    net = JaxClassifier(apply_fn, init_fn, n_epochs=5, random_state=0)
    pipe = make_pipeline(make_column_transformer(*_pre()), net)
    with pytest.raises(ValueError, match=r"They may be its rows all the same: Step\(s\) "):
        InfluenceExplainer(pipe.fit(X, y), damping=1.0).fit(X, y)
    explainer = InfluenceExplainer(clone(pipe), damping=1.0).fit(X, y)
    assert explainer.cross_fitted_ == ["columntransformer/targetencoder (TargetEncoder)"]
