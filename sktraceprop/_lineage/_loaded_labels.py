"""A target without X's lineage: ``y`` (or sample weights, groups) holding loaded rows.

A transformer that is not affine per column (``PCA``, ``TruncatedSVD``,
``OneHotEncoder``, ``PolynomialFeatures``, ``KBinsDiscretizer``), fitted outside a
traced pipeline on a traced frame, returns a NumPy array whose values match nothing
loaded: :mod:`._content` and :mod:`._scaled` cannot recognise it, and a fit on it
recorded an anonymous source without a word. The target given with it often still
shows where the rows came from:

* ``y`` with the row ids of a traced frame (``df["target"]``, or a part of it from
  ``train_test_split``): the ids name its rows, certainly;
* a plain ``y`` (``df["target"].to_numpy()``) as long as a frame that was loaded, equal
  to one of its columns at every witness row of that load compared by position (the
  witness rows keep where they were in the frame loaded: :mod:`._witness`). Equality
  there is evidence only where it is improbable by chance: the chance that values
  unrelated to the column match it at every row compared, taking each value as drawn
  independently or after the value before it (whichever makes a match likelier; see
  :func:`_log10_chance`), must be below ``CHANCE`` (0/1
  labels in no order matching at 30 rows compared: about 1e-9; a constant ``y``, or
  labels sorted or alternating, match a column alike at little cost, and are no
  evidence).

Neither says that X's rows are those rows (that is what cannot be checked), and the
warning says so: it names what is known (y's rows, the source and column), that X's
lineage was lost if X was made from them, and the fix. What stays silent: a plain ``y``
that is a shuffled or partial copy of a loaded column (no position to compare at; a
subset of 0/1 labels is no evidence of anything), and ``y`` not from a loaded file.
"""

import math

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._witness import WITNESSES
from ._witness_values import exact_integers

#: Largest chance of a match by coincidence that counts as evidence.
CHANCE = 1e-9
#: Fewest witness rows compared by position.
MIN_COMPARED = 16
#: The fit parameters compared besides ``y`` (by their last ``__`` part).
PARAMETERS = ("sample_weight", "groups")


def _given(y, params):
    """``[(name, value)]`` of ``y`` and the fit parameters compared."""
    out = [("y", y)] if y is not None else []
    for key, value in (params or {}).items():
        if value is not None and key.split("__")[-1] in PARAMETERS:
            out.append((key, value))
    return out


def _carried(value):
    """The row ids ``value`` carries (a Series or frame indexed by them), or None."""
    from ._capture import ids_from_index

    try:
        return ids_from_index(value)
    except LineageError:  # ids that name no registered row: not evidence of one
        return None


def _by_position(values):
    """``[(source, column, compared, log10 chance)]`` of the loaded columns that the
    1-D ``values`` equal at every witness row of a load of as many rows."""
    from ._source import REGISTRY

    n = values.shape[0]
    numeric = values.dtype.kind in "biuf"
    found, seen, rate = [], set(), None
    _, loads = WITNESSES.every_load()
    for code, w in loads:
        if w.frame_rows != n or not w.frame_positions.size:
            continue
        mine = values[w.frame_positions]
        for name, column in w.columns.items():
            keep = ~column.missing
            if int(keep.sum()) < MIN_COMPARED:
                continue
            if column.numeric != numeric:
                continue
            theirs = column.values[keep]
            here = mine[keep]
            try:
                if numeric and column.exact is not None and here.dtype.kind in "iu":
                    # integers exactly: float64 rounds them past 2**53 (None: past int64)
                    ints = exact_integers(here)
                    same = ints is not None and bool(np.all(ints == column.exact[keep]))
                elif numeric:
                    same = bool(np.all(here.astype(np.float64) == theirs))
                else:
                    same = bool(np.all(pd.Series(here, dtype=object).to_numpy() == theirs))
            except (TypeError, ValueError):
                continue
            if not same:
                continue
            chance = _log10_chance(here[np.argsort(w.frame_positions[keep], kind="stable")])
            if chance <= math.log10(CHANCE):
                # the rows compared are a sample of the frame's: a y whose own order is
                # likely (0 1 0 1 ...) matches a column made alike at its rate per value
                if rate is None:
                    rate = _log10_chance(values) / n
                chance = max(chance, rate * int(keep.sum()))
            if chance > math.log10(CHANCE):
                continue
            source = REGISTRY.by_code(int(code))
            key = (source.source_id, name)
            if key not in seen:
                seen.add(key)
                found.append((source, name, int(keep.sum()), chance))
    return found


def _log10_chance(sequence):
    """log10 of the chance that values unrelated to a column match it at every place
    compared, ``sequence`` (the values compared, in the frame's order): the larger of
    two sequential models, each value predicted from those before it by the
    Krichevsky-Trofimov estimate (counts plus one half), of values drawn independently,
    or of each value after the one before it (a sorted or periodic sequence of labels,
    0 0 0 1 1 1 or 0 1 0 1, is likely by the second: matching a column sorted or
    periodic alike is no evidence of where it came from). Both are probabilities of
    the whole sequence, not fitted to it after the fact, so a sequence of distinct
    values is not made likely by remembering it."""
    _, codes = np.unique(sequence, return_inverse=True)
    codes = codes.reshape(-1).tolist()
    k = max(codes) + 1 if codes else 1
    seen, pairs, after = [0] * k, {}, [0] * k
    independent = chained = 0.0
    previous = None
    for n, v in enumerate(codes):
        independent += math.log10((seen[v] + 0.5) / (n + k / 2))
        if previous is None:
            chained += math.log10(1 / k)
        else:
            pair = pairs.get((previous, v), 0)
            chained += math.log10((pair + 0.5) / (after[previous] + k / 2))
            pairs[previous, v] = pair + 1
            after[previous] += 1
        seen[v] += 1
        previous = v
    return max(independent, chained)


def evidence(y, params, n_rows):
    """What ``y`` and the compared fit parameters show of loaded rows, in words
    (``[str]``, empty where nothing): for :func:`message`."""
    from ._capture import describe_id

    out = []
    for name, value in _given(y, params):
        ids = _carried(value)
        if ids is not None and ids.size:
            from ._ids import codes_of

            codes = np.unique(codes_of(ids))
            sources = ", ".join(repr(_source_id(int(c))) for c in codes[:3])
            out.append(
                f"{name} carries the row ids of {ids.size} rows of source(s) {sources} "
                f"(its first row is {describe_id(ids[0])})"
            )
            continue
        if isinstance(value, pd.DataFrame):
            continue
        try:
            values = np.asarray(value)
        except (TypeError, ValueError):
            continue
        if values.ndim != 1 or values.shape[0] != n_rows or values.dtype.kind not in "biufOU":
            continue
        for source, column, compared, chance in _by_position(values):
            out.append(
                f"{name} ({values.shape[0]} values, no row ids) equals column {column!r} of "
                f"source {source.source_id!r} at all {compared} of its rows compared by "
                f"position (that load had {values.shape[0]} rows, as {name} has; values "
                f"unrelated to that column match it so with a chance below "
                f"1e{int(math.ceil(chance))})"
            )
    return out


def _source_id(code):
    from ._source import REGISTRY

    try:
        return REGISTRY.by_code(code).source_id
    except LineageError:
        return f"source {code}"


def message(found, n_rows):
    """The warning for :func:`evidence`'s ``found`` on an X of ``n_rows`` rows."""
    return (
        "X carries no sktraceprop row ids and no row of it was found holding loaded "
        f"values (as loaded or scaled), but "
        f"{'; and '.join(found)}. If X ({n_rows} rows) was made from those rows by a "
        "transformer fitted outside a traced pipeline (PCA, TruncatedSVD, OneHotEncoder, "
        "PolynomialFeatures, KBinsDiscretizer... return a NumPy array without the rows' "
        "ids), the lineage of X's rows was lost: nothing here can check that they are "
        "those rows. Fit the transformer inside the pipeline "
        "(sktraceprop.make_traced_pipeline(transformer, model)), or keep the ids with "
        "the rows (transformer.set_output(transform='pandas') on the traced frame keeps "
        "its index), or pass sample_id=sktraceprop.row_ids(df) in the order of X's rows. "
        "The run records X as an anonymous source."
    )
