"""The step size of the neural removal's fine-tuning (plain SGD steps) by default: a
skorch net's ``lr`` only where it trained with ``torch.optim.SGD``. Any other
optimizer's ``lr`` scales another step (Adam's of about 1e-3 a per-coordinate
normalised one, a LARS trust ratio's of 20 one of ``||params||`` per tensor), and taken
as an SGD step it hardly moved an Adam net or made a LARS net's certificate worse than
no fine-tuning at all; the step is now measured (:mod:`sktraceprop.unlearning._finetune_lr`)
and the event says how it was chosen and what the fine-tuning did to the certificate."""

import copy

import numpy as np
import pytest
from scipy.optimize import minimize

from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests.gradients.test_torch_trust_ratio import LARS  # noqa: E402
from tests.unlearning.test_decoupled_decay import Counted, _data  # noqa: E402

WD = 0.01


def _net(optimizer, lr, module=Counted, **kwargs):
    return skorch.NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=optimizer,
        lr=lr,
        batch_size=16,
        train_split=None,
        verbose=0,
        **{"max_epochs": 4, **kwargs},
    )


def _removals(net, X, y, forget, settings, **params):
    """The event of each removal, ``settings`` a list of extra parameters, from one fit."""
    unl = GradientCorrectionUnlearner(net, calibration="none", **params).fit(X, y)
    out = []
    for extra in settings:
        removed = copy.deepcopy(unl).set_params(**extra)
        removed.unlearn(mask=forget)
        out.append((removed.unlearning_log_[-1], removed.estimator_))
    return out


def _gradient_norm(net, X, y, wd):
    """Independent of the library: the gradient norm of the full-batch mean
    cross-entropy plus ``wd / 2 ||theta||^2`` over every parameter."""
    params = list(net.module_.parameters())
    loss = torch.nn.functional.cross_entropy(net.module_(torch.as_tensor(X)), torch.as_tensor(y))
    loss = loss + 0.5 * wd * sum((p**2).sum() for p in params)
    return float(torch.sqrt(sum((g**2).sum() for g in torch.autograd.grad(loss, params))))


class Linear(torch.nn.Module):
    """A linear 4-2 softmax model: its L2 objective is convex, with one minimum."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.head = torch.nn.Linear(4, 2)

    def forward(self, X):
        return self.head(X)


def _retrain(X, y, wd):
    """The minimum of the retained objective, in float64 (a retrain from scratch)."""
    X = X.astype(np.float64)

    def objective(w):
        W, b = w[:8].reshape(2, 4), w[8:]
        z = X @ W.T + b
        top = z.max(1, keepdims=True)
        lse = top[:, 0] + np.log(np.exp(z - top).sum(1))
        p = np.exp(z - lse[:, None])
        p[np.arange(y.shape[0]), y] -= 1.0
        gW, gb = p.T @ X / y.shape[0] + wd * W, p.mean(0) + wd * b
        value = (lse - z[np.arange(y.shape[0]), y]).mean() + 0.5 * wd * (w @ w)
        return value, np.concatenate([gW.ravel(), gb])

    w = minimize(objective, np.zeros(10), jac=True, method="L-BFGS-B", tol=1e-14).x
    return np.concatenate([w[:8], w[8:]])


def _flat(net):
    head = net.module_.head
    return np.concatenate([head.weight.detach().numpy().ravel(), head.bias.detach().numpy()])


def test_an_adam_nets_fine_tuning_step_is_measured_and_moves_it_to_the_retrain():
    X, y = _data(n=80)
    forget = np.arange(X.shape[0]) < 8
    Xr, yr = X[~forget], y[~forget]
    net = _net(torch.optim.Adam, 0.01, Linear, optimizer__weight_decay=WD)
    (none, _), (as_sgd, old), (measured, new) = _removals(
        net, X, y, forget, [{"n_steps": 0}, {"lr": 0.01}, {}], n_steps=20
    )
    # not Adam's lr taken for an SGD step: measured, and said so
    assert measured["lr"] != 0.01 and measured["lr"] > 0.1, measured["lr"]
    assert "Adam, whose lr=0.01 is no step size of plain SGD steps" in measured["lr_source"]
    assert "Gauss-Newton eigenvalue" in measured["lr_source"]
    # the certificates are the retained objective's gradient norms, computed apart
    assert measured["certificate"] == pytest.approx(_gradient_norm(new, Xr, yr, WD), rel=1e-4)
    assert measured["certificate_before_finetune"] == pytest.approx(none["certificate"])
    assert measured["certificate"] < 0.5 * min(none["certificate"], as_sgd["certificate"])
    # against a float64 retrain without the rows: the measured step closes the gap
    truth = _retrain(Xr, yr, WD)
    gap_new, gap_old = np.linalg.norm(_flat(new) - truth), np.linalg.norm(_flat(old) - truth)
    assert gap_new < 0.5 * gap_old, (gap_new, gap_old)
    assert "raised the certificate" not in measured["note"]


def test_an_sgd_net_keeps_its_lr():
    X, y = _data(n=80)
    forget = np.arange(X.shape[0]) < 8
    for extra in ({}, {"optimizer__momentum": 0.9}):
        ((event, _),) = _removals(
            _net(torch.optim.SGD, 0.05, **extra), X, y, forget, [{}], n_steps=5
        )
        assert event["lr"] == 0.05 and event["lr_source"] == "the net's lr (its optimizer is SGD)"


def test_an_unknown_optimizers_lr_is_not_taken_and_the_certificate_is_not_made_worse():
    # a LARS fitted at lr=20: that lr taken as an SGD step left a certificate worse than
    # no fine-tuning at all
    X, y = _data(n=80)
    forget = np.arange(X.shape[0]) < 8
    (none, _), (as_sgd, _), (measured, net) = _removals(
        _net(LARS, 20.0, max_epochs=6),
        X,
        y,
        forget,
        [{"n_steps": 0}, {"lr": 20.0}, {}],
        n_steps=10,
    )
    assert as_sgd["certificate"] > none["certificate"]  # the old default
    assert "raised the certificate" in as_sgd["note"]
    assert "LARS, whose lr=20 is no step size of plain SGD steps" in measured["lr_source"]
    assert measured["certificate"] <= none["certificate"]
    assert measured["certificate"] == pytest.approx(
        _gradient_norm(net, X[~forget], y[~forget], 0.0), rel=1e-4
    )


def test_a_fine_tuning_that_raises_the_certificate_says_so():
    X, y = _data(n=80)
    forget = np.arange(X.shape[0]) < 8
    (none, _), (big, net) = _removals(
        _net(torch.optim.SGD, 0.05), X, y, forget, [{"n_steps": 0}, {"lr": 30.0}], n_steps=10
    )
    assert none["lr"] is None and none["lr_source"] == "no fine-tuning (n_steps=0)"
    assert big["lr"] == 30.0 and big["lr_source"] == "given (lr=)"
    assert big["certificate_before_finetune"] == pytest.approx(none["certificate"])
    assert big["certificate"] == pytest.approx(
        _gradient_norm(net, X[~forget], y[~forget], 0.0), rel=1e-4
    )
    assert big["certificate"] > big["certificate_before_finetune"]
    assert (
        f"the fine-tuning (10 steps of lr=30, given (lr=)) raised the certificate from "
        f"{none['certificate']:.4g} to {big['certificate']:.4g}: pass a smaller lr= or n_steps=0"
    ) in big["note"]


def test_the_measured_step_is_one_over_the_largest_gauss_newton_eigenvalue():
    from sktraceprop.unlearning import _neural_torch as backend
    from sktraceprop.unlearning._finetune_lr import curvature_step

    X, y = _data(n=80)
    net = _net(torch.optim.Adam, 0.01).fit(X, y)
    # the dense Gauss-Newton matrix, column by column: its largest eigenvalue
    gnvp = backend.gauss_newton_operator(net, X)
    size = backend.params_vector(net).shape[0]
    G = np.column_stack([gnvp(e) for e in np.eye(size)])
    top = np.linalg.eigvalsh((G + G.T) / 2)[-1]
    step, measured = curvature_step(backend, net, X, 0.05)
    assert measured == pytest.approx(top, rel=1e-3)
    assert step == pytest.approx(1.0 / (measured + 0.05))


def test_a_step_that_diverged_is_never_chosen():
    from sktraceprop.unlearning._finetune_lr import N_TRIALS, choose_step

    certificates = {1.0: np.nan, 0.5: 3.0, 0.25: 2.0, 0.125: np.inf}
    lr, source, search = choose_step(1.0, "why", lambda step: certificates.get(step, 2.5))
    assert lr == 0.25 and source.startswith("why, halved 7 times:") and N_TRIALS == 8
    assert "(2 at lr=0.25)" in source and search["lr_at_edge"] is None
    # the steps tried, by step, a diverged one's certificate None (no JSON number)
    assert search["lr_tried"][-4:] == [[0.125, None], [0.25, 2.0], [0.5, 3.0], [1.0, None]]
