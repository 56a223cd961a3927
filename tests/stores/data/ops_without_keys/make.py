"""Wrote ``../ops_without_keys.db`` with sktraceprop at commit bba435d (ops kept no
``source_keys`` then); run from /tmp/opsrc_fixture with that version installed, then copy
the store and the two CSV files here."""

import pathlib

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def main(root=pathlib.Path("/tmp/opsrc_fixture")):
    """Write the two CSV files and the store under ``root``."""
    root.mkdir(exist_ok=True)
    for name, n, shift, seed in (("a", 12, 0.0, 1), ("b", 8, 1.0, 2)):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(n, 2)).round(3) + shift
        y = (X[:, 0] > shift).astype(int)
        y[:2] = [0, 1]
        (root / name).mkdir(exist_ok=True)
        frame = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y": y})
        frame.to_csv(root / name / "data.csv", index=False)
    A, B = stp.read_csv(root / "a" / "data.csv"), stp.read_csv(root / "b" / "data.csv")
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    As = scaler.fit_transform(A[["x1", "x2"]])  # fitted on a/data.csv only
    X, y = pd.concat([As, B[["x1", "x2"]]]), pd.concat([A["y"], B["y"]])
    store = stp.stores.SQLiteStore(root / "ops_without_keys.db")
    stp.TracedEstimator(LogisticRegression(), store=store).fit(X, y)


if __name__ == "__main__":  # not on import (pytest's --doctest-modules imports it)
    main()
