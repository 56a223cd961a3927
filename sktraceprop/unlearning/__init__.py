"""Remove rows or whole sources from fitted models, certified and audited.

The estimator, :class:`GradientCorrectionUnlearner` (:mod:`._gradient_correction`), holds
the parameters and the scikit-learn surface. ``fit`` (:mod:`._fit`) and ``unlearn``
(:mod:`._unlearn`) are sequences of named steps, each in a mixin of its own; the steps
live apart, each readable alone:

- :mod:`._prepare`: what ``fit`` checks before fitting, the clone it fits, and the
  removal method it prepares for the fitted model;
- :mod:`._fitted_state`: the fitted state ``fit`` sets (or discards when it fails part
  way), and the pieces of it a request is resolved against;
- :mod:`._request`: what a request (``forget=``, or ``unlearn``'s source ids, row ids
  or mask) reaches among the training rows, merged rows' parents included;
- :mod:`._record`: a removal carried out and its audit record (the event, its fields
  built in :mod:`._event_fields`, stored before the corrected model is swapped in).

How a model forgets is a removal method (:mod:`._method`), one module each:

- :mod:`._convex`: Newton steps on the retained objective of a convex model (how a
  ``LogisticRegression`` forgets), certified by the retained gradient norm (the
  correction on the retained rows in :mod:`._convex_correct`);
- :mod:`._pipeline_refit`: a pipeline's preprocessing refitted on the retained rows,
  then the Newton correction of its final step;
- :mod:`._neural`: an influence step plus fine-tuning for neural classifiers, or, with
  ``neural_method="refit"``, the network retrained on the retained rows
  (:mod:`._neural_refit`; a skorch net's retrain seeded in :mod:`._neural_seed_torch`).

A removal is computed on copies; the event is appended to the store, and only then is
the corrected model swapped in and the removed rows' data dropped, so a failure at any
point leaves the unlearner as it was.
"""

from ._event import RemovedRows, UnlearningEvent
from ._gradient_correction import GradientCorrectionUnlearner

__all__ = ["GradientCorrectionUnlearner", "RemovedRows", "UnlearningEvent"]
