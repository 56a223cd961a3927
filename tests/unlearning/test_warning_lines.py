"""Each unlearning warning points at the user's line (this file), whatever the call
depth inside sktraceprop: a hard-coded ``stacklevel`` pointed into the library once a
call was added or moved between the warning and the user."""

import inspect

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _data(prefix, n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = stp.from_numpy(rng.normal(size=(n, d)), source_id=prefix)
    y = (X.to_numpy()[:, 0] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return X, y


def _here(record, line):
    """Every warning of ``record`` points at line ``line`` of this file."""
    assert len(record) >= 1
    for w in record:
        assert (w.filename, w.lineno) == (__file__, line), str(w.message)[:80]


def test_calibration_warning_points_at_its_caller_at_any_depth():
    # called straight from here, two frames nearer than from fit: stacklevel=5
    # pointed past this file, into pytest
    from sktraceprop.unlearning._calibration import resolve_calibration

    with pytest.warns(UserWarning, match="falls back to calibration='holdout'") as record:
        line = inspect.currentframe().f_lineno + 1
        resolve_calibration("auto", False)
    _here(record, line)


def test_calibration_auto_without_holdout_points_at_the_fit():
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.lin = torch.nn.Linear(4, 2)

        def forward(self, X):
            return self.lin(X)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = skorch.NeuralNetClassifier(
        Net,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
    with pytest.warns(UserWarning, match="falls back to calibration='holdout'") as record:
        line = inspect.currentframe().f_lineno + 1
        GradientCorrectionUnlearner(net, n_steps=1).fit(X, y)
    _here([w for w in record if "calibration='holdout'" in str(w.message)], line)


def test_pipeline_cache_and_unweighted_steps_point_at_the_fit(tmp_path):
    X, y = _data("lines_cache")
    pipe = make_pipeline(SimpleImputer(), StandardScaler(), Ridge(), memory=str(tmp_path))
    with pytest.warns(UserWarning) as record:
        line = inspect.currentframe().f_lineno + 1
        GradientCorrectionUnlearner(pipe).fit(X, y, sample_weight=np.ones(len(y)))
    messages = [str(w.message) for w in record]
    assert any("pipeline cache" in m for m in messages)
    assert any("do not accept sample_weight" in m for m in messages)
    _here(record, line)


def test_forget_items_in_no_training_row_point_at_the_fit():
    X, y = _data("lines_absent")
    stp.from_numpy(np.zeros((4, 4)), source_id="lines_absent_other")
    with pytest.warns(UserWarning, match="no training row") as record:
        line = inspect.currentframe().f_lineno + 1
        GradientCorrectionUnlearner(Ridge(), forget="lines_absent_other").fit(X, y)
    _here(record, line)


def test_training_again_on_removed_rows_points_at_the_fit():
    X, y = _data("lines_again")
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(X)[:3])
    with pytest.warns(UserWarning, match="removed before it") as record:
        line = inspect.currentframe().f_lineno + 1
        unl.fit(X, y)
    _here(record, line)
