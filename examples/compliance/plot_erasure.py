r"""
=====================================================
An erasure request, down to the bytes of the store
=====================================================

Hospital B withdraws its consent (GDPR Art. 17). Removing its rows from the model is half
of the job: the audit store that keeps the record of every fit still names what its rows
produced (here a one-hot column made from a free-text note only its patients have) and
counted them in per-source statistics, in the model's run and in every cross-validation
run. This example removes hospital B from the model with
:class:`sktraceprop.GradientCorrectionUnlearner` and ``redact=``, which also erases what
every other stored run holds of its rows, and checks on the raw bytes of the SQLite file
that the note is gone while the hash chain still verifies.
"""

# %%
# A pipeline that one-hot encodes the categorical columns, fitted into a SQLite store,
# and cross-validated into the same store (one run per fold).
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.stores import SQLiteStore

X, y = stp.datasets.load_demo(return_X_y=True)
path = Path(tempfile.mkdtemp()) / "audit.db"
store = SQLiteStore(path)


def make_pipe():
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["sex", "smoker", "notes"]),
        (make_pipeline(SimpleImputer(), StandardScaler()), ["age", "bp", "cholesterol"]),
    )
    return stp.make_traced_pipeline(pre, LogisticRegression(max_iter=1000), store=store)


cross_validate(make_pipe(), X, y, cv=4)
unl = stp.GradientCorrectionUnlearner(make_pipe()).fit(X, y)
print(store.list_runs()[["run_id", "purpose", "n_samples"]])

# %%
# Only hospital B's patients have notes other than "none" (counted below: the notes no
# hospital A row holds), 'said "no" to statins' among them; the encoder made a column of
# each, and every run the store keeps names those columns.
note = b"to statins"


def in_file():
    # the bytes of the database file and of its write-ahead log, as on disk
    return any(note in p.read_bytes() for p in path.parent.glob(path.name + "*"))


print("the note is in the store's file:", in_file())
source = stp.row_lineage(X)["source_id"].to_numpy()
only_b = set(X["notes"][source == "hospital_b"]) - set(X["notes"][source != "hospital_b"])
notes_b = [f"onehotencoder__notes_{note}" for note in sorted(only_b)]
assert set(notes_b) <= set(unl.estimator_.lineage_.feature_lineage)
print(notes_b)

# %%
# Before erasing, a dry run says what each stored run holds of hospital B's rows. The
# store keeps no row values, so it cannot tell which one-hot columns only those rows
# produced: they are named here. (The unlearner finds them itself, below.)
for plan in store.erase_rows(
    source_id="hospital_b", reason="dry run", features=notes_b, dry_run=True
):
    print(plan["run_id"], plan["sources"], plan["features"], plan["fit_params"])

# %%
# The removal: the imputer, scaler and encoder are refitted without hospital B, the model
# corrected by Newton steps, the removal logged; ``redact=`` then erases, from the model's
# run and from every other run given hospital B's rows, the columns only its rows
# produced and its statistics, one ``store.redaction`` event per run.
unl.unlearn(source_id="hospital_b", redact="consent withdrawn, request 2026-118")
erasures = store.events(kind="store.redaction", include_store_events=True)
for event in erasures:
    print(event["seq"], event["run_id"], event["payload"]["erased"])
print("anything left to erase:", store.erase_rows(source_id="hospital_b", reason="again"))

# %%
# What is left: the chain verifies, each erased value reads as a placeholder naming its
# erasure, the rest of every run is as it was fitted, and the file's bytes no longer hold
# the note.
print("store verifies:", store.verify())
first = erasures[0]["run_id"]  # the model's run
stats = {s["source_id"]: s for s in store.load_run(first).source_stats["sources"]}
print(stats["hospital_b"])
print("hospital A's statistics kept:", sorted(stats["hospital_a"]))
print("the note is in the store's file:", in_file())

# %%
# How many values each run lost, by kind.
kinds = ["names", "notes", "source_statistics", "fit_params"]
counts = np.array([[e["payload"]["erased"].get(k, 0) for k in kinds] for e in erasures])
fig, ax = plt.subplots(figsize=(7, 3))
left = np.zeros(len(erasures))
for j, kind in enumerate(kinds):
    ax.barh(range(len(erasures)), counts[:, j], left=left, label=kind)
    left += counts[:, j]
ax.set_yticks(range(len(erasures)), [e["run_id"][:12] for e in erasures])
ax.set_xlabel("values erased")
ax.set_title("What each stored run held of hospital B's rows")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
