"""A pickled unlearner, freshly fitted, whose net steps through a wrapper optimizer (a
Lookahead over SGD: SGD's state counts no steps) or an optimizer of unknown kind whose
state counts none: the record of the fit's steps was kept in this process only, and
attached to the net by a first removal, so the pickle was refused at ``unlearn`` ("how
many steps its fit took is not known") until a removal had run before the pickle. The
unlearner's fit now carries the record on its net (bound to its parameters; a skorch
net's private attributes are no part of its fingerprint), so the pickle removes rows
as the unpickled unlearner does."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from sktraceprop._lineage._fingerprint import fingerprint  # noqa: E402
from sktraceprop.unlearning import GradientCorrectionUnlearner  # noqa: E402
from tests.gradients.test_decay_record_copies import UncountedLateDecaySGD  # noqa: E402
from tests.gradients.test_torch_wrapper import Lookahead  # noqa: E402
from tests.gradients.test_torch_wrapper import _data as _wrapper_data  # noqa: E402
from tests.gradients.test_torch_wrapper import _net as _wrapper_net  # noqa: E402
from tests.gradients.test_torch_wrapper_pickle import Wrapped  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:other fitted objects in this process keep data")


def _lookahead():
    X, y = _wrapper_data(seed=8)
    net = _wrapper_net(Wrapped(Lookahead, torch.optim.SGD), optimizer__weight_decay=0.1)
    return net, X, y, 0.1


def _uncounted():
    from tests.gradients.test_decay_during_fit import _data, _net

    X, y = _data(seed=4)
    # a decay that never starts within the fit (after=100): no decay, read over all steps
    net = _net(UncountedLateDecaySGD, max_epochs=8, optimizer__late=0.2, optimizer__after=100)
    return net, X, y, 0.0


@pytest.mark.parametrize("make", [_lookahead, _uncounted], ids=["lookahead", "uncounted"])
def test_a_pickled_fresh_unlearner_removes_rows_as_the_unpickled_one(make):
    net, X, y, decay = make()
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    optimizer = unl.estimator_.optimizer_
    assert getattr(optimizer, "base", optimizer).state == {}  # no step counted
    # the record carried on the net does not change the model's fingerprint
    assert fingerprint(unl.estimator_) == unl._fingerprint_now
    loaded = pickle.loads(pickle.dumps(unl))
    assert fingerprint(loaded.estimator_) == unl._fingerprint_now
    mask = np.arange(X.shape[0]) < 5
    loaded.unlearn(mask=mask)  # was: NotImplementedError, steps not known
    unl.unlearn(mask=mask)
    a, b = unl.unlearning_log_[-1], loaded.unlearning_log_[-1]
    assert a["weight_decay"] == b["weight_decay"] == decay
    np.testing.assert_allclose(b["certificate"], a["certificate"], rtol=1e-5, atol=1e-12)
    for pa, pb in zip(unl.estimator_.module_.parameters(), loaded.estimator_.module_.parameters()):
        np.testing.assert_allclose(pb.detach().numpy(), pa.detach().numpy(), rtol=1e-5, atol=1e-7)
    # the removal path of a pickle taken after the first removal agrees too
    after = pickle.loads(pickle.dumps(unl))
    more = (np.arange(X.shape[0]) >= 5) & (np.arange(X.shape[0]) < 8)
    for u in (unl, loaded, after):
        u.unlearn(mask=more)
    certs = [u.unlearning_log_[-1]["certificate"] for u in (unl, loaded, after)]
    np.testing.assert_allclose(certs, certs[0], rtol=1e-5, atol=1e-12)


def test_a_partial_fit_after_the_fit_drops_the_carried_record():
    # the record counts only while the module holds the fitted parameters
    from sktraceprop.gradients._decay_record import CARRIED, was_recorded

    net, X, y, _ = _uncounted()
    unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=2).fit(X, y)
    loaded = pickle.loads(pickle.dumps(unl)).estimator_
    assert CARRIED in vars(loaded)
    assert was_recorded(loaded.optimizer_, loaded)
    with torch.no_grad():
        next(loaded.module_.parameters()).add_(1.0)
    assert not was_recorded(loaded.optimizer_, loaded)
