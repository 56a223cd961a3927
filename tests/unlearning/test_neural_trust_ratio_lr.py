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


def test_another_optimizer_keeps_its_learning_rate_as_the_default():
    X, y = _data(n=80)
    unl = GradientCorrectionUnlearner(_model(decayed_adam(0.05)), calibration="none")
    unl.fit(X, y).unlearn(mask=np.arange(X.shape[0]) < 5)
    assert unl.unlearning_log_[-1]["lr"] == 0.05
