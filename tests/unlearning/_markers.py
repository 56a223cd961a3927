"""Shared by the forgetting tests: traced sources, and markers searched for in bytes."""

import struct

import numpy as np
import pandas as pd

import sktraceprop as stp


def traced_frame(prefix, n=(40, 30, 30), seed=0):
    """Three traced sources with numbers, missing values and a colour."""
    rng = np.random.default_rng(seed)
    frames, ys = [], []
    for k, m in enumerate(n):
        part = pd.DataFrame(rng.normal(size=(m, 3)) + 0.3 * k, columns=["x0", "x1", "x2"])
        part.loc[rng.random(m) < 0.1, "x1"] = np.nan
        part["colour"] = rng.choice(["red", "green", "blue"], size=m)
        frames.append(stp.from_pandas(part, f"{prefix}_{k}"))
        ys.append((part["x0"].to_numpy() + rng.normal(size=m) > 0.3 * k).astype(int))
    return pd.concat(frames), np.concatenate(ys)


def hits(blob, numbers=(), strings=()):
    """The markers found in ``blob``: numbers as float64/float32 bytes or text."""
    found = []
    for v in numbers:
        packed = [struct.pack("<d", v), struct.pack("<f", v), repr(float(v)).encode()]
        if any(p in blob for p in packed):
            found.append(float(v))
    return found + [s for s in strings if s.encode() in blob]
