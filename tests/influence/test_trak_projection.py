"""Neural TRAK's internal projection: clipped to the parameters, said in the notes.

The explainer's default ``n_components=2048`` on a net of fewer parameters made the
internal JLProjector warn "The dimensionality of the problem will not be reduced",
a warning meant for a user's own projector about a choice the user did not make.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import DataDimensionalityWarning

from sktraceprop import InfluenceExplainer
from sktraceprop.projection import JLProjector


def _data(n=120, d=5, n_classes=2, seed=0):
    X, y = make_classification(
        n, d, n_informative=d, n_redundant=0, n_classes=n_classes, random_state=seed
    )
    return X.astype(np.float32), y.astype(np.int64)


def _skorch_net(train_split, n_out=2, d=5):
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.Linear(d, 8)
            self.out = torch.nn.Linear(8, n_out)

        def forward(self, x):
            return self.out(torch.tanh(self.hidden(x)))

    torch.manual_seed(0)
    return skorch.NeuralNetClassifier(
        Net,
        max_epochs=5,
        lr=0.05,
        batch_size=32,
        train_split=train_split,
        criterion=torch.nn.CrossEntropyLoss,
        verbose=0,
    )


def _fit_recording(explainer, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explainer.fit(X, y)
    return [w for w in caught if issubclass(w.category, DataDimensionalityWarning)]


def test_default_dimension_above_the_parameters_keeps_the_gradients_without_a_warning():
    X, y = _data()
    exp = InfluenceExplainer(_skorch_net(None), method="trak", damping=1.0, random_state=0)
    assert exp.n_components == 2048  # the default, not the user's choice
    assert _fit_recording(exp, X, y) == []
    n_params = sum(p.numel() for p in exp.model_.module_.parameters())
    assert n_params == 66
    assert exp.trak_.projectors == [None] and exp.trak_.members[0].F.shape[1] == n_params
    explanation = exp.explain(X[:3], y[:3], keep_scores=True)
    (note,) = [n for n in explanation.notes if n.startswith("neural model")]
    assert "exact, not projected: n_components=2048 is at least the 66 parameters" in note
    # truth: the exact Gauss-Newton method (no projection, all 2 output directions) on
    # the same net with the same damping
    ggn = InfluenceExplainer(_skorch_net(None), method="ggn", damping=1.0, random_state=0)
    ggn.fit(X, y)
    np.testing.assert_allclose(
        explanation.scores, ggn.explain(X[:3], y[:3], keep_scores=True).scores, rtol=1e-4
    )


def test_dimension_below_the_parameters_still_projects():
    X, y = _data()
    exp = InfluenceExplainer(
        _skorch_net(None), method="trak", n_components=16, damping=1.0, random_state=0
    )
    assert _fit_recording(exp, X, y) == []
    assert exp.trak_.projectors[0].n_components_ == 16
    (note,) = [n for n in exp.explain(X[:1], y[:1]).notes if n.startswith("neural model")]
    assert "randomly projected to 16 dimensions" in note and "not projected" not in note


def test_a_users_own_projector_still_warns():
    with pytest.warns(DataDimensionalityWarning, match=r"n_features < n_components \(66 < 2048"):
        JLProjector(2048, random_state=0).fit(np.zeros((1, 66), dtype=np.float32))
