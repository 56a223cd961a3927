"""Wrote ``explainer.pkl`` with sktraceprop at commit c5065de (before explainers named
each fit by a ``FitToken``: a bare ``object()``): an ``InfluenceExplainer`` of a traced
pipeline (one-hot ``city``, scaled ``x``, logistic regression; no store) fitted on the
30 rows of ``people.csv`` read as source ``people``, pickled with its explanation of
the first row (``(explainer, explanation)``). Run with that version installed, in this
folder: ``python make_explainer.py``."""

import pickle
from pathlib import Path

HERE = Path(__file__).parent


def main():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import sktraceprop as stp

    df = stp.read_csv(HERE / "people.csv", source_id="people")
    X, y = df[["city", "x"]], df["label"]
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["city"]), (StandardScaler(), ["x"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(C=10.0)).fit(X, y)
    explainer = stp.InfluenceExplainer(pipe).fit(X, y)
    explanation = explainer.explain(X.iloc[:1], top_k=3)
    with open(HERE / "explainer.pkl", "wb") as f:
        pickle.dump((explainer, explanation), f)


if __name__ == "__main__":  # not on import (pytest's --doctest-modules imports it)
    main()
