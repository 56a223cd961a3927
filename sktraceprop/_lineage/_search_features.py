"""The features a fitted hyper-parameter search's model takes.

A search over a pipeline (``GridSearchCV(make_pipeline(SelectKBest(), model))``) as the
final estimator refits its best pipeline on the rows it is given: the model that predicts
takes that pipeline's output features, not the search's inputs. Feature lineage follows
the steps of the best pipeline too, as it follows a pipeline given as the final step
(a selection there keeps some features, and uses the target).

A search fitted with ``refit=False`` fits no model on the rows it is given, only one per
split, each with its own fitted steps: no model takes features, and feature lineage says
so (:func:`unrefitted_search`) rather than describe one. A ``best_estimator_`` such a
search still holds was left by an earlier fit, and is not followed.
"""

from sklearn.pipeline import Pipeline

from ._final import model_of


def searched_steps(estimator):
    """The steps before the model of the best pipeline of a fitted search that is the
    model of ``estimator`` (see :func:`~._final.model_of`), as one pipeline; None when
    the model is no fitted search, or its best estimator has no steps before a model."""
    search = model_of(getattr(estimator, "estimator_", estimator))[0]
    steps = []
    # (refit=True: the model that predicts; with refit=False a best_estimator_ is stale)
    while hasattr(search, "best_estimator_") and getattr(search, "refit", True):
        search, inner = model_of(search.best_estimator_)
        steps += inner
    return Pipeline(list(steps)) if steps else None


def unrefitted_search(estimator):
    """The fitted search fitted with ``refit=False`` (falsy) that is the model of
    ``estimator``, or of the best pipeline of a search that is (see
    :func:`searched_steps`); None when the model is a fitted model."""
    search = model_of(getattr(estimator, "estimator_", estimator))[0]
    while hasattr(search, "cv_results_"):
        if not getattr(search, "refit", True):
            return search
        if not hasattr(search, "best_estimator_"):
            return None
        search = model_of(search.best_estimator_)[0]
    return None


def unrefitted_note(search):
    """Said in a run's notes (its feature lineage then maps every input to None)."""
    return (
        f"no model fitted on all the rows: the model is a {type(search).__name__} fitted "
        f"with refit={search.refit!r}, which fitted one model per split (each with its own "
        "fitted steps: a selection may keep other features in each) and none on the rows "
        "it was given, so nothing predicts and which features a model takes is not one "
        "answer; feature lineage unknown. Fit it with refit=True, or report on one split's "
        "run (store.list_runs(search_role='cv_fold'))"
    )


def with_searched_steps(transformer, estimator):
    """``transformer`` (the steps before the model, or None) followed by the steps of the
    best pipeline of a search that is the model of ``estimator``."""
    inner = searched_steps(estimator)
    if inner is None:
        return transformer
    if transformer is None:
        return inner
    return Pipeline([("steps", transformer), ("searched", inner)])
