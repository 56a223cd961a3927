"""GroupStatistics: per-group statistics of the training rows, joined back to every row."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._state_format import StateFormatMixin
from ..utils._sklearn_compat import StrOptions

__all__ = ["GroupStatistics"]

_STATISTICS = ("mean", "median", "min", "max", "std", "count", "sum")


class GroupStatistics(StateFormatMixin, TransformerMixin, BaseEstimator):
    """Append per-group statistics of the training rows to every row.

    A feature such as "the mean blood pressure of the patient's ward" carries information
    from every training row of the ward. Computed inside a traced pipeline by this
    transformer, it is fitted on the training rows only, recorded as an op with its
    feature lineage (``bp_mean_by_ward <- bp, ward``), and refitted when rows are
    unlearned, so no statistic of a removed row survives a removal. Computed outside
    the pipeline, use :func:`sktraceprop.aggregate` and :func:`sktraceprop.merge`,
    which record the aggregate's rows instead.

    Parameters
    ----------
    by : list of str or int
        Grouping columns (names for DataFrames, positions for arrays). They must hold
        numbers for array input.
    columns : list of str or int
        Columns to summarise per group.
    statistic : {"mean", "median", "min", "max", "std", "count", "sum"}, default="mean"
        The statistic of each column.

    Attributes
    ----------
    statistics_ : DataFrame
        One row per training group (indexed by the group keys), one column per output.
        Only keys some training row has make a group (a categorical's unused categories
        do not, with pandas 2 as with pandas 3); rows with a missing key are in none.
    overall_ : Series
        The statistic over all training rows, used for groups unseen at fit time.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        Input names, when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from sktraceprop.preprocessing import GroupStatistics
    >>> X = pd.DataFrame({"ward": [1, 1, 2], "bp": [120.0, 140.0, 100.0]})
    >>> GroupStatistics(by=["ward"], columns=["bp"]).fit_transform(X)["bp_mean_by_ward"].tolist()
    [130.0, 130.0, 100.0]
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)

    _parameter_constraints = {
        "by": [list, tuple],
        "columns": [list, tuple],
        "statistic": [StrOptions(set(_STATISTICS))],
    }

    def __init__(self, by, columns, *, statistic="mean"):
        self.by = by
        self.columns = columns
        self.statistic = statistic

    def _frame(self, X, reset):
        if isinstance(X, pd.DataFrame):
            validate_data(
                self,
                X,
                reset=reset,
                ensure_all_finite="allow-nan",
                dtype=None,
                skip_check_array=True,
            )
            return X
        X = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan")
        return pd.DataFrame(X, columns=list(range(X.shape[1])))

    def _names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return [f"x{j}" for j in range(self.n_features_in_)]
        return [str(n) for n in names]

    def _resolve(self, frame, keys, what):
        cols = list(frame.columns)
        out = []
        for key in keys:
            if key in cols:
                out.append(key)
            elif isinstance(key, int | np.integer) and 0 <= key < len(cols):
                out.append(cols[key])
            else:
                raise ValueError(
                    f"GroupStatistics: {what} column {key!r} is not in X, which has "
                    f"{len(cols)} feature(s)"
                )
        return out

    def fit(self, X, y=None):
        """Compute the statistic of ``columns`` per group of ``by`` over the rows of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : GroupStatistics
        """
        self._validate_params()
        frame = self._frame(X, reset=True)
        by = self._resolve(frame, self.by, "grouping")
        columns = self._resolve(frame, self.columns, "summarised")
        if not by or not columns:
            raise ValueError("GroupStatistics needs at least one column in by and in columns")
        # observed=True: a categorical key's categories with no training row make no
        # group, as in pandas 3; pandas 2 made empty groups whose count and sum (0) then
        # stood for an unseen group instead of the overall statistic
        grouped = frame[columns].groupby([frame[b] for b in by], sort=True, observed=True)
        self.statistics_ = grouped.agg(self.statistic).astype(np.float64)
        self.overall_ = frame[columns].agg(self.statistic).astype(np.float64)
        self._by = by
        cols = list(frame.columns)
        self._by_positions = [cols.index(b) for b in by]
        self._column_positions = [cols.index(c) for c in self.statistics_.columns]
        return self

    def get_feature_names_out(self, input_features=None):
        """Input feature names, then ``<column>_<statistic>_by_<by>`` for each column.

        Parameters
        ----------
        input_features : array-like of str, default=None

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        names = self._names() if input_features is None else [str(n) for n in input_features]
        by = "_".join(names[p] for p in self._by_positions)
        added = [f"{names[p]}_{self.statistic}_by_{by}" for p in self._column_positions]
        return np.asarray(names + added, dtype=object)

    def transform(self, X):
        """Append the fitted group statistics to every row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        Xt : DataFrame or ndarray of shape (n_samples, n_features + len(columns))
            A DataFrame (same index) for DataFrame input, else an array.
        """
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        keys = (
            pd.MultiIndex.from_frame(frame[self._by]) if len(self._by) > 1 else frame[self._by[0]]
        )
        looked_up = self.statistics_.reindex(keys)
        values = looked_up.to_numpy(dtype=np.float64, copy=True)
        unseen = np.isnan(values)
        values[unseen] = np.broadcast_to(self.overall_.to_numpy(), values.shape)[unseen]
        names = self.get_feature_names_out()
        if isinstance(X, pd.DataFrame):
            added = pd.DataFrame(values, index=X.index, columns=names[X.shape[1] :])
            return pd.concat([X, added], axis=1)
        return np.hstack([np.asarray(frame, dtype=np.float64), values])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
