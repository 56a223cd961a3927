"""The versions of Python and of the libraries a run records."""

import platform
import sys
from functools import lru_cache

import numpy as np
import pandas as pd


@lru_cache(maxsize=1)
def library_versions():
    """Versions of Python and the libraries a run depends on."""
    import joblib
    import scipy
    import sklearn

    from .. import __version__

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "sktraceprop": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }
