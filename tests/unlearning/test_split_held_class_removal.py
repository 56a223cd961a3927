"""A skorch net whose validation split (train_split) holds every row of a class never
trained on it, yet keeps an output for it: the unlearner says so at fit and in the note
of every removal, naming the class and its rows' ids (also after a pickle).

The truth: the split given (a ``PredefinedSplit`` whose validation fold is every row of
class 2) and the labels of the rows outside it.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")


from tests._torch_nets import split_net  # noqa: E402

SAID = "validation split of NeuralNetClassifier"


def _to_float32(X):
    return np.asarray(X, dtype=np.float32)


def _unlearner(fold):
    net = split_net(fold)
    pipe = stp.TracedPipeline([("f32", FunctionTransformer(_to_float32)), ("net", net)])
    return GradientCorrectionUnlearner(pipe, n_steps=2, calibration="holdout")


def _data(name):
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(25), np.ones(25), np.full(6, 2)].astype(np.int64)
    X = stp.from_numpy(rng.normal(size=(y.size, 4)).astype(np.float32), f"split_class_{name}")
    return X, y


def _fit(unl, X, y):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        unl.fit(X, y)
    return [str(w.message) for w in record if SAID in str(w.message)]


def test_a_class_the_validation_split_took_whole_is_said_at_fit_and_removal():
    X, y = _data("whole")
    ids = stp.row_ids(X)
    fold = np.full(y.size, -1)
    fold[50:] = 0  # every row of class 2
    fold[[0, 30]] = 0  # and rows of classes 0 and 1, whose other rows train
    truth = sorted(set(y[fold == 0]) - set(y[fold == -1]))
    assert truth == [2]
    unl = _unlearner(fold)
    said = _fit(unl, X, y)
    assert len(said) == 1
    assert "1 class(es) ([2]: 6 row(s)" in said[0]
    named = [int(i) for i in re.search(r"row ids ([\d, ]+)\)", said[0]).group(1).split(", ")]
    assert named == ids[np.isin(y, truth)].tolist()
    unl.unlearn(sample_id=ids[[1, 2]])
    assert said[0] in unl.unlearning_log_[-1]["note"]
    again = pickle.loads(pickle.dumps(unl))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the first unlearner keeps its rows: said)
        again.unlearn(sample_id=ids[[3]])
    assert said[0] in again.unlearning_log_[-1]["note"]


def test_a_split_that_leaves_rows_of_every_class_says_nothing():
    X, y = _data("every")
    fold = np.full(y.size, -1)
    fold[[0, 30, 50]] = 0  # one row of each class; the others train
    unl = _unlearner(fold)
    assert _fit(unl, X, y) == []
    unl.unlearn(sample_id=stp.row_ids(X)[[1]])
    assert SAID not in unl.unlearning_log_[-1]["note"]
