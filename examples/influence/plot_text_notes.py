r"""
==========================================================
Free-text notes: influential rows, their lines, a removal
==========================================================

Clinical notes in a CSV file hold what such files hold: quoted fields with commas,
doubled quotes, notes spanning several lines, accents and emoji, empty notes. A traced
pipeline vectorizes the note with TF-IDF beside a scaled numeric column; the most
influential training rows of a prediction are named by the file line their record
starts on (printed from the file's bytes), and removing the notes that mention a word
refits the vocabulary and IDF too, which a retrain of the whole pipeline confirms.
"""

# %%
# A notes file
# ------------
import csv
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.plotting import InfluenceDisplay

rng = np.random.default_rng(0)
words = ["fever", "cough", "pain", "rash", "nausea", "café", "naïve", "😀", 'said "ok"', "a, b"]
path = Path(tempfile.mkdtemp()) / "notes.csv"
with open(path, "w", encoding="utf-8", newline="") as f:
    writer = csv.writer(f, lineterminator="\r\n")
    writer.writerow(["note", "age", "admitted"])
    for _ in range(160):
        note = " ".join(rng.choice(words, rng.integers(0, 5)))
        if rng.random() < 0.15:
            note += "\nfollow-up:\r\n" + str(rng.choice(words))  # a note over three lines
        admitted = int(("fever" in note) + ("rash" in note) + rng.random() > 1.2)
        writer.writerow([note, int(rng.integers(20, 90)), admitted])

notes = stp.read_csv(path, source_id="notes")
notes["note"] = notes["note"].fillna("")  # empty notes are read as missing
X, y = notes[["note", "age"]], notes["admitted"]
X_train, y_train, X_test, y_test = X.iloc[:130], y.iloc[:130], X.iloc[130:], y.iloc[130:]

# %%
# Explain a prediction
# --------------------
# The text column is selected by its name, ``"note"``: a vectorizer takes one column.
pre = stp.make_traced_column_transformer((TfidfVectorizer(), "note"), (StandardScaler(), ["age"]))
# a tight tol: the retrain it is compared with below then reaches the minimum too
pipe = stp.make_traced_pipeline(pre, LogisticRegression(C=5.0, tol=1e-10, max_iter=1000))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the note that fillna changed the column
    pipe.fit(X_train, y_train)
explainer = stp.InfluenceExplainer(pipe).fit(X_train, y_train)
exp = explainer.explain(X_test, y_test, top_k=6)
top = exp.top(3)
top = top[top["test_index"] == 0]
raw = path.read_bytes().splitlines()  # \r\n ends each line; quoted newlines too
for row in top.itertuples():
    print(f"line {row.line:4d}  score {row.score:+.3f}  {raw[row.line - 1].decode()[:60]}")

# %%
# The rows behind the first test prediction, labelled by file and line.
InfluenceDisplay.from_explanation(exp, test_index=0, n_rows=6)

# %%
# Forget the notes that mention a rash
# ------------------------------------
# The vocabulary and the IDF are learnt from every training note, so the unlearner
# refits them on the retained rows before correcting the model; a retrain of the whole
# pipeline without those rows is the truth it is compared with.
rash = X_train["note"].str.contains("rash").to_numpy()
unl = stp.GradientCorrectionUnlearner(clone(pipe))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    unl.fit(X_train, y_train).unlearn(sample_id=stp.row_ids(X_train)[rash])
    retrained = clone(pipe).fit(X_train[~rash], y_train[~rash])
event = unl.unlearning_log_[-1]
print(event["method"], f"certificate {event['certificate']:.1e}:", event.get("note", ""))
gap = np.abs(unl.estimator_.decision_function(X_test) - retrained.decision_function(X_test))
print(f"largest difference from the retrain: {gap.max():.1e}")
print("'rash' still a feature:", any("rash" in f for f in unl.estimator_.lineage_.feature_lineage))
pd.Series(unl.estimator_[-1].coef_[0], index=unl.estimator_[:-1].get_feature_names_out()).head()
