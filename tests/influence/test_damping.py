"""The statistics behind the damping selection of neural influence (``_damping``)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from sktraceprop.influence._damping import (
    crossfit_weights,
    most_damped_within_one_se,
    paired_gain,
    probe_lds,
)


def test_a_gain_made_by_one_retrain_is_not_adopted():
    # Every probe row gains the same way from one retrain alone: the standard error over
    # probe rows calls that certain (the old rule adopted it), the jackknife over the
    # retrains sees that it rests on one of eight.
    rng = np.random.RandomState(0)
    n_rows, n_retrains = 200, 8
    groups = np.zeros(n_retrains, dtype=int)
    actual = rng.normal(size=(n_rows, n_retrains))
    actual[:, 3] += 3.0  # one retrain moves every probe row's margin up
    base = actual + 2.0 * rng.normal(size=actual.shape)
    candidate = base.copy()
    candidate[:, 3] += 10.0  # ... and the candidate happens to put it on top
    d = probe_lds(candidate, actual, groups) - probe_lds(base, actual, groups)
    over_rows = d.std(ddof=1) / np.sqrt(d.size)
    assert d.mean() > 2 * over_rows  # adopted by a margin over probe rows only
    gain, se = paired_gain(candidate, base, actual, groups)
    assert gain == np.float64(d.mean())
    assert se >= over_rows and not gain > 2 * se


def test_a_gain_on_every_retrain_is_adopted():
    rng = np.random.RandomState(1)
    groups = np.arange(8) % 2
    actual = rng.normal(size=(200, 8))
    base = actual + 2.0 * rng.normal(size=actual.shape)
    better = actual + 0.5 * rng.normal(size=actual.shape)
    gain, se = paired_gain(better, base, actual, groups)
    assert gain > 2 * se > 0


def test_crossfit_weights_come_from_the_other_seed_group():
    rng = np.random.RandomState(2)
    q = rng.uniform(size=(8, 30))
    groups = np.arange(8) % 2
    W = crossfit_weights(q, groups)
    for r in range(8):
        np.testing.assert_allclose(W[r], q[groups != groups[r]].mean(axis=0))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_groups=st.integers(1, 3),
    per_group=st.integers(2, 4),
)
def test_probe_lds_ignores_a_seed_groups_shift(seed, n_groups, per_group):
    # A seed moves each probe row's margin in all retrains of its group alike: that
    # shift is not the influence of a subset and must not change the score. Within one
    # group the score is the Spearman correlation of the centred rows.
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(n_groups), per_group)
    actual = rng.normal(size=(6, groups.size))
    pred = actual + rng.normal(size=actual.shape)
    shifted = actual + rng.normal(scale=10.0, size=(6, n_groups))[:, groups]
    np.testing.assert_allclose(
        probe_lds(pred, shifted, groups), probe_lds(pred, actual, groups), atol=1e-12
    )
    if n_groups == 1:
        truth = [spearmanr(a, b)[0] for a, b in zip(pred, actual)]
        np.testing.assert_allclose(probe_lds(pred, actual, groups), truth, atol=1e-12)


def test_damping_grows_from_the_best_while_within_one_standard_error():
    # mean curve -a (g - 8)^2 (smoothing shifts a parabola by a constant, so the best
    # stays at 8); the scores at g differ from those at the best by (g - 8) e, so the
    # paired standard error is |g - 8| se: the rule goes up to the largest k with
    # a k^2 <= k se, k = se / a
    a, n_rows = 1e-3, 100
    e = np.where(np.arange(n_rows) % 2 == 0, 1.0, -1.0) * 2e-2
    se = e.std(ddof=1) / np.sqrt(n_rows)
    g = np.arange(25) - 8.0
    rows = (-a * g**2)[:, None] + g[:, None] * e[None, :]
    k = int(np.floor(se / a))
    assert k == 2
    assert most_damped_within_one_se(rows) == 8 + k
    # no spread over rows: the best itself; the same spread everywhere (no paired
    # difference): the best too
    assert most_damped_within_one_se(np.repeat((-a * g**2)[:, None], 3, axis=1)) == 8
    assert most_damped_within_one_se((-a * g**2)[:, None] + e[None, :]) == 8
