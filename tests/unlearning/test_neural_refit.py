"""``neural_method="refit"``: a neural removal done by retraining, checked against a retrain.

The correction refuses a removal that takes every row of a class (no retrain keeps the
class); the refit is the retrain itself. The truth is an independent retrain by hand:
an unfitted clone of the network fitted on the retained rows with the logged seed, which
gives the same weights and predictions to float tolerance.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.preprocessing import FunctionTransformer

import sktraceprop as stp
from sktraceprop.exceptions import UnlearningError
from sktraceprop.unlearning import GradientCorrectionUnlearner

MARKER = np.float32(8765.4321)


def _float32(X):
    return np.asarray(X, dtype=np.float32)


def _data(name, n=60):
    """Features (removed rows' first column: markers) and classes 0 and 1, class 2 in
    rows 57-59 only."""
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(n, 4)).astype(np.float32)
    raw[[0, 57, 58, 59], 0] = MARKER + np.arange(4, dtype=np.float32)
    y = np.r_[np.zeros(30), np.ones(n - 33), np.full(3, 2)].astype(int)
    return stp.from_numpy(raw, f"neural_refit_{name}"), raw, y


def _net(binary=False, train_split=None):
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from tests._torch_nets import tanh_classifier

    return tanh_classifier(binary, train_split=train_split)


def _retrain_by_hand(net, Z, y, seed):
    import torch

    torch.manual_seed(seed)
    return clone(net).fit(Z, y)


def _weights(net):
    return [p.detach().numpy().copy() for p in net.module_.parameters()]


@pytest.mark.parametrize("binary", [False, True])
def test_skorch_refit_removes_a_whole_class_as_a_retrain_does(binary):
    X, raw, y = _data(f"skorch_{binary}")
    if binary:
        y = (y == 2).astype(np.float32)
    ids = stp.row_ids(X)
    pipe = stp.TracedPipeline([("f32", FunctionTransformer(_float32)), ("net", _net(binary))])
    unl = GradientCorrectionUnlearner(pipe, neural_method="refit", random_state=3)
    unl.fit(X, y)
    assert MARKER.tobytes() in pickle.dumps(unl)  # the held rows' inputs hold them now
    unl.unlearn(sample_id=ids[[0, 57, 58, 59]])  # every row of the class 2 (or 1)
    event = unl.unlearning_log_[-1]
    assert event["method"] == "refit" and event["exact"] is True
    assert "retrained (neural_method='refit')" in event["note"]
    assert np.isfinite(event["certificate"])
    keep = np.r_[1:57]
    truth = _retrain_by_hand(_net(binary), raw[keep], y[keep], event["refit_seed"])
    got = unl.estimator_[-1]
    for a, b in zip(_weights(got), _weights(truth)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(unl.predict_proba(X), truth.predict_proba(raw), atol=1e-6)
    np.testing.assert_array_equal(unl.retained_mask_, np.isin(np.arange(60), keep))
    # nothing of the removed rows' values is kept
    blob = pickle.dumps(unl)
    for k in range(4):
        assert (MARKER + np.float32(k)).tobytes() not in blob


def test_the_correction_refuses_and_names_the_refit_which_then_does_it():
    X, raw, y = _data("skorch_named")
    ids = stp.row_ids(X)
    pipe = stp.TracedPipeline([("f32", FunctionTransformer(_float32)), ("net", _net())])
    unl = GradientCorrectionUnlearner(pipe, calibration="none", n_steps=2).fit(X, y)
    before = unl.predict_proba(X)
    with pytest.raises(UnlearningError, match=r"set neural_method='refit'"):
        unl.unlearn(sample_id=ids[57:])
    np.testing.assert_array_equal(unl.predict_proba(X), before)
    assert unl.unlearning_log_ == []
    unl.set_params(neural_method="refit", random_state=0)
    unl.unlearn(sample_id=ids[57:])
    event = unl.unlearning_log_[-1]
    assert event["method"] == "refit" and event["n_removed"] == 3
    truth = _retrain_by_hand(_net(), raw[:57], y[:57], event["refit_seed"])
    np.testing.assert_allclose(unl.predict_proba(X), truth.predict_proba(raw), atol=1e-6)
    # a correction after the refit starts from the retrained network and its rows
    unl.set_params(neural_method="correct")
    unl.unlearn(sample_id=ids[[1]])
    assert unl.unlearning_log_[-1]["method"] == "influence+finetune"
    assert unl._method.Y.shape == (56,)


def test_skorch_refit_trains_on_the_held_rows_not_a_new_split():
    skorch = pytest.importorskip("skorch")
    from sklearn.model_selection import PredefinedSplit

    X, raw, y = _data("skorch_split")
    ids = stp.row_ids(X)
    fold = np.full(60, -1)
    fold[[10, 40]] = 0  # rows 10 and 40 are the validation split
    split = skorch.dataset.ValidSplit(PredefinedSplit(fold))
    unl = GradientCorrectionUnlearner(
        _net(train_split=split), neural_method="refit", calibration="holdout", random_state=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the net's rows are an array's: said)
        unl.fit(raw, y, sample_id=ids)
    given = unl.estimator_.train_split
    unl.unlearn(sample_id=ids[[57, 58, 59]])
    event = unl.unlearning_log_[-1]
    assert "train_split=None for the fit" in event["note"]
    trained = np.setdiff1d(np.arange(57), [10, 40])
    by_hand = clone(_net(train_split=split)).set_params(train_split=None)
    truth = _retrain_by_hand(by_hand, raw[trained], y[trained], event["refit_seed"])
    np.testing.assert_allclose(unl.predict_proba(raw), truth.predict_proba(raw), atol=1e-6)
    assert unl.estimator_.train_split is given  # set back after the fit


def test_jax_refit_drops_the_class_as_a_retrain_does():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=(6,))
    model = JaxClassifier(apply_fn, init_fn, n_epochs=10, random_state=0)
    X, raw, y = _data("jax")
    y = np.where(y == 2, 0, y + 1)  # class 0 only in rows 57-59: the codes shift after
    ids = stp.row_ids(X)
    unl = GradientCorrectionUnlearner(model, neural_method="refit").fit(X, y)
    unl.unlearn(sample_id=ids[57:])
    event = unl.unlearning_log_[-1]
    assert event["method"] == "refit" and event["refit_seed"] == 0
    assert "no longer holds [0]" in event["note"]
    truth = clone(model).fit(raw[:57], y[:57])
    assert unl.classes_.tolist() == truth.classes_.tolist() == [1, 2]
    np.testing.assert_allclose(unl.predict_proba(X), truth.predict_proba(raw), atol=1e-6)
    # the held targets re-encoded for the retrained classes_: a correction works after
    np.testing.assert_array_equal(unl._method.Y, y[:57] - 1)
    unl.set_params(neural_method="correct", calibration="none", n_steps=2)
    unl.unlearn(sample_id=ids[[0]])
    assert unl.unlearning_log_[-1]["method"] == "influence+finetune"


def test_jax_refit_left_with_one_class_is_refused_and_changes_nothing():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=(6,))
    model = JaxClassifier(apply_fn, init_fn, n_epochs=5, random_state=0)
    X, raw, y = _data("jax_binary")
    y = (y == 2).astype(int)
    ids = stp.row_ids(X)
    unl = GradientCorrectionUnlearner(model, neural_method="refit").fit(X, y)
    before = unl.predict_proba(X)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clone(model).fit(raw[:57], y[:57])  # the retrain fails too
    with pytest.raises(UnlearningError, match=r"retrain of JaxClassifier.*Nothing was changed"):
        unl.unlearn(sample_id=ids[57:])
    np.testing.assert_array_equal(unl.predict_proba(X), before)
    assert unl.unlearning_log_ == [] and unl.retained_mask_.all()


def test_a_pickle_of_state_format_1_loads_as_a_correction(monkeypatch):
    from sklearn.linear_model import LogisticRegression

    X, raw, y = _data("format_1")
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    assert type(unl)._state_format == 2
    monkeypatch.setattr(type(unl), "_state_format", 1)
    del unl.neural_method  # format 1 had no such parameter
    blob = pickle.dumps(unl)
    monkeypatch.undo()
    unl.neural_method = "correct"  # (the live one is walked by the removal's caveats)
    loaded = pickle.loads(blob)
    assert loaded.get_params()["neural_method"] == "correct"
    loaded.unlearn(sample_id=stp.row_ids(X)[[0]])
    assert loaded.unlearning_log_[-1]["method"] == "newton"
