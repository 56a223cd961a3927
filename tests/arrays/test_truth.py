"""Row lineage against independent truths: random chains of operations carried out by
hand on an explicit id column (``_chains``), and, for NumPy, the rows whose perturbation
actually changes each output row."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp

from ._chains import (
    HypothesisChoices,
    NumpyBackend,
    SeededChoices,
    everything,
    reported,
    run_chain,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data=st.data(), n_ops=st.integers(1, 6))
def test_numpy_chains_match_carried_ids(data, n_ops):
    x, truth, names, _ = run_chain(NumpyBackend(), HypothesisChoices(data), n_ops)
    assert isinstance(x, stp.arrays.TracedArray), names
    assert reported(x, len(truth)) == truth, names


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n_ops=st.integers(1, 5))
def test_numpy_chains_name_every_row_that_changes_the_output(seed, n_ops):
    # Perturbing a source row changes the output rows that depend on it (up to
    # numerical coincidence: a centred single row is 0 whatever its value), so every
    # row whose perturbation changed an output row must be among its reported rows.
    backend = NumpyBackend()
    x, truth, names, (base_a, base_b) = run_chain(backend, SeededChoices(seed), n_ops)
    n = len(truth)
    out = np.asarray(x)
    claimed = reported(x, n)
    rng = np.random.default_rng(seed)
    for source, base in (("lab_a", base_a), ("lab_b", base_b)):
        for r in range(base.shape[0]):
            values = [base_a.copy(), base_b.copy()]
            values[0 if source == "lab_a" else 1][r] += rng.normal(size=3) + 3.0
            xp, _, _, _ = run_chain(backend, SeededChoices(seed), n_ops, values=values)
            changed = (np.asarray(xp) != out).reshape(n, -1).any(axis=1)
            for i in np.nonzero(changed)[0]:
                assert (source, r + 1) in claimed[i][0] | claimed[i][1], (names, i)


@SETTINGS
@given(seed=st.integers(0, 2**16), n=st.integers(1, 8))
def test_sort_over_rows_never_leaves_out_a_row(seed, n):
    # np.sort along the row axis is not modelled row by row: every row is pooled in, a
    # superset of the rows whose values land in each output row.
    values = np.random.default_rng(seed).random((n, 3))
    out = np.sort(stp.array(values, source_id="a"), axis=0)
    order = np.argsort(values, axis=0, kind="stable")
    claimed = reported(out, n)
    for i in range(n):
        landed = {("a", int(order[i, j]) + 1) for j in range(3)}
        assert landed <= claimed[i][0] | claimed[i][1]
    assert all(c[1] == everything(claimed) for c in claimed)
