"""Constants shared by the library's integer hashes."""

import numpy as np

__all__ = ["GOLDEN"]

#: 2**64 divided by the golden ratio, odd: multiplying by it (mod 2**64) spreads
#: consecutive integers over the whole range (Fibonacci hashing; SplitMix64's step).
#: Row witnesses, bare-output row samples and the projection kernels all use it; a
#: change would change which rows are witnesses and every stored projection.
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
