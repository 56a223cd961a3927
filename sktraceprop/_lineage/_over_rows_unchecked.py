"""What the checks of an operation over rows on a sampled load could not compare (see
:mod:`._over_rows`), said in the run's notes rather than passed as checked.

A witness row whose loaded value is missing (empty in the file) tells nothing of a
running sum or a moving mean at that row: it is left out, and the other witness rows
are compared (:func:`earlier_known`: a running operation pandas ran skipping missing
values continues from the nearest earlier row that holds one). Where the column changed
on witness rows whose loaded value was missing, and no operation explains it, the
operation may still be one over rows that skipped or filled those gaps (``ffill``, an
expanding mean or an exponentially weighted mean over them where the gaps the column
shows and the lines kept do not explain it, :mod:`._over_rows_gaps`; a running sum,
maximum or minimum whose gaps were filled since with one value is checked with the rows
holding it as gaps again, :mod:`._over_rows`), and so where the column holds missing values
now (a difference or a moving mean over the data's rows is rebuilt from a chain of its
rows, which a missing value breaks): the run's note says the column could not be
checked (:func:`over_rows_unchecked_note`), not that it was computed row by row. So it
does where the memory cap on the lines kept around witness rows
(:data:`._witness_runs.SHARE`) left witness rows out of the check in the file's order,
and where a moving window of some width over the data's rows holds a line whose loaded
value is not kept on all but a few rows (:mod:`._over_rows_known`: a subset in another
order than the file's, or of lines far apart), so that wider windows were not checked.
"""

import numpy as np

from ._over_rows_chain import MIN_ROWS, _full


def earlier_known(values, rows):
    """The value at the row before each of ``rows`` (positions in ``values``, the data
    in the order the operation ran, an array or an ``_Ordered``), or where that one is
    missing at the nearest earlier row that holds one (NaN where none does)."""
    before = np.asarray(values[rows - 1], dtype=np.float64)
    if not np.isnan(before).any():
        return before
    full = _full(values)
    last = np.where(np.isnan(full), -1, np.arange(full.size))
    last = np.maximum.accumulate(last)[rows - 1]
    return np.where(last >= 0, full[np.maximum(last, 0)], np.nan)


#: A load whose runs the memory cap left fewer than this many kept says so where nothing
#: explained a changed column: too few to find an operation in the file's order (every
#: run compared must be explained, ``MIN_ROWS`` of them at least, after a subset).
FEW_RUNS = 4 * MIN_ROWS


def unchecked_of(loads, name):
    """``(witness rows left out,)``: of the sampled ``loads`` holding column ``name``
    whose runs the memory cap left fewer than :data:`FEW_RUNS`, the witness rows whose
    lines around them it did not keep (no check in the file's order there), or None."""
    left_out = sum(
        w.runs.left_out
        for w in loads
        if w.runs is not None and name in w.runs.kept and w.runs.ids.size < FEW_RUNS
    )
    return (int(left_out),) if left_out else None


def over_rows_unchecked_note(unchecked, name="X"):
    """The run's note for columns that changed after loading where no operation over
    rows was found but some witness rows could not be compared:
    ``[(column, source id, rows that differ, of them missing in the file, rows of the
    source missing a value now, witness rows left out by the memory cap, the narrowest
    moving window not checked in the data's order or 0)]``."""
    parts = []
    for column, source, n_differ, n_missing, n_empty, left_out, *wide in unchecked:
        why = []
        if n_missing:
            why.append(
                f"{n_missing} of the {n_differ} witness rows that differ had no loaded value "
                "(empty in the file), which decides nothing of a running or moving value "
                "there, and pandas skips or a fill replaces such gaps in ways the sample "
                "does not tell"
            )
        if n_empty:
            why.append(
                f"{n_empty} of its rows hold no value now, which breaks the chain of rows "
                "a difference or a moving window is rebuilt from"
            )
        if left_out:
            why.append(
                f"{left_out} witness rows keep no lines around them (the cap on the memory "
                "kept per load), so they were not checked in the file's order"
            )
        if wide and wide[0]:
            why.append(
                f"a moving window over the data's rows is recomputed only where the loaded "
                f"value of each of its rows is kept (witness rows and the lines around "
                f"some), and those of {wide[0]} rows or more hold such values on too few "
                "rows here (a subset in another order than the file's, or of lines far "
                "apart), so they were not checked"
            )
        parts.append(
            f"column {column} of {name} (loaded from {source!r}; {n_differ} rows compared "
            f"differ from their loaded value) could not be checked for an operation over "
            f"rows (shift, ffill, cumsum, rolling, ewm): " + "; ".join(why)
        )
    return (
        "; ".join(parts) + ". Nothing explained it, which is no evidence that each row's "
        "value was computed from that row alone. If it was computed over rows, a row's "
        "value there comes from other lines too, while its lineage names its own line "
        "alone: compute such features into a new column beside the loaded one, or in the "
        "pipeline."
    )
