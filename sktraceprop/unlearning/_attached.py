"""Requests to remove a source whose values reach the model only through a column
attached outside the pipeline by position (see ``sktraceprop._lineage._attached``).

No training row is a row of such a source, yet its values are in a feature of every
training row: the model cannot be corrected for it by removing rows, and saying it was
never trained on would be false. The request is refused, naming the column.
"""

from .._lineage._attached import evidence_said
from ..exceptions import UnlearningError


def refuse_attached(source_id, attached):
    """Raise :class:`UnlearningError` when ``attached`` (a run's ``attached_columns``)
    names ``source_id``, or a source made from it (a merge or aggregate of it, as far as
    this process knows their parents): its values are in input columns of the retained
    rows."""
    held = [
        (e, e["source_id"] != source_id)
        for e in attached or ()
        if e["source_id"] == source_id or source_id in _ancestors(e["source_id"], e["sha256"])
    ]
    if not held:
        return
    listed = "; ".join(
        f"input column {e['input_column']} holds "
        + (f"column {e['column']} of {e['source_id']!r}, made from it" if via else
           f"its column {e['column']}")
        + f" ({evidence_said(e)})"
        for e, via in held
    )  # fmt: skip
    held = [e for e, _ in held]
    columns = ", ".join(dict.fromkeys(e["input_column"] for e in held))
    raise UnlearningError(
        f"source {source_id!r} has no training rows in this model, but the features made "
        f"from input column(s) {columns} of the retained rows hold its data, or data of a "
        f"source made from it: they "
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


def _ancestors(source_id, sha256):
    """The ids of the sources a derived source (``source_id``, ``sha256``) was made from,
    through every level this process has registered (none for a file or a source it does
    not know)."""
    from .._lineage._source import REGISTRY
    from ..exceptions import LineageError

    try:
        todo = [r for r in REGISTRY.versions(source_id) if r.sha256 == sha256]
    except (LookupError, LineageError):
        return set()
    seen, found = set(), set()
    while todo:
        for code in todo.pop().parent_codes:
            if code in seen:
                continue
            seen.add(code)
            try:
                parent = REGISTRY.by_code(code)
            except (LookupError, LineageError):
                continue
            found.add(parent.source_id)
            todo.append(parent)
    return found
