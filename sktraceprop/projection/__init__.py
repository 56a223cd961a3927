"""Random projections for high-dimensional gradients (TRAK-style attribution)."""

from . import _warmup
from ._jl import JLProjector

__all__ = ["JLProjector"]

_warmup.start()
