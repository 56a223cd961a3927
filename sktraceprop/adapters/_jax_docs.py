"""The ``fit`` docstring :class:`~sktraceprop.adapters.JaxClassifier` and
:class:`~sktraceprop.adapters.JaxRegressor` share, filled in for each."""

__all__ = ["fit_doc"]

#: The fit docstring both estimators share (numpydoc reads ``fit.__doc__``, set after each).
_FIT_DOC = """Train the model on ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : {y}
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Non-negative weights of the rows; None weighs every row 1. The data term of
            the objective becomes the weighted mean ``sum_i w_i loss_i / sum_i w_i``
            (in mini-batch training, the weighted mean over each batch). Rows of weight
            zero are left out before training, exactly as if they were removed{removed};
            with full-batch training an integer weight ``k`` is the same objective as
            ``k`` copies of the row. Equal weights train exactly as None.

        Returns
        -------
        self : {cls}
            The fitted {what}.

        Raises
        ------
        ValueError
            If ``sample_weight`` has the wrong shape, contains NaN, infinite or negative
            values, {zero}.
        """


def fit_doc(cls, what, *, y, removed, zero):
    """``fit``'s docstring for the estimator ``cls`` (a ``what``)."""
    return _FIT_DOC.format(cls=cls, what=what, y=y, removed=removed, zero=zero)
