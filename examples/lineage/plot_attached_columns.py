r"""
=====================================================
A column attached by position, and the traced join
=====================================================

A patient table and a lab table come from two systems. Copying the lab's column into the
patient table by position (``a["x"] = b["v"].values``) gives the model the right numbers
only while both tables happen to be in the same order, and it leaves no record of which
lab row each patient's value came from. This example shows what sktraceprop sees of such
a column: the warning at ``fit``, what the run records
(:attr:`~sktraceprop.Lineage.attached_columns`, :meth:`~sktraceprop.Lineage.trace`,
:meth:`~sktraceprop.Lineage.feature_sources`), the compliance report's entry, the refused
removal of the lab's data, the warning for a copy from the lab table in another order
(each patient given another patient's value), and the traced alternative,
:func:`sktraceprop.merge` on a key, with which lineage and unlearning work.
"""

# %%
# Two traced sources made from scikit-learn's diabetes data: the clinic's patients
# (age, sex, BMI, blood pressure, the outcome) and the lab's blood serum results, both
# keyed by a patient number, in the same row order.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning, UnlearningError
from sktraceprop.stores import MemoryStore

data = load_diabetes(as_frame=True).frame
data.insert(0, "patient", np.arange(1000, 1000 + len(data)))
clinic = stp.from_pandas(data[["patient", "age", "sex", "bmi", "bp", "target"]], "clinic")
lab = stp.from_pandas(data[["patient", "s1", "s2", "s3", "s4", "s5", "s6"]], "lab")
print("clinic", clinic.shape, "lab", lab.shape)

# %%
# The shortcut: the lab's ``s5`` (log serum triglycerides) copied in by position. The
# fit warns that ``s5`` holds the lab source's column, recognised by its values.
X = clinic.drop(columns=["patient", "target"])
X["s5"] = lab["s5"].values
y = clinic["target"]
store = MemoryStore()
pipe = stp.make_traced_pipeline(
    StandardScaler(), Ridge(alpha=1.0), store=store, log_predictions=True
)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", LineageWarning)
    pipe.fit(X, y)
for w in caught:
    print(w.category.__name__, ":", w.message)

# %%
# The warning's count of rows: a value held by several lab rows could be on any of
# them, so only the values no other row holds are evidence. Counted directly: the lab's
# ``s5`` distinct values, those held by one row only (the rows the warning counts), and
# whether each of them is on the training row of its own line.
values = lab["s5"].to_numpy()
single = ~lab["s5"].duplicated(keep=False).to_numpy()
matched = pipe.lineage_.attached_columns[0]["rows_matched"]
print("distinct:", lab["s5"].nunique(), "held by one row:", single.sum(), "warning:", matched)
print("each on its own line:", bool((X["s5"].to_numpy()[single] == values[single]).all()))

# %%
# What the run records. ``attached_columns`` names the input column, the lab source
# (with its SHA-256) and column, and the evidence; ``feature_sources`` names the lab for
# the feature made from ``s5``. A training row's trace names its clinic line only:
# which lab row it holds is not recorded.
run = pipe.lineage_
for entry in run.attached_columns:
    print(entry)
print(run.feature_sources())
print(run.trace([0, 1])[["train_index", "source_id", "line", "ops"]])

# %%
# The model in use (each call logged), then the compliance report: the column is listed
# under ``feature_lineage/attached_outside_pipeline`` and in the statement of Art. 26(4).
pipe.predict(X.iloc[:5])
report = stp.compliance_report(
    pipe,
    system_name="DiseaseProgression",
    system_version="0.1",
    deployer_name="Example Clinic",
    high_risk_category="public_benefits",
    intended_purpose="Estimate disease progression for review by a physician",
    human_oversight=["Physician on duty"],
)
print(report.to_dict()["feature_lineage"]["attached_outside_pipeline"])
data_article = next(a for a in report.to_dict()["articles"] if a["article"] == "26(4)")
print(data_article["why"])

# %%
# The lab asks for its data to be removed from the model. No training row is a lab
# row, yet every row holds a lab value: removing rows cannot take it out, and the
# request is refused, saying why and what to do.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", LineageWarning)  # (the fit's warning, said above)
    unl = stp.GradientCorrectionUnlearner(clone(pipe)).fit(X, y)
try:
    unl.unlearn(source_id="lab")
except UnlearningError as exc:
    print("refused:", exc)

# %%
# A lab table in another order: had the lab's table been sorted by its values before
# the copy, each patient would get another patient's result. The values are the lab's as
# a set (matched on the values held by one row each, none a whole number, in a column
# too sparse for a chance match), but not in the lab's row order: the fit warns that
# the row order does not match and that values may belong to other rows, the run records
# ``s5`` as ``"reordered"``, and a removal request for the lab is refused, as above.
X_wrong = X.assign(s5=lab.sort_values("s5", kind="stable")["s5"].values)
given = (X_wrong["s5"].to_numpy() != lab["s5"].to_numpy()).sum()
print("patients given another's value:", int(given))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", LineageWarning)
    wrong = stp.make_traced_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(X_wrong, y)
for w in caught:
    print(w.category.__name__, ":", w.message)
print([(e["source_id"], e["match"]) for e in wrong.lineage_.attached_columns])
print(wrong.lineage_.feature_sources()["s5"])
with warnings.catch_warnings():
    warnings.simplefilter("ignore", LineageWarning)
    unl_wrong = stp.GradientCorrectionUnlearner(clone(wrong)).fit(X_wrong, y)
try:
    unl_wrong.unlearn(source_id="lab")
except UnlearningError as exc:
    print("refused:", exc)

# %%
# The traced alternative: join on the patient number with :func:`sktraceprop.merge`.
# Each training row records both rows it was made of, so its trace names the clinic's
# line and the lab's, whatever the order of either table (here the lab's table sorted
# by ``s5``, loaded as a source of its own).
lab_sorted = stp.from_pandas(
    data[["patient", "s5"]].sort_values("s5", kind="stable").reset_index(drop=True), "lab_sorted"
)
merged = stp.merge(
    clinic, lab_sorted[["patient", "s5"]], on="patient", source_id="clinic+lab_sorted"
)
X2, y2 = merged[["age", "sex", "bmi", "bp", "s5"]], merged["target"]
pipe2 = stp.make_traced_pipeline(StandardScaler(), Ridge(alpha=1.0), store=store)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", LineageWarning)
    pipe2.fit(X2, y2)
print("warnings:", len(caught), "attached columns:", pipe2.lineage_.attached_columns)
print(pipe2.lineage_.feature_sources())
print(pipe2.lineage_.trace([0])[["train_index", "source_id", "line", "via"]])
print(
    "right values:",
    bool((merged.set_index("patient")["s5"] == data.set_index("patient")["s5"]).all()),
)

# %%
# Three patients withdraw consent for their lab results. Their lab rows are parents of
# three training rows, which the unlearner removes (the scaler refitted, the model
# corrected by Newton steps); the result is checked against a refit without them. The
# warning is right: ``pipe2``, the model first fitted, still holds those rows' influence
# and is to be discarded.
unl2 = stp.GradientCorrectionUnlearner(clone(pipe2)).fit(X2, y2)
gone = [1003, 1100, 1200]
unl2.unlearn(sample_id=stp.row_ids(lab_sorted[lab_sorted.patient.isin(gone)]))
event = unl2.unlearning_log_[-1]
print({k: event[k] for k in ("n_removed", "method", "certificate")})
keep = ~merged.patient.isin(gone).to_numpy()
refit = clone(pipe2[-1]).fit(StandardScaler().fit_transform(X2[keep]), y2[keep])
difference = np.abs(unl2.estimator_[-1].coef_ - refit.coef_).max()
print(f"largest coefficient difference to a refit: {difference:.1e}")

# %%
# The evidence for the attached column, drawn: the lab's ``s5`` by line, the values
# held by one row only (the only ones that can be found) marked.
fig, ax = plt.subplots(figsize=(7, 3))
lines = np.arange(1, len(values) + 1)
ax.scatter(lines[~single], values[~single], s=6, c="0.7", label="value held by several rows")
ax.scatter(lines[single], values[single], s=10, c="C3", label="held by one row: evidence")
ax.set_xlabel("lab line")
ax.set_ylabel("s5")
ax.set_title(f"{single.sum()} of {len(values)} lab rows can show the copy")
ax.set_ylim(values.min() - 0.02, values.max() + 0.06)  # room for the legend
ax.legend(fontsize=8, loc="upper center", ncol=2)
fig.tight_layout()
plt.show()
