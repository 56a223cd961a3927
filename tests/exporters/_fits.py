"""Real fits the exporter tests share: the two hospital files, merges and aggregates."""

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp


def hospital_run(a, b, store=None):
    """A traced column transformer + logistic regression on both files; (run, X)."""
    df = pd.concat([a, b]).dropna()
    df = df[df["age"] > 18].sample(frac=1.0, random_state=0)
    X, y = df.drop(columns="label"), df["label"]
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["sex"]), (StandardScaler(), ["age", "bp"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store).fit(X, y)
    return pipe.lineage_, X


def merged_and_aggregated(a, b):
    """Rows of both files, their mean bp per sex (an aggregate), and the two merged."""
    rows = pd.concat([a, b]).dropna(subset=["bp"])
    means = stp.aggregate(rows, by="sex", bp_mean=("bp", "mean"), source_id="bp_by_sex")
    joined = stp.merge(rows, means, on="sex", source_id="with_means")
    return rows, means, joined
