"""Per-sample gradients are of the function that predicts, row by row, or refused.

``torch.func.vmap`` takes every row alone (``x[None]``). A module whose output for a row
depends on the other rows of its batch was differentiated as another function than the
net's predictions, with no word; a batch-norm net (row-wise in eval mode) was refused by
torch's "Expected more than 1 value per channel when training" from a forward in
training mode; a module drawing random numbers in eval mode failed inside vmap.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop import InfluenceExplainer
from sktraceprop.gradients import torch_per_sample_gradients

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")


class _BatchCentred(torch.nn.Module):
    """Centres its inputs by the batch mean, in eval mode too."""

    def __init__(self):
        super().__init__()
        self.out = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.out(x - x.mean(0, keepdim=True))


class _BatchNormNet(torch.nn.Module):
    def __init__(self, hidden=6):
        super().__init__()
        self.hidden = torch.nn.Linear(4, hidden)
        self.norm = torch.nn.BatchNorm1d(hidden)
        self.drop = torch.nn.Dropout(0.3)
        self.out = torch.nn.Linear(hidden, 2)

    def forward(self, x):
        return self.out(self.drop(torch.relu(self.norm(self.hidden(x)))))


class _NoisyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.out = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.out(torch.nn.functional.dropout(x, 0.5, training=True))


def _data(n=40):
    rng = np.random.RandomState(0)
    X = rng.randn(n, 4).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def _net(module, **kwargs):
    torch.manual_seed(0)
    net = skorch.NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        lr=0.05,
        batch_size=16,
        train_split=None,
        verbose=0,
        **kwargs,
    )
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return net.fit(X, y)


def _margin_gradients_one_by_one(module, X, y):
    """Independent truth: each row's margin in a forward of all rows (eval mode),
    differentiated by autograd."""
    module.eval()
    rows = []
    for i in range(X.shape[0]):
        module.zero_grad()
        z = module(torch.as_tensor(X))[i]
        others = torch.cat([z[: y[i]], z[y[i] + 1 :]])
        (z[y[i]] - torch.logsumexp(others, 0)).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in module.parameters()]).numpy())
    module.train()
    return np.array(rows)


def test_a_module_whose_rows_depend_on_their_batch_is_refused():
    X, y = _data()
    net = _net(_BatchCentred)
    # independent truth: the net predicts a row otherwise alone than in its batch
    alone = net.predict_proba(X[:1])[0]
    assert not np.allclose(alone, net.predict_proba(X)[0], atol=1e-3)
    with pytest.raises(ValueError, match="depends on the other rows passed with it"):
        torch_per_sample_gradients(net, X, y)
    with pytest.raises(ValueError, match="depends on the other rows passed with it"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the bare net's rows are unknown)
            InfluenceExplainer(net, method="ggn", damping=0.1).fit(X, y)


def test_a_module_drawing_random_numbers_in_eval_mode_is_refused():
    X, y = _data()
    net = _net(_NoisyNet)
    with pytest.raises(ValueError, match="draws random numbers in eval mode"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the bare net's rows are unknown)
            InfluenceExplainer(net, method="ggn", damping=0.1).fit(X, y)


def test_a_batch_norm_net_is_explained_in_eval_mode():
    X, y = _data()
    net = _net(_BatchNormNet)
    assert net.module_.training  # skorch leaves it in training mode
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = InfluenceExplainer(net, method="ggn", damping=0.1, random_state=0).fit(X, y)
    assert np.isfinite(exp.explain(X[:3], y[:3]).scores).all()
    assert net.module_.training  # restored
    G = torch_per_sample_gradients(net, X[:5], y[:5])
    np.testing.assert_allclose(
        G, _margin_gradients_one_by_one(net.module_, X[:5], y[:5]), rtol=1e-4, atol=1e-5
    )


@settings(deadline=None, max_examples=8)
@given(n=st.integers(1, 20), hidden=st.integers(2, 9), seed=st.integers(0, 2**16))
def test_row_wise_modules_are_never_refused(n, hidden, seed):
    torch.manual_seed(seed)
    module = _BatchNormNet(hidden)
    with torch.no_grad():  # running statistics of a trained net
        module.norm.running_mean.normal_()
        module.norm.running_var.uniform_(0.5, 2.0)
    X = np.random.RandomState(seed).randn(n, 4).astype(np.float32)
    y = np.arange(n) % 2
    G = torch_per_sample_gradients(module, X, y, block_size=7)
    np.testing.assert_allclose(G, _margin_gradients_one_by_one(module, X, y), rtol=1e-4, atol=1e-5)
