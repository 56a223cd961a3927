"""The warning and the run's note of :mod:`._over_rows`."""

from ._over_rows_groups import UNDECIDED


def over_rows_message(found, name="X"):
    """The warning (and run note) for :func:`over_rows`' columns."""
    column, op, source, n_differ, how = found[0]
    more = ""
    if len(found) > 1:
        more = " (also " + ", ".join(f"{f[0]}: {f[1]}" for f in found[1:]) + ")"
    return (
        f"column {column} of {name} holds the {column} loaded from {source!r} "
        f"computed over rows ({column}.{op}: {n_differ} rows compared differ from their "
        f"loaded value, {how or 'each explained by it'}){more}, under the loaded column's "
        "name. "
        "A row's value there comes from other rows' lines too (the rows before it, its "
        "window or its group), while its lineage names its own line alone, and unlearning "
        "a line leaves what it gave to the other rows. Compute such features into a new "
        f"column beside the loaded one (df['{column}_{op.split('(')[0]}'] = ...), which "
        "the run records as a column of no known source, or in the pipeline."
    )


def over_rows_undecided_note(undecided, name="X"):
    """The run's note for columns that may hold a group's mean, which the witness sample
    could not tell from a value looked up per group (:data:`UNDECIDED`): not warned."""
    parts = [
        f"column {column} of {name} (loaded from {source!r}; {n_differ} rows compared "
        f"differ from their loaded value) may be {column}.{op}"
        for column, op, source, n_differ in undecided
    ]
    return (
        "; ".join(parts) + f": {UNDECIDED}. If it is, a row's value there comes from "
        "its group's other lines too, while its lineage names its own line alone: compute "
        "such features into a new column beside the loaded one, or in the pipeline."
    )
