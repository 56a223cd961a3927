"""What a removal left of the model's inputs, against the run as fitted: for its event.

A removal whose preprocessing is refitted on the retained rows can change the features
the model takes: a category or term only removed rows had is gone, and a term a
document-frequency or ``max_features`` limit left out at fit may now pass it. The run as
stored at fit (which a compliance report rests on) lists the fit's features, so the
event records the model's inputs as the removal left them: their count, the names of the
inputs the fit did not have (values of retained rows: the refitted preprocessing makes
them from those) and the count of the fit's inputs the model no longer takes, never
their names (they may be values of removed rows).

The fit's names are read from the stored run when a removal changes the inputs, not
kept by the unlearner: its pickle must hold no value of a removed row.
"""

from sklearn.pipeline import Pipeline

from ..exceptions import UnknownRunError

__all__ = ["features_after"]


def _names(steps):
    try:
        return [str(n) for n in Pipeline(list(steps)).get_feature_names_out()]
    except (AttributeError, ValueError, TypeError, NotImplementedError):
        return None  # a step that names no features (HashingVectorizer)


def _fit_names(unl, stores):
    """The model inputs the run stored at fit lists, in order (None: not stored)."""
    for store in stores:
        if store is None or unl.run_id_ is None:
            continue
        try:
            run = store.load_run(unl.run_id_)
        except UnknownRunError:
            continue
        return [str(name) for name in run.feature_lineage]
    return None


def features_after(unl, removal, store):
    """The event field ``features_after`` of ``removal`` by the unlearner ``unl`` (whose
    ``estimator_`` is still the model before it), or None when the model's inputs are
    the fit's, or cannot be named (then the event's note says what changed).

    Returns
    -------
    dict or None
        ``n_features`` (the model's inputs after the removal), ``n_features_at_fit``,
        ``added_since_fit`` (names the fitted run does not list, in the model's order)
        and ``n_dropped_since_fit``.
    """
    estimator = unl.estimator_
    if store is None or not isinstance(estimator, Pipeline) or len(estimator.steps) < 2:
        return None
    now = _names(removal.preprocessing or estimator.steps[:-1])
    if now is None:
        return None
    if now == _names(estimator.steps[:-1]):
        # as the last removal left them (by induction, the fit's when it recorded none)
        last = unl.unlearning_log_[-1].get("features_after") if unl.unlearning_log_ else None
        return None if last is None else dict(last)
    fit = _fit_names(unl, (getattr(estimator, "store", None), store))
    if fit is None or now == fit:
        return None
    known, kept = set(fit), set(now)
    return {
        "n_features": len(now),
        "n_features_at_fit": len(fit),
        "added_since_fit": [name for name in now if name not in known],
        "n_dropped_since_fit": sum(name not in kept for name in fit),
    }
