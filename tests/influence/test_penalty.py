"""The model's own L2 penalty, read for the neural curvature."""

import numpy as np
import pytest

from sktraceprop import InfluenceExplainer
from sktraceprop.influence._penalty import l2_penalty

pytestmark = pytest.mark.filterwarnings("ignore:.*nothing records which rows")


def _net(optimizer, **kwargs):
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")

    from tests._torch_nets import TanhNet

    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = skorch.NeuralNetClassifier(
        TanhNet,
        module__n_in=3,
        module__n_hidden=4,
        max_epochs=2,
        lr=0.05,
        train_split=None,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=optimizer,
        verbose=0,
        **kwargs,
    )
    return net.fit(X, y), X, y


def test_coupled_weight_decay_is_the_penalty():
    torch = pytest.importorskip("torch")
    for optimizer in (torch.optim.SGD, torch.optim.Adam):
        net, X, y = _net(optimizer, optimizer__weight_decay=0.5)
        coef, text = l2_penalty(net)
        assert coef == 0.5 and "weight_decay=0.5" in text
        exp = InfluenceExplainer(net, method="ggn", damping=0.1).fit(X, y)
        member = exp.trak_.members[0]
        assert exp.damping_ == pytest.approx(max(0.1 * member.solver.scale, 40 * 0.5))
        assert exp.damping_ == pytest.approx(40 * 0.5)  # the floor, here


def test_decoupled_or_uneven_weight_decay_is_left_out_and_said():
    torch = pytest.importorskip("torch")
    net, X, y = _net(torch.optim.AdamW)  # AdamW's own default decay, 0.01
    coef, text = l2_penalty(net)
    assert coef == 0.0 and "decoupled" in text
    exp = InfluenceExplainer(net, method="ggn", damping=0.1).fit(X, y)
    assert exp.damping_ == pytest.approx(0.1 * exp.trak_.members[0].solver.scale)
    assert any("decoupled" in note for note in exp.explain(X[:2], y[:2]).notes)
    net, _, _ = _net(torch.optim.SGD, optimizer__param_groups=[("out.*", {"weight_decay": 0.1})])
    coef, text = l2_penalty(net)
    assert coef == 0.0 and "differ between its parameter groups" in text
    net, _, _ = _net(torch.optim.SGD)
    assert l2_penalty(net) == (0.0, "no L2 (the optimizer has no weight_decay)")
