"""A neural model fitted before the explainer, explained with rows it did not train on."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop.exceptions import LineageWarning


def _data(n=120, d=4):
    X, y = make_classification(n, d, n_informative=d, n_redundant=0, random_state=0)
    return X.astype(np.float32), y.astype(np.int64)


def _net(d=4):
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")

    from tests._torch_nets import TanhNet

    torch.manual_seed(0)
    return skorch.NeuralNetClassifier(
        TanhNet,
        module__n_in=d,
        max_epochs=3,
        lr=0.05,
        batch_size=16,
        train_split=None,
        criterion=torch.nn.CrossEntropyLoss,
        verbose=0,
    )


def test_prefit_skorch_net_says_its_training_rows_are_unknown():
    X, y = _data()
    net = _net().fit(X[:60], y[:60])
    # rows 60.. never trained it: the explainer cannot know, and must say so
    with pytest.warns(LineageWarning, match="nothing records which rows it was trained on"):
        exp = InfluenceExplainer(net, damping=1.0).fit(X[60:], y[60:])
    notes = exp.explain(X[:2], y[:2]).notes
    assert any("agrees on their number, 60, not on which" in note for note in notes)


def test_prefit_skorch_net_given_another_number_of_rows_is_refused():
    X, y = _data()
    net = _net().fit(X[:60], y[:60])
    with pytest.raises(ValueError, match="its last epoch trained on 60 rows"):
        InfluenceExplainer(net, damping=1.0).fit(X[60:110], y[60:110])


def test_skorch_net_fitted_by_the_explainer_needs_no_warning():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        exp = InfluenceExplainer(_net(), damping=1.0).fit(X, y)
    assert not any("nothing records" in note for note in exp.explain(X[:2], y[:2]).notes)


def test_prefit_traced_skorch_pipeline_refuses_rows_it_did_not_train_on():
    X, y = _data()
    frame = stp.from_pandas(pd.DataFrame(X, columns=list("abcd")), "prefit_rows_toy")
    pipe = stp.make_traced_pipeline(StandardScaler(), _net()).fit(frame.iloc[:60], y[:60])
    with pytest.raises(ValueError, match="not the data the fitted model was trained on"):
        InfluenceExplainer(pipe, damping=1.0).fit(frame.iloc[60:], y[60:])


def test_prefit_jax_classifier_refuses_rows_it_did_not_train_on():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data()
    init_fn, apply_fn = mlp(hidden=(5,))
    model = JaxClassifier(apply_fn, init_fn, n_epochs=20, random_state=0).fit(X[:60], y[:60])
    for rows in (np.arange(60, 120), np.arange(60)[::-1]):
        with pytest.raises(ValueError, match="not the rows this JaxClassifier was trained"):
            InfluenceExplainer(model, damping=1.0).fit(X[rows], y[rows])
    flipped = y[:60].copy()
    flipped[0] = 1 - flipped[0]
    with pytest.raises(ValueError, match="other values or labels"):
        InfluenceExplainer(model, damping=1.0).fit(X[:60], flipped)
    # the rows it trained on (a copy, as float64): checked, nothing to warn about
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        exp = InfluenceExplainer(model, damping=1.0).fit(X[:60].astype(np.float64), y[:60])
    assert exp.n_train_ == 60


def test_prefit_jax_classifier_with_changed_parameters_says_its_rows_are_unknown():
    # its digest names the rows of its fit; parameters moved since (an unlearner's
    # correction, an edit) void it: said, not checked against stale rows
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data()
    init_fn, apply_fn = mlp(hidden=(5,))
    model = JaxClassifier(apply_fn, init_fn, n_epochs=20, random_state=0).fit(X[:60], y[:60])
    model.params_[0]["bias"] = model.params_[0]["bias"] + 0.01
    with pytest.warns(LineageWarning, match="its parameters changed since its fit"):
        InfluenceExplainer(model, damping=1.0).fit(X[60:], y[60:])
