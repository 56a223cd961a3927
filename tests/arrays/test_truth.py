"""Row lineage against independent truths: random chains of operations carried out by
hand on an explicit id column (``_chains``), and, for NumPy, the rows whose perturbation
actually changes each output row."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp

from ._chains import (
    OPS,
    HypothesisChoices,
    NumpyBackend,
    SeededChoices,
    everything,
    reported,
    run_chain,
    source_truth,
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


#: Operations that keep an array's size bounded over a long chain, and pool its rows
#: over and over (centring, scaling), cut and mix them.
_LOOP_OPS = [
    "affine", "astype", "center", "choose", "concat", "cut", "mask", "minus_element",
    "mirror", "roll", "row_center", "scale", "set_element", "set_row", "weights",
]  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n_ops=st.integers(12, 30))
def test_long_pooling_chains_match_carried_ids(data, n_ops):
    # long chains pool the array into itself again and again, then cut, mask and
    # concatenate it (so the inputs pooled into rows that are later cut away are left
    # out of the maps made after): every row still reports exactly its carried rows
    x, truth, names, _ = run_chain(NumpyBackend(), HypothesisChoices(data), n_ops, ops=_LOOP_OPS)
    assert reported(x, len(truth)) == truth, names


def _two_sources(name, rows_b):
    """NumPy sources ``<name>_a`` (4 rows) and ``<name>_b`` (``rows_b`` rows) of 3
    columns, with the rows each carries: ``(backend, a, b, truth_a, truth_b)``."""
    backend = NumpyBackend()
    rng = np.random.default_rng(0)
    a = backend.make(rng.random((4, 3)), f"{name}_a")
    b = backend.make(rng.random((rows_b, 3)), f"{name}_b")
    return backend, a, b, source_truth(f"{name}_a", 4), source_truth(f"{name}_b", rows_b)


def test_a_loop_that_keeps_pooling_carries_only_the_pools_behind_its_rows():
    # acc = concatenate([acc, b]); acc = acc - acc.mean(axis=0); acc = acc[2:], 150
    # times: each step pools the array into itself, and the rows each pool applies to
    # are cut away two steps later. The row map used to keep every input ever pooled
    # (150 here; each step cost more than the one before), now only those behind a row.
    backend, x, y, truth, truth_y = _two_sources("loop", 2)
    for _ in range(150):
        for name, p in (("concat", None), ("center", None), ("cut", (2, None, 1))):
            apply, carry, _ = OPS[name]
            x = apply(backend, x, y, p)
            truth = carry(truth, truth_y, p)
    assert reported(x, len(truth)) == truth
    assert len(stp.provenance(x)._rows.pools) <= 3


def _mask_bytes(maps):
    """Bytes of the distinct arrays that hold the pools' masks of ``maps`` (a view
    counted once, as the array it views)."""
    owners = {}
    for rm in maps:
        for _, m in rm.pools:
            if m is not None:
                owner = m if m.base is None else m.base
                owners[id(owner)] = owner.nbytes
    return sum(owners.values())


def test_a_loop_that_keeps_every_row_matches_carried_ids_and_shares_its_masks():
    # acc = concatenate([acc, b]); acc = acc - acc.mean(axis=0);
    # acc = vstack([acc[:2], acc[2:] - acc[2:].mean(axis=0)]);
    # acc = concatenate([acc, acc[-1:] * 2 + 1]): every row is kept, so every row keeps
    # the inputs pooled into it. Each concatenation and each vstack used to make a new
    # mask of every row for every group of pooled inputs (memory and time per step
    # growing with the steps); masks now end at their last row and pieces of one mask
    # are put back as a view of it, so a step makes a few masks, whatever its number.
    backend, x, y, truth, truth_y = _two_sources("grow", 1)
    (center, center_t, _), (cut, cut_t, _) = OPS["center"][:3], OPS["cut"][:3]
    (concat, concat_t, _), (affine, same, _) = OPS["concat"][:3], OPS["affine"][:3]
    steps, maps = 60, []
    for step in range(steps):
        k = step % 4
        if k == 0:
            x, truth = concat(backend, x, y, None), concat_t(truth, truth_y, None)
        elif k == 1:
            x, truth = center(backend, x, y, None), center_t(truth, truth_y, None)
        elif k == 2:
            head, tail = cut(backend, x, y, (0, 2, 1)), cut(backend, x, y, (2, None, 1))
            t_head, t_tail = cut_t(truth, truth_y, (0, 2, 1)), cut_t(truth, truth_y, (2, None, 1))
            tail, t_tail = center(backend, tail, y, None), center_t(t_tail, truth_y, None)
            x, truth = concat(backend, head, tail, None), concat_t(t_head, t_tail, None)
        else:
            last = affine(backend, cut(backend, x, y, (-1, None, 1)), y, None)
            x = concat(backend, x, last, None)
            truth = concat_t(
                truth, same(cut_t(truth, truth_y, (-1, None, 1)), truth_y, None), None
            )
        maps.append(stp.provenance(x)._rows)
    assert reported(x, len(truth)) == truth
    # a few masks of at most every row per step (a new mask per group of pooled inputs,
    # as before: 16,125 bytes over these 60 steps, 2,391 now)
    n, pooled = len(truth), len(maps[-1].pools)
    assert pooled >= 25, pooled
    assert _mask_bytes(maps) <= 2 * steps * n
