"""The skip of the tests that load pickles made by earlier sktraceprop commits
(tests/*/data/*/make_*.py made them under NumPy 2, whose arrays NumPy 1 cannot
unpickle: the oldest environment skips them)."""

import numpy as np
import pytest

#: ``pytestmark`` of a module whose fixtures are such pickles.
NEEDS_NUMPY_2 = pytest.mark.skipif(
    np.lib.NumpyVersion(np.__version__) < "2.0.0",
    reason="the fixtures were pickled under NumPy 2, whose arrays NumPy 1 cannot unpickle",
)
