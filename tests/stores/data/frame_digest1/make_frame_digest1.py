"""Wrote ``../frame_digest1.db`` with sktraceprop at commit 775ad56 (frames named by the
SHA-256 of pandas' ``hash_pandas_object``, arrays without their column labels); run with
that version installed: ``python make_frame_digest1.py /tmp/frame_digest1.db``, then copy the store
here. :func:`frames` is also what the tests register again."""

import sys

import numpy as np
import pandas as pd


def frames():
    """``(patients, measures, labels)``: a frame whose ``site`` column holds integers as
    objects, an array and its column labels (given to ``from_numpy``)."""
    rng = np.random.default_rng(7)
    patients = pd.DataFrame(
        {
            "age": rng.integers(20, 90, 24),
            "x": rng.normal(size=24).round(3),
            "site": pd.Series(rng.integers(1, 4, 24), dtype=object),
            "y": np.arange(24) % 2,
        }
    )
    measures = rng.normal(size=(24, 2)).round(3)
    return patients, measures, ["bp", "hr"]


def main(path):
    """Register the frame and the array, store one run of a logistic regression on each."""
    from sklearn.linear_model import LogisticRegression

    import sktraceprop as stp

    patients, measures, labels = frames()
    df = stp.from_pandas(patients, "patients")
    m = stp.from_numpy(measures, "measures", columns=labels)
    store = stp.stores.SQLiteStore(path)
    stp.TracedEstimator(LogisticRegression(), store=store).fit(df[["age", "x"]], df["y"])
    stp.TracedEstimator(LogisticRegression(), store=store).fit(m, df["y"].to_numpy())


if __name__ == "__main__":  # not on import (pytest's --doctest-modules imports it)
    main(sys.argv[1])
