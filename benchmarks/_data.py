"""Loaders for the benchmark data sets vendored under ``benchmarks/data``."""

from pathlib import Path

import numpy as np

import sktraceprop as stp

DATA = Path(__file__).resolve().parent / "data"

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]  # fmt: skip
ADULT_CATEGORICAL = [
    "workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
    "native_country",
]  # fmt: skip
ADULT_NUMERIC = [
    "age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week",
]  # fmt: skip


def load_adult(split="train", dropna=True):
    """UCI Adult as a traced DataFrame (row ids name file and line) and a 0/1 target.

    Parameters
    ----------
    split : {"train", "test"}
    dropna : bool, default=True
        Drop rows with a missing value (``?`` in the files).

    Returns
    -------
    X : DataFrame
    y : ndarray of int64 (1 = income >50K)
    """
    path = DATA / ("adult.data.gz" if split == "train" else "adult.test.gz")
    df = stp.read_csv(
        path,
        source_id=f"adult_{split}",
        header=None,
        names=ADULT_COLUMNS,
        skipinitialspace=True,
        na_values="?",
        skiprows=1 if split == "test" else None,
    )
    if dropna:
        df = df.dropna()
    y = df["income"].str.startswith(">50K").to_numpy().astype(np.int64)
    return df.drop(columns="income"), y
