"""A copy of data given to ``fit`` that nothing else can write into."""

import copy

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["private_copy", "shares_memory"]


def private_copy(X):
    """A copy of ``X`` sharing no memory with it.

    What an estimator keeps of (or computes from) its training data after the fit must
    be the rows as given: a step with ``copy=False`` (``SimpleImputer``,
    ``StandardScaler``) writes into the data it is fitted on or transforms, even through
    a pandas frame that shares its values (scikit-learn makes the array writeable), and
    a caller may write into an array after the fit. A NumPy array subclass (a traced
    array) becomes a plain array: its row ids are read from ``X`` itself.
    """
    if isinstance(X, pd.DataFrame | pd.Series):
        return X.copy(deep=True)
    if isinstance(X, np.ndarray):
        return np.array(X, copy=True)
    if sp.issparse(X):
        return X.copy()
    return copy.deepcopy(X)


def shares_memory(out, X):
    """Whether ``out`` (an array computed from ``X``) may share memory with ``X``: an
    identity step's output, or a float64 array that validation did not copy."""
    if out is X:
        return True
    if sp.issparse(out):
        if not sp.issparse(X):
            return False
        return any(
            np.may_share_memory(getattr(out, a), getattr(X, a))
            for a in ("data", "indices", "indptr")
            if hasattr(out, a) and hasattr(X, a)
        )
    if not isinstance(out, np.ndarray):
        return False
    if isinstance(X, np.ndarray):
        return np.may_share_memory(out, X)
    if isinstance(X, pd.DataFrame):
        # numeric NumPy-backed columns are the only ones a float array can be a view of
        return any(
            np.may_share_memory(out, X.iloc[:, j].to_numpy(copy=False))
            for j, dtype in enumerate(X.dtypes)
            if isinstance(dtype, np.dtype) and dtype.kind in "fiub"
        )
    return False
