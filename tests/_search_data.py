"""Data and pipeline shared by the model-selection tests."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def rows_file(tmp_path, seed, n):
    """``n`` rows of two features and a noisy label written to ``rows.csv`` and read
    back traced (source ``"rows"``): ``(X, y)``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    frame["y"] = (frame["x1"] + rng.normal(size=n) > 0).astype(int)
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    read = stp.read_csv(path, source_id="rows")
    return read[["x1", "x2"]], read["y"]


def scaled_logistic(store):
    """A traced scaler and logistic regression, storing its runs in ``store``."""
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
