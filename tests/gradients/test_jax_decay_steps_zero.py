"""Steps of a JAX model's fit at all-zero parameters, where a weight decay multiplies
nothing: no change of the decay shows in them, so the smallest change the steps could
show is counted without them, "not defined" where no step could show one (it was
1e19 and more, or nan), and a fit none of whose steps could show the decay is refused
rather than taken for one of the decay read before it."""

import numpy as np
import pytest

from sktraceprop.gradients._jax_decay_steps import decay_unseen, record
from sktraceprop.influence._penalty import l2_penalty
from tests._optax_like import decayed_adam

jax = pytest.importorskip("jax")

from tests.unlearning.test_decoupled_decay_jax import _data  # noqa: E402


def _zero_model(learning_rate):
    import jax.numpy as jnp

    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=())

    def zero_init(key, n_features, n_outputs):
        return jax.tree_util.tree_map(jnp.zeros_like, init_fn(key, n_features, n_outputs))

    return JaxClassifier(
        apply_fn,
        zero_init,
        optimizer=decayed_adam(0.05),
        n_epochs=20,
        learning_rate=learning_rate,
        random_state=0,
    )


def test_a_first_step_at_zero_parameters_is_counted_apart():
    X, y = _data(n=80)
    kept = _zero_model(0.05).fit(X, y)._decay_steps
    # the first step starts at zero parameters; the others do not
    assert kept["unread"] == 1 and kept["steps"] == 20
    assert np.isfinite(kept["limit"]) and 0 < kept["limit_median"] <= kept["limit"] < 1e-2
    said = decay_unseen(_zero_model(0.05).fit(X, y))
    assert "checked at 19 of the fit's 20 steps" in said
    assert "1 step(s) at all-zero parameters" in said
    assert "inf" not in said and "nan" not in said


def test_a_fit_at_zero_parameters_throughout_says_not_defined_and_is_refused():
    # a step of 1e-30 leaves every float32 parameter zero, or too small to square
    X, y = _data(n=80)
    model = _zero_model(1e-30).fit(X, y)
    kept = model._decay_steps
    assert kept["unread"] == kept["steps"] == 20
    assert kept["limit"] is None and kept["limit_median"] is None
    said = decay_unseen(model)
    assert "is not defined" in said and "nan" not in said and "inf" not in said
    with pytest.warns(UserWarning, match=r"none of its 20 steps could show"):
        assert l2_penalty(model)[0] == 0.0


def test_record_counts_non_finite_limits_apart():
    # [reading, limit] per step: a limit of inf (zero parameters) is no smallest change
    kept = record(0.1, [[0.0, 1e-6], [0.0, np.inf], [0.0, 3e-6]])
    assert (kept["unread"], kept["limit"], kept["limit_median"]) == (1, 3e-6, 2e-6)
    assert kept["off"] == 0
    none = record(0.1, [[0.0, np.inf], [0.0, np.inf]])
    assert (none["unread"], none["limit"], none["limit_median"]) == (2, None, None)


def test_a_zero_initialised_fit_reads_the_decay_it_used():
    # the decay was read at the all-zero initial parameters, where it multiplies
    # nothing: 0, so every later step looked like another decay ("a schedule")
    from sktraceprop.gradients._jax_decay_steps import decay_change

    X, y = _data(n=80)
    model = _zero_model(0.05).fit(X, y)
    kept = model._decay_steps
    assert np.isclose(kept["coef"], 0.05, rtol=1e-6) and kept["off"] == 0
    assert decay_change(model, 0.05) is None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isclose(l2_penalty(model)[0], 0.05, rtol=1e-6)


def test_a_zero_initialised_schedule_is_refused_as_a_schedule():
    # the truth: the schedule used (0.05 for 5 steps, then 0.01) is the reason given
    from sktraceprop.adapters import JaxClassifier, mlp
    from sktraceprop.gradients._jax_decay_steps import decay_change
    from tests._optax_like import scheduled_decayed_adam

    X, y = _data(n=80)
    zero = _zero_model(0.05)
    init_fn, apply_fn = mlp(hidden=())
    model = JaxClassifier(
        apply_fn,
        zero.init_fn,
        optimizer=scheduled_decayed_adam(0.05, 0.01, 5),
        n_epochs=20,
        learning_rate=0.05,
        random_state=0,
    ).fit(X, y)
    kept = model._decay_steps
    assert np.isclose(kept["coef"], 0.05, rtol=1e-6)
    assert (kept["first_off"], kept["last_off"]) == (6, 20)
    said = decay_change(model, kept["coef"])
    assert "changed during the fit (a schedule)" in said and "coupled 0.05 " in said
