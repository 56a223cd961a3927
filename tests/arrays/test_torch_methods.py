"""Python-level operator methods of TracedTensor agree with the protocol's general path."""

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop.arrays import _torch
from sktraceprop.arrays._pools import full

torch = pytest.importorskip("torch")


def _ids(t):
    return stp.provenance(t)._rows.ids


def test_methods_match_general_dispatch_and_fall_back():
    x = stp.array(torch.arange(12.0).reshape(6, 2), source_id="methods_x")
    general = _torch._dispatch
    for expr in (
        lambda t: t * 2,
        lambda t: 2 * t,
        lambda t: 1 - t,
        lambda t: t / 3,
        lambda t: 3 / (t + 1),
        lambda t: -t,
        lambda t: t**2,
        lambda t: t - t.mean(dim=0),
        lambda t: t[torch.tensor([4, 0])],
        lambda t: t[1:3],
    ):
        fast = expr(x)
        with torch._C.DisableTorchFunctionSubclass():
            plain = expr(x.as_subclass(torch.Tensor))
        assert type(fast) is _torch.TracedTensor
        assert torch.equal(fast.as_subclass(torch.Tensor), plain)
    # rows of x[[4, 0]] are source rows 4 and 0, by the fast method and by the general path
    picked = x[torch.tensor([4, 0])]
    by_general = general(torch._C.TensorBase.__getitem__, (x, torch.tensor([4, 0])), {})
    assert [np.asarray(s).tolist() for s in _ids(picked)] == [
        np.asarray(s).tolist() for s in _ids(by_general)
    ]
    # a plain tensor operand and unknown keywords fall back to the general path
    p = torch.ones(6, 2)
    assert type(p * x) is _torch.TracedTensor
    assert type(x.mean(dtype=torch.float32)) is _torch.TracedTensor


def _meaning(t):
    """Ops (name, inputs), and per output row its direct ids and pooled inputs' ids."""
    v = stp.provenance(t)
    ops = v.ops()[["op", "inputs"]].to_dict("list")
    rm = v._rows
    if rm.dropped is not None:
        return ops, rm.dropped
    n = 1 if rm.n is None else rm.n
    rows = [
        (
            sorted({int(s[0 if rm.n is None else i]) for s in rm.ids}),
            sorted(
                int(x) for p, m in rm.pools if m is None or full(m, n)[i] for x in p.rowmap.ids[0]
            ),
        )
        for i in range(n)
    ]
    return ops, rows


@pytest.mark.parametrize("mode", ["op", "batch", "none"])
def test_fast_reductions_and_operators_match_the_general_path(mode):
    tb = torch._C.TensorBase
    x = stp.array(torch.arange(12.0).reshape(6, 2), source_id=f"fast_{mode}")
    y = stp.array(torch.arange(6.0, 18.0).reshape(6, 2), source_id=f"fast2_{mode}")
    general = _torch._dispatch
    cases = [
        (lambda: x.mean(dim=0), lambda: general(tb.mean, (x,), {"dim": 0})),
        (lambda: x.sum(1), lambda: general(tb.sum, (x, 1), {})),
        (lambda: x.std(), lambda: general(tb.std, (x,), {})),
        (
            lambda: x.var(dim=0, keepdim=True),
            lambda: general(tb.var, (x,), {"dim": 0, "keepdim": True}),
        ),
        (lambda: x * 2, lambda: general(tb.mul, (x, 2), {})),
        (lambda: x - x.mean(dim=0), lambda: general(tb.sub, (x, x.mean(dim=0)), {})),
        (lambda: x / y, lambda: general(tb.div, (x, y), {})),
        # the operator methods' inline paths: no-argument reductions, a number on either
        # side, two traced tensors (the same rows, a 0-d one, a broadcast row)
        (lambda: x.mean(), lambda: general(tb.mean, (x,), {})),
        (lambda: x.sum(), lambda: general(tb.sum, (x,), {})),
        (lambda: x.std(), lambda: general(tb.std, (x,), {})),
        (lambda: x - x.mean(), lambda: general(tb.sub, (x, x.mean()), {})),
        (lambda: 2 * x, lambda: general(tb.mul, (x, 2), {})),
        (lambda: x + 1.5, lambda: general(tb.add, (x, 1.5), {})),
        (lambda: x**2, lambda: general(tb.pow, (x, 2), {})),
        (lambda: x * y, lambda: general(tb.mul, (x, y), {})),
        (lambda: x + x, lambda: general(tb.add, (x, x), {})),
        (lambda: x - y[2:3], lambda: general(tb.sub, (x, y[2:3]), {})),
        (lambda: x[0] * x, lambda: general(tb.mul, (x[0], x), {})),
        (lambda: x[:, 0] + 1, lambda: general(tb.add, (x[:, 0], 1), {})),
    ]
    for fast, slow in cases:
        with stp.granularity(mode):
            got, expected = fast(), slow()
        assert type(got) is _torch.TracedTensor
        assert torch.equal(got.as_subclass(torch.Tensor), expected.as_subclass(torch.Tensor))
        assert _meaning(got) == _meaning(expected)
    if mode == "op":
        params = stp.provenance(x.var(dim=0, keepdim=True)).ops()["params"].tolist()
        assert params == [{"dim": 0, "keepdim": True}]
        assert stp.provenance(x.sum(1)).ops()["params"].tolist() == [{"dim": 1}]


def test_inline_operator_paths_keep_rows_of_broadcast_and_dropped_operands():
    # a number broadcast against a 1-row tensor keeps its row; a row broadcast over a
    # taller tensor gives each row its own row and that one; a tensor whose rows were
    # dropped keeps them dropped through the inline paths (never a source's rows)
    x = stp.array(torch.arange(12.0).reshape(6, 2), source_id="inline_x")
    one = x[3:4]
    assert [np.asarray(s).tolist() for s in _ids(one * 2)] == [
        np.asarray(s).tolist() for s in _ids(one)
    ]
    with torch._C.DisableTorchFunctionSubclass():
        plain = x.as_subclass(torch.Tensor)
    dropped = _torch._wrap(plain * 1, stp.arrays._rowmap.dropped("test: unknown"), None)
    for out in (dropped * 2, dropped - dropped.mean(), dropped + x, x + dropped):
        assert stp.provenance(out)._rows.dropped is not None
    both = x - one
    ids = _ids(both)
    assert sorted(np.asarray(s).tolist() for s in ids) == sorted(
        [np.asarray(_ids(x)[0]).tolist(), [int(_ids(one)[0][0])] * 6]
    )
