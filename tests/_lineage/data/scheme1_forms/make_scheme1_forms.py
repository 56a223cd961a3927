"""Wrote the pickles here with two earlier forms of fingerprint scheme 1, in this
folder: ``python make_scheme1_forms.py NAME`` with sktraceprop at commit 07b48ff
(``NAME=07b48ff``: before 9e45841, values fed by their repr and classes by name) or at
de48847 (``NAME=de48847``: before c4997b1, public fitted state only). Each writes
``linear_NAME.pkl``, a traced pipeline (one-hot ``city``, scaled ``x``, logistic
regression; no store) fitted on the 30 rows of ``people.csv`` (source ``people``);
de48847 also ``tree_NAME.pkl``, the same with a depth-2 decision tree."""

import pickle
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(name):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    import sktraceprop as stp

    df = stp.read_csv(HERE / "people.csv", source_id="people")
    X, y = df[["city", "x"]], df["label"]
    models = {"linear": LogisticRegression()}
    if name != "07b48ff":
        models["tree"] = DecisionTreeClassifier(max_depth=2, random_state=0)
    for kind, model in models.items():
        pre = stp.make_traced_column_transformer(
            (OneHotEncoder(), ["city"]), (StandardScaler(), ["x"])
        )
        pipe = stp.make_traced_pipeline(pre, model).fit(X, y)
        with open(HERE / f"{kind}_{name}.pkl", "wb") as f:
            pickle.dump(pipe, f)


if __name__ == "__main__":  # not on import (pytest's --doctest-modules imports it)
    main(sys.argv[1])
