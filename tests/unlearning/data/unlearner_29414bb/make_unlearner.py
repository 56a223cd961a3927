"""Wrote ``unlearner.pkl`` with sktraceprop at commit 29414bb (before an unlearner's
pipeline refit method kept ``weighted``): a ``GradientCorrectionUnlearner`` of a traced
pipeline (one-hot ``city``, scaled ``x``, logistic regression ``C=10``; no store) fitted
on the 30 rows of ``people.csv`` read as source ``people``. Run with that version
installed, in this folder: ``python make_unlearner.py``."""

import pickle
from pathlib import Path

HERE = Path(__file__).parent


def main():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import sktraceprop as stp

    df = stp.read_csv(HERE / "people.csv", source_id="people")
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["city"]), (StandardScaler(), ["x"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(C=10.0))
    unlearner = stp.GradientCorrectionUnlearner(pipe).fit(df[["city", "x"]], df["label"])
    with open(HERE / "unlearner.pkl", "wb") as f:
        pickle.dump(unlearner, f)


if __name__ == "__main__":  # not on import (pytest's --doctest-modules imports it)
    main()
