"""A Lookahead-style wrapper pickled with its net: one that keeps the optimizer it wraps
is read as before; one whose ``__getstate__`` is torch's (defaults, state and groups
only) loses it, and is refused saying so, not as a decay of unknown kind."""

import pickle

import numpy as np
import pytest

from sktraceprop.gradients._decay_record import record_decays
from sktraceprop.influence._penalty import l2_penalty
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests.gradients.test_torch_wrapper import Lookahead, _data, _net  # noqa: E402


class TorchStateLookahead(Lookahead):
    """A Lookahead pickled as torch pickles an optimizer (timm's and others' do so)."""

    __getstate__ = torch.optim.Optimizer.__getstate__


class Wrapped:
    """A picklable factory: ``wrapper(base(params, **kwargs))``."""

    def __init__(self, wrapper, base):
        self.wrapper, self.base = wrapper, base
        self.__name__ = f"{wrapper.__name__}_{base.__name__}"

    def __call__(self, params, **kwargs):
        return self.wrapper(self.base(params, **kwargs))


def test_a_wrapper_that_keeps_what_it_wraps_is_read_after_a_pickle():
    X, y = _data(seed=8)
    # Adam's state counts the fit's steps (SGD's does not: tests/gradients/
    # test_torch_wrapper_steps.py), so the loaded wrapper is probed over all of them
    net = _net(Wrapped(Lookahead, torch.optim.Adam), optimizer__weight_decay=0.1).fit(X, y)
    loaded = pickle.loads(pickle.dumps(net))
    assert isinstance(loaded.optimizer_.base, torch.optim.Adam)
    assert l2_penalty(loaded)[0] == 0.1
    unl = GradientCorrectionUnlearner(
        _net(Wrapped(Lookahead, torch.optim.Adam), optimizer__weight_decay=0.1),
        calibration="none",
        n_steps=2,
    ).fit(X, y)
    again = pickle.loads(pickle.dumps(unl))
    again.unlearn(mask=np.arange(X.shape[0]) < 3)
    assert again.unlearning_log_[-1]["weight_decay"] == 0.1


def test_a_wrapper_that_lost_what_it_wraps_in_a_pickle_is_refused_saying_so():
    X, y = _data(seed=9)
    factory = Wrapped(TorchStateLookahead, torch.optim.SGD)
    net = _net(factory, optimizer__weight_decay=0.1)
    with record_decays(net):  # fitted as sktraceprop fits: its steps counted
        net.fit(X, y)
    assert l2_penalty(net)[0] == 0.1  # before the pickle: read through the SGD it wraps
    loaded = pickle.loads(pickle.dumps(net))
    assert not hasattr(loaded.optimizer_, "base")  # what torch's __getstate__ keeps
    lost = r"TorchStateLookahead, an optimizer wrapping SGD that no longer holds it"
    with pytest.warns(UserWarning, match=lost):
        assert l2_penalty(loaded)[0] == 0.0
    unl = GradientCorrectionUnlearner(
        _net(factory, optimizer__weight_decay=0.1), calibration="none", n_steps=2
    ).fit(X, y)
    again = pickle.loads(pickle.dumps(unl))
    with pytest.raises(NotImplementedError, match=lost + r".*__getstate__ that keeps"):
        again.unlearn(mask=np.arange(X.shape[0]) < 3)
