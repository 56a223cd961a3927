"""CSV files for the read_csv and CSV-to-model benchmarks, generated deterministically.

- ``quoted``: what an export from a records system looks like: the pandas index written
  as a first unnamed column (read back with ``index_col=0``), quoted text with commas,
  doubled quotes and line breaks inside fields, missing values, numbers and categories.
- ``numeric``: ten float columns, no quoting.
- ``patients`` + ``labs``: two files of one study joined on ``pid`` (the realistic
  multi-file pipeline: quoted text, an index column, missing values to impute,
  categories to one-hot encode).
"""

import numpy as np
import pandas as pd

NOTES = np.array(["none", "follow up", 'said "fine"', "two\nlines", "a, b and c", ""])
CITIES = np.array(["Paris", "Lyon", "New York, NY", "Köln", "São Paulo"])


def quoted_frame(n, seed=0):
    rng = np.random.default_rng(seed)
    bp = rng.normal(130, 15, n).round(1)
    bp[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "pid": np.arange(n),
            "age": rng.integers(18, 90, n),
            "bp": bp,
            "chol": rng.normal(200, 30, n).round(1),
            "sex": rng.choice(["F", "M"], n),
            "city": rng.choice(CITIES, n),
            "note": rng.choice(NOTES, n),
            "label": rng.integers(0, 2, n),
        }
    )


def numeric_frame(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10)).round(6)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(10)])
    frame["label"] = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=n) > 0).astype(np.int64)
    return frame


def labs_frame(n, seed=1):
    rng = np.random.default_rng(seed)
    hb = rng.normal(14, 1.5, n).round(2)
    hb[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "pid": rng.permutation(n),
            "hb": hb,
            "lab": rng.choice(["central", "north", 'east "annex"'], n),
            "comment": rng.choice(NOTES, n),
        }
    )


def write(folder, n):
    """Write every benchmark file for ``n`` rows into ``folder``; return their paths."""
    paths = {
        "quoted": folder / f"quoted_{n}.csv",
        "numeric": folder / f"numeric_{n}.csv",
        "patients": folder / f"patients_{n}.csv",
        "labs": folder / f"labs_{n}.csv",
    }
    if not paths["quoted"].exists():
        quoted_frame(n).to_csv(paths["quoted"])  # index written as an unnamed column
    if not paths["numeric"].exists():
        numeric_frame(n).to_csv(paths["numeric"], index=False)
    if not paths["patients"].exists():
        quoted_frame(n, seed=2).to_csv(paths["patients"])
    if not paths["labs"].exists():
        labs_frame(n).to_csv(paths["labs"], index=False)
    return paths
