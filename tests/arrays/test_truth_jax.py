"""Row lineage of traced JAX arrays against the hand-carried id column (``_chains``)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp

from ._chains import HypothesisChoices, NumpyBackend, reported, run_chain

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
apply = stp.arrays.apply


class JaxBackend(NumpyBackend):
    name = "jax"

    def make(self, values, source_id):
        return stp.array(jnp.asarray(values), source_id=source_id)

    def plain(self, values):
        return jnp.asarray(values)

    def concat(self, xs):
        return apply(jnp.concatenate, xs)

    def hstack(self, xs):
        return apply(jnp.hstack, xs)

    def stack(self, xs):
        return apply(jnp.stack, xs)

    def where(self, c, a, b):
        return apply(jnp.where, c, a, b)

    def index(self, x, key):
        return x[key]

    def astype(self, x):
        return x.astype(jnp.float16).astype(jnp.float32)

    def set_row(self, x, i, j):
        return apply(lambda v: v.at[i].set(v[j]), x)

    # a scatter pools what it writes (right, but coarser than the truth's direct rows);
    # JAX arrays are immutable: nothing to shuffle in place
    skip = ("set_cells", "set_element", "shuffle")

    def block(self, x):
        return apply(lambda v: jnp.block([[v[:, :1], v[::-1, 1:]]]), x)

    def roll(self, x, k):
        return apply(lambda v: jnp.roll(v, k, 0), x)

    def pad_odd(self, x, before, after):
        return apply(
            lambda v: jnp.pad(v, ((before, after), (0, 0)), mode="reflect", reflect_type="odd"),
            x,
        )

    def reshape_round_trip(self, x):
        n, d = x.shape
        return x.reshape(n, 1, d).reshape(n, d)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n_ops=st.integers(1, 4))
def test_jax_chains_match_carried_ids(data, n_ops):
    x, truth, names, _ = run_chain(JaxBackend(), HypothesisChoices(data), n_ops)
    assert type(x).__name__ == "TracedJaxArray", names
    assert reported(x, len(truth)) == truth, names


def test_jax_chain_through_jit_matches_numpy():
    values = np.random.default_rng(0).random((6, 3))
    f = jax.jit(lambda v: jnp.concatenate([v - v.mean(0), v[::-1] * 2])[jnp.array([1, 7, 11])])
    x = apply(f, stp.array(jnp.asarray(values), source_id="a"))
    frame = stp.provenance(x).rows([0, 1, 2], pooled=False)
    assert frame["line"].tolist() == [2, 5, 1]
    pooled = stp.provenance(x).rows(0)
    assert sorted(pooled.loc[pooled["through"].notna(), "line"]) == [1, 2, 3, 4, 5, 6]
    assert stp.provenance(x).rows(1)["through"].isna().all()
