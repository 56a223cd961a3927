"""Requests to remove a source whose values reach the model only through a column
attached outside the pipeline by position (see ``sktraceprop._lineage._attached``).

No training row is a row of such a source, yet its values are in a feature of every
training row: the model cannot be corrected for it by removing rows, and saying it was
never trained on would be false. The request is refused, naming the column.
"""

from ..exceptions import UnlearningError


def refuse_attached(source_id, attached):
    """Raise :class:`UnlearningError` when ``attached`` (a run's ``attached_columns``)
    names ``source_id``: its values are in input columns of the retained rows."""
    held = [e for e in attached or () if e["source_id"] == source_id]
    if not held:
        return
    listed = "; ".join(
        f"input column {e['input_column']} holds its column {e['column']} "
        f"({e['match']}: {e['rows_matched']} of its {e['rows_compared']} rows compared)"
        for e in held
    )
    columns = ", ".join(dict.fromkeys(e["input_column"] for e in held))
    raise UnlearningError(
        f"source {source_id!r} has no training rows in this model, but its values are in "
        f"the features made from input column(s) {columns} of the retained rows: they "
        f"were attached by position outside the pipeline ({listed}), without lineage, so "
        "no removal of rows can take them out; nothing was changed. Refit without those "
        "columns, or rebuild the frame with sktraceprop.merge on a key (then a removal "
        "of the source removes the rows it reaches) and refit."
    )


def unknown_columns_said(source_id, unsourced):
    """What a "never trained on" refusal adds where input columns have no known source:
    they may hold ``source_id``'s values."""
    if not unsourced:
        return ""
    whose = "that source" if source_id is None else repr(source_id)
    return (
        f" But input column(s) {', '.join(unsourced)} have no known source (computed or "
        "attached outside the pipeline, and not identified as a loaded column by their "
        f"values): they may carry data of {whose}, which no removal of rows would "
        "take out."
    )
