import sys

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a plotting test opened (pyplot keeps them otherwise)."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")  # (each test file imports it or skips)
    if plt is not None:
        plt.close("all")
