"""The features a fitted hyper-parameter search's model takes.

A search over a pipeline (``GridSearchCV(make_pipeline(SelectKBest(), model))``) as the
final estimator refits its best pipeline on the rows it is given: the model that predicts
takes that pipeline's output features, not the search's inputs. Feature lineage follows
the steps of the best pipeline too, as it follows a pipeline given as the final step
(a selection there keeps some features, and uses the target).
"""

from sklearn.pipeline import Pipeline

from ._final import model_of


def searched_steps(estimator):
    """The steps before the model of the best pipeline of a fitted search that is the
    model of ``estimator`` (see :func:`~._final.model_of`), as one pipeline; None when
    the model is no fitted search, or its best estimator has no steps before a model."""
    search = model_of(getattr(estimator, "estimator_", estimator))[0]
    steps = []
    while hasattr(search, "best_estimator_"):  # (refit=True: the model that predicts)
        search, inner = model_of(search.best_estimator_)
        steps += inner
    return Pipeline(list(steps)) if steps else None


def with_searched_steps(transformer, estimator):
    """``transformer`` (the steps before the model, or None) followed by the steps of the
    best pipeline of a search that is the model of ``estimator``."""
    inner = searched_steps(estimator)
    if inner is None:
        return transformer
    if transformer is None:
        return inner
    return Pipeline([("steps", transformer), ("searched", inner)])
