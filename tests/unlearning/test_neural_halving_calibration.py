"""A removal whose fine-tuning step was halved does not rerun the whole calibration.

The calibration's root search (up to 32 fine-tunings) was run anew for every halved
step; it now starts from the scale found for the step before, which is kept where the
removed rows' loss after the halved fine-tuning is still within its tolerance (one
fine-tuning), and searched from there otherwise. Counted by wrapping the backend's
fine-tuning; the truth for the result: the removed rows' loss, computed apart, against
the calibration's target.
"""

import copy
import warnings

import numpy as np
import pytest

from sktraceprop.unlearning import GradientCorrectionUnlearner
from sktraceprop.unlearning._calibration import CALIBRATION_MAX_SCALE, calibrate

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests.unlearning.test_decoupled_decay import _data  # noqa: E402
from tests.unlearning.test_neural_finetune_lr import _net  # noqa: E402

X, Y = _data(n=200)
FORGET = np.arange(X.shape[0]) < 20


def test_a_halved_step_reuses_the_calibration_and_reaches_its_target(monkeypatch):
    from sktraceprop.unlearning import _neural_step, _neural_torch

    finetunes, searches, counting = [], [], [True]
    finetune, search = _neural_torch.finetune, _neural_step.calibrate

    def counted_finetune(*args, **kwargs):
        if counting[0]:
            finetunes.append(kwargs["lr"])
        return finetune(*args, **kwargs)

    def counted_search(loss_at, target, **kwargs):
        out = search(loss_at, target, **kwargs)
        # the search from nothing on the same losses (not counted): what it replaced
        counting[0] = False
        cold = search(loss_at, target)
        counting[0] = True
        searches.append((kwargs.get("guess"), kwargs.get("tol"), out, cold))
        return out

    unl = GradientCorrectionUnlearner(
        _net(torch.optim.SGD, 1.0, max_epochs=30), calibration="holdout", n_steps=20
    ).fit(X, Y)
    monkeypatch.setattr(_neural_torch, "finetune", counted_finetune)
    monkeypatch.setattr(_neural_step, "calibrate", counted_search)
    removed = copy.deepcopy(unl)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (copies holding the rows)
        removed.unlearn(mask=FORGET, X_holdout=X[20:120], y_holdout=Y[20:120])
    event = removed.unlearning_log_[-1]
    halvings = len(event["finetune_fallbacks"])
    assert halvings >= 2 and len(searches) == halvings + 1
    # each search's evaluations, then the fine-tuning of the step kept: nothing more
    evals = [out[2] for _, _, out, _ in searches]
    assert len(finetunes) == sum(evals) + halvings + 1
    assert sum(evals) == event["calibration_evaluations"]
    # a halved step after a scale found searches from it, with that search's tolerance:
    # fewer fine-tunings than from nothing, the same scale within the tolerance
    warm = [s for s in searches[1:] if s[1] is not None]
    assert warm and all(s[0] == before[2][0] for s, before in zip(searches[1:], searches))
    for _, tol, out, cold in warm:
        assert tol > 0 and out[1] and cold[1] and out[2] <= cold[2]
        assert abs(out[0] - cold[0]) <= 1e-2 * cold[0]
    assert sum(s[2][2] for s in warm) < sum(s[3][2] for s in warm)
    assert event["calibration_reached"]
    # the removed rows' loss, computed apart, is the target's within the tolerance kept
    net = removed.estimator_
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X[FORGET]))
        loss = float(torch.nn.functional.cross_entropy(logits, torch.as_tensor(Y[FORGET])))
    assert abs(loss - event["calibration_target"]) <= warm[-1][1] * (1 + 1e-3)


def test_a_guess_within_the_tolerance_is_kept_after_one_evaluation():
    calls = []

    def loss(t):
        calls.append(t)
        return 1.0 + t

    assert calibrate(loss, 3.0, guess=2.0005, tol=1e-3) == (2.0005, True, 1)
    assert calls == [2.0005]


@pytest.mark.parametrize("guess", [0.3, 1.7, 5.0, 900.0])
def test_a_guess_outside_the_tolerance_is_searched_from(guess):
    calls = []

    def loss(t):
        calls.append(t)
        return 0.5 + 2.0 * t**1.5

    target = loss(1.3)
    calls.clear()
    t, reached, n_evals = calibrate(loss, target, guess=guess, tol=1e-4)
    assert reached and n_evals == len(calls) and calls[0] == guess
    assert abs(loss(t) - target) <= 1e-4


def test_a_guess_at_the_longest_step_that_falls_short_is_flagged():
    t, reached, n = calibrate(np.tanh, 2.0, guess=CALIBRATION_MAX_SCALE, tol=1e-3)
    assert (t, reached, n) == (CALIBRATION_MAX_SCALE, False, 1)
