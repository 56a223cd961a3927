"""Preprocessing that draws randomly at fit without an int seed: a refit draws anew.

A step with ``random_state=None`` (or a ``RandomState`` instance, which each fit
advances) and whose output depends on its draw (``RBFSampler``, ``Nystroem``,
``IterativeImputer(sample_posterior=True)``, a ``SelectFromModel`` over an unseeded
forest) gives a refit on the retained rows other features than any retrain: each draws
its own. The unlearned pipeline then matches a retrain only in distribution, however
small its certificate (which is of the final step on the refit's features), and the
removal's event must say so. Whether the output depends on the draw is measured, not
assumed (most steps with a ``random_state`` use it only on some data or settings): the
preprocessing is fitted on the retained rows with every such seed set to 0, then once
more per seed set to 1 instead, once per unlearner (at its first removal).

``TargetEncoder`` is left to :func:`._pipeline_refit._unseeded_cross_fitting`: its
draw changes the features the final step is fitted on (cross fitting), not
``transform``'s, and it has its own note.
"""

import numpy as np
from sklearn.base import clone
from sklearn.preprocessing import TargetEncoder

from ._weights import sample_weight_params

__all__ = ["redrawn_steps", "unseeded_random_states"]


def unseeded_random_states(pre):
    """Parameter paths (``step__random_state``, nested as ``get_params(deep=True)``
    names them) of ``pre`` whose value is not an int seed: None or a
    ``RandomState``/``Generator`` instance. ``TargetEncoder``'s are left out."""
    params = pre.get_params(deep=True)
    found = []
    for path, value in params.items():
        if not (path == "random_state" or path.endswith("__random_state")):
            continue
        if value is not None and not isinstance(
            value, (np.random.RandomState, np.random.Generator)
        ):
            continue
        owner = params.get(path[: -len("__random_state")], pre) if "__" in path else pre
        if isinstance(owner, TargetEncoder):
            continue
        found.append(path)
    return found


def redrawn_steps(pre, rows, y, sample_weight, differs):
    """Steps of the unfitted preprocessing ``pre`` whose features depend on an unseeded
    random draw, by parameter path (``step`` or ``step__sub``); empty when none does.

    Parameters
    ----------
    pre : Pipeline
        The preprocessing, unfitted (or fitted: it is cloned, never changed).
    rows : callable
        Returns a fresh copy of the rows to fit on (a ``copy=False`` step may write
        into them), each call.
    y : ndarray
        Their targets.
    sample_weight : ndarray or None
        The weights the preprocessing is fitted with.
    differs : callable
        ``differs(a, b)``: whether two feature matrices differ beyond rounding.
    """
    paths = unseeded_random_states(pre)
    if not paths:
        return []

    def features(seeds):
        twin = clone(pre).set_params(**seeds)
        twin.fit(rows(), y, **sample_weight_params(twin, sample_weight))
        return twin.transform(rows())

    # one seed changed at a time: a step whose random_state goes unused is not named
    base = features(dict.fromkeys(paths, 0))
    return [
        path.rsplit("__", 1)[0] if "__" in path else path
        for path in paths
        if differs(base, features({**dict.fromkeys(paths, 0), path: 1}))
    ]
