"""A skorch sampler that never feeds a class's rows is said, naming the class.

A ``WeightedRandomSampler`` with zero weight for a class (or a sampler over a subset)
leaves the net's output for that class untrained, with no word. The truth is
independent of the library: the rows the module's ``forward`` received in training
mode, recorded by the module itself and matched to the rows of X by value.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.model_selection import PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import sktraceprop as stp

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests._torch_nets import FED, RecordingNet, to_float32  # noqa: E402

UNFED = r"fed no row of 1 class\(es\) \(\[2\]: {n} of its {total} training rows"


def _data(name):
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(60, 3)).astype(np.float32)
    y = np.r_[np.zeros(25), np.ones(25), np.full(10, 2)].astype(np.int64)
    return stp.from_numpy(raw, source_id=f"fed_{name}"), raw, y


def _net(sampler, train_split=None):
    return skorch.NeuralNetClassifier(
        RecordingNet,
        module__n_out=3,
        max_epochs=3,
        lr=0.05,
        batch_size=16,
        train_split=train_split,
        verbose=0,
        iterator_train__sampler=sampler,
    )


def _fed_classes(raw, y):
    """The classes of the rows forward received in training (matched by value)."""
    fed = np.concatenate(FED)
    hit = (raw[:, None, :] == fed[None, :, :]).all(axis=2).any(axis=1)
    return set(y[hit].tolist())


def _traced_fit(net, X, y):
    FED.clear()
    torch.manual_seed(0)
    pipe = stp.make_traced_pipeline(FunctionTransformer(to_float32), net)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        pipe.fit(X, y)
    return pipe, [str(w.message) for w in said if "fed no row" in str(w.message)]


def test_a_zero_weight_class_is_named():
    X, raw, y = _data("weighted")
    weights = np.where(y == 2, 0.0, 1.0)
    sampler = torch.utils.data.WeightedRandomSampler(weights, 60)
    _, said = _traced_fit(_net(sampler), X, y)
    assert _fed_classes(raw, y) == {0, 1}  # the truth: class 2 never reached forward
    assert len(said) == 1
    assert "iterator_train__sampler=WeightedRandomSampler" in said[0]
    assert re.search(UNFED.format(n=10, total=60), said[0])


def test_a_sampler_feeding_every_class_says_nothing():
    X, raw, y = _data("all")
    sampler = torch.utils.data.WeightedRandomSampler(np.ones(60), 120)
    _, said = _traced_fit(_net(sampler), X, y)
    assert _fed_classes(raw, y) == {0, 1, 2} and said == []


def test_a_sampler_after_a_validation_split_is_read_in_the_split_rows():
    X, raw, y = _data("split")
    fold = np.full(60, -1)
    fold[:10] = 0  # rows 0-9 validate; the training dataset is rows 10-59
    sampler = torch.utils.data.SubsetRandomSampler(range(40))  # its rows 10-49
    split = skorch.dataset.ValidSplit(PredefinedSplit(fold))
    _, said = _traced_fit(_net(sampler, split), X, y)
    assert _fed_classes(raw, y) == {0, 1}
    assert len(said) == 1
    assert re.search(UNFED.format(n=10, total=50), said[0])


def test_watching_the_rows_does_not_change_the_training():
    X, raw, y = _data("same")
    weights = np.where(y == 2, 0.0, 1.0)
    traced, _ = _traced_fit(
        _net(torch.utils.data.WeightedRandomSampler(weights, 60, generator=None)), X, y
    )
    torch.manual_seed(0)
    plain = make_pipeline(
        FunctionTransformer(to_float32),
        _net(torch.utils.data.WeightedRandomSampler(weights, 60, generator=None)),
    ).fit(raw, y)
    for a, b in zip(traced[-1].module_.parameters(), plain[-1].module_.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_a_scoring_pass_over_the_training_rows_is_not_counted_as_fed():
    X, raw, y = _data("scored")
    weights = np.where(y == 2, 0.0, 1.0)
    net = _net(torch.utils.data.WeightedRandomSampler(weights, 60))
    # scores every training row after each epoch, in eval mode (forward not recorded)
    score = skorch.callbacks.EpochScoring("accuracy", on_train=True, use_caching=False)
    net.set_params(callbacks=[score])
    _, said = _traced_fit(net, X, y)
    assert _fed_classes(raw, y) == {0, 1}
    assert len(said) == 1 and re.search(UNFED.format(n=10, total=60), said[0])
