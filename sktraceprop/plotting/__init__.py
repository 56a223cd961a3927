"""Plots in scikit-learn's Display pattern (matplotlib, optional and imported lazily).

Each display is built by a ``from_estimator`` (or ``from_explanation`` /
``from_lineage``) class method that computes what is drawn, and draws it with
``plot(ax=...)``; the numbers drawn stay on the display object.
"""

from ._influence import InfluenceDisplay
from ._lineage import LineageDisplay
from ._sources import BySourceDisplay
from ._unlearning import UnlearningDisplay

__all__ = ["BySourceDisplay", "InfluenceDisplay", "LineageDisplay", "UnlearningDisplay"]
