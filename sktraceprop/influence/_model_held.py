"""An explainer's query holds the model it explains: no refit of it in between.

An explainer given a fitted model (``InfluenceExplainer(pipe).fit(X, y)``) keeps that
model as ``estimator_`` and transforms the rows to explain with its fitted steps at
``explain`` time. Its fingerprint was checked before the rows were explained; a refit of
the model in another thread (a serving process refitting ``pipe``) after that check made
the explanation of rows transformed by the new steps, scored with the old model's
gradients and Hessian, and logged under the old run: margins of 6.3 where the model
explained gave 0.44, with no error. Here the query holds the traced model's lock shared
(:mod:`sktraceprop._model_lock`), as a logged call does: its fits and an unlearner's
corrections wait for the query, and the query for them. A model without a lock (not
traced) is checked again once the query is done: changed meanwhile, the answer is refused.
Its fingerprint alone would miss a refit to other data and back to the same state while
the query read the model (the steps of the middle fit transformed the rows: margins of
that model, explained by the first one's Hessian); the objects its fitted attributes
hold are compared too (:class:`~sktraceprop.utils._read_unchanged.ReadSnapshot`), as
for a traced model's step refitted by itself, which its lock does not stop.
The explainer's fit holds a fitted model it was given the same way: a refit in between
had it describe the new model while crediting the rows of the old one's run.
"""

import contextlib

from .._model_lock import shared
from ..utils._read_unchanged import ReadSnapshot
from ._fitted import run_holder


def _traced_model(explainer, given=False):
    """The traced model whose fits and corrections ``explainer``'s queries wait for
    (with ``given``: of the model it was given, which its fit reads when fitted)."""
    model = explainer.estimator if given else explainer.__dict__.get("estimator_")
    holder = run_holder(model)
    # An unlearner's own lock guards its removals, which drop this explainer's fit
    # (taking the explainer's lock, held by the query): the lock of the model inside
    # it is the one its correction takes (see unlearning._record._swap_in).
    return None if holder is None or hasattr(holder, "retained_mask_") else holder


@contextlib.contextmanager
def model_held(explainer):
    """Hold the explained model for one query of ``explainer`` (held shared already):
    the query's answer is of the model checked at its start."""
    model = _traced_model(explainer)
    with shared(model) if model is not None else contextlib.nullcontext():
        # (the fingerprint is the query's own check: not taken twice)
        held = explainer.__dict__.get("estimator_")
        snapshot = None if held is None else ReadSnapshot(held, by_content=False)
        yield
        # a model without a lock (or a change not made by a fit) refitted meanwhile
        explainer._check_model_unchanged()
        change = None if snapshot is None else snapshot.change(held, by_content=False)
        if change is not None:
            raise ValueError(
                f"The explained model changed while {type(explainer).__name__} answered "
                f"this query ({change}): the rows were read from two fits of it, so the "
                "answer is refused. Ask again once the model is not being refitted."
            )


def given_model_held(explainer):
    """Hold the model ``explainer`` was given, for its fit: a fitted model is read as it
    is (its rows checked against its run, its steps transform them, its fingerprint
    recorded), with no refit of it in between."""
    model = _traced_model(explainer, given=True)
    return shared(model) if model is not None else contextlib.nullcontext()
