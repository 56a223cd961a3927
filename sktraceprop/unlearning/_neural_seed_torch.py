"""A skorch net's retrain seeded by its ``refit_seed``, whatever its module's constructor
does (``neural_method="refit"``, :mod:`._neural_refit`).

torch's generators are seeded with the seed for the fit; a ``torch.manual_seed(value)``
called during it (a module that seeds torch in its constructor, a callback) seeds them
from the pair ``(seed, value)`` instead, so that the module's own initialisation runs
as written and its draws still follow the seed: two seeds give two initialisations, one
seed the same. What cannot be reached so (a module drawing from its own
``torch.Generator``, numpy, or weights it loads) is found by building the module under
two seeds before the fit: initial weights that do not change are said (the event's
``refit_seed_sets_weights``, its note and a warning), and weights that are the fitted
network's own (a module given as an instance, which skorch keeps and its clone copies:
the retrain would start from weights trained on the removed rows) are refused.

The crossfit clones (:mod:`._crossfit`) are not seeded so: their measured behaviour
under a self-seeding module is documented as it is (``doc/unlearning.rst``).
"""

from contextlib import contextmanager

import numpy as np
import torch
from sklearn.base import clone

from ..exceptions import UnlearningError

__all__ = ["seed_note", "seeded"]


def _mixed(seed, value):
    """A seed drawn from ``seed`` and a seed ``value`` asked for during the fit."""
    value = int(value) % 2**64
    words = [int(seed) % 2**32, value % 2**32, value >> 32]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0]) >> 1


@contextmanager
def seeded(seed, devices=()):
    """torch's generators seeded with ``seed`` (restored after, ``devices`` included),
    and ``torch.manual_seed`` calls inside seeding them from ``(seed, value)``.

    The two names ``torch.manual_seed`` and ``torch.random.manual_seed`` are replaced
    for the duration (process-wide, as torch's generators are).
    """
    real = torch.random.manual_seed
    names = [(torch, torch.manual_seed), (torch.random, real)]

    def manual_seed(value):
        return real(_mixed(seed, value))

    with torch.random.fork_rng(devices=list(devices)):
        real(seed)
        for owner, _ in names:
            owner.manual_seed = manual_seed
        try:
            yield
        finally:
            for owner, function in names:
                owner.manual_seed = function


def _initial_state(template, seed, devices):
    """The module state a clone of ``template`` is built with under :func:`seeded`."""
    probe = clone(template)
    with seeded(seed, devices):
        probe.initialize()
    return {key: value.detach().cpu().numpy() for key, value in probe.module_.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[key], b[key]) for key in a)


def seed_note(fitted, template, seed, devices=()):
    """None where the initial weights of ``template`` (an unfitted clone of ``fitted``)
    follow ``seed``; else the sentence saying they do not. Raises
    :class:`~sktraceprop.exceptions.UnlearningError` where they are ``fitted``'s own
    trained weights."""
    first = _initial_state(template, seed, devices)
    if not _same(first, _initial_state(template, seed ^ 1, devices)):
        return None
    trained = {
        key: value.detach().cpu().numpy() for key, value in fitted.module_.state_dict().items()
    }
    name = type(fitted.module_).__name__
    # skorch keeps a module given as an instance (without module__ parameters) as module_
    if fitted.module_ is fitted.module and _same(first, trained):
        raise UnlearningError(
            f"the retrain of {type(fitted).__name__} (neural_method='refit') would start "
            f"from the weights it was trained to: its module is given as a {name} instance, "
            "which skorch trains in place and a clone copies, trained on the rows to remove. "
            "Give the net the module's class and its parameters (module__...), so that a "
            "retrain builds it anew. Nothing was changed."
        )
    return (
        f"the initial weights of the retrain do not depend on refit_seed: the {name} "
        "module built under two seeds had the same ones (it draws them from something the "
        "seed does not reach: its own torch.Generator, numpy or weights it loads), so "
        "every retrain starts from them"
    )
