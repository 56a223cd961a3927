"""The same input rows in the other exact forms a model may have been given them in.

A prediction event holds one SHA-256 of its rows as given (values, column names and
order, integer or float). Rows read again in another process often differ in form
only: pandas reads a column as float where the batch had a missing value, the columns
come in another order, or an array stands for the frame. :func:`exact_variants` yields
those forms, each with a note of what was converted; a conversion is used only where it
is exact (``44`` and ``44.0``; never ``44.5`` as ``44``).
"""

import itertools

import numpy as np
import pandas as pd

__all__ = ["exact_variants"]

#: At most this many combinations of column dtypes are hashed per column layout; above
#: it, only those with one column converted, and with every column as float, or as
#: integers where exact, are (the common cases: one column read as float because of a
#: missing value, a whole frame read as floats).
MAX_COMBINATIONS = 256

_FLOAT_EXACT = 2**53  # every integer up to this magnitude is a float64 exactly


def _as_frame(X):
    """``(frame, is_array)``: a frame's columns as given, an array's unnamed (an array
    hashes as a frame whose column names are all empty)."""
    if isinstance(X, pd.Series):
        return X.to_frame(), False
    if isinstance(X, pd.DataFrame):
        return X, False
    values = np.asarray(X)
    if values.ndim == 1:
        values = values[:, None]
    frame = pd.DataFrame(values)
    frame.columns = [""] * frame.shape[1]
    return frame, True


def _exact_casts(column):
    """The exact other dtypes of one column: ``[(values, "from -> to")]``."""
    dtype = column.dtype
    kind = getattr(dtype, "kind", None)
    if isinstance(dtype, pd.CategoricalDtype) or kind not in ("i", "u", "f"):
        return []
    missing = np.asarray(column.isna(), dtype=bool)
    present = column[~missing].to_numpy(dtype=np.float64 if kind == "f" else np.int64)
    if kind in "iu":
        if present.size and np.abs(present).max() > _FLOAT_EXACT:
            return []
        return [(column.astype(np.float64), f"{dtype} -> float64")]
    if not np.all(np.isfinite(present)) or not np.all(present == np.round(present)):
        return []
    if present.size and np.abs(present).max() >= 2**63:
        return []
    target = "Int64" if missing.any() else "int64"
    return [(column.astype(target), f"{dtype} -> {target}")]


def _few_combinations(options):
    """Each column converted alone, then all as float, then all as integers."""
    given = [o[0] for o in options]
    for j, column in enumerate(options):
        for cast in column[1:]:
            yield given[:j] + [cast] + given[j + 1 :]
    for target in ("float", "int"):
        yield [
            next((c for c in o[1:] if c[1].split(" -> ")[1].lower().startswith(target)), o[0])
            for o in options
        ]


def _layouts(frame, is_array, orders):
    """``(names, positions, note)`` of each column layout worth hashing: as given, in a
    recorded order of the same names, named (an array) or unnamed (a frame)."""
    given = [str(c) for c in frame.columns]
    seen = set()
    n = frame.shape[1]
    candidates = [(list(frame.columns), list(range(n)), None)]
    if is_array:
        candidates += [
            (list(order), list(range(n)), f"columns named as the run's input ({', '.join(order)})")
            for order in orders
            if len(order) == n
        ]
    else:
        where = {name: i for i, name in enumerate(given)}
        for order in orders:
            if len(where) == n and sorted(order) == sorted(given) and list(order) != given:
                candidates.append(
                    (
                        list(order),
                        [where[name] for name in order],
                        f"columns reordered as the run's input ({', '.join(order)})",
                    )
                )
        for _, positions, note in list(candidates):
            dropped = "column names dropped (predict was given an array)"
            candidates.append(([""] * n, positions, f"{note}; {dropped}" if note else dropped))
    for names, positions, note in candidates:
        key = (tuple(names), tuple(positions))
        if key not in seen:
            seen.add(key)
            yield names, positions, note


def exact_variants(X, orders=()):
    """The other exact forms of ``X`` a logged call may have hashed.

    Parameters
    ----------
    X : DataFrame, Series or array-like
        The rows as read again.
    orders : iterable of list of str, default=()
        Column orders the model was given (its runs' input feature names).

    Yields
    ------
    frame : DataFrame
        ``X`` in one other form (never ``X`` itself as given).
    note : str
        What was converted, for the reader of the match.
    complete : bool
        False when too many column dtype combinations were left untried.
    """
    frame, is_array = _as_frame(X)
    orders = [list(map(str, o)) for o in orders if o]
    casts = [_exact_casts(frame.iloc[:, j]) for j in range(frame.shape[1])]
    for names, positions, layout_note in _layouts(frame, is_array, orders):
        options = [[(None, None)] + casts[j] for j in positions]
        total = int(np.prod([len(o) for o in options], dtype=np.float64))
        if total <= MAX_COMBINATIONS:
            combos = itertools.product(*options)
            complete = True
        else:
            combos = _few_combinations(options)
            complete = False
        for combo in combos:
            if layout_note is None and all(values is None for values, _ in combo):
                continue  # X as given: hashed by the caller
            columns = [
                frame.iloc[:, j] if values is None else values
                for j, (values, _) in zip(positions, combo)
            ]
            variant = pd.concat(columns, axis=1, ignore_index=True)
            variant.columns = names
            notes = [layout_note] if layout_note else []
            notes += [
                f"column {names[k] or positions[k]!s}: {how}"
                for k, (_, how) in enumerate(combo)
                if how is not None
            ]
            yield variant, "; ".join(notes), complete
