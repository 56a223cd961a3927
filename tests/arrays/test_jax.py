"""Traced JAX arrays: operators, apply on jnp functions and jit, functional updates."""

import operator

import numpy as np
import pytest

import sktraceprop as stp

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


def _lines(x, rows, pooled=False):
    frame = stp.provenance(x).rows(rows, pooled=pooled)
    return list(zip(frame["row"], frame["source_id"], frame["line"]))


def _sources():
    a = stp.array(jnp.arange(18.0).reshape(6, 3), source_id="ja")
    b = stp.array(jnp.ones((4, 3)), source_id="jb")
    return a, b


def test_wrapper_operators_and_methods():
    a, b = _sources()
    assert a.shape == (6, 3) and len(a) == 6 and a.ndim == 2
    z = (a - a.mean(axis=0)) / (a.std(axis=0) + 1) * 2
    assert _lines(z, 4) == [(4, "ja", 5)]
    assert _lines(z[::-2], 0) == [(0, "ja", 6)]
    assert _lines(z[np.array([True, False, False, True, False, False])], 1) == [(1, "ja", 4)]
    assert _lines((a @ jnp.ones((3, 2))).astype(jnp.float16), 2) == [(2, "ja", 3)]
    assert sorted(stp.provenance(a.sum()).rows(0)["line"]) == [1, 2, 3, 4, 5, 6]
    values = np.arange(18.0).reshape(6, 3)
    want = (values - values.mean(axis=0)) / (values.std(axis=0) + 1) * 2
    np.testing.assert_allclose(np.asarray(z), want, atol=1e-5)


def test_apply_through_jit_and_functional_updates():
    a, b = _sources()

    @jax.jit
    def prepare(x, y):
        stacked = jnp.concatenate([x - x.mean(axis=0), y * 2 + 1])
        return stacked.at[0].set(stacked[8])

    z = stp.arrays.apply(prepare, a, b)
    assert type(z).__name__ == "TracedJaxArray"
    assert _lines(z, [0, 5, 7]) == [(0, "jb", 3), (5, "ja", 6), (7, "jb", 2)]
    added = stp.arrays.apply(lambda x, y: x.at[1].add(y[3]), a, b)
    assert _lines(added, 1) == [(1, "ja", 2), (1, "jb", 4)]


def test_unmodelled_primitives_pool_every_row():
    a, _ = _sources()
    out = stp.arrays.apply(lambda x: jax.lax.fori_loop(0, 2, lambda i, v: v[::-1] * 2, x), a)
    for direct, pooled in [
        (
            set(f.loc[f["through"].isna(), "line"]),
            set(f.loc[f["through"].notna(), "line"]),
        )
        for f in [stp.provenance(out).rows(k) for k in range(6)]
    ]:
        assert direct | pooled == {1, 2, 3, 4, 5, 6}


def test_a_jax_that_converts_traced_arrays_silently_is_refused():
    # jax 0.4.30 to 0.7.2 converted a traced array given to jnp.mean: b + jnp.mean(a, 0)
    # named b's rows only
    from sktraceprop.arrays._jax import check_jax_version

    for old in ("0.4.30", "0.7.2"):
        with pytest.raises(ImportError, match=r"jax>=0\.8 \(found " + old):
            check_jax_version(old)
    for new in ("0.8.0", "0.10.2", jax.__version__):
        check_jax_version(new)


def test_plain_jnp_functions_refuse_traced_arrays_and_asarray_leaves_tracking():
    a, _ = _sources()
    with pytest.raises(ValueError, match="__jax_array__"):
        jnp.sum(a, axis=1)  # JAX says so: lineage is never dropped silently
    plain = jnp.asarray(a)
    assert isinstance(plain, jax.Array)
    with pytest.raises(TypeError, match="not traced"):
        stp.provenance(plain)


def test_dot_general_rows():
    a, b = _sources()
    left = stp.arrays.apply(lambda x, w: jnp.einsum("nd,dk->nk", x, w), a, jnp.ones((3, 2)))
    assert _lines(left, 3) == [(3, "ja", 4)]
    gram = stp.arrays.apply(lambda x: x.T @ x, a)
    assert sorted(stp.provenance(gram).rows(0)["line"]) == [1, 2, 3, 4, 5, 6]


def test_traced_numpy_and_torch_arrays_keep_their_rows_in_jax_operations():
    # a traced NumPy array or tensor given to a JAX operation used to count as a
    # constant: the result named the JAX array's rows only
    a, _ = _sources()
    n = stp.array(np.arange(18.0).reshape(6, 3)[::-1].copy(), source_id="jn")
    for z in (a + n, stp.arrays.apply(lambda x, y: x * y, a, n), n.__radd__(a)):
        assert _lines(z, 0) == [(0, "ja", 1), (0, "jn", 1)]
    torch = pytest.importorskip("torch")
    t = stp.array(torch.ones(6, 3), source_id="jt")
    assert _lines(a - t, 5) == [(5, "ja", 6), (5, "jt", 6)]


def test_a_traced_array_captured_by_an_applied_function_is_refused():
    # captured from an enclosing scope, JAX took it as a constant and its rows were lost
    a, b = _sources()
    n = stp.array(np.ones((6, 3)), source_id="captured")
    for fn in (lambda x: x + b[:1], lambda x: x + n):
        with pytest.raises(stp.exceptions.LineageError, match="as an argument"):
            stp.arrays.apply(fn, a)
    plain = jax.jit(lambda x: x + n)(jnp.ones((6, 3)))  # outside apply: a plain result
    assert type(plain) is not type(a)


def test_the_capture_check_belongs_to_the_thread_that_traces():
    # while one thread traces a function in apply, another thread's traced arrays are
    # not inside that function: converting them must not be refused
    from concurrent.futures import ThreadPoolExecutor

    from sktraceprop.arrays._state import JAX_TRACING

    a, _ = _sources()
    n = stp.array(np.ones((6, 3)), source_id="other_thread")
    token = JAX_TRACING.set(True)  # this thread is tracing
    try:
        with ThreadPoolExecutor(1) as pool:
            for x in (a, n):
                np.testing.assert_array_equal(pool.submit(jnp.asarray, x).result(), np.asarray(x))
        # and in this thread, a function traced by apply still refuses a captured one
        with pytest.raises(stp.exceptions.LineageError, match="as an argument"):
            stp.arrays.apply(lambda x: x + n, a)
    finally:
        JAX_TRACING.reset(token)


def test_sort_within_rows_by_keys_of_another_array_keeps_each_rows_parents():
    # lax.sort of several operands along a non-row axis merged their maps as if all had
    # rows: with collapsed keys (a broadcast mean) every row named the first value row
    a, b = _sources()
    values = b.value[::-1]
    for keys_first in (True, False):

        def f(x, y, keys_first=keys_first):
            keys = jnp.broadcast_to(x.mean(0), y.shape)
            ops = (keys, y) if keys_first else (y, keys)
            return jax.lax.sort(ops, dimension=1, num_keys=1)[1 if keys_first else 0]

        out = stp.arrays.apply(f, a, stp.array(values, source_id="sorted_rows"))
        assert [line for _, _, line in _lines(out, [0, 1, 2, 3])] == [1, 2, 3, 4]


def test_a_traced_padding_value_is_a_parent_of_the_padded_rows():
    # the padding value was skipped with the indices ("they pick positions"), but it is
    # data: the rows it fills were said to come from nowhere
    x = stp.array(jnp.arange(1.0, 7.0).reshape(3, 2), source_id="pad_x")
    v = stp.array(jnp.array([[100.0], [200.0]]), source_id="pad_v")
    cases = [
        lambda x, v: jnp.pad(x, ((1, 0), (0, 0)), constant_values=v[1, 0]),
        lambda x, v: jax.lax.pad(x, v[0, 0], ((1, 1, 1), (0, 0, 0))),
        lambda x, v: jax.lax.pad(x, v[1, 0], ((0, 0, 0), (1, 0, 0))),
    ]
    for pad in cases:
        out = stp.arrays.apply(pad, x, v)
        values = np.asarray(out)
        got = stp.provenance(out).rows(np.arange(len(values)))
        for i, row in enumerate(values):
            named = set(
                zip(got.loc[got["row"] == i, "source_id"], got.loc[got["row"] == i, "line"])
            )
            # the values are x's (1..6, row = (value + 1) // 2) or v's (100, 200)
            want = {("pad_x", int(c + 1) // 2) for c in row if 0 < c < 100}
            want |= {("pad_v", int(c) // 100) for c in row if c >= 100}
            assert want <= named and {s for s, _ in named} <= {s for s, _ in want}, (i, row)


def test_softmax_within_rows_keeps_each_rows_own_parents():
    # jax.nn.softmax subtracts stop_gradient(row max); stop_gradient (the identity) was
    # not known, so every row was said to depend on every other row
    a, _ = _sources()
    out = stp.arrays.apply(lambda v: jax.nn.softmax(v, axis=1)[::-1], a)
    for i in range(6):
        assert stp.provenance(out).rows(i)["line"].tolist() == [6 - i]
    pooled = stp.arrays.apply(lambda v: jax.nn.softmax(v, axis=0), a)
    assert set(stp.provenance(pooled).rows(0)["line"]) == {1, 2, 3, 4, 5, 6}


@pytest.mark.parametrize(
    "name, call",
    [
        ("roll", lambda a: jnp.roll(a, 1, axis=0)),
        ("flip", lambda a: jnp.flip(a, 0)),
        ("concatenate", lambda a: jnp.concatenate([a, a])[:6]),
        ("stack", lambda a: jnp.stack([a, a], 1)[:, 0]),
        ("tile", lambda a: jnp.tile(a.mean(axis=0), (6, 1))),
        ("broadcast_to", lambda a: jnp.broadcast_to(a.sum(axis=0), (6, 3))),
        ("expand_dims", lambda a: jnp.expand_dims(a, 0)[0]),
        ("set", lambda a: jnp.zeros((6, 3)).at[0].set(a[0])),
    ],
)
def test_jnp_functions_that_convert_before_tracing_refuse_traced_arrays(name, call):
    # These jnp functions take their arguments' plain values (__jax_array__) before JAX
    # traces anything, so JAX's own refusal does not stop them: b + jnp.roll(a) named
    # b's rows only.
    a, _ = _sources()
    b = stp.array(jnp.ones((6, 3)), source_id="jc")
    with pytest.raises(stp.exceptions.LineageError, match=f"'{name}' was given a traced"):
        b + call(a)
    kept = b + stp.arrays.apply(call, a)  # what the error says to do
    assert set(stp.provenance(kept).sources()["source_id"]) == {"ja", "jc"}
    # an explicit conversion still gives the plain values, as np.asarray does
    assert isinstance(jnp.array(a), jax.Array)
    assert isinstance(jnp.asarray([a[0], a[1]]), jax.Array)


@pytest.mark.parametrize(
    "op", [operator.add, operator.sub, operator.truediv, operator.lt, operator.matmul]
)
def test_a_plain_jax_array_on_the_left_of_an_operator_keeps_the_traced_rows(op):
    # plain + x: JAX's operator converted x through __jax_array__ and gave a plain array
    a, _ = _sources()
    plain = jnp.full((6, 3), 5.0) if op is not operator.matmul else jnp.ones((2, 6))
    out = op(plain, a)
    assert type(out).__name__ == "TracedJaxArray"
    np.testing.assert_array_equal(np.asarray(out), np.asarray(op(plain, jnp.asarray(a))))
    if op is operator.matmul:  # (2, 6) @ (6, 3): each row mixes every row of a
        assert sorted(stp.provenance(out).rows(0)["line"]) == [1, 2, 3, 4, 5, 6]
    else:
        assert _lines(out, 4) == [(4, "ja", 5)]
