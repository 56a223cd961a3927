"""An explanation made before the explained unlearner removed one of its rows.

``Explanation.trace`` printed the removed row's raw values as if nothing had happened
(the explainer still holds them, which the removal's ``held_elsewhere`` warning names);
the command line ``sktraceprop trace`` names the removal and prints none of its values.
The trace now says which event removed the row and gives no values; rows still in the
model are traced as before (checked against the rows' own values in the frame).
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp

pytestmark = pytest.mark.filterwarnings("ignore:other fitted objects:UserWarning")


def _fitted(seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
    frame["label"] = (frame["a"] + 0.5 * rng.normal(size=50) > 0).astype(int)
    frame = stp.from_pandas(frame, f"trace_removed_{seed}")
    X, y = frame[["a", "b"]], frame["label"]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    unl = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    explainer = stp.InfluenceExplainer(unl).fit(X, y)
    return X, y, unl, explainer.explain(X.iloc[:3], top_k=5)


def test_trace_names_the_removal_and_gives_no_values():
    X, _, unl, exp = _fitted()
    first = exp.trace(test_index=0, rank=0)
    assert first["removed"] is None
    assert first["values"] == X.loc[first["row_id"]].to_dict()
    unl.unlearn(sample_id=np.array([first["row_id"]]))
    # the explainer, fitted on the removed row, dropped its fit (session 55: a row said
    # to be forgotten is not kept there): the explanation traces no row at all, and
    # names the removal (tests/influence/test_explainer_forgets_removed_rows.py)
    for rank in (0, 1):
        with pytest.raises(ValueError, match=r"unlearn \(event 0 of its unlearning_log_\)"):
            exp.trace(test_index=0, rank=rank)
    assert np.float64(first["values"]["a"]).tobytes() not in pickle.dumps(exp)


def test_an_explainer_fitted_again_on_the_rows_kept_traces_them():
    # refitted after the removal, on the rows kept, explaining the unlearned model
    X, y, unl, exp = _fitted(seed=2)
    first = exp.trace(test_index=0, rank=0)
    unl.unlearn(sample_id=np.array([first["row_id"]]))
    kept = unl.retained_mask_
    exp = stp.InfluenceExplainer(unl).fit(X[kept], y[kept]).explain(X.iloc[:3], top_k=5)
    row = exp.trace(test_index=0, rank=1)
    assert row["removed"] is None
    assert row["values"] == X.loc[row["row_id"]].to_dict()


def test_trace_counts_events_in_order():
    X, _, unl, exp = _fitted(seed=1)
    rows = [exp.trace(test_index=1, rank=r)["row_id"] for r in range(3)]
    unl.unlearn(sample_id=np.array(rows[1:2]))
    unl.unlearn(sample_id=np.array(rows[2:3]))
    # the first removal had the explainer drop its fit: every trace names that event
    # (the second reaches nothing of it)
    for r in range(3):
        with pytest.raises(ValueError, match=r"unlearn \(event 0 of its unlearning_log_\)"):
            exp.trace(test_index=1, rank=r)
    assert unl.unlearning_log_[0]["dropped_elsewhere"] == {"InfluenceExplainer": 1}
    assert "dropped_elsewhere" not in unl.unlearning_log_[1]
