r"""
==============================================
Forgetting a hospital without retraining
==============================================

Two hospitals contributed training rows to a risk model. Hospital B withdraws its
consent. :class:`sktraceprop.GradientCorrectionUnlearner` removes its rows from the
whole fitted pipeline (the imputer and scaler refitted, the logistic regression
corrected by Newton steps on the objective of the remaining rows), logs the removal in
the pipeline's audit store with a certificate (the remaining gradient norm), and we
check the result against the pipeline retrained from scratch without them.
"""

# %%
# Load both hospitals and fit a traced pipeline through the unlearner.
import copy

import matplotlib.pyplot as plt
import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.plotting import UnlearningDisplay
from sktraceprop.stores import MemoryStore

X, y = stp.datasets.load_demo(return_X_y=True)
X = X[["age", "bp", "cholesterol"]]
store = MemoryStore()
pipe = stp.make_traced_pipeline(
    SimpleImputer(), StandardScaler(), LogisticRegression(C=0.5), store=store
)
unl = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
before = copy.deepcopy(unl.estimator_)  # the model as it was, to compare with
original = before.predict_proba(X)[:, 1]
print(unl.estimator_.lineage_.source_counts())

# %%
# Remove hospital B by name. The request resolves to its rows through the lineage; the
# imputer and the scaler are refitted on hospital A's rows, and the model corrected on
# the features they now give. The event prints a summary of the removed rows (count,
# lines per source, a SHA-256 of their ids) and keeps every id.
#
# The removal warns that "other fitted objects in this process keep data of removed
# rows": the unlearner looks through the sktraceprop objects fitted in this process
# (traced models, explainers, valuers, other unlearners, and their copies) for the
# removed rows, and finds ``before``, the copy of the pipeline kept above on purpose to
# compare with. The removal changes the unlearner's own model only; the copy still holds
# the imputer's and scaler's statistics and the model fitted on hospital B. The event
# records such objects (``held_elsewhere``, and in its ``caveat``). In a real erasure,
# refit or discard each named object once it is no longer needed (here, after the
# comparison below: ``del before``), and account for what the search cannot see: objects
# in other processes, and plain arrays or models that are not sktraceprop's.
unl.unlearn(source_id="hospital_b")
event = unl.unlearning_log_[-1]
print("still held elsewhere:", event["held_elsewhere"])
print(event["row_ids"])
print({k: event[k] for k in ("sources", "method", "n_iter", "certificate", "seconds")})
print("audit chain intact:", store.verify(), "| events:", len(store.events()))

# %%
# The truth: the whole pipeline retrained from scratch on the rows that remain, with a
# tight tolerance. The unlearner refitted the imputer and the scaler on those rows too
# (``preprocessing="refit"``), so the two pipelines should agree to the solver's
# tolerance.
keep = (stp.row_lineage(X)["source_id"] == "hospital_a").to_numpy()
retrained = stp.make_traced_pipeline(
    SimpleImputer(), StandardScaler(), LogisticRegression(C=0.5, tol=1e-12, max_iter=1000)
).fit(X[keep], y[keep])
truth = retrained.predict_proba(X)[:, 1]
unlearned = unl.predict_proba(X)[:, 1]
print(f"max |unlearned - retrained| = {np.abs(unlearned - truth).max():.1e}")
print(f"max |original - retrained|  = {np.abs(original - truth).max():.1e}")

# %%
# Predictions before and after the removal against those of the retrain: the
# unlearned model's sit on the diagonal, the original's do not. The legend gives each
# model's distance to the retrain (root mean square difference of P(y=1)).
UnlearningDisplay.from_estimator(unl, retrained, before, X, response_method="predict_proba")
plt.show()
