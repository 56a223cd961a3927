"""A column changed after loading is checked on witness rows, a sample: said so.

The note and the unlearner's warning said "x (375 of 375 rows checked)" of a fit on
3,000 rows that all changed: read as every row checked, and a column changed only on
rows that are not witnesses is never noticed. Both now say the rows checked are a
sample (the note: of how many rows given). Truth: the test changes every row, so any
count below the rows given is a sample.
"""

import re
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _changed_frame(tmp_path, n=3000):
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=n), "y": rng.integers(0, 2, n)}).to_csv(
        tmp_path / "d.csv", index=False
    )
    df = stp.read_csv(tmp_path / "d.csv", source_id="d")
    df["x"] = df["x"] * 2.0 + 1.0  # every row changed, outside the pipeline
    return df[["x"]], df["y"]


def test_the_run_note_says_the_rows_checked_are_a_sample_of_the_rows_given(tmp_path):
    X, y = _changed_frame(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    (note,) = [n for n in pipe.lineage_.notes if "differ from what was loaded" in n]
    k, n = map(int, re.search(r"x \((\d+) of (\d+) rows checked", note).groups())
    assert k == n < len(X)  # every row differs, a sample of them checked
    assert "witness rows of the 3,000 rows given, a sample" in note
    assert "changed only on other rows is not noticed" in note


def test_the_unlearner_warning_says_the_rows_checked_are_a_sample(tmp_path):
    X, y = _changed_frame(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
        unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unlearner.unlearn(sample_id=X.index.to_numpy()[:10])
    said = [str(w.message) for w in caught if "differ from what was loaded" in str(w.message)]
    assert len(said) == 1 and "rows checked are witness rows" in said[0]
    assert "changed only on other rows is not noticed" in said[0]
