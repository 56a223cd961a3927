"""The fast paths of traced NumPy arrays agree with the general ones and with NumPy: the
mean that skips NumPy's Python wrapper, the plain array a traced array keeps, and the
in-place layout setters (``x.shape = ...``) that must let it go."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import sktraceprop as stp
from sktraceprop.arrays import _numpy


def _rows(x):
    """Source line of every direct parent of every row (the lineage, as a plain list)."""
    frame = stp.provenance(x).rows(list(range(x.shape[0])))
    return sorted(zip(frame["row"], frame["line"]))


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64, np.int64, np.bool_, np.float16]),
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=7),
        elements={"allow_nan": True, "allow_infinity": False},
    ),
    st.data(),
)
def test_mean_is_numpy_mean_bit_for_bit(values, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-values.ndim, values.ndim - 1)))
    with np.errstate(all="ignore"):
        expected = values.mean(axis=axis)
        got = stp.array(values, source_id="m").mean(axis=axis)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    assert np.asarray(got).shape == np.shape(expected)
    np.testing.assert_array_equal(np.asarray(got), expected)
    fast = _numpy._mean(values, axis)
    if fast is not None:
        assert values.dtype.char in "fd" and values.size
        assert type(fast) is type(expected)
        np.testing.assert_array_equal(fast, expected)


def test_mean_leaves_empty_reductions_to_numpy():
    assert _numpy._mean(np.zeros((0, 3)), 0) is None
    assert _numpy._mean(np.zeros((0, 3)), None) is None
    np.testing.assert_array_equal(_numpy._mean(np.ones((0, 3)), 1), np.zeros(0))
    assert _numpy._mean(np.ones(3), 1) is None  # NumPy raises its own AxisError
    with pytest.raises(getattr(np, "exceptions", np).AxisError):  # np.AxisError before 1.25
        stp.array(np.ones(3), source_id="e").mean(axis=1)


def test_mean_lineage_matches_the_general_path():
    a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    for axis in (None, 0, 1, -1):
        fast = a.mean(axis=axis)
        general = a.mean(axis=axis, keepdims=False)  # a keyword: NumPy's own wrapper
        np.testing.assert_array_equal(fast, general)
        assert stp.provenance(fast).ops()["op"].tolist() == ["mean"]
        assert stp.provenance(fast).sources()["source_id"].tolist() == ["a"]
        if axis in (1, -1):
            assert _rows(fast) == _rows(general) == [(k, k + 1) for k in range(6)]


def test_kept_plain_array_follows_in_place_shape_changes():
    base = np.arange(12.0)
    a = stp.array(base.copy(), source_id="s") * 1.0  # a result: keeps its plain array
    assert type(a._stp_plain) is np.ndarray
    a.shape = (6, 2)
    with pytest.raises(AttributeError):
        a._stp_plain  # noqa: B018 (let go when the layout changed)
    np.testing.assert_array_equal(a * 2, base.reshape(6, 2) * 2)
    assert (a * 2).shape == (6, 2) and a.mean(axis=0).shape == (2,)
    # rows follow the reshape exactly as x.reshape would make them
    expected = [(j, 2 * j + k + 1) for j in range(6) for k in range(2)]
    assert _rows(a) == sorted(expected)
    np.testing.assert_array_equal(a - a.mean(), base.reshape(6, 2) - base.mean())


def test_in_place_dtype_and_strides_changes():
    a = stp.array(np.arange(4.0), source_id="d") + 0.0
    a.dtype = np.float32  # each float64 row becomes two float32 elements
    assert a.shape == (8,)
    assert _rows(a) == sorted((j, j // 2 + 1) for j in range(8))
    np.testing.assert_array_equal(a * 1, np.arange(4.0).view(np.float32))
    b = stp.array(np.arange(6.0), source_id="t") + 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy >= 2.4 deprecates it
        b.strides = b.strides  # the same strides, set anyway
    with pytest.raises(stp.exceptions.LineageError, match="strides"):
        stp.provenance(b).rows([0])


def test_read_only_arrays_stay_read_only():
    a = stp.array(np.arange(6.0).reshape(3, 2), source_id="r") * 1.0
    a.flags.writeable = False
    np.testing.assert_array_equal(a * 2 + 1, np.arange(6.0).reshape(3, 2) * 2 + 1)
    assert not a[1:].flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        a += 1


def test_temporary_proof_remembered_per_code_location_gives_the_same_answers():
    from sktraceprop.arrays import _elide

    if not _elide.ENABLED:
        pytest.skip("temporaries are reused on CPython 3.11-3.13 only")
    n = _elide.MIN_BYTES // 8 + 10
    base = np.random.default_rng(6).random(n)
    t = stp.array(base, source_id="again")

    def twice(x):
        kept = []
        y = x * 2 + 1  # reused
        z = (kept.append(x * 3) or kept[0]) + 1  # held by a list: never reused
        w = x.mean() + (x * 4 + 1)  # `+ 1` reuses; the sum's right operand is not proven
        return y, z, w, kept

    for _ in range(3):  # the first call proves, the next ones read what was remembered
        before = _elide.REUSED[0]
        y, z, w, kept = twice(t)
        assert _elide.REUSED[0] == before + 2
        np.testing.assert_array_equal(y, base * 2 + 1)
        np.testing.assert_array_equal(kept[0], base * 3)
        np.testing.assert_array_equal(z, base * 3 + 1)
        np.testing.assert_allclose(w, base.mean() + (base * 4 + 1))
        assert _rows(y) == _rows(t)


def test_a_temporary_is_not_reused_for_a_nested_list_that_broadcasts_wider():
    from sktraceprop.arrays import _elide

    n = _elide.MIN_BYTES // 16 + 10
    base = np.random.default_rng(7).random((n, 2))
    t = stp.array(base, source_id="listwide")
    wide = np.random.default_rng(8).random((3, n, 2))
    wide_list, narrow_list = wide.tolist(), [1.0, 2.0]
    before = _elide.REUSED[0]
    # numpy's answer, not a refusal to write a (3, n, 2) result into the (n, 2) temporary
    y = (t * 2) + wide_list
    np.testing.assert_array_equal(np.asarray(y), base * 2 + wide)
    z = (t * 2) + narrow_list  # fits the temporary: reused
    np.testing.assert_array_equal(np.asarray(z), base * 2 + narrow_list)
    if _elide.ENABLED:
        assert _elide.REUSED[0] == before + 1


def _ops(x):
    return stp.provenance(x).ops()[["op", "inputs", "params"]].to_dict("list")


def test_large_operands_that_are_not_temporaries_take_the_fast_paths_with_the_same_lineage(
    monkeypatch,
):
    from sktraceprop.arrays import _elide, _state

    n = _elide.MIN_BYTES // 8 + 10  # above the size at which temporaries are reused
    rng = np.random.default_rng(7)
    a = stp.array(rng.random((n // 2, 2)), source_id="large_a")
    b = stp.array(rng.random((n // 2, 2)), source_id="large_b")
    exprs = [
        lambda: a * 2,
        lambda: 2.5 - a,
        lambda: a + b,
        lambda: a - a.mean(axis=0),
        lambda: a / a[::-1],
        lambda: a[1:] * 3,
    ]
    fast = [e() for e in exprs]
    # a write recorded on an unrelated owner sends every operator to the general path
    monkeypatch.setitem(_state._WRITES, -1, (lambda: None, 0, ()))
    general = [e() for e in exprs]
    monkeypatch.delitem(_state._WRITES, -1)
    for f, g in zip(fast, general):
        assert type(f) is type(g) is _numpy.TracedArray
        np.testing.assert_array_equal(np.asarray(f), np.asarray(g))
        assert _ops(f) == _ops(g)
        # the same row map (rows() would list every pooled row of every row)
        fm, gm = stp.provenance(f)._rows, stp.provenance(g)._rows
        assert fm.n == gm.n and fm.dropped is gm.dropped is None
        assert len(fm.ids) == len(gm.ids)
        assert all(np.array_equal(x, y) for x, y in zip(fm.ids, gm.ids))
        assert [(p.rowmap, p.via, m) for p, m in fm.pools] == [
            (p.rowmap, p.via, m) for p, m in gm.pools
        ]
    # the fast path's result is still known as a temporary: ``+ 1`` writes into it
    if _elide.ENABLED:
        before = _elide.REUSED[0]
        y = a * 2 + 1
        assert _elide.REUSED[0] == before + 1
        np.testing.assert_array_equal(np.asarray(y), np.asarray(a) * 2 + 1)


@settings(max_examples=30, deadline=None)
@given(
    rows=st.integers(1, 9),
    cols=st.integers(1, 4),
    out_cols=st.integers(1, 3),
    mode=st.sampled_from(["op", "batch", "none"]),
    written=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_rows_times_weights_fast_path_records_what_the_general_path_and_operand_say(
    rows, cols, out_cols, mode, written, seed
):
    from sktraceprop.arrays._graph import operand
    from sktraceprop.arrays._ufunc_calls import _ufunc_call

    rng = np.random.default_rng(seed)
    a = stp.array(rng.random((rows, cols)), source_id=f"mm{rows}_{cols}")
    b = stp.array(rng.random((rows, cols)), source_id=f"mm_b{rows}_{cols}")
    w = rng.random((cols, out_cols))
    if written:
        a[0] = b[rows - 1]  # row 0 now holds b's last row (an in-place write)
    with stp.granularity(mode):
        fast = a @ w
        general = _ufunc_call(np.matmul, "__call__", (a, w), {})
    np.testing.assert_array_equal(np.asarray(fast), np.asarray(a) @ w)
    np.testing.assert_array_equal(np.asarray(fast), np.asarray(general))
    if mode == "none":
        return
    assert _rows(fast) == _rows(general)
    # the truth by hand: row i of the product is row i of `a`, row 0 b's last if written
    truth = stp.provenance(a).rows(list(range(rows)))
    got = stp.provenance(fast).rows(list(range(rows)))
    assert sorted(zip(got["row"], got["source_id"], got["line"])) == sorted(
        zip(truth["row"], truth["source_id"], truth["line"])
    )
    ops = stp.provenance(fast).ops()
    if mode == "op":
        last = ops.iloc[-1]
        assert last["op"] == "matmul"
        assert last["params"] == {"args": ["<input>", list(map(_describe, operand(w)))]}
    else:
        assert "matmul" not in set(ops["op"])


def _describe(v):
    from sktraceprop.arrays._graph import describe

    return describe(v)
