"""A neural model the unlearner corrected says, alone, which rows it holds.

A JaxClassifier names them in its digest:
its fit keeps a digest of its training rows (``_fit_digest``), which an explainer given
the model alone compares with the rows it is given. After a removal the digest named
the rows of its fit, removed rows included: given the model alone (out of the process
that corrected it, as a pickle), the explainer took any rows with a warning that their
rows were unknown, and scored removed rows as training rows. A skorch net's
``history_`` counts the rows of its fit's last epoch, removed ones included: the
retained rows were refused, every row taken.
"""

import pickle
import warnings

import numpy as np
import pytest

from sktraceprop import InfluenceExplainer
from sktraceprop.exceptions import LineageWarning
from sktraceprop.unlearning import GradientCorrectionUnlearner

try:
    import torch
except ImportError:  # the skorch test is skipped
    torch = None
else:

    class _Linear(torch.nn.Module):  # (pickled with the net: defined at module level)
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 2)

        def forward(self, x):
            return self.linear(x)


def _data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_a_corrected_jax_classifier_alone_holds_the_retained_rows():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data()
    init_fn, apply_fn = mlp(hidden=(5,))
    net = JaxClassifier(apply_fn, init_fn, n_epochs=20, random_state=0)
    unl = GradientCorrectionUnlearner(net, n_steps=3, calibration="none").fit(X, y)
    forget = np.arange(X.shape[0]) < 15
    unl.unlearn(mask=forget)
    # alone, in another process: nothing but the model says which rows it holds
    model = pickle.loads(pickle.dumps(unl.estimator_))
    with pytest.raises(ValueError, match="not the rows this JaxClassifier was trained"):
        InfluenceExplainer(model, damping=1.0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        exp = InfluenceExplainer(model, damping=1.0).fit(X[~forget], y[~forget])
    assert exp.n_train_ == int((~forget).sum())
    # a second removal names the rows that remain after it
    unl.unlearn(mask=np.isin(np.arange(X.shape[0]), [20, 21]))
    model = pickle.loads(pickle.dumps(unl.estimator_))
    rest = ~forget & ~np.isin(np.arange(X.shape[0]), [20, 21])
    with pytest.raises(ValueError, match="not the rows this JaxClassifier was trained"):
        InfluenceExplainer(model, damping=1.0).fit(X[~forget], y[~forget])
    assert InfluenceExplainer(model, damping=1.0).fit(X[rest], y[rest]).n_train_ == rest.sum()


def test_a_corrected_skorch_net_alone_counts_the_retained_rows():
    pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")

    X, y = _data()
    X = X.astype(np.float32)
    net = skorch.NeuralNetClassifier(
        _Linear,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=5,
        train_split=None,
        verbose=0,
    )
    unl = GradientCorrectionUnlearner(net, n_steps=2, calibration="none").fit(X, y)
    forget = np.arange(X.shape[0]) < 15
    unl.unlearn(mask=forget)
    model = pickle.loads(pickle.dumps(unl.estimator_))
    with pytest.raises(ValueError, match="an unlearner's last removal left it holding 75 rows"):
        InfluenceExplainer(model, damping=1.0).fit(X, y)
    with pytest.warns(LineageWarning, match="the unlearner's record agrees on their number"):
        exp = InfluenceExplainer(model, damping=1.0).fit(X[~forget], y[~forget])
    assert exp.n_train_ == 75
    # fitted again: its history_ counts the rows of that fit, the record is void
    model.fit(X, y)
    with pytest.warns(LineageWarning, match="skorch's history_ agrees on their number, 90"):
        InfluenceExplainer(model, damping=1.0).fit(X, y)
