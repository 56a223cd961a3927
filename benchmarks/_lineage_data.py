"""The frame the row-lineage check benchmarks time: two CSV files read by ``read_csv``."""

from pathlib import Path

import numpy as np
import pandas as pd

import sktraceprop as stp


def two_loaded_files(folder, n=100_000):
    """``n`` rows read by ``sktraceprop.read_csv`` from two files written in ``folder``.

    Each file holds ``n // 2`` rows: four float columns ``a``-``d``, an int ``n`` and a
    string ``s`` distinct per row; the two traced frames are concatenated.
    """
    rng = np.random.default_rng(0)
    parts = []
    for k in range(2):
        m = n // 2
        data = pd.DataFrame(rng.normal(size=(m, 4)), columns=["a", "b", "c", "d"])
        data["n"] = rng.integers(0, 1000, size=m)
        data["s"] = [f"id{k}_{i}" for i in range(m)]
        path = Path(folder) / f"part{k}.csv"
        data.to_csv(path, index=False)
        parts.append(stp.read_csv(path))
    return pd.concat(parts)
