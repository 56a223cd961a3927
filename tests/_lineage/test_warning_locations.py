"""Warnings about untraced input name the user's line, whichever estimator is fitted.

The two warnings of a fit given rows without sktraceprop row ids (columns of a loaded
source; values of a loaded row) were raised with a fixed stack depth: fitted through a
traced pipeline they named sktraceprop/pipeline.py, through an unlearner or a valuer a
frame past the top of the stack ("sys", line 1).
"""

import inspect
import re
import warnings

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning

FITS = {
    "pipeline": lambda: stp.make_traced_pipeline(StandardScaler(), LogisticRegression()),
    "unlearner of a pipeline": lambda: stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    ),
    "unlearner": lambda: stp.GradientCorrectionUnlearner(LogisticRegression()),
    "valuer": lambda: stp.KNNShapleyValuer(3),
    "explainer": lambda: stp.InfluenceExplainer(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    ),
}


@pytest.mark.parametrize("how", ["same columns", "loaded values"])
@pytest.mark.parametrize("kind", list(FITS))
def test_an_untraced_input_warning_names_the_line_that_fitted(kind, how):
    X, y = stp.datasets.load_demo(return_X_y=True)
    X = X.select_dtypes("number")
    if how == "same columns":  # row ids dropped, values and column names kept
        plain = pd.DataFrame(X.to_numpy(), columns=X.columns)
        wanted = "columns of traced source"
    else:  # other column names: only the values can tell
        plain = pd.DataFrame(X.to_numpy(), columns=[f"c{i}" for i in range(X.shape[1])])
        wanted = "holds .* of the values loaded"
    estimator = FITS[kind]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(plain, y)
        line = inspect.currentframe().f_lineno - 1
    found = [w for w in caught if issubclass(w.category, LineageWarning)]
    found = [w for w in found if re.search(wanted, str(w.message))]
    assert found, [str(w.message)[:80] for w in caught]
    assert {(w.filename, w.lineno) for w in found} == {(__file__, line)}
