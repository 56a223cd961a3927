"""An explanation made before the explained unlearner removed one of its rows.

``Explanation.trace`` printed the removed row's raw values as if nothing had happened
(the explainer still holds them, which the removal's ``held_elsewhere`` warning names);
the command line ``sktraceprop trace`` names the removal and prints none of its values.
The trace now says which event removed the row and gives no values; rows still in the
model are traced as before (checked against the rows' own values in the frame).
"""

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
    after = exp.trace(test_index=0, rank=0)
    assert after["values"] is None
    assert after["removed"].startswith("removed from the model by its unlearning event 0 (")
    assert unl.unlearning_log_[0]["time_utc"] in after["removed"]
    assert (after["row_id"], after["line"], after["score"]) == (
        first["row_id"],
        first["line"],
        first["score"],
    )
    # a row still in the model keeps its values
    kept = exp.trace(test_index=0, rank=1)
    assert kept["removed"] is None
    assert kept["values"] == X.loc[kept["row_id"]].to_dict()


def test_trace_counts_events_in_order():
    X, _, unl, exp = _fitted(seed=1)
    rows = [exp.trace(test_index=1, rank=r)["row_id"] for r in range(3)]
    unl.unlearn(sample_id=np.array(rows[1:2]))
    unl.unlearn(sample_id=np.array(rows[2:3]))
    said = [exp.trace(test_index=1, rank=r)["removed"] for r in range(3)]
    assert said[0] is None
    assert "unlearning event 0 (" in said[1]
    assert "unlearning event 1 (" in said[2]
