"""The neural (TRAK) route names the training rows that are the only row of their class,
as the linear route does (``test_lone_class_rows.py``): at fit and in every explanation.

The truth for the rows named: the labels' counts (``np.unique``) of the rows trained on.
"""

import pickle
import re
import warnings

import numpy as np
import pytest

from sktraceprop import InfluenceExplainer

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from tests._torch_nets import tanh_classifier  # noqa: E402

LONE = "only row of their class"


def _data(labels, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(labels.size, 4)).astype(np.float32)
    return X, labels


def _lone_truth(y):
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    return np.flatnonzero(counts[codes.ravel()] == 1).tolist()


def _named(message):
    return [int(i) for i in re.findall(r"(\d+) \(class", message)]


def _net(n_out, binary=False):
    torch.manual_seed(0)
    return tanh_classifier(binary, n_out=n_out, max_epochs=5, lr=0.05)


def _fit_recording(explainer, X, y):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        explainer.fit(X, y)
    return [str(w.message) for w in record if LONE in str(w.message)]


def test_skorch_net_names_exactly_the_lone_class_rows():
    y = np.r_[np.zeros(25), np.ones(25), [2], np.zeros(5), [3], np.ones(3)].astype(np.int64)
    X, y = _data(y)
    explainer = InfluenceExplainer(_net(4), n_components=16, damping=1.0, random_state=0)
    said = _fit_recording(explainer, X, y)
    assert len(said) == 1
    assert _named(said[0]) == _lone_truth(y) == [50, 56]
    assert "train_index 50 (class 2), 56 (class 3)" in said[0]
    assert "skorch net keeps the output" in said[0]
    notes = explainer.explain(X[:3], y[:3]).notes
    assert [note for note in notes if LONE in note] == said
    again = pickle.loads(pickle.dumps(explainer)).explain(X[:3], y[:3]).notes
    assert [note for note in again if LONE in note] == said


def test_skorch_binary_net_with_one_positive_row_names_it():
    y = np.r_[np.zeros(30), [1], np.zeros(9)].astype(np.float32)
    X, y = _data(y)
    explainer = InfluenceExplainer(_net(1, binary=True), damping=1.0, random_state=0)
    said = _fit_recording(explainer, X, y)
    assert len(said) == 1 and _named(said[0]) == _lone_truth(y) == [30]
    assert any(LONE in note for note in explainer.explain(X[:2], y[:2]).notes)


def test_skorch_net_says_nothing_where_every_class_has_two_rows():
    y = np.r_[np.zeros(25), np.ones(25), [2, 2]].astype(np.int64)
    X, y = _data(y)
    explainer = InfluenceExplainer(_net(3), n_components=16, damping=1.0, random_state=0)
    assert _fit_recording(explainer, X, y) == []
    assert not any(LONE in note for note in explainer.explain(X[:3], y[:3]).notes)


def test_jax_classifier_names_exactly_the_lone_class_rows():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=(6,))
    y = np.array(["a"] * 20 + ["c"] + ["b"] * 20 + ["d"] + ["a"] * 3)
    X, y = _data(y)
    model = JaxClassifier(apply_fn, init_fn, n_epochs=10, random_state=0)
    explainer = InfluenceExplainer(model, damping=1.0, random_state=0)
    said = _fit_recording(explainer, X, y)
    assert len(said) == 1 and _named(said[0]) == _lone_truth(y) == [20, 41]
    assert "train_index 20 (class 'c'), 41 (class 'd')" in said[0]
    notes = explainer.explain(X[:2], y[:2]).notes
    assert [note for note in notes if LONE in note] == said
    # without them: no word
    keep = np.ones(y.size, dtype=bool)
    keep[[20, 41]] = False
    plain = InfluenceExplainer(model, damping=1.0, random_state=0)
    assert _fit_recording(plain, X[keep], y[keep]) == []
    assert not any(LONE in note for note in plain.explain(X[:2], y[:2]).notes)
