"""LineageDisplay of a run past an imbalanced-learn sampler: the rows counted per
source are the model's training rows, or said to be the rows given to fit where the
sampler records no ``sample_indices_`` (the truth: the sampler's own fit_resample)."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.plotting import LineageDisplay

plt = pytest.importorskip("matplotlib.pyplot")
pytest.importorskip("imblearn")


@pytest.fixture
def frame(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "rows.csv"
    y = (np.arange(60) < 15).astype(int)
    np.savetxt(
        path,
        np.c_[rng.normal(size=(60, 2)) + y[:, None], y],
        delimiter=",",
        header="a,b,y",
        comments="",
        fmt=["%.6f", "%.6f", "%d"],
    )
    df = stp.read_csv(path, source_id="rows")
    return df[["a", "b"]], df["y"]


def _source_label(display):
    (label,) = [n["label"] for n in display.nodes if n["kind"] == "source"]
    return label


def test_source_count_past_smote_says_rows_given_to_fit(frame):
    # Before, the source's box said "60 rows" as the model's training rows; SMOTE
    # fitted it on 90 (45 of them made, of no line).
    from imblearn.over_sampling import SMOTE

    X, y = frame
    sampler = SMOTE(random_state=0)
    with pytest.warns(stp.exceptions.LineageWarning, match="sample_indices_"):
        pipe = stp.make_traced_pipeline(sampler, LogisticRegression()).fit(X, y)
    received, _ = clone(sampler).fit_resample(X.to_numpy(), y.to_numpy())
    assert len(received) != len(X)
    label = _source_label(LineageDisplay.from_estimator(pipe))
    assert label.endswith(f"\n{len(X)} rows given to fit")


def test_source_count_past_a_sampler_with_sample_indices_counts_its_rows(frame):
    from imblearn.under_sampling import RandomUnderSampler

    X, y = frame
    sampler = RandomUnderSampler(random_state=0)
    pipe = stp.make_traced_pipeline(sampler, LogisticRegression()).fit(X, y)
    received, _ = clone(sampler).fit_resample(X.to_numpy(), y.to_numpy())
    label = _source_label(LineageDisplay.from_estimator(pipe))
    assert label.endswith(f"\n{len(received)} rows")
