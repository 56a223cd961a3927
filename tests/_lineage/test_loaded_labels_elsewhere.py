"""The loaded-labels check where untraced X is given to an unlearner, a valuer or an explainer.

``PCA(5).fit_transform(df)`` returns an array without the rows' ids; its target, a plain
copy of a loaded column (or a part of the frame carrying its ids), still shows where the
rows came from. A traced pipeline's fit warns of it (tests/_lineage/test_loaded_labels.py);
an unlearner, a valuer and an influence explainer fitted on the same arrays warn alike,
once. The truth is the raw file: the column named holds ``y``, line by line.
"""

import csv
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning
from sktraceprop.influence import InfluenceExplainer
from sktraceprop.unlearning import GradientCorrectionUnlearner
from sktraceprop.valuation import KNNShapleyValuer


@pytest.fixture
def cancer(tmp_path):
    path = tmp_path / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(path, index=False)
    return path, stp.read_csv(path, source_id="cancer")


def _messages(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]


def _fits(Xt, y, **params):
    model = LogisticRegression(max_iter=50)
    return {
        "unlearner": lambda: GradientCorrectionUnlearner(model).fit(Xt, y, **params),
        "unlearner of a traced pipeline": lambda: GradientCorrectionUnlearner(
            stp.make_traced_pipeline(LogisticRegression(max_iter=50))
        ).fit(Xt, y, **params),
        "valuer": lambda: KNNShapleyValuer(n_neighbors=3).fit(Xt, y),
        "explainer": lambda: InfluenceExplainer(model).fit(Xt, y, **params),
    }


@pytest.mark.parametrize(
    "which", ["unlearner", "unlearner of a traced pipeline", "valuer", "explainer"]
)
def test_a_plain_target_of_a_loaded_column_warns_once(cancer, which):
    path, df = cancer
    Xt = PCA(5).fit_transform(df.drop(columns="target"))
    y = df["target"].to_numpy()
    with open(path, newline="") as f:  # the truth: the file's column is y, line by line
        assert [float(r["target"]) for r in csv.DictReader(f)] == y.astype(float).tolist()
    [message] = _messages(_fits(Xt, y)[which])
    assert "equals column 'target' of source 'cancer'" in message
    assert "nothing here can check that they are those rows" in message


@pytest.mark.parametrize("which", ["unlearner", "explainer"])
def test_sample_weight_with_ids_warns(cancer, which):
    _, df = cancer
    Xt = PCA(5).fit_transform(df.drop(columns="target"))
    weights = df["mean radius"] / df["mean radius"].mean()
    y = np.random.default_rng(0).integers(0, 2, len(df))
    [message] = _messages(_fits(Xt, y, sample_weight=weights)[which])
    assert "sample_weight carries the row ids" in message


@pytest.mark.parametrize("which", ["unlearner", "valuer", "explainer"])
def test_unrelated_labels_warn_nothing(cancer, which):
    _, df = cancer
    Xt = PCA(5).fit_transform(df.drop(columns="target"))
    y = np.random.default_rng(1).integers(0, 2, len(df))
    assert _messages(_fits(Xt, y)[which]) == []
