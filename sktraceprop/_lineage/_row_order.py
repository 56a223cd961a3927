"""Rows a step returned without row ids, checked to reach the final estimator in order.

scikit-learn's transformers keep every row in its place, and samplers say where each row
went (``sample_indices_``). A ``FunctionTransformer`` running a user's function, or a
class from outside scikit-learn, may sort, shuffle or replace rows and return a NumPy
array (or a DataFrame with a new index): no row id then says which row is which, and
with ``y`` scikit-learn pairs the rows with other rows' targets without a word. So does
a step that puts sorted values back under the index it was given (``set_axis``): the ids
arrive in order, on other rows' values. The rows kept count; their order is checked
here: a few of the rows given to ``fit``, spread over them, are run again, one at a time,
through the fitted steps before the final estimator and compared with the rows it
received at the same positions.

- Each one found at its own position: the rows are taken to be in order (as far as those
  rows show: a step that moves only other rows is not seen).
- One found only at another position, and every other one found somewhere: a step moved
  the rows; the fit is refused.
- One found nowhere: the steps' ``transform`` gives other values than their fit did (a
  function of the whole batch, ``TargetEncoder``'s cross-fitting, a random step), so
  the check cannot tell; where no ids came, the run's notes say that the order was not
  checked.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.pipeline import Pipeline

from ..exceptions import LineageError, LineageLostError
from ..utils._quiet import quiet
from ._capture import describe_id
from ._declared import N_ROWS, transformed
from ._features import has_declared
from ._same_values import RTOL, as_rows, equal_cells

#: At most this many rows of the final estimator's input are compared with a sample row
#: that is not at its own position (those whose first value is the sample row's).
MAX_CANDIDATES = 10_000


def unchecked_steps(steps):
    """Names of the steps (``(name, step)``, samplers left out) whose code alone decides
    which rows they return (see :func:`._declared.declared`): their output is checked."""
    return [
        name for name, step in steps if not hasattr(step, "fit_resample") and has_declared(step)
    ]


def _take(Z, positions):
    """Rows ``positions`` of ``Z`` as a dense 2-D array, or None."""
    try:
        if isinstance(Z, pd.DataFrame):
            rows = as_rows(Z.iloc[positions])
        elif sp.issparse(Z):
            rows = Z.tocsr()[positions].toarray()
        else:
            rows = np.asarray(Z)[positions]
    except (TypeError, ValueError, IndexError, AttributeError):
        return None
    rows = np.asarray(rows)
    if rows.ndim == 1:
        rows = rows.reshape(-1, 1)
    return rows if rows.ndim == 2 else None


def _sample(Z, positions):
    """Rows ``positions`` of ``Z`` in its own container (what a step's transform takes)."""
    if isinstance(Z, pd.DataFrame):
        return Z.iloc[positions]
    if sp.issparse(Z):
        return type(Z)(Z.tocsr()[positions])
    if isinstance(Z, np.ndarray):
        return np.array(Z[positions])
    return None


def _same(a, b, rtol=RTOL):
    """Per row, whether the 2-D arrays ``a`` and ``b`` hold the same values (floats
    within ``rtol``; 0: exactly)."""
    if a.shape != b.shape:
        return np.zeros(a.shape[0], dtype=bool)
    return np.all(equal_cells(a, b, rtol), axis=1)


def _first_column(Z):
    if isinstance(Z, pd.DataFrame):
        return Z.iloc[:, 0].to_numpy()
    if sp.issparse(Z):
        return Z.tocsc()[:, 0].toarray().ravel()
    return np.asarray(Z)[:, 0]


def _found_at(received, row, rtol=RTOL):
    """Positions of the final estimator's input that hold ``row`` (a 1-D array), and
    whether they are all of them (only :data:`MAX_CANDIDATES` rows whose first value is
    the row's are compared)."""
    first = _first_column(received)
    column = first.reshape(-1, 1)
    candidates = np.flatnonzero(_same(column, np.full((first.size, 1), row[0]), rtol))
    complete = candidates.size <= MAX_CANDIDATES
    candidates = candidates[:MAX_CANDIDATES]
    rows = _take(received, candidates) if candidates.size else None
    if rows is None:
        return candidates[:0], complete
    return candidates[_same(rows, np.broadcast_to(row, rows.shape), rtol)], complete


def _input_positions(steps, n):
    """Position in the rows given to fit of each row past the samplers among ``steps``."""
    positions = np.arange(n)
    for _, step in steps:
        if hasattr(step, "fit_resample"):
            positions = positions[np.asarray(step.sample_indices_)]
    return positions


def _through(steps, out):
    """``out`` run through the fitted ``steps`` (samplers left out: they change rows at
    fit only), as a 2-D array, or None when a transform fails."""
    for _, step in steps:
        if not hasattr(step, "fit_resample"):
            out = transformed(step, out)
            if out is None:
                return None
    return _take(out, slice(None))


def _alone(X, steps, given):
    """Each row ``given`` of ``X`` run alone through the fitted ``steps`` (alone, so that a
    step that reorders rows cannot move it), as one 2-D array, or None."""
    rows = [_through(steps, _sample(X, [position])) for position in given]
    if any(row is None or row.shape[0] != 1 for row in rows):
        return None
    return np.concatenate(rows)


def _among(rows, pool):
    """Whether every row of ``rows`` is a row of ``pool`` (2-D arrays)."""
    return all(_same(pool, np.broadcast_to(row, pool.shape)).any() for row in rows)


def _moved(X, steps, received, given, at):
    """``(count, k, position)``: the ``k``-th sample row reached the final estimator only
    elsewhere, at ``position`` (one of ``count`` positions holding its values, ``inf``
    when not all were compared; the fewest of the moved rows); None when every sample
    row is at its own position; or a string, why the order cannot be told."""
    alone = _alone(X, steps, given)
    seen = _take(received, at)
    if alone is None or seen is None:
        return "the rows could not be run through them again"
    if not _same(alone, _alone(X, steps, given)).all():
        return "they gave other values for the same rows when run twice"
    if alone.shape != seen.shape:
        return "they gave another number of features than the final estimator received"
    here = _same(alone, seen)
    if here.all():
        return _moved_within_tolerance(alone, seen, received)
    together = _through(steps, _sample(X, given))
    if together is None or together.shape != alone.shape or not _among(together, alone):
        # a step computes a row from the rows run with it: a row alone is no evidence
        return "they gave rows run together other values than rows run alone"
    moved = []
    for k in np.flatnonzero(~here):
        where, complete = _found_at(received, alone[k])
        if where.size == 0:
            return "they gave values the final estimator did not receive"
        moved.append((where.size if complete else np.inf, int(k), int(where[0])))
    # named: a row found at one position only, where there is one (rows of equal values
    # cannot be told apart)
    return min(moved)


def _moved_within_tolerance(alone, seen, received):
    """Rows that :func:`_moved` took to be at their own position only within the floats'
    tolerance (rows of values closer than ``RTOL``: nanosecond timestamps as floats),
    found exactly at another position and not at their own: moved, as :func:`_moved`
    says it. None when there is none (rounding of a row run alone matches no row)."""
    moved = []
    for k in np.flatnonzero(~_same(alone, seen, 0.0)):
        where, complete = _found_at(received, alone[k], 0.0)
        if where.size:
            moved.append((where.size if complete else np.inf, int(k), int(where[0])))
    return min(moved) if moved else None


def check_order(X, steps, received, ids, row_ids, with_y, step, carried=False):
    """Check that the final estimator received the rows ``row_ids`` in order.

    Parameters
    ----------
    X : the data given to ``fit``
    steps : list of (str, estimator)
        The fitted steps before the final estimator.
    received : the data the final estimator was fitted on (as many rows as ``row_ids``)
    ids, row_ids : ndarray of int64
        Row ids given to ``fit``, and of the rows past the samplers among ``steps``.
    with_y : bool
        Whether a target was passed to the final estimator.
    step : str
        How messages name the final estimator.
    carried : bool, default=False
        Whether ``received`` carried the ids ``row_ids``: then only values of other rows
        under them are looked for (a step that moved the values and kept the index), and
        a check that cannot tell says nothing (the ids say the order).

    Returns
    -------
    note : str or None
        What the run should say when the order could not be checked.

    Raises
    ------
    LineageError
        A step moved rows and ``y`` came with them unchanged.
    LineageLostError
        A step moved rows, without ``y``.
    """
    labels = ", ".join(repr(n) for n in unchecked_steps(steps))
    at = np.unique(np.linspace(0, row_ids.size - 1, min(row_ids.size, N_ROWS)).astype(np.intp))
    given = _input_positions(steps, ids.size)[at]
    with quiet():
        # (a step's warnings on a row alone, 0/0 in a function of the batch, are the
        # check's, not the user's fit's: dropped in this thread alone)
        found = _moved(X, steps, received, given, at)
    if not isinstance(found, str | type(None)):
        _refuse(found, ids[given], row_ids, with_y, step, labels, at.size, carried)
    if found is None or carried:
        return None
    return (
        f"step(s) {labels} returned rows without row ids, and the fitted steps before "
        f"{step}, run again on {at.size} of the rows given to fit, did not give the rows it "
        f"received at their positions ({found}): that each row kept its place is not "
        "checked; the run names the rows given to fit, in the order given"
    )


def _refuse(moved, given_ids, row_ids, with_y, step, labels, m, carried):
    count, k, position = moved
    how = "under row ids that are not theirs" if carried else "without row ids"
    alike = "" if count == 1 else f", one of {count:g} rows of its values"
    if count == np.inf:
        alike = ", one of many rows of its values"
    found = (
        f"the row given to fit as {describe_id(given_ids[k])} reached {step} as its row "
        f"{position}{alike}, where {describe_id(row_ids[position])} was given (found by running "
        f"{m} of the rows given to fit again, one at a time, through the fitted steps; "
        f"step(s) {labels} returned rows {how})"
    )
    if with_y:
        raise LineageError(
            f"a step before {step} moved the rows of X: {found}, but y was passed on "
            "unchanged, so rows were paired with other rows' targets. Filter or sort X and "
            "y together, before fit."
        )
    raise LineageLostError(
        f"a step before {step} moved the rows of X: {found}, so the rows the model saw "
        "cannot be traced in its order. Filter or sort the rows before fit, or return a "
        "DataFrame that keeps the row-id index from that step."
    )


def deep_params(leaf):
    """``leaf.get_params(deep=True)``, or None for an object without it, or whose
    ``get_params`` fails (nothing to look in)."""
    if not hasattr(leaf, "get_params"):
        return None
    try:
        return leaf.get_params(deep=True)
    except Exception:  # noqa: BLE001 (a class with a broken get_params)
        return None


def nested_note(leaf, step):
    """The run's note when the final estimator ``leaf`` fits pipelines of its own (the
    regressor of a ``TransformedTargetRegressor``, a stacking ensemble's members) with
    steps whose code alone decides which rows they return: the rows those pipelines'
    models receive are not seen, so not checked (see :func:`check_order`); None when it
    fits none."""
    params = deep_params(leaf)
    if params is None:
        return None
    labels = sorted(
        {
            name
            for value in params.values()
            if isinstance(value, Pipeline)
            for name in unchecked_steps(value.steps[:-1])
        }
    )
    if not labels:
        return None
    return (
        f"{step} fits pipeline(s) of its own whose step(s) "
        f"{', '.join(repr(n) for n in labels)} may return rows in another order, without "
        "row ids; the rows reaching the models inside them are not seen, so that each row "
        "kept its place there is not checked"
    )
