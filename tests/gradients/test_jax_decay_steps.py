"""A JaxClassifier's optax-style optimizer whose decay changes during the fit (a
schedule of the step count) is checked step by step: the neural removal refuses it and
the influence curvature leaves it out, instead of taking the decay of its first steps
(none, or the coupled decay it drops later) for that of the whole fit."""

import numpy as np
import pytest

from sktraceprop.influence._penalty import l2_penalty
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests._optax_like import decayed_adam, scheduled_decayed_adam

pytest.importorskip("jax")

from tests.unlearning.test_decoupled_decay_jax import _data  # noqa: E402

EPOCHS, SWITCH = 300, 200


def _model(optimizer, **kwargs):
    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=(4,))
    kwargs = {"n_epochs": EPOCHS, "learning_rate": 0.05, "random_state": 0, **kwargs}
    return JaxClassifier(apply_fn, init_fn, optimizer=optimizer, **kwargs)


# (0.05, 0.0504): a change of 0.8%, unseen while 1% of the decay was allowed per step
@pytest.mark.parametrize(
    ("before", "after"), [(0.0, 0.05), (0.05, 0.0), (0.05, 0.2), (0.05, 0.0504), (0.0, 1e-6)]
)
def test_a_decay_schedule_is_refused_and_left_out(before, after):
    X, y = _data(n=80)
    schedule = scheduled_decayed_adam(before, after, SWITCH)
    with pytest.raises(NotImplementedError, match="weight decay changed during the fit"):
        GradientCorrectionUnlearner(_model(schedule), calibration="none").fit(X, y)
    model = _model(schedule).fit(X, y)
    # the steps found off are those the schedule gave another decay: SWITCH + 1 to the end
    kept = model._decay_steps
    np.testing.assert_allclose(kept["coef"], before, rtol=1e-5, atol=1e-12)
    assert (kept["steps"], kept["off"]) == (EPOCHS, EPOCHS - SWITCH)
    assert (kept["first_off"], kept["last_off"]) == (SWITCH + 1, EPOCHS)
    with pytest.warns(UserWarning, match=f"from step {SWITCH + 1} to step {EPOCHS}"):
        coef, notes = l2_penalty(model)
    assert coef == 0.0 and "changed during the fit" in notes


@pytest.mark.parametrize("batch_size", [None, 16])
def test_a_constant_coupled_decay_has_every_step_of_its_coefficient(batch_size):
    X, y = _data(n=80)
    model = _model(decayed_adam(0.05), batch_size=batch_size).fit(X, y)
    kept = model._decay_steps
    n_batches = 1 if batch_size is None else -(-80 // batch_size)
    assert (kept["steps"], kept["off"]) == (EPOCHS * n_batches, 0)
    coef, notes = l2_penalty(model)
    np.testing.assert_allclose(coef, 0.05, rtol=1e-5)
    assert "first steps only" not in notes


@pytest.mark.parametrize("after", [0.1, 0.05 * 1.0005])
def test_a_decay_changed_after_the_fit_is_refused(after):
    # 1.0005: a change of 0.05%, taken for the same decay while 0.1% was allowed
    X, y = _data(n=80)
    model = _model(decayed_adam(0.05)).fit(X, y)
    model.set_params(optimizer=decayed_adam(after))
    with pytest.warns(UserWarning, match=r"changed after the fit \(its steps were checked agai"):
        assert l2_penalty(model)[0] == 0.0


@pytest.mark.parametrize("batch_size", [None, 16])
def test_the_smallest_change_the_steps_could_show_is_said(batch_size):
    # the notes name it, and a schedule that changes by twice the median limit after a
    # third of the steps is found at (nearly) every step from then on
    X, y = _data(n=80)
    model = _model(decayed_adam(0.05), batch_size=batch_size).fit(X, y)
    kept = model._decay_steps
    assert 0 < kept["limit_median"] <= kept["limit"]
    # float32 cannot tell the decay from itself plus one rounding of it, nor read finer
    assert kept["limit_median"] >= np.finfo(np.float32).eps * 0.05
    notes = l2_penalty(model)[1]
    assert f"smaller than {kept['limit_median']:.2g} at most steps" in notes
    assert f"(than {kept['limit']:.2g} at some) is not seen" in notes
    steps = kept["steps"]
    switch = steps // 3
    changed = scheduled_decayed_adam(0.05, 0.05 + 2 * kept["limit_median"], switch)
    changed_kept = _model(changed, batch_size=batch_size).fit(X, y)._decay_steps
    assert changed_kept["first_off"] > switch and changed_kept["last_off"] == steps
    assert changed_kept["off"] >= 0.5 * (steps - switch)


def test_a_model_without_a_record_of_its_steps_says_so():
    # fitted by an earlier sktraceprop (no _decay_steps): its first steps only are read
    X, y = _data(n=80)
    model = _model(decayed_adam(0.05)).fit(X, y)
    model._decay_steps = None
    coef, notes = l2_penalty(model)
    np.testing.assert_allclose(coef, 0.05, rtol=1e-5)
    assert "read from the optimizer's first steps only" in notes
    # the built-in optimizers apply no decay beyond alpha: nothing to say
    assert "first steps only" not in l2_penalty(_model("adam").fit(X, y))[1]
