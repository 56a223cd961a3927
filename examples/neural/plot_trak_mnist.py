r"""
======================================================================
Which training digits made a neural net decide? Influence with lineage
======================================================================

:class:`sktraceprop.InfluenceExplainer` explains a skorch net by the damped Gauss-Newton
influence of the net linearised at its weights: per-sample margin gradients
(``torch.func``), the Gauss-Newton matrix of the training loss and the ``1 - p``
re-weighting, with a damping measured on a few retrains. We train a small MLP to tell 4s
from 9s in scikit-learn's digits, inside a traced pipeline whose net holds out 20% of the
rows for validation, and show for one test digit the training digits that most support
and most oppose its prediction, each with the source line it came from. The held-out rows
never receive a score.
"""

# %%
# A traced pipeline: scaling, then a skorch MLP with skorch's validation split.
import warnings

import matplotlib.pyplot as plt
import numpy as np
import skorch
import torch
from sklearn.datasets import load_digits
from sklearn.preprocessing import FunctionTransformer

import sktraceprop as stp
from sktraceprop import InfluenceExplainer

digits = load_digits()
keep = np.isin(digits.target, [4, 9])
images = digits.images[keep]
X = stp.from_numpy(digits.data[keep].astype(np.float32) / 16, source_id="digits_4_9")
y = (digits.target[keep] == 9).astype(np.float32)
X_train, y_train, X_test, y_test = X.iloc[:300], y[:300], X.iloc[300:], y[300:]


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(64, 32)
        self.out = torch.nn.Linear(32, 1)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))[:, 0]


torch.manual_seed(0)
net = skorch.NeuralNetBinaryClassifier(
    MLP,
    max_epochs=40,
    lr=1e-2,
    optimizer=torch.optim.Adam,
    train_split=skorch.dataset.ValidSplit(0.2, random_state=0),
    verbose=0,
)
pipe = stp.make_traced_pipeline(FunctionTransformer(np.asarray), net)
explainer = InfluenceExplainer(pipe, n_models=3, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    explainer.fit(X_train, y_train)
lineage = explainer.estimator_.lineage_
print(
    f"rows given to fit: {lineage.input_row_ids.size}, rows the net trained on: "
    f"{explainer.n_train_}"
)
# what the explainer chose (exact or projected, damping, weights, members) and why
print(explainer.method_, explainer.damping_selection_["reason"])

# %%
# Explain the test predictions; the held-out validation rows are never attributed.
explanation = explainer.explain(X_test, top_k=5)
held_out = np.setdiff1d(lineage.input_row_ids, lineage.row_ids)
assert not np.isin(explanation.top()["row_id"], held_out).any()
print(explanation.top(3).query("test_index == 0")[["rank", "score", "uri", "line"]])

# %%
# The test digit (its prediction is what is explained), its three strongest
# proponents and opponents, with their lines.
j = 0
fig, axes = plt.subplots(1, 7, figsize=(11, 2.2))
axes[0].imshow(images[300 + j], cmap="gray_r")
# the explained class is the predicted one (explain without y), not always the label
digit = {0: "4", 1: "9"}
axes[0].set_title(f"predicted {digit[int(explanation.y[j])]}, label {digit[int(y_test[j])]}")
panels = [(explanation.top(3), "+"), (explanation.top(3, opponents=True), "-")]
ax_i = 1
for frame, sign in panels:
    for _, row in frame.query("test_index == @j").iterrows():
        pos = int(np.flatnonzero(stp.row_ids(X) == row["row_id"])[0])
        axes[ax_i].imshow(images[pos], cmap="gray_r")
        axes[ax_i].set_title(f"{sign} line {row['line']}", fontsize=9)
        ax_i += 1
for ax in axes:
    ax.set_axis_off()
fig.suptitle("TRAK: training digits that support (+) and oppose (-) the prediction")
fig.tight_layout()
plt.show()
