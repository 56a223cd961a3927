"""Output names that only declare their inputs, checked by perturbing sample rows.

Feature lineage reads which inputs an output uses from its name (see :mod:`._features`).
For scikit-learn's own transformers that reading is tested against what they compute;
for a ``FunctionTransformer`` running a user's function, and for any transformer from
outside scikit-learn, the names are only what the code declares:
``FunctionTransformer(lambda X: X / X.sum(axis=1, keepdims=True),
feature_names_out="one-to-one")`` names each share after its own column, and divides it
by the whole row. Such a step is run on a few of the rows the pipeline was fitted on, one
input column changed at a time; an output that moves with a column its name leaves out
shows the declaration wrong, and every output of the step is then recorded as using
every input of the step (a superset), with a note. The rows are spread over the training
rows, with a row holding a missing value for each column that has one (a step filling a
missing value from other columns uses them only there).

A copy of the step is also fitted on these rows, as they are and with one input column
changed at a time, and applied to the unchanged rows: an output computed from another
column only at fit (each column divided by the first one's spread) shows the declaration
wrong too. The check sees these rows only: an output that uses another column only for
other values can still pass it, and so can one that uses it at fit where a copy of the
step cannot be fitted on the rows without the target (or fits differently each time).
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone

from ..utils._quiet import quiet
from ..utils._sklearn_compat import safe_indexing
from ._same_values import as_rows, equal_cells

#: How many training rows the declared steps are run on.
N_ROWS = 16

#: How many of the first rows are searched for missing values to add to the sample.
SCANNED = 100_000

#: Steps with more inputs than this are not checked (each input costs a transform).
MAX_INPUTS = 256


def declared(est):
    """Whether the dependencies read from ``est``'s output names are only declared: a
    ``FunctionTransformer`` other than a NumPy ufunc (elementwise by definition) or the
    identity with ``feature_names_out="one-to-one"`` (a callable may name any output
    after any input), or a class from outside scikit-learn."""
    module = type(est).__module__
    if module.startswith("sklearn.") and type(est).__name__ == "FunctionTransformer":
        func = getattr(est, "func", None)
        elementwise = func is None or isinstance(func, np.ufunc)
        return not (elementwise and getattr(est, "feature_names_out", None) == "one-to-one")
    return not module.startswith("sklearn.")


def _missing_rows(X):
    """For each column of ``X`` holding a missing value among its first
    :data:`SCANNED` rows, the first row where it does (steps that fill a missing value
    from other columns use them only there)."""
    if sp.issparse(X):
        return []  # (a sparse matrix stores no missing value apart from explicit NaN)
    head = X.iloc[:SCANNED] if isinstance(X, pd.DataFrame) else X[:SCANNED]
    try:
        missing = np.asarray(pd.isna(head), dtype=bool)
    except (TypeError, ValueError):
        return []
    if missing.ndim != 2:
        return []
    has = missing.any(axis=0)
    return sorted(set(np.argmax(missing[:, has], axis=0).tolist()))


def sample_rows(X):
    """Up to :data:`N_ROWS` rows of ``X`` spread over it, and a row with a missing value
    for each column that has one (plain data: a DataFrame, a NumPy array or a SciPy
    sparse matrix), or None when ``X`` is none of these."""
    if not isinstance(X, pd.DataFrame | np.ndarray) and not sp.issparse(X):
        return None
    n = X.shape[0]
    if n == 0 or len(X.shape) != 2:
        return None
    spread = np.linspace(0, n - 1, min(n, N_ROWS)).astype(np.intp)
    try:
        rows = np.unique(np.concatenate([spread, _missing_rows(X)[:N_ROWS]]).astype(np.intp))
        if isinstance(X, pd.DataFrame):
            return X.iloc[rows]
        if isinstance(X, np.ndarray):
            return np.array(X[rows])
        return type(X)(X.tocsr()[rows])  # (DIA and COO cannot be indexed by rows)
    except (TypeError, ValueError, IndexError, AttributeError):
        return None  # (the check is skipped, and the run says so)


def transformed(est, sample):
    """``est.transform(sample)``, or None when it cannot run on it."""
    if sample is None or est is None or est == "passthrough":
        return sample
    try:
        return est.transform(sample)
    except Exception:  # noqa: BLE001 (the check is skipped, and the run says so)
        return None


def columns_of(sample, columns):
    """The columns a ColumnTransformer gives one of its transformers (its fitted
    column specification), or None."""
    if sample is None:
        return None
    try:
        return safe_indexing(sample, columns, axis=1)
    except Exception:  # noqa: BLE001
        return None


def _changed(values):
    """``values`` (one column of the sample) changed in every row it can be."""
    values = np.asarray(values)
    if values.dtype.kind == "b":
        return ~values
    if values.dtype.kind in "iuf":
        return values * 1.5 + 1.0
    return np.roll(values, 1)  # strings, categories, dates: another row's value


def _perturbed(sample, j):
    if isinstance(sample, pd.DataFrame):
        other = sample.copy()
        column = other.iloc[:, j]
        try:
            other.iloc[:, j] = pd.Series(_changed(column), index=other.index).astype(column.dtype)
        except (TypeError, ValueError):
            other.iloc[:, j] = np.roll(column.to_numpy(), 1)
        return other
    if sp.issparse(sample):
        dense = sample.toarray()
        dense[:, j] = _changed(dense[:, j])
        return type(sample)(dense)
    other = np.array(sample, copy=True)
    other[:, j] = _changed(other[:, j])
    return other


def _as_table(Z):
    if sp.issparse(Z):
        Z = Z.toarray()
    Z = as_rows(Z) if isinstance(Z, pd.DataFrame) else np.asarray(Z)
    return Z.reshape(-1, 1) if Z.ndim == 1 else Z


def _moved(before, after):
    """Outputs whose values differ (every output when the shape differs)."""
    if before.shape != after.shape:
        return np.ones(before.shape[1], dtype=bool)
    return ~np.all(equal_cells(before, after), axis=0)


def check(est, sample, deps, label, out_names, in_names):
    """Check the declared dependencies ``deps`` (input positions per output) of the
    fitted ``est`` on ``sample``, its input; ``label`` names the step in messages.

    Returns
    -------
    wrong : bool
        Whether an output moved with an input its name leaves out.
    note : str or None
        What the run should say: the declaration found wrong, or not checked.
    """
    unchecked = (
        f"feature lineage of step {label} is read from the output names it declares, not checked"
    )
    n = sample.shape[1] if sample is not None and len(sample.shape) == 2 else None
    if all(len({d for d in dep if isinstance(d, int)}) == len(in_names) for dep in deps):
        return False, None  # each output lists every input already: nothing to find
    if n is None or n > MAX_INPUTS:
        why = "its input could not be sampled" if n is None else f"it has {n} inputs"
        return False, f"{unchecked} ({why})"
    if n < 2:
        return False, None  # one input: an output uses it or nothing, as its name says
    # each call on a copy: a step may write into what it is given
    before = transformed(est, sample.copy())
    if before is None:
        return False, f"{unchecked} (its transform failed on {sample.shape[0]} training rows)"
    before = _as_table(before)
    again = transformed(est, sample.copy())
    if again is None or _moved(before, _as_table(again)).any():
        return False, f"{unchecked} (its transform gave other values for the same rows)"
    skipped = []
    for j in range(n):
        after = transformed(est, _perturbed(sample, j))
        if after is None:
            skipped.append(in_names[j])
            continue
        for k in np.flatnonzero(_moved(before, _as_table(after))):
            if k >= len(deps) or j not in deps[k]:
                return True, _not_alone(
                    label, out_names, k, in_names[j], f"did, on {sample.shape[0]} training rows"
                )
    wrong = _moved_at_fit(est, sample, deps, n)
    if wrong is not None:
        k, j = wrong
        return True, _not_alone(
            label,
            out_names,
            k,
            in_names[j],
            f"changed in the {sample.shape[0]} training rows a copy of the step was fitted on",
        )
    if skipped:
        listed = ", ".join(repr(c) for c in skipped[:6]) + (
            f" and {len(skipped) - 6} more" if len(skipped) > 6 else ""
        )
        return False, (
            f"{unchecked} for input(s) {listed} (its transform failed when they changed)"
        )
    return False, None


def _refit(est, fit_on, sample):
    """A copy of ``est`` fitted on ``fit_on`` (without the target), applied to
    ``sample``, or None when it cannot be."""
    try:
        copy = clone(est, safe=False)
        with quiet():  # (the copy's warnings are the check's: dropped in this thread)
            return _as_table(copy.fit(fit_on.copy()).transform(sample.copy()))
    except Exception:  # noqa: BLE001 (the fit is not checked: see the module's doc)
        return None


def _moved_at_fit(est, sample, deps, n):
    """``(output, input)`` positions of an output that moved when an input its name
    leaves out changed in the rows a copy of ``est`` was fitted on (``sample``; the
    copy then transforms the unchanged ``sample``), or None: a step that computes a
    column from another only at fit (a scale taken from the first column). Steps whose
    copies cannot be fitted on the sample without the target, or fit differently on the
    same rows, are not checked at fit."""
    before = _refit(est, sample, sample)
    if before is None:
        return None
    again = _refit(est, sample, sample)
    if again is None or _moved(before, again).any():
        return None
    for j in range(n):
        after = _refit(est, _perturbed(sample, j), sample)
        if after is None:
            continue
        for k in np.flatnonzero(_moved(before, after)):
            if k >= len(deps) or j not in deps[k]:
                return int(k), j
    return None


def _not_alone(label, out_names, k, in_name, how):
    """The note for a step whose output ``k`` moved with an input it is not named after."""
    output = repr(out_names[k]) if k < len(out_names) else f"number {k}"
    return (
        f"step {label} names its outputs after inputs they are not computed from alone: "
        f"output {output} changed when input {in_name!r} {how}; feature lineage lists "
        "every input of the step for each of its outputs"
    )
