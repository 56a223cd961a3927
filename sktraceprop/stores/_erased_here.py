"""The rows an erasure request made in this process erased, kept for the refit check.

An erasure request (:meth:`BaseStore.erase_rows`) is recorded in its store, and a fit
writing to that store reads it (:mod:`sktraceprop._removed_in_store`). A fit writing to
no store (a traced pipeline without ``store=``, an explainer or valuer of such a model)
read nothing, so a refit on the erased rows in the very process that erased them was
not warned. The rows are now also recorded in this process (as an unlearner's removal
is, :func:`sktraceprop._removed_rows.record_removed`), in its own codes: the rows the
request named, the sources it named whole (every row of them, whatever its line), and
the rows its merged rows were built from. The request itself is recorded too, as its
event records it (with its store's ``store_id``, its seq and time), so that a lineage
view or an explanation given no store (``stp.row_lineage``, ``Lineage.trace``,
``Lineage.rows``, ``Explanation.top``), or another store than the one it was made
through, marks its rows erased, naming it (:mod:`sktraceprop._lineage._erasures_seen`).
A fit in another process, or after a restart, writing to no store still cannot know:
only the store records the request.
"""

import numpy as np

from .._lineage._ids import distinct_codes, pack
from .._lineage._merged_parents import rows_behind
from .._removed_rows import record_erased_sources, record_erasure_request, record_removed
from .._removed_set import ERASURE_WHAT, RemovedRows
from ..exceptions import LineageError
from ._erase_witnesses import _requested_here

__all__ = ["as_recorded", "erased_what", "remember_erased", "store_label"]


def store_label(store):
    """``store`` in the words that name its requests (:meth:`BaseStore._label`: the
    same all its life, a copy's as its store's)."""
    label = getattr(store, "_label", None)
    return repr(store) if label is None else label()


def erased_what(seq, store, created_at):
    """How a refit warning names an erasure event (the same words whether it was read
    from the store or recorded here, so that one request is said once)."""
    return f"{ERASURE_WHAT}{seq} in {store_label(store)} at {created_at}"


def as_recorded(source_ids, rows):
    """The request as an erasure event records it: sources by id, rows by source key and
    line (never by a packed id, whose code belongs to this process)."""
    if source_ids is not None:
        return {"source_ids": list(source_ids), "rows": None}
    rows = [
        {"source_id": key[0], "sha256": key[1], "lines": np.asarray(lines).tolist()}
        for key, lines in sorted(rows.items())
    ]
    return {"source_ids": None, "rows": rows}


def remember_erased(store, source_ids, rows, event, registry):
    """Record the rows of the request recorded as ``event`` (``source_ids``, or
    ``rows`` as ``{source key: lines}``) that this process has read."""
    if event is None:
        return
    what = erased_what(event["seq"], store, event["created_at"])
    # the request itself, as its event records it, for the lineage views given no store
    # (matched as the store's record is: by source identity and line, or source id)
    key = (store.store_id, int(event["seq"]), str(event["created_at"]))
    # (with the runs it erased from: a copy of the store taken before holds them still)
    runs = list((event.get("payload") or {}).get("runs") or ())
    record_erasure_request(what, {**as_recorded(source_ids, rows), "runs": runs}, key)
    ids, codes = _requested_here(source_ids, rows, registry)
    names = {c: registry.by_code(c).source_id for c in codes}
    record_erased_sources(codes, what, names)
    # a merge's rows are lines 1..n: those of a merge erased whole are followed to the
    # rows they were built from (a file's rows are matched by code, above)
    merged = [c for c in sorted(codes) if registry.by_code(c).kind == "merge"]
    ids = np.concatenate(
        [ids]
        + [pack(c, np.arange(1, registry.by_code(c).n_rows + 1, dtype=np.int64)) for c in merged]
    )
    if not ids.size:
        return
    try:  # a merged row erased holds its parents' values: a fit on them learns them
        ids = np.union1d(ids, rows_behind(ids, registry.by_code)[0])
    except LineageError:  # (parents this process has not read: no fit here has them)
        pass
    sources = {c: registry.by_code(c).source_id for c in distinct_codes(ids).tolist()}
    record_removed(RemovedRows(ids, what, sources))
