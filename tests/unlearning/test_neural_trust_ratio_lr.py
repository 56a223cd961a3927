"""A trust-ratio optimizer's learning rate (LAMB, LARS) is no step size of the plain
gradient steps the neural removal fine-tunes with: taken as one (the default), the
removal of rows from a LARS model fitted at ``learning_rate=20`` diverged (certificate
about 2e5); it is now refused asking for ``lr=``, and with one the removal is sound."""

import numpy as np
import pytest

from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests._optax_like import decayed_adam, lars

pytest.importorskip("jax")

from tests.gradients.test_trust_ratio import _model  # noqa: E402
from tests.unlearning.test_decoupled_decay_jax import _data  # noqa: E402


def test_a_trust_ratio_model_asks_for_the_fine_tuning_step_size():
    X, y = _data(n=80)
    forget = np.arange(X.shape[0]) < 5
    unl = GradientCorrectionUnlearner(_model(lars(0.05, 0.0), 20.0), calibration="none")
    unl.fit(X, y)
    before = unl.estimator_.params_
    with pytest.raises(ValueError, match=r"trust ratio .*learning_rate=20 is no step size.*lr="):
        unl.unlearn(mask=forget)
    assert unl.estimator_.params_ is before and not unl.unlearning_log_  # nothing changed
    unl.set_params(lr=0.5).unlearn(mask=forget)
    log = unl.unlearning_log_[-1]
    assert log["lr"] == 0.5 and log["certificate"] < 0.05, log["certificate"]


def test_an_adam_models_step_is_measured_and_an_sgd_model_keeps_its_learning_rate():
    # an Adam model's learning rate scales a per-coordinate normalised step: taken as the
    # step of plain SGD steps (the default until 2026-12) it is no step of theirs
    X, y = _data(n=80)
    forget = np.arange(X.shape[0]) < 5
    events = []
    for optimizer, extra in [
        (decayed_adam(0.05), {}),
        (decayed_adam(0.05), {"lr": 0.05}),
        (decayed_adam(0.05), {"n_steps": 0}),
        ("adam", {}),
        ("sgd", {}),
    ]:
        unl = GradientCorrectionUnlearner(_model(optimizer), calibration="none", **extra)
        events.append(unl.fit(X, y).unlearn(mask=forget).unlearning_log_[-1])
    measured, as_sgd, none, adam, sgd = events
    assert measured["lr"] != 0.05 and "Gauss-Newton eigenvalue" in measured["lr_source"]
    assert "whose learning_rate=0.05 is no step size of plain SGD steps" in measured["lr_source"]
    assert measured["certificate"] <= min(as_sgd["certificate"], none["certificate"])
    assert "the model's optimizer is adam, whose" in adam["lr_source"]
    assert (
        sgd["lr"] == 0.05
        and sgd["lr_source"] == "the model's learning_rate (its optimizer is sgd)"
    )
