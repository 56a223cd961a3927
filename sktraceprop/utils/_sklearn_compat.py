"""The one module that imports private scikit-learn names (they move between releases)."""

from sklearn.pipeline import _name_estimators as name_estimators
from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples as num_samples

__all__ = [
    "Interval",
    "StrOptions",
    "model_selection_internals",
    "name_estimators",
    "num_samples",
    "routing_children",
    "safe_indexing",
    "sample_id_request",
    "successive_halving_base",
]


def model_selection_internals():
    """``(BaseSearchCV, _fit_and_score, _fit_and_predict)``: the search base class and
    the functions that fit one cross-validation split (imported when first needed)."""
    from sklearn.model_selection._search import BaseSearchCV
    from sklearn.model_selection._validation import _fit_and_predict, _fit_and_score

    return BaseSearchCV, _fit_and_score, _fit_and_predict


def successive_halving_base():
    """``BaseSuccessiveHalving``, the base class of the halving searches, or None when
    its module is not imported (then no halving search exists in this process)."""
    import sys

    module = sys.modules.get("sklearn.model_selection._search_successive_halving")
    return None if module is None else getattr(module, "BaseSuccessiveHalving", None)


def routing_children(router):
    """``(name, (method mapping, routing))`` for each child of a ``MetadataRouter``, and
    ``(None, ...)`` for the metadata the router consumes itself (its self request)."""
    for name, pair in router:
        yield (None if name == "$self_request" else name), (pair.mapping, pair.router)


def sample_id_request(estimator):
    """A ``MetadataRequest`` holding only ``estimator``'s request of ``sample_id`` in fit.

    ``estimator._get_metadata_request()`` is its request built from every method's
    signature; scikit-learn's own scorer reads it directly before release 1.7 or so.
    """
    from sklearn.utils.metadata_routing import MetadataRequest

    own = estimator._get_metadata_request()
    request = MetadataRequest(owner=own.owner)
    if "sample_id" in own.fit.requests:
        request.fit.add_request(param="sample_id", alias=own.fit.requests["sample_id"])
    return request
