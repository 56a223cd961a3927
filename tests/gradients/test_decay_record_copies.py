"""A copy (``copy.deepcopy``, a pickle) of a fitted torch net holds no record of its fit's
steps (kept per optimizer object in the process that saw them). A copy of an optimizer of
unknown kind that counts no step in its state was probed for 1 zero-gradient step where
its fit took 8, so a decay that starts at step 5 was taken for none and the copy accepted
while the original was refused: such a copy is now refused, saying its steps are not
known. A removal takes the record of the net it copies and binds it to its result, so
removal after removal, and copies of a removal's result, are read as the fit was."""

import copy
import pickle

import numpy as np
import pytest

from sktraceprop.influence._penalty import l2_penalty

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from sktraceprop._lineage._skorch import skorch_fit_indices  # noqa: E402
from sktraceprop.unlearning import GradientCorrectionUnlearner  # noqa: E402
from sktraceprop.unlearning._neural_torch import weight_decay  # noqa: E402
from tests.gradients.test_decay_during_fit import _data, _net  # noqa: E402


class UncountedLateDecaySGD(torch.optim.Optimizer):
    """SGD adding ``late * theta`` to the gradient from step ``after`` on, counting its
    steps on itself, not in its state (as SGD without momentum keeps no state)."""

    def __init__(self, params, lr=0.1, late=0.0, after=5):
        super().__init__(params, {"lr": lr, "late": late, "after": after})
        self.count = 0

    def step(self, closure=None):
        loss = None if closure is None else torch.enable_grad()(closure)()
        self.count += 1
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        grad = p.grad
                        if self.count > group["after"]:
                            grad = grad + group["late"] * p
                        p.add_(grad, alpha=-group["lr"])
        return loss


def _recorded(net, X, y):
    with skorch_fit_indices(net):
        return net.fit(X, y)


def _copies(net):
    return {
        "deepcopy": copy.deepcopy(net),
        "pickle": pickle.loads(pickle.dumps(net)),
    }


def test_a_copy_of_a_recorded_net_is_refused_not_taken_for_no_decay():
    X, y = _data(seed=3)
    net = _recorded(_net(UncountedLateDecaySGD, max_epochs=8, optimizer__late=0.2), X, y)
    assert net.optimizer_.state == {}  # nothing counts its steps but the record
    with pytest.raises(NotImplementedError, match=r"8 step\(s\) of it with a zero gradient"):
        weight_decay(net)
    for how, other in _copies(net).items():
        with pytest.raises(NotImplementedError, match="how many steps its fit took is not kn"):
            weight_decay(other)
        with pytest.warns(UserWarning, match="UncountedLateDecaySGD, a weight decay of unkno"):
            assert l2_penalty(other)[0] == 0.0, how


def test_a_copy_of_a_net_with_no_decay_is_refused_saying_why():
    # no decay ever (late=0): the original is read as such, its copies cannot be
    X, y = _data(seed=3)
    net = _recorded(_net(UncountedLateDecaySGD, max_epochs=8, optimizer__late=0.0), X, y)
    assert weight_decay(net) == 0.0
    for other in _copies(net).values():
        with pytest.raises(NotImplementedError, match="how many steps its fit took is not kn"):
            weight_decay(other)


@pytest.mark.filterwarnings("ignore:other fitted objects in this process keep data")
def test_removal_after_removal_and_copies_of_the_result_are_read_as_the_fit():
    # a decay that never starts within the fit (after=100 of 8 steps): accepted as none
    X, y = _data(seed=4)
    net = _net(UncountedLateDecaySGD, max_epochs=8, optimizer__late=0.2, optimizer__after=100)
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    # a copy of the unlearner as fitted: its fit carries the record on the net (it was
    # refused, its net's steps not known, until a first removal had bound it)
    fresh = copy.deepcopy(unl)
    fresh.unlearn(mask=np.arange(X.shape[0]) < 5)
    unl.unlearn(mask=np.arange(X.shape[0]) < 5)
    assert fresh.unlearning_log_[-1]["weight_decay"] == 0.0
    twin = copy.deepcopy(unl)  # the removal's result carries the record
    mask = (np.arange(X.shape[0]) >= 5) & (np.arange(X.shape[0]) < 10)
    for u in (unl, twin):
        u.unlearn(mask=mask)
    a, b = unl.unlearning_log_[-1], twin.unlearning_log_[-1]
    assert a["weight_decay"] == b["weight_decay"] == 0.0
    np.testing.assert_allclose(a["certificate"], b["certificate"], rtol=1e-6)
    assert weight_decay(pickle.loads(pickle.dumps(twin.estimator_))) == 0.0
