"""The column arrays of a DataFrame, without building a Series per column."""


def column_arrays(X):
    """``(dtype, values)`` of each column of a frame, without building a Series per column.

    A Series per column costs a deep copy of ``DataFrame.attrs`` each time (and
    ``X.dtypes`` a Series of its own), which dominates work on a few hundred rows or a
    traced frame of modest size; the block manager hands out the column arrays directly
    (``iloc`` is the fallback should that ever change).
    """
    manager = getattr(X, "_mgr", None)
    for j in range(X.shape[1]):
        try:
            values = manager.iget_values(j)
        except AttributeError:
            values = X.iloc[:, j].array
        yield values.dtype, values
