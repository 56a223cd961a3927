"""The warning of columns missing in every row counts them all, not only those named.

It named five with a bare "...": seven empty columns read as "five and maybe more".
Truth: the test makes seven columns NaN in every row.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp


def test_every_empty_column_is_counted():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40)})
    empty = [f"e{i}" for i in range(7)]
    for name in empty:
        frame[name] = np.nan
    X = stp.from_pandas(frame, "empties")
    y = (frame["x"] > 0).astype(int).to_numpy()
    pipe = stp.make_traced_pipeline(SimpleImputer(keep_empty_features=True), LogisticRegression())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe.fit(X, y)
    said = [str(w.message) for w in caught if "missing (NaN) in every row" in str(w.message)]
    assert len(said) == 1
    assert all(repr(name) in said[0] for name in empty[:5])
    assert "and 2 more (7 in all)" in said[0]
