"""A Lookahead-style wrapper is of unknown kind too: its probe runs as many steps as the
fit took, and where no record nor state counts them (a net fitted outside sktraceprop,
a copy or pickle of one it fitted) it is refused, as an unknown optimizer is."""

import copy
import pickle
import re

import numpy as np
import pytest

from sktraceprop.gradients._weight_decay import unmodelled_decay
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests.gradients.test_torch_wrapper import Lookahead, _data, _net  # noqa: E402
from tests.gradients.test_torch_wrapper_pickle import Wrapped  # noqa: E402

UNCOUNTED = r"wrapping SGD, a weight decay of unknown kind: .*how many steps its fit took"
#: more than the probe's least number of steps (_torch_wrapper.MIN_STEPS = 24)
LATE = 30


class LateShrink(Lookahead):
    """A Lookahead that shrinks the weights itself from step ``LATE + 1`` on."""

    def step(self, closure=None):
        loss = super().step(closure)
        if self.count > LATE:
            with torch.no_grad():
                for group in self.base.param_groups:
                    for p in group["params"]:
                        p.mul_(1 - 1e-2)
        return loss


def _late(**kwargs):
    # full batch: one step an epoch, so 40 epochs are 40 steps
    return _net(Wrapped(LateShrink, torch.optim.SGD), optimizer__weight_decay=0.1, **kwargs)


def test_a_wrapper_whose_decay_starts_late_is_refused_when_its_steps_are_not_counted():
    X, y = _data(seed=10)
    net = _late().set_params(max_epochs=40).fit(X, y)  # fitted outside sktraceprop
    assert net.optimizer_.count == 40 > LATE
    assert not net.optimizer_.base.state  # SGD without momentum counts no steps
    for model in (net, copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        found = unmodelled_decay(model)
        assert found is not None and "LateShrink" in found, found
        assert re.search(UNCOUNTED, found), found


def test_a_wrapper_whose_decay_starts_late_is_probed_for_as_many_steps_as_its_fit():
    # fitted by the unlearner: its 40 steps are recorded and the probe runs them all
    X, y = _data(seed=11)
    with pytest.raises(NotImplementedError, match=r"LateShrink, .*moves weights whose"):
        GradientCorrectionUnlearner(
            _late().set_params(max_epochs=40), calibration="none", n_steps=2
        ).fit(X, y)
    # fewer steps than LATE: the shrink never ran, the net is read as SGD's
    unl = GradientCorrectionUnlearner(
        _late().set_params(max_epochs=LATE), calibration="none", n_steps=2
    ).fit(X, y)
    unl.unlearn(mask=np.arange(X.shape[0]) < 3)
    assert unl.unlearning_log_[-1]["weight_decay"] == 0.1


@pytest.mark.parametrize("base", [torch.optim.SGD, torch.optim.Adam])
def test_a_pickled_wrapper_is_read_where_its_steps_are_counted(base):
    X, y = _data(seed=12)
    factory = Wrapped(Lookahead, base)
    unl = GradientCorrectionUnlearner(
        _net(factory, optimizer__weight_decay=0.1), calibration="none", n_steps=2
    ).fit(X, y)
    again = pickle.loads(pickle.dumps(unl))
    # the unlearner's fit carries the record of its steps on the net (SGD's state counts
    # none: the pickle was refused until a first removal had bound it); Adam counts them
    # too (state["step"]): probed over the fit's steps either way, read as the inner's
    again.unlearn(mask=np.arange(X.shape[0]) < 3)
    assert again.unlearning_log_[-1]["weight_decay"] == 0.1
    # a removal's result carries the record of the fit: read after a pickle
    unl.unlearn(mask=np.arange(X.shape[0]) < 3)
    later = pickle.loads(pickle.dumps(unl))
    later.unlearn(mask=(np.arange(X.shape[0]) >= 3) & (np.arange(X.shape[0]) < 6))
    assert later.unlearning_log_[-1]["weight_decay"] == 0.1
