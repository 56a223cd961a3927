"""Random projections for high-dimensional gradients (TRAK-style attribution)."""

from ._jl import JLProjector

__all__ = ["JLProjector"]
