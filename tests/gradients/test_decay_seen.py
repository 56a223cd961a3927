"""A torch net fitted by the user's own loop has its weight decay checked at the start
and end of its fit only: a decay changed and changed back within the fit is not seen,
and the influence explanation's notes and the removal's record say so."""

import pickle

import numpy as np
import pytest

from sktraceprop.gradients import _decay_record
from sktraceprop.influence._penalty import l2_penalty
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests.gradients.test_decay_during_fit import (  # noqa: E402
    DecaySchedule,
    _data,
    _net,
    _recorded_fit,
)

UNSEEN = "weight decay checked at start and end of fit only"


def test_a_decay_changed_and_changed_back_outside_the_library_is_said_unseen():
    X, y = _data(seed=6)
    back = [0.1, 0.0, 0.0, 0.1]  # no decay over epochs 2 and 3, then 0.1 again
    net = _net(optimizer__weight_decay=0.1, callbacks=[DecaySchedule(back)]).fit(X, y)
    # start and end agree: 0.1 is taken, and the notes say what could not be seen
    coef, notes = l2_penalty(net)
    assert coef == 0.1 and UNSEEN in notes
    # fitted by the library, every step was seen: the change is refused, not noted
    recorded = _recorded_fit(
        _net(optimizer__weight_decay=0.1, callbacks=[DecaySchedule(back)]), X, y
    )
    with pytest.warns(UserWarning, match="changed during the fit"):
        coef, notes = l2_penalty(recorded)
    assert coef == 0.0 and UNSEEN not in notes
    assert UNSEEN not in l2_penalty(_recorded_fit(_net(optimizer__weight_decay=0.1), X, y))[1]


def test_a_removal_says_what_its_fit_could_not_check_of_the_decay(monkeypatch):
    # checked at the unlearner's fit, every step: nothing to say, before and after a
    # pickle (the removals work on copies, whose optimizers no fit stepped)
    X, y = _data(seed=7)
    unl = GradientCorrectionUnlearner(
        _net(optimizer__weight_decay=0.1), calibration="none", n_steps=2
    ).fit(X, y)
    unl.unlearn(mask=np.arange(X.shape[0]) < 3)
    assert UNSEEN not in unl.unlearning_log_[-1]["note"]
    loaded = pickle.loads(pickle.dumps(unl))
    loaded.unlearn(mask=(np.arange(X.shape[0]) >= 3) & (np.arange(X.shape[0]) < 6))
    assert UNSEEN not in loaded.unlearning_log_[-1]["note"]
    # an unlearner pickled before the check was kept (its method lacks it): the loaded
    # net carries the record of its fit's steps (bound to each removal's result)...
    del loaded._method.decay_unchecked
    loaded.unlearn(mask=(np.arange(X.shape[0]) >= 6) & (np.arange(X.shape[0]) < 9))
    assert UNSEEN not in loaded.unlearning_log_[-1]["note"]
    # ...unless it was pickled by an earlier sktraceprop (read as carrying none): its
    # steps were seen by no fit here, and its removal says so
    del loaded._method.decay_unchecked
    assert "_decay_steps" in vars(loaded.estimator_)
    monkeypatch.setattr(_decay_record, "CARRIED", "_no_record_carried")
    loaded.unlearn(mask=(np.arange(X.shape[0]) >= 9) & (np.arange(X.shape[0]) < 12))
    event = loaded.unlearning_log_[-1]
    assert event["weight_decay"] == 0.1 and UNSEEN in event["note"]
