"""Rows an unlearner removed in this process, on the frame that still holds them: the
set-up of the refit-on-removed tests (tests/unlearning, tests/influence)."""

import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from tests.conftest import write_hospitals

REMOVED = [41, 45, 50]  # positions of rows of hospital_b


def hospital_frame(tmp_path):
    """``(frame, X, y)``: both hospitals' files read (tests/conftest.py), ``X`` their
    ``age`` and ``bp`` (missing ``bp`` filled), ``y`` their labels."""
    paths = write_hospitals(tmp_path)
    frame = pd.concat(
        [
            stp.read_csv(paths["hospital_a"], source_id="hospital_a"),
            stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#"),
        ]
    )
    X = frame[["age", "bp"]].fillna(130.0)
    return frame, X, frame["label"].to_numpy()


def removed_by_unlearner(tmp_path):
    """``(frame, X, y, mask, unl)``: a traced pipeline's unlearner fitted on every row,
    then ``unlearn(mask=mask)`` of the rows at :data:`REMOVED` (its warnings ignored)."""
    frame, X, y = hospital_frame(tmp_path)
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    ).fit(X, y)
    mask = np.zeros(len(y), dtype=bool)
    mask[REMOVED] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(mask=mask)
    return frame, X, y, mask, unl


def raw_lines(tmp_path, frame):
    """The hospital_b line of each removed row, checked in the raw bytes: that line
    holds the row's own values."""
    raw = (tmp_path / "hospital_b.csv").read_bytes().decode().split("\n")
    found = []
    for i in REMOVED:
        row = frame.iloc[i]
        n = int(row["key"])
        bp = "" if np.isnan(row["bp"]) else f"{row['bp']:.1f}"
        assert raw[n - 1].startswith(f"{n},{int(row['age'])},{row['sex']},{bp},"), raw[n - 1]
        found.append(n)
    return found
