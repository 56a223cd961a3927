r"""
=====================================================
Which rows trained each candidate of a grid search
=====================================================

A ``GridSearchCV`` over a traced pipeline fits every candidate on every split; each of
those fits stores its own run (purpose ``"cv_fold"``) with the rows it trained on, in
the main process or in worker processes. :func:`sktraceprop.search_runs` finds them in
the store and lays them out like the search's ``cv_results_``, so each score sits beside
the run that produced it, and from that run back to file lines. The figure shows the
scores of each candidate's splits.
"""

# %%
# Two hospital files, a traced pipeline with a SQLite store, an ordinary grid search.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp

paths = stp.datasets.demo_paths()
a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
df = pd.concat([a, b]).dropna(subset=["bp", "cholesterol"])
X, y = df[["sex", "smoker", "age", "bp", "cholesterol"]], df["label"]

store = stp.stores.SQLiteStore(Path(tempfile.mkdtemp()) / "lineage.db")
pre = stp.make_traced_column_transformer(
    (OneHotEncoder(), ["sex", "smoker"]), (StandardScaler(), ["age", "bp", "cholesterol"])
)
pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
search = GridSearchCV(pipe, {"logisticregression__C": [0.001, 0.1, 10.0]}, cv=3)
search.fit(X, y)

# %%
# The run of every candidate on every split, beside its score. Each run was checked
# against the store's hash chain and against the row's parameters before it is listed.
runs = stp.search_runs(search, store)
table = pd.DataFrame(search.cv_results_).join(runs)
columns = ["param_logisticregression__C", "split0_test_score", "split0_run_id"]
print(table[columns].to_string())
print("search id:", runs.attrs["search_id"])

# %%
# The best candidate's fit on split 0: which rows did it train on, and from which file
# and line did they come? The refit on all rows is ``best_estimator_``'s own run.
run = store.load_run(table.loc[search.best_index_, "split0_run_id"])
print(run)
print(run.rows()[["source_id", "line"]].head())
print(
    "refit:",
    search.best_estimator_.lineage_.run_id,
    search.best_estimator_.lineage_.selection["role"],
)

# %%
# Rows per source in each split's training set of the best candidate: the runs say it,
# not a recomputation of the splits.
counts = pd.DataFrame(
    {
        f"split {k}": store.load_run(
            table.loc[search.best_index_, f"split{k}_run_id"]
        ).source_counts()
        for k in range(search.n_splits_)
    }
)
print(counts)

# %%
# Each candidate's test score on each split; every point is one stored run.
fig, ax = plt.subplots(figsize=(5, 3))
for k in range(search.n_splits_):
    ax.plot(
        table["param_logisticregression__C"].astype(float),
        table[f"split{k}_test_score"],
        "o-",
        label=f"split {k}",
    )
ax.set_xscale("log")
ax.set_xlabel("C")
ax.set_ylabel("accuracy")
ax.set_title("One stored run per point")
ax.legend()
fig.tight_layout()
