"""sktraceprop: lineage from source files to predictions, for scikit-learn.

Public names are imported lazily, so ``import sktraceprop`` stays cheap and never
imports torch, jax or compiled kernels.
"""

import importlib

from ._version import __version__  # noqa: F401  (listed in __all__ below)

_LAZY = {
    "read_csv": "._lineage",
    "from_pandas": "._lineage",
    "from_polars": "._lineage",
    "from_numpy": "._lineage",
    "merge": "._lineage",
    "aggregate": "._lineage",
    "row_ids": "._lineage",
    "row_lineage": "._lineage",
    "run_context": "._tracing",
    "search_runs": "._search_runs",
    "Lineage": "._lineage",
    "Op": "._lineage",
    "Source": "._lineage",
    "TracedPipeline": ".pipeline",
    "make_traced_pipeline": ".pipeline",
    "TracedImbPipeline": "._imblearn",
    "TracedColumnTransformer": ".compose",
    "make_traced_column_transformer": ".compose",
    "TracedEstimator": ".wrappers",
    "InfluenceExplainer": ".influence",
    "Explanation": ".influence",
    "JLProjector": ".projection",
    "GradientCorrectionUnlearner": ".unlearning",
    "KNNShapleyValuer": ".valuation",
    "array": ".arrays",
    "provenance": ".arrays",
    "set_granularity": ".arrays",
    "get_granularity": ".arrays",
    "granularity": ".arrays",
    "compliance_report": ".compliance",
}
_SUBMODULES = {
    "adapters",
    "arrays",
    "compliance",
    "compose",
    "datasets",
    "exceptions",
    "exporters",
    "gradients",
    "influence",
    "metrics",
    "pipeline",
    "plotting",
    "preprocessing",
    "projection",
    "signing",
    "stores",
    "unlearning",
    "valuation",
    "wrappers",
}

__all__ = sorted([*_LAZY, *_SUBMODULES, "__version__"])


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'sktraceprop' has no attribute {name!r}")


def __dir__():
    return __all__
