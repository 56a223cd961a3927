r"""
===========================================
From a CSV line to a fitted model and back
===========================================

Two hospitals export CSV files; hospital B's has comment lines, blank lines and quoted
multi-line notes. We load both with :func:`sktraceprop.read_csv`, combine, filter and
split them with ordinary pandas and scikit-learn code, fit a traced pipeline, and ask
which file and line each training row came from, which columns each model feature
derives from, which columns were changed outside the pipeline, and how many rows each
source contributed; then draw the run as a graph from the source files through the
preprocessing ops to the model.
"""

# %%
# Load the sources: every row remembers its file and physical line.
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.plotting import LineageDisplay

paths = stp.datasets.demo_paths()
a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
print(stp.row_lineage(b.iloc[:3])[["source_id", "line"]])

# %%
# Ordinary pandas and scikit-learn code: the ids travel in the index.
df = pd.concat([a, b])
df = df[df["age"] > 18].dropna(subset=["bp"])
X, y = df.drop(columns=["label", "notes"]), df["label"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)

# %%
# Fit a traced pipeline into an in-memory store.
store = stp.stores.MemoryStore()
pre = stp.make_traced_column_transformer(
    (OneHotEncoder(), ["sex", "smoker"]), (StandardScaler(), ["age", "bp", "cholesterol"])
)
pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store).fit(X_tr, y_tr)
print(pipe.lineage_)

# %%
# Which file and line did training rows 0 and 5 come from, through which ops?
print(pipe.trace([0, 5])[["train_index", "source_id", "line", "ops"]].to_string())

# %%
# Feature lineage: model feature -> input columns -> sources.
for feature, columns in pipe.lineage_.feature_lineage.items():
    print(f"{feature:<30} <- {columns}")

# %%
# What the library cannot see, it says. A value moved between rows by pandas (here the
# previous row's blood pressure, a common "lag" feature) keeps its row's file and line;
# the fit compares the rows it gets with what was loaded for them and names the column
# in the run's notes.
lagged = X_tr.assign(bp=X_tr["bp"].shift(1).fillna(X_tr["bp"].mean()))
lag_pipe = stp.make_traced_pipeline(clone(pre), LogisticRegression()).fit(lagged, y_tr)
print(*lag_pipe.lineage_.notes, sep="\n")

# %%
# Rows per source in the training set, next to the rows each file holds.
counts = pipe.lineage_.source_counts()
totals = pd.Series({s.source_id: s.n_rows for s in pipe.lineage_.sources.values()})
fig, ax = plt.subplots(figsize=(5, 3))
pd.DataFrame({"in file": totals, "trained on": counts}).plot.bar(ax=ax, rot=0)
ax.set_ylabel("rows")
ax.set_title("Training rows by source")
fig.tight_layout()

# %%
# The run as a graph: each file (with the rows it contributed), the two branches of
# the column transformer (each fed by the files that hold its columns), the model.
# The same display draws a run loaded back from a store (``LineageDisplay.from_lineage``).
LineageDisplay.from_estimator(pipe)
plt.show()
