"""The neural removal's fine-tuning never raises the certificate silently.

Mini-batch SGD steps of an SGD net's own ``lr`` raised the certificate (the retained
objective's gradient norm) above what the influence step left, said only in the note:
the removal now starts again with half the step, until a fine-tuning does not raise it
(``finetune_fallbacks`` lists those given up); one that still does, or a step given as
``lr=``, is kept and marked (``finetune_raised_certificate``, the note, a warning).
The measured step of other optimizers (:mod:`sktraceprop.unlearning._finetune_lr`) no
longer stops at the smallest step of its first range (an Adagrad net's best was there):
it goes on while the best is at an edge, and says where one is left.
"""

import copy
import warnings

import numpy as np
import pytest

from sktraceprop.unlearning import GradientCorrectionUnlearner
from sktraceprop.unlearning._finetune_lr import EXTRA_HALVINGS, N_TRIALS, choose_step

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests.unlearning.test_decoupled_decay import _data  # noqa: E402
from tests.unlearning.test_neural_finetune_lr import _gradient_norm, _net  # noqa: E402

X, Y = _data(n=200)
FORGET = np.arange(X.shape[0]) < 20


def _fitted(optimizer, lr):
    """An unlearner fitted on ``X, Y`` (each removal on a copy)."""
    net = _net(optimizer, lr, max_epochs=30)
    return GradientCorrectionUnlearner(net, calibration="none", n_steps=20).fit(X, Y)


def _removal(unl, **params):
    removed = copy.deepcopy(unl).set_params(**params)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        removed.unlearn(mask=FORGET)
    raised = [str(w.message) for w in seen if "raised the certificate" in str(w.message)]
    return removed.unlearning_log_[-1], removed.estimator_, raised


def test_an_sgd_nets_fine_tuning_that_raised_the_certificate_falls_back_to_half_its_lr():
    unl = _fitted(torch.optim.SGD, 1.0)
    event, new, raised = _removal(unl)
    before = event["certificate_before_finetune"]
    # lr=1 and lr=0.5 raised it, each from the same influence step: given up, listed
    assert [f[:2] for f in event["finetune_fallbacks"]] == [[1.0, before], [0.5, before]]
    assert all(f[2] > before for f in event["finetune_fallbacks"])
    assert event["lr"] == 0.25
    assert event["lr_source"] == (
        "the net's lr (its optimizer is SGD); its fine-tuning raised the certificate, so "
        "halved 2 time(s) to lr=0.25"
    )
    # the certificate kept is the retained objective's gradient norm, computed apart
    cert = _gradient_norm(new, X[~FORGET], Y[~FORGET], 0.0)
    assert event["certificate"] == pytest.approx(cert, rel=1e-4)
    assert event["certificate"] <= before and not event["finetune_raised_certificate"]
    assert raised == [] and "raised the certificate" not in event["note"]
    # the same removal with lr=0.25 given: the same model
    given, same, _ = _removal(unl, lr=0.25)
    assert given["finetune_fallbacks"] == [] and given["certificate"] == event["certificate"]
    for p, q in zip(new.module_.parameters(), same.module_.parameters()):
        assert torch.equal(p, q)


def test_a_fine_tuning_that_still_raised_the_certificate_is_marked_and_warned(monkeypatch):
    from sktraceprop.unlearning import _neural_step

    monkeypatch.setattr(_neural_step, "FALLBACK_HALVINGS", 1)
    unl = _fitted(torch.optim.SGD, 1.0)
    event, new, raised = _removal(unl)
    assert event["lr"] == 0.5 and len(event["finetune_fallbacks"]) == 1
    assert event["lr_source"].endswith("halved 1 time(s) to lr=0.5 (at most 1)")
    assert event["finetune_raised_certificate"] is True
    assert event["certificate"] > event["certificate_before_finetune"]
    assert event["certificate"] == pytest.approx(
        _gradient_norm(new, X[~FORGET], Y[~FORGET], 0.0), rel=1e-4
    )
    said = (
        f"the fine-tuning (20 steps of lr=0.5, {event['lr_source']}) raised the certificate "
        f"from {event['certificate_before_finetune']:.4g} to {event['certificate']:.4g}: "
        "pass a smaller lr= or n_steps=0"
    )
    assert said in event["note"]
    assert len(raised) == 1 and raised[0].startswith(f"Removal: {said} (the event's ")
    # a step given is the user's: kept, never halved, and warned about alike
    given, _, raised = _removal(unl, lr=1.0)
    assert given["lr"] == 1.0 and given["finetune_fallbacks"] == []
    assert given["finetune_raised_certificate"] is True and len(raised) == 1


def test_an_adagrad_nets_measured_step_is_not_at_the_edge_of_the_steps_tried():
    event, new, raised = _removal(_fitted(torch.optim.Adagrad, 0.05))
    tried = event["lr_tried"]
    steps = [step for step, _ in tried]
    certificates = [c for _, c in tried]
    # the first range (the measured step and its 7 halvings) had its best at its bottom:
    first = tried[-N_TRIALS:]
    assert min(first, key=lambda t: t[1]) == first[0]
    # smaller steps were tried, and the best is now inside the range tried
    assert len(tried) > N_TRIALS and event["lr_at_edge"] is None
    best = steps[int(np.argmin(certificates))]
    assert event["lr"] == best and steps[0] < best < steps[-1]
    assert f"halved {len(tried) - 1} times:" in event["lr_source"]
    assert event["certificate"] == pytest.approx(
        _gradient_norm(new, X[~FORGET], Y[~FORGET], 0.0), rel=1e-4
    )
    assert event["certificate"] < event["certificate_before_finetune"] and raised == []


def test_the_step_search_follows_the_best_step_past_either_edge():
    # a best step 2**-11 below the largest: past the first range's bottom (2**-7)
    def valley(step):
        return abs(np.log2(step) + 11.0) + 1.0

    lr, said, search = choose_step(1.0, "why", valley)
    assert lr == 2.0**-11 and search["lr_at_edge"] is None
    assert [s for s, _ in search["lr_tried"]] == [2.0**-k for k in range(12, -1, -1)]
    assert said == "why, halved 12 times: the step of the lowest certificate after the " + (
        "unscaled influence step and the fine-tuning (1 at lr=0.0004883)"
    )
    # falling ever lower as the step shrinks: stopped, and said
    lr, said, search = choose_step(1.0, "why", lambda step: step)
    assert lr == 2.0 ** -(N_TRIALS - 1 + EXTRA_HALVINGS) and search["lr_at_edge"] == "smallest"
    assert "a smaller step may leave a lower certificate" in said
    assert said.endswith("pass a smaller lr= to try one, or more n_steps=)")  # what to do
    # best at the top: twice it (gradient descent's stability limit) is tried
    lr, said, search = choose_step(1.0, "why", lambda step: 1.0 / step)
    assert lr == 2.0 and search["lr_at_edge"] == "largest"
    assert said.startswith("why, halved 7 times, doubled once:") and "stability limit" in said
    assert said.endswith(
        "a larger step may leave a lower certificate or overshoot; pass a larger lr= to "
        "try one (the event's certificate says which), or more n_steps=)"
    )
    lr, said, search = choose_step(1.0, "why", lambda step: abs(step - 1.0))
    assert lr == 1.0 and search["lr_at_edge"] is None and len(search["lr_tried"]) == 9
    # nothing finite: no edge, the steps tried said as such
    lr, said, search = choose_step(1.0, "why", lambda step: np.nan)
    assert search["lr_at_edge"] is None and len(search["lr_tried"]) == N_TRIALS
    assert all(c is None for _, c in search["lr_tried"])


def test_a_jax_sgd_models_fine_tuning_falls_back_alike():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=(6,), activation="tanh")
    model = JaxClassifier(
        apply_fn,
        init_fn,
        n_epochs=30,
        learning_rate=1.0,
        batch_size=16,
        optimizer="sgd",
        random_state=0,
    )
    unl = GradientCorrectionUnlearner(model, calibration="none", n_steps=20).fit(X, Y)
    event, _, raised = _removal(unl)
    before = event["certificate_before_finetune"]
    assert [f[:2] for f in event["finetune_fallbacks"]] == [[1.0, before]]
    assert event["finetune_fallbacks"][0][2] > before
    assert event["lr"] == 0.5 and event["lr_source"] == (
        "the model's learning_rate (its optimizer is sgd); its fine-tuning raised the "
        "certificate, so halved 1 time(s) to lr=0.5"
    )
    assert event["certificate"] <= before and raised == []
    given, _, _ = _removal(unl, lr=0.5)
    assert given["certificate"] == event["certificate"]


def test_a_fallback_finds_the_calibration_again_for_the_halved_step():
    unl = GradientCorrectionUnlearner(
        _net(torch.optim.SGD, 1.0, max_epochs=30), calibration="holdout", n_steps=20
    ).fit(X, Y)
    removed = copy.deepcopy(unl)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (copies holding the rows)
        removed.unlearn(mask=FORGET, X_holdout=X[20:120], y_holdout=Y[20:120])
    event = removed.unlearning_log_[-1]
    assert event["calibration"] == "holdout" and event["calibration_reached"]
    halvings = len(event["finetune_fallbacks"])
    assert halvings and event["lr"] == 2.0**-halvings
    assert [f[0] for f in event["finetune_fallbacks"]] == [2.0**-k for k in range(halvings)]
    assert event["certificate"] <= event["certificate_before_finetune"]
    # the removed rows' loss, computed apart, is the target's for the step kept (the
    # calibration was found again for it, not kept from the steps given up)
    net = removed.estimator_
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X[FORGET]))
        loss = float(torch.nn.functional.cross_entropy(logits, torch.as_tensor(Y[FORGET])))
    assert loss == pytest.approx(event["calibration_target"], rel=1e-3)


def test_a_measured_step_at_the_edge_is_said_in_the_note_with_what_to_do(monkeypatch):
    from sktraceprop.unlearning import _neural_step

    # the certificate falling as the step shrinks: the best at the bottom of those tried
    monkeypatch.setattr(
        _neural_step,
        "choose_step",
        lambda largest, source, _: choose_step(largest, source, lambda step: step),
    )
    event, _, raised = _removal(_fitted(torch.optim.Adagrad, 0.05))
    assert event["lr_at_edge"] == "smallest" and not event["finetune_raised_certificate"]
    assert f"; the fine-tuning's step: {event['lr_source']}" in event["note"]
    assert "pass a smaller lr= to try one, or more n_steps=" in event["note"]
    assert raised == []
