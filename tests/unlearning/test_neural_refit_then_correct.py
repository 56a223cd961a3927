"""An unlearner fitted with ``neural_method="refit"`` and ``calibration="auto"`` (which
fits no crossfit clones), then set back to ``"correct"``: what its corrections claim is
what they did. Truths: the same correction with the calibration set explicitly
(``"holdout"`` or ``"none"``) on a copy gives the same network, and the holdout target
is the refitted network's mean cross-entropy on the validation rows, computed by hand."""

import copy
import warnings

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

VALID = [10, 20, 40]


def _fitted(name, split):
    from sklearn.model_selection import PredefinedSplit

    from tests._torch_nets import tanh_classifier

    rng = np.random.default_rng(0)
    raw = rng.normal(size=(60, 4)).astype(np.float32)
    y = (raw[:, 0] > 0).astype(int)
    y[55:] = 2
    ids = stp.row_ids(stp.from_numpy(raw, f"neural_refit_then_correct_{name}"))
    fold = np.full(60, -1)
    fold[VALID] = 0
    train_split = skorch.dataset.ValidSplit(PredefinedSplit(fold)) if split else None
    torch.manual_seed(0)
    unl = GradientCorrectionUnlearner(
        tanh_classifier(max_epochs=3, train_split=train_split),
        neural_method="refit",
        random_state=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the net's rows are an array's: said)
        unl.fit(raw, y, sample_id=ids)
    unl.unlearn(sample_id=ids[[57]])  # a retrain
    unl.set_params(neural_method="correct", n_steps=2, lr=0.05)
    return unl, raw, y, ids


def _correct(unl, ids, **params):
    unl.set_params(**params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unl.unlearn(sample_id=ids[[1, 2]])
    said = [str(w.message) for w in caught if "calibration='auto'" in str(w.message)]
    return unl.unlearning_log_[-1], said


def test_with_a_validation_split_it_says_it_calibrated_on_those_rows():
    unl, raw, y, ids = _fitted("split", split=True)
    net = unl.estimator_
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(raw[VALID]))
        by_hand = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y[VALID])).item()
    explicit = copy.deepcopy(unl)
    event, said = _correct(unl, ids)
    truth, said_explicit = _correct(explicit, ids, calibration="holdout")
    assert event["method"] == "influence+finetune" and event["calibration_setting"] == "auto"
    assert event["calibration"] == "holdout" == truth["calibration"]
    assert event["calibration_source"] == "validation split"
    np.testing.assert_allclose(event["calibration_target"], by_hand, rtol=1e-5)
    assert event["step_scale"] == truth["step_scale"]
    np.testing.assert_array_equal(unl.predict_proba(raw), explicit.predict_proba(raw))
    assert "fits no crossfit clones: calibrated on the validation split rows" in event["note"]
    assert len(said) == 1 and said_explicit == []  # set explicitly: nothing to say


def test_without_rows_never_trained_on_it_says_it_did_not_calibrate():
    unl, raw, _, ids = _fitted("nosplit", split=False)
    explicit = copy.deepcopy(unl)
    event, said = _correct(unl, ids)
    truth, _ = _correct(explicit, ids, calibration="none")
    assert event["calibration"] == "none" and event["calibration_evaluations"] == 0
    np.testing.assert_array_equal(unl.predict_proba(raw), explicit.predict_proba(raw))
    assert event["step_scale"] == truth["step_scale"] == 1.0
    assert (
        "not calibrated: the unlearner has no rows the model never trained on" in (event["note"])
    )
    assert len(said) == 1 and "not calibrated" in said[0]
