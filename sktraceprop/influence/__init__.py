"""Influence of training rows on predictions, traced to source files and lines."""

from ._explanation import Explanation
from ._influence import InfluenceExplainer

__all__ = ["Explanation", "InfluenceExplainer"]
