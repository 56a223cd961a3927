"""``neural_method="refit"`` of a skorch net follows its ``refit_seed`` whatever the
module's constructor does: the truth is the retrained network's initial weights (a net
of ``max_epochs=0`` is its initial weights), different under two seeds and the same
under one. Where the module draws them from something no seed reaches, the event and a
warning say so; where they are the trained weights themselves (a module instance), the
retrain is refused."""

import warnings

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop.exceptions import UnlearningError
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")


class SelfSeedingNet(torch.nn.Module):
    """4-6-3 tanh net that seeds torch in its constructor (as the benchmark's does)."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.hidden = torch.nn.Linear(4, 6)
        self.out = torch.nn.Linear(6, 3)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))


class OwnGeneratorNet(SelfSeedingNet):
    """Initialised from its own ``torch.Generator``: no seed of torch's reaches it."""

    def __init__(self, seed=0):
        super().__init__(seed)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.3)


def _net(module, max_epochs=0):
    return skorch.NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=max_epochs,
        lr=0.1,
        train_split=None,
        verbose=0,
    )


def _data(name):
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 3
    return raw, y, stp.row_ids(stp.from_numpy(raw, f"neural_refit_seed_{name}"))


def _refit(module, random_state, name, max_epochs=0):
    raw, y, ids = _data(name)
    torch.manual_seed(0)
    unl = GradientCorrectionUnlearner(
        _net(module, max_epochs), neural_method="refit", random_state=random_state
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the net's rows are an array's: said)
        unl.fit(raw, y, sample_id=ids)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unl.unlearn(sample_id=ids[[0, 1]])
    said = [str(w.message) for w in caught if "refit_seed" in str(w.message)]
    weights = [p.detach().numpy().copy() for p in unl.estimator_.module_.parameters()]
    return unl.unlearning_log_[-1], weights, said


def _equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_module_seeding_torch_itself_still_follows_the_refit_seed():
    first, w1, said = _refit(SelfSeedingNet, 1, "self_1")
    again, w1_again, _ = _refit(SelfSeedingNet, 1, "self_1_again")
    other, w2, _ = _refit(SelfSeedingNet, 2, "self_2")
    assert first["refit_seed"] == again["refit_seed"] != other["refit_seed"]
    assert _equal(w1, w1_again)  # one seed: one initialisation
    assert not any(np.array_equal(a, b) for a, b in zip(w1, w2))  # two seeds: two
    assert first["refit_seed_sets_weights"] is True and said == []
    assert "seeds them from (seed, value)" in first["note"]
    # nor is it the module's own seed-0 initialisation, which the fit started from
    torch.manual_seed(123)
    own = [p.detach().numpy() for p in SelfSeedingNet().parameters()]
    assert not any(np.array_equal(a, b) for a, b in zip(w1, own))


def test_a_trained_refit_is_seeded_the_same_twice():
    _, w1, _ = _refit(SelfSeedingNet, 5, "trained_a", max_epochs=3)
    _, w2, _ = _refit(SelfSeedingNet, 5, "trained_b", max_epochs=3)
    _, w3, _ = _refit(SelfSeedingNet, 6, "trained_c", max_epochs=3)
    assert _equal(w1, w2) and not _equal(w1, w3)


def test_weights_no_seed_reaches_are_said_in_the_event_and_a_warning():
    event, w1, said = _refit(OwnGeneratorNet, 1, "own_1")
    _, w2, _ = _refit(OwnGeneratorNet, 2, "own_2")
    assert _equal(w1, w2)  # the truth: the seed does not set them
    assert event["refit_seed_sets_weights"] is False and event["exact"] is True
    assert "do not depend on refit_seed" in event["note"]
    assert len(said) == 1 and "refit_seed_sets_weights is False" in said[0]
    torch.manual_seed(99)
    own = [p.detach().numpy() for p in OwnGeneratorNet().parameters()]
    assert _equal(w1, own)  # the module's own initialisation, as the note says


def test_a_module_instance_is_refused_as_it_would_start_from_the_trained_weights():
    raw, y, ids = _data("instance")
    torch.manual_seed(0)
    unl = GradientCorrectionUnlearner(
        _net(SelfSeedingNet(), max_epochs=3), neural_method="refit", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.fit(raw, y, sample_id=ids)
    before = unl.predict_proba(raw)
    with pytest.raises(UnlearningError, match=r"module is given as a SelfSeedingNet instance"):
        unl.unlearn(sample_id=ids[[0, 1]])
    np.testing.assert_array_equal(unl.predict_proba(raw), before)
    assert unl.unlearning_log_ == [] and unl.retained_mask_.all()
