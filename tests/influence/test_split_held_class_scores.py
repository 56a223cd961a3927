"""A skorch net whose validation split (train_split) holds every row of a class never
trained on it, yet keeps an output for it: the explainer says so at fit and in every
explanation, naming the class and its rows.

The truth: the split given (a ``PredefinedSplit`` whose validation fold is every row of
class 2) and the labels of the rows outside it (``np.unique``).
"""

import pickle
import re
import warnings

import numpy as np
import pytest

from sktraceprop import InfluenceExplainer

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")


from tests._torch_nets import split_net  # noqa: E402

SAID = "validation split of NeuralNetClassifier"


def _data():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(25), np.ones(25), np.full(6, 2)].astype(np.int64)
    X = rng.normal(size=(y.size, 4)).astype(np.float32)
    return X, y


def _net(fold):
    return split_net(fold)


def _fit(explainer, X, y):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        explainer.fit(X, y)
    return [str(w.message) for w in record if SAID in str(w.message)]


def test_a_class_the_validation_split_took_whole_is_named():
    X, y = _data()
    fold = np.full(y.size, -1)
    fold[50:] = 0  # every row of class 2
    fold[[0, 30]] = 0  # and rows of classes 0 and 1, whose other rows train
    truth = sorted(set(y[fold == 0]) - set(y[fold == -1]))
    assert truth == [2]
    explainer = InfluenceExplainer(_net(fold), n_components=16, damping=1.0, random_state=0)
    said = _fit(explainer, X, y)
    assert len(said) == 1
    assert "1 class(es) ([2]: 6 row(s)" in said[0]
    named = [int(i) for i in re.search(r"row ids ([\d, ]+)\)", said[0]).group(1).split(", ")]
    # the untraced rows' ids run with their position: those of rows 50-55
    positions = explainer._input_positions_
    base = int(explainer.train_row_ids_[0]) - int(positions[0])
    np.testing.assert_array_equal(explainer.train_row_ids_, base + positions)
    assert named == [base + i for i in np.flatnonzero(np.isin(y, truth))]
    assert np.unique(explainer.y_).tolist() == [0, 1]  # the rows it trained on
    notes = explainer.explain(X[:2], y[:2]).notes
    assert [n for n in notes if SAID in n] == said
    again = pickle.loads(pickle.dumps(explainer)).explain(X[:2], y[:2]).notes
    assert [n for n in again if SAID in n] == said


def test_a_split_that_leaves_rows_of_every_class_says_nothing():
    X, y = _data()
    fold = np.full(y.size, -1)
    fold[[0, 30, 50]] = 0  # one row of each class; the others train
    explainer = InfluenceExplainer(_net(fold), n_components=16, damping=1.0, random_state=0)
    assert _fit(explainer, X, y) == []
    assert not [n for n in explainer.explain(X[:2], y[:2]).notes if SAID in n]
