"""Row lineage for NumPy, PyTorch and JAX arrays, operation by operation.

``sktraceprop.array(X, source_id=...)`` returns a traced array of X's own framework
(a :class:`TracedArray` for NumPy data and DataFrames, a ``TracedTensor`` for torch
tensors, a ``TracedJaxArray`` for JAX arrays) whose rows keep their source row ids
through the operations that preserve rows; ``sktraceprop.provenance(x)`` tells where any
row came from and what was done to it. torch and JAX are imported only when their arrays
are traced.
"""

from ._api import apply, array
from ._graph import get_granularity, granularity, set_granularity
from ._numpy import TracedArray
from ._provenance import Provenance, provenance

__all__ = [
    "Provenance",
    "TracedArray",
    "apply",
    "array",
    "get_granularity",
    "granularity",
    "provenance",
    "set_granularity",
]
