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
The explainer's fit holds a fitted model it was given the same way: a refit in between
had it describe the new model while crediting the rows of the old one's run.
"""

import contextlib

from .._model_lock import shared
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
        yield
        # a model without a lock (or a change not made by a fit) refitted meanwhile
        explainer._check_model_unchanged()


def given_model_held(explainer):
    """Hold the model ``explainer`` was given, for its fit: a fitted model is read as it
    is (its rows checked against its run, its steps transform them, its fingerprint
    recorded), with no refit of it in between."""
    model = _traced_model(explainer, given=True)
    return shared(model) if model is not None else contextlib.nullcontext()
