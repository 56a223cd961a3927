"""The neural removal's fine-tuning of a skorch net trained by SGD with a learning-rate
schedule takes the rate its optimizer holds at the end of training, not the net's
``lr``: a decaying schedule (skorch's ``LRScheduler``, a torch scheduler the user
stepped) changes the optimizer's parameter groups, never ``lr``, and the net's ``lr``
taken as the fine-tuning's step was hundreds of times the rate the training ended with,
raising the certificate and moving the model far from a retrain."""

import copy
import warnings

import numpy as np
import pytest

from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from skorch.callbacks import Callback, LRScheduler  # noqa: E402

from tests.unlearning.test_decoupled_decay import _data  # noqa: E402
from tests.unlearning.test_neural_finetune_lr import (  # noqa: E402
    Linear,
    _flat,
    _gradient_norm,
    _net,
    _retrain,
)

WD = 0.1
LR = 8.0


class UserStepped(Callback):
    """A torch scheduler the user steps at each epoch's end (no skorch LRScheduler)."""

    def on_train_begin(self, net, **kwargs):
        self.scheduler_ = torch.optim.lr_scheduler.StepLR(net.optimizer_, 5, gamma=0.3)

    def on_epoch_end(self, net, **kwargs):
        self.scheduler_.step()


def _removals(callbacks, settings, X, y, forget):
    net = _net(
        torch.optim.SGD,
        LR,
        Linear,
        callbacks=callbacks,
        optimizer__weight_decay=WD,
        max_epochs=30,
    )
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=20).fit(X, y)
    out = []
    for extra in settings:
        removed = copy.deepcopy(unl).set_params(**extra)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (copies holding the rows; the given lr's rise)
            removed.unlearn(mask=forget)
        out.append((removed.unlearning_log_[-1], removed.estimator_))
    return unl, out


@pytest.mark.parametrize(
    "callbacks, final_rate",
    [
        ([LRScheduler("ExponentialLR", gamma=0.8)], LR * 0.8**30),
        ([LRScheduler("StepLR", step_size=5, gamma=0.3)], LR * 0.3**6),
        ([UserStepped()], LR * 0.3**6),
    ],
    ids=["ExponentialLR", "StepLR", "a torch scheduler the user stepped"],
)
def test_a_scheduled_sgd_net_fine_tunes_with_the_rate_it_ended_training_with(
    callbacks, final_rate
):
    X, y = _data(n=80)
    forget = np.arange(X.shape[0]) < 8
    Xr, yr = X[~forget], y[~forget]
    unl, [(event, new), (as_lr, old)] = _removals(callbacks, [{}, {"lr": LR}], X, y, forget)
    # the rate the training ended with, computed apart from the schedule's definition
    assert unl.estimator_.lr == LR
    assert event["lr"] == pytest.approx(final_rate, rel=1e-6)
    assert (
        f"the learning rate {event['lr']:.4g} the net's SGD optimizer holds at the end of "
        f"training (a learning-rate schedule moved it from the net's lr={LR:g})"
    ) == event["lr_source"]
    assert event["lr_at_edge"] is None and event["lr_tried"] is None  # not searched
    # the certificate is the retained objective's gradient norm, computed apart
    assert event["certificate"] == pytest.approx(_gradient_norm(new, Xr, yr, WD), rel=1e-4)
    assert event["certificate"] < event["certificate_before_finetune"]
    assert not event["finetune_raised_certificate"] and event["finetune_fallbacks"] == []
    # the net's lr as the step (the old default) raised it a hundredfold
    assert as_lr["certificate"] > 50 * event["certificate"]
    # against a float64 retrain without the rows
    truth = _retrain(Xr, yr, WD)
    gap_new, gap_old = np.linalg.norm(_flat(new) - truth), np.linalg.norm(_flat(old) - truth)
    assert gap_new < 0.05 and gap_new < 0.01 * gap_old, (gap_new, gap_old)


def test_a_schedule_that_ends_at_zero_gets_the_measured_step():
    X, y = _data(n=80)
    forget = np.arange(X.shape[0]) < 8
    _, [(event, net)] = _removals(
        [LRScheduler("StepLR", step_size=10, gamma=0.0)], [{}], X, y, forget
    )
    assert event["lr"] > 0
    assert event["lr_source"].startswith(
        "the net's optimizer is SGD whose learning rate a schedule brought to 0 by the end "
        "of training: measured"
    )
    assert event["certificate"] == pytest.approx(
        _gradient_norm(net, X[~forget], y[~forget], WD), rel=1e-4
    )
    assert event["certificate"] <= event["certificate_before_finetune"]
