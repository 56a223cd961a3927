"""The one module that imports private scikit-learn names (they move between releases)."""

from sklearn.pipeline import _name_estimators as name_estimators
from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples as num_samples

__all__ = ["Interval", "StrOptions", "name_estimators", "num_samples", "safe_indexing"]
