"""A skorch net whose training iterator does not take every row alike is refused.

A net with ``iterator_train__drop_last=True`` and no shuffling never trains on the rows
after its last full batch, and one with a ``sampler`` trains on the rows it draws (some
never): the explainer scored every row of X as a training row, and the unlearner
corrected for them, with no word. The truth is a retrain: the net fitted without those
rows has bitwise the same parameters, so they had no influence at all.
"""

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop import InfluenceExplainer
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests._torch_nets import TanhNet  # noqa: E402


def _data(n):
    rng = np.random.RandomState(0)
    X = rng.randn(n, 4).astype(np.float32)
    return X, (X[:, 0] + 0.3 * X[:, 1] > 0).astype(np.int64)


def _net(**kwargs):
    params = dict(
        module=TanhNet,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        lr=0.05,
        batch_size=16,
        train_split=None,
        verbose=0,
    )
    params.update(kwargs)
    torch.manual_seed(0)
    return skorch.NeuralNetClassifier(**params)


def _fitted(net, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return net.fit(X, y)


def _same_parameters(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.module_.parameters(), b.module_.parameters()))


def _sampler():
    return torch.utils.data.SubsetRandomSampler(
        range(30), generator=torch.Generator().manual_seed(0)
    )


@settings(deadline=None, max_examples=6)
@example(n=70, batch_size=16)
@given(n=st.integers(20, 60), batch_size=st.sampled_from([7, 8, 16]))
def test_rows_after_the_last_full_batch_are_never_trained_on_and_refused(n, batch_size):
    X, y = _data(n)
    kept = n - n % batch_size
    net = _fitted(_net(iterator_train__drop_last=True, batch_size=batch_size), X, y)
    if kept < n:
        # independent truth: the net refitted without the dropped rows is the same net,
        # so they had no influence, and no score may name them as training rows
        without = _fitted(
            _net(iterator_train__drop_last=True, batch_size=batch_size), X[:kept], y[:kept]
        )
        assert _same_parameters(net, without)
    for model in (_net(iterator_train__drop_last=True, batch_size=batch_size), net):
        with pytest.raises(ValueError, match="drop_last=True without iterator_train__shuffle"):
            InfluenceExplainer(model, method="ggn", damping=0.1).fit(X, y)


def test_a_sampler_trains_on_the_rows_it_draws_and_is_refused():
    X, y = _data(60)
    net = _fitted(_net(iterator_train__sampler=_sampler()), X, y)
    without = _fitted(_net(iterator_train__sampler=_sampler()), X[:30], y[:30])
    assert _same_parameters(net, without)  # rows 30.. never trained on
    for model in (_net(iterator_train__sampler=_sampler()), net):
        with pytest.raises(ValueError, match="iterator_train__sampler=SubsetRandomSampler"):
            InfluenceExplainer(model, method="ggn", damping=0.1).fit(X, y)
    with pytest.raises(ValueError, match="iterator_train__sampler"):
        GradientCorrectionUnlearner(_net(iterator_train__sampler=_sampler())).fit(X, y)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"iterator_train__drop_last": True},
        {"iterator_train__batch_sampler": torch.utils.data.BatchSampler(range(60), 16, False)},
    ],
    ids=["drop_last", "batch_sampler"],
)
def test_the_unlearner_refuses_them_before_any_fit(kwargs):
    X, y = _data(60)
    with pytest.raises(ValueError, match="another objective than the plain mean"):
        GradientCorrectionUnlearner(_net(**kwargs)).fit(X, y)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"iterator_train__drop_last": True, "iterator_train__shuffle": True},
        {"iterator_train__drop_last": True, "batch_size": -1},
        {"iterator_train__shuffle": True},
    ],
    ids=["drop_last-shuffled", "drop_last-full-batch", "shuffled"],
)
def test_iterators_taking_every_row_alike_are_explained(kwargs):
    X, y = _data(50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = InfluenceExplainer(_net(**kwargs), method="ggn", damping=0.1, random_state=0)
        scores = exp.fit(X, y).explain(X[:2], y[:2]).scores
    assert scores.shape == (2, 50) and np.isfinite(scores).all()
