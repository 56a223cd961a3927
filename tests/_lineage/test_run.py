import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _slow_counts(run):
    rows = run.rows()
    return rows.groupby("source_id", observed=True)["train_index"].nunique().to_dict()


def test_source_counts_match_the_row_table():
    rng = np.random.default_rng(0)
    a = stp.from_numpy(rng.normal(size=(50, 2)), "a")
    b = stp.from_numpy(rng.normal(size=(30, 2)), "b")
    X = pd.concat([a, b]).sample(frac=1.0, random_state=0).iloc[:70]
    y = (X["x0"] > 0).astype(int)
    run = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y).lineage_
    counts = run.source_counts()
    assert counts.to_dict() == _slow_counts(run)
    assert counts.sum() == 70
    # with a merge, each merged row counts once for each parent source
    left = stp.from_pandas(pd.DataFrame({"k": [1, 2, 3], "v": [0.1, 0.5, 0.9]}), "left")
    right = stp.from_pandas(pd.DataFrame({"k": [3, 2, 1], "w": [1.0, 2.0, 3.0]}), "right")
    merged = stp.merge(left, right, on="k")
    run = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    run = run.fit(merged[["v", "w"]], [0, 1, 0]).lineage_
    assert run.source_counts().to_dict() == _slow_counts(run) == {"left": 3, "right": 3}
