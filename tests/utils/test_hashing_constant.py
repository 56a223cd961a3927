"""The Fibonacci-hashing constant is defined once and has its historic value."""

import math

import numpy as np

from sktraceprop._lineage import _bare_outputs, _derived_witness, _witness, _witness_loads
from sktraceprop.projection import _kernels
from sktraceprop.utils._hashing import GOLDEN


def test_one_golden_constant_with_its_value():
    # the value every stored witness choice and projection was made with; it is
    # floor(2**64 / golden ratio), computed here in exact integers
    assert GOLDEN.dtype == np.uint64
    root5 = math.isqrt(5 << 256)  # sqrt(5) * 2**128, floored
    assert int(GOLDEN) == 0x9E3779B97F4A7C15 == (2 << 192) // ((1 << 128) + root5)
    for module in (_witness_loads, _witness, _derived_witness, _bare_outputs, _kernels):
        assert module._GOLDEN is GOLDEN, module.__name__
