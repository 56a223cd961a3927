"""The model's own L2 penalty, read for the neural curvature."""

import re

import numpy as np
import pytest

from sktraceprop import InfluenceExplainer
from sktraceprop.influence._penalty import l2_penalty

pytestmark = pytest.mark.filterwarnings("ignore:.*nothing records which rows")


def _net(optimizer, max_epochs=2, **kwargs):
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
        max_epochs=max_epochs,
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
    named = r"AdamW\(weight_decay=0.01\), a decoupled weight decay"
    with pytest.warns(UserWarning, match=named):
        coef, text = l2_penalty(net)
    assert coef == 0.0 and re.search(named, text)
    with pytest.warns(UserWarning, match=named):
        exp = InfluenceExplainer(net, method="ggn", damping=0.1).fit(X, y)
    assert exp.damping_ == pytest.approx(0.1 * exp.trak_.members[0].solver.scale)
    assert any(re.search(named, note) for note in exp.explain(X[:2], y[:2]).notes)
    net, _, _ = _net(torch.optim.SGD, optimizer__param_groups=[("out.*", {"weight_decay": 0.1})])
    coef, text = l2_penalty(net)
    assert coef == 0.0 and "differ between its parameter groups" in text
    net, _, _ = _net(torch.optim.SGD)
    # (fitted outside the library: its steps unseen, which the text says)
    assert l2_penalty(net) == (
        0.0,
        "no L2 (the optimizer has no weight_decay); weight decay checked at start and end "
        "of fit only: the optimizer's steps were not seen by sktraceprop (the net was "
        "fitted outside it, or loaded from a pickle), so a decay changed and changed back "
        "within the fit is not seen",
    )


def test_adamw_trained_net_is_stationary_without_the_l2_term():
    # Why AdamW's decay is left out of the curvature, not taken as an L2 term: a net
    # trained full-batch by AdamW(weight_decay=0.1) stops where the mean loss's
    # gradient is small, far from where the gradient of mean loss + 0.05 ||theta||^2
    # is (autograd here, not the library's gradients).
    torch = pytest.importorskip("torch")
    net, X, y = _net(torch.optim.AdamW, optimizer__weight_decay=0.1, max_epochs=200)
    params = list(net.module_.parameters())
    loss = torch.nn.functional.cross_entropy(net.module_(torch.as_tensor(X)), torch.as_tensor(y))
    grads = [g.detach() for g in torch.autograd.grad(loss, params)]
    params = [p.detach() for p in params]
    plain = float(torch.sqrt(sum((g**2).sum() for g in grads)))
    l2 = float(torch.sqrt(sum(((g + 0.1 * p) ** 2).sum() for g, p in zip(grads, params))))
    with pytest.warns(UserWarning, match="AdamW"):
        coef, _ = l2_penalty(net)
    # measured 0.010 and 0.56
    assert coef == 0.0 and plain < l2 / 10


def test_an_optax_style_decay_of_a_jax_classifier_is_said():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp
    from tests._optax_like import adamw

    rng = np.random.RandomState(0)
    X = rng.randn(40, 3).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    init_fn, apply_fn = mlp(hidden=(4,))
    model = JaxClassifier(
        apply_fn, init_fn, optimizer=adamw(0.1), alpha=0.01, n_epochs=5, random_state=0
    ).fit(X, y)
    with pytest.warns(UserWarning, match="adamw, an optax-style optimizer"):
        coef, text = l2_penalty(model)
    # alpha is a term of the objective; the optimizer's decay is not
    assert coef == 0.01 and "alpha=0.01" in text and "not the weight decay of adamw" in text
    model.set_params(optimizer=adamw(0.0))
    assert (
        l2_penalty(model)[1]
        == "the model's own L2 penalty (alpha=0.01: damping at least n * alpha)"
    )


def test_asgds_decay_term_is_in_the_penalty():
    # ASGD shrinks the weights by lambd besides its weight_decay, an L2 term of
    # weight_decay + lambd (tests/gradients/test_torch_decay_table.py steps it)
    torch = pytest.importorskip("torch")
    net, _, _ = _net(torch.optim.ASGD, optimizer__lambd=0.05)
    coef, text = l2_penalty(net)
    assert coef == 0.05 and "weight_decay=0 + lambd=0.05 = 0.05" in text
    net, _, _ = _net(torch.optim.ASGD, optimizer__lambd=0.05, optimizer__weight_decay=0.2)
    assert l2_penalty(net)[0] == pytest.approx(0.25)


def test_a_third_party_decay_is_left_out_and_said():
    torch = pytest.importorskip("torch")
    klass = type("MySGD", (torch.optim.SGD,), {})  # may have changed SGD's step
    net, _, _ = _net(klass, optimizer__weight_decay=0.5)
    with pytest.warns(UserWarning, match="MySGD, a weight decay of unknown kind"):
        coef, text = l2_penalty(net)
    assert coef == 0.0 and "MySGD" in text
