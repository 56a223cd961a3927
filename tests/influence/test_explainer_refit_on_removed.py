"""An InfluenceExplainer fitted on a frame that still holds rows an unlearner removed
says so (RefitOnRemovedWarning), naming the rows' file lines and the user's fit line.

Before, ``InfluenceExplainer(LogisticRegression()).fit(X, y)`` refitted a clone on the
removed rows, kept their features and credited them in its explanations silently; a
model given fitted was explained by them silently too. Truth: the lines of the raw CSV
bytes (each holds the removed row's own values) and the line of the call in this file.
"""

import inspect
import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import RefitOnRemovedWarning
from tests._removed_rows import raw_lines as _raw_lines
from tests._removed_rows import removed_by_unlearner as _removed


def _said(record):
    return [w for w in record if issubclass(w.category, RefitOnRemovedWarning)]


@pytest.mark.parametrize("kind", ["untraced", "plain_pipeline", "traced", "prefit"])
def test_explainer_fit_on_removed_rows_is_said_once_with_their_lines(tmp_path, kind):
    frame, X, y, mask, _ = _removed(tmp_path)
    lines = _raw_lines(tmp_path, frame)
    estimator = {
        "untraced": LogisticRegression(),
        "plain_pipeline": make_pipeline(StandardScaler(), LogisticRegression()),
        "traced": stp.make_traced_pipeline(StandardScaler(), LogisticRegression()),
        "prefit": LogisticRegression().fit(X.to_numpy(), y),  # fitted outside, on all rows
    }[kind]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        explainer = stp.InfluenceExplainer(estimator).fit(X, y)
    (said,) = _said(record)  # one: a traced refit inside leaves it to the explainer
    message = str(said.message)
    # a model given fitted is not trained here: the explainer takes the rows as its
    # training rows (and credits them), said so
    how = (
        "takes as training rows of the model it was given fitted (not refitted here), "
        "and credits, "
        if kind == "prefit"
        else "trains on "
    )
    assert message.startswith(f"this fit of InfluenceExplainer {how}3 row(s) removed")
    assert "GradientCorrectionUnlearner.unlearn of run" in message
    named = sorted(int(n) for n in re.findall(r"hospital_b line (\d+)", message))
    assert named == sorted(lines)
    assert (said.filename, said.lineno) == (__file__, line)
    # (the explainer does hold them: the warning is not a false alarm)
    assert np.isin(X.index[mask], explainer.train_row_ids_).all()


def test_explainer_without_the_removed_rows_is_not_warned(tmp_path):
    _, X, y, mask, unl = _removed(tmp_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        stp.InfluenceExplainer(LogisticRegression()).fit(X[~mask], y[~mask])
        # the unlearner itself, explained by the rows it retains
        stp.InfluenceExplainer(unl).fit(X[unl.retained_mask_], y[unl.retained_mask_])
        # a clone of an explainer refitted on the kept rows
        clone(stp.InfluenceExplainer(LogisticRegression())).fit(X[~mask], y[~mask])
    assert not _said(record)
