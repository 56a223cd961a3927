"""Python-level operator methods of TracedTensor agree with the protocol's general path."""

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop.arrays import _torch

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
