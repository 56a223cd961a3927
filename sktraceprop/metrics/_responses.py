"""The models an unlearning metric compares, and their outputs column for column.

The retrain(s) as a list, and each model's outputs on the same rows by one response
method, laid out so that a column means the same for every model (or refused where
it cannot). Used by :mod:`._unlearning` and :class:`~sktraceprop.plotting.UnlearningDisplay`.
"""

import numpy as np
from sklearn.base import is_classifier

RESPONSE_ORDER = ("decision_function", "predict_proba", "predict")


def as_list(retrained):
    """The retrain(s) as a non-empty list (a single estimator or a sequence of them)."""
    if isinstance(retrained, list | tuple):
        if not retrained:
            raise ValueError("retrained is an empty list; give at least one retrained model")
        return list(retrained)
    return [retrained]


def _response(estimator, X, name):
    out = np.asarray(getattr(estimator, name)(X), dtype=np.float64)
    return out.reshape(out.shape[0], -1)


def responses(models, X, response_method):
    """The outputs of ``models`` on ``X`` by one method, column for column.

    ``"auto"`` takes the first method of ``decision_function``, ``predict_proba`` and
    ``predict`` that every model has. Classifiers that know different classes (a
    retrain without every row of a class) have columns of different meaning: their
    probabilities are laid out over all the classes, 0 for a class a model does not
    know; their decision functions are refused.
    """
    methods = RESPONSE_ORDER if response_method == "auto" else (response_method,)
    name = next((n for n in methods if all(hasattr(m, n) for m in models)), None)
    if name is None:
        raise AttributeError(f"the models do not all have one of {', '.join(methods)}")
    known = [getattr(m, "classes_", None) if is_classifier(m) else None for m in models]
    coded = [
        c for c in known if c is not None and (len(c) > 2 or np.asarray(c).dtype.kind in "OSU")
    ]
    if name == "predict" and coded:
        # a distance between multiclass or text labels depends on how they are coded
        raise ValueError(
            f"response_method='predict' compares class labels ({np.asarray(coded[0]).tolist()}) "
            "as numbers, which is meaningful for two numeric classes only; pass "
            "'predict_proba' or 'decision_function'"
        )
    outs = [_response(m, X, name) for m in models]
    differ = all(c is not None for c in known) and any(
        len(c) != len(known[0]) or np.any(np.asarray(c) != np.asarray(known[0])) for c in known
    )
    if differ and name == "decision_function":
        named = "; ".join(
            f"{type(m).__name__} {np.asarray(c).tolist()}" for m, c in zip(models, known)
        )
        raise ValueError(
            f"the models know different classes ({named}): their decision_function "
            "outputs do not compare column for column; pass "
            "response_method='predict_proba' (a class a model does not know has "
            "probability 0 there)"
        )
    if differ and name == "predict_proba":
        every = np.unique(np.concatenate([np.asarray(c) for c in known]))  # sorted, as sklearn
        aligned = []
        for out, classes in zip(outs, known):
            full = np.zeros((out.shape[0], every.size))
            full[:, np.searchsorted(every, np.asarray(classes))] = out
            aligned.append(full)
        outs = aligned
    shapes = {out.shape for out in outs}
    if len(shapes) > 1:
        raise ValueError(
            f"the models' {name} outputs have different shapes {sorted(shapes)}: they "
            "cannot be compared on these rows"
        )
    return name, outs
