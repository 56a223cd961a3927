"""The fields of a removal's event: the rows it removed (per source and line, the merges
they came from) and what retained rows still carry of them.

:func:`removal_event` builds them for :func:`~._record.remove`, before the event's caveats
(:func:`~._remains.with_caveats`) and the commit (:func:`~._record.commit`);
:func:`event_store` says where the event will be appended.
"""

import numpy as np

from .._lineage._fingerprint import class_path
from .._lineage._ids import codes_of
from .._lineage._labels import row_groups
from .._lineage._lineage_frame import lineage_frame
from .._lineage._merged_parents import rows_behind
from .._lineage._source import utc_now
from ._event import row_ids_digest
from ._kept_rows import (
    aggregates_over_removed,
    kept_lineage,
    labels_among,
    merged_parents_kept,
    merged_parents_note,
)
from ._remains import outside_steps

__all__ = ["counts_note", "event_store", "removal_event", "removed_rows", "runless_rows"]


def event_store(unl):
    """Where the removal events of the unlearner ``unl`` are appended, or None."""
    if unl.store is not None:
        return unl.store
    return getattr(unl.estimator_, "store", None)


def removal_event(unl, removal, positions, retained, n_retained, named, request, seconds):
    """The event of ``removal`` (a :class:`~._method.Removal`) of the training rows at
    ``positions`` from the fitted unlearner ``unl``, leaving those ``retained`` (a mask),
    before its caveats (:func:`~._remains.with_caveats`); and the leaf row ids behind the
    removed rows (the rows of the sources they were merged from)."""
    rows, leaves = removed_rows(unl, positions)
    event = {
        "time_utc": utc_now(),
        "estimator": class_path(removal.final),
        **removal.fields,
        "seconds": seconds,
        "n_removed": int(positions.size),
        "n_retained": n_retained,
        **rows,
        "request": request,
    }
    if unl.run_id_ is None and event_store(unl) is not None:
        event.update(runless_rows(unl, rows["row_ids"]))
    kept_frame = kept_lineage(unl, retained)  # read by the checks below, made once
    if "via_merge" in rows:
        kept = merged_parents_kept(unl, kept_frame, leaves)
        if kept:
            event["merged_parents_kept"] = kept
            notes = [event.pop("note")] if "note" in event else []
            event["note"] = "; ".join([*notes, merged_parents_note(kept)])
    outside = outside_steps(unl, retained, positions)
    if outside:
        event["steps_fitted_outside_over_removed_rows"] = outside
    unsourced = getattr(unl, "_unsourced", None)
    if unsourced:
        event["columns_in_no_source"] = list(unsourced)
    changed = getattr(unl, "_changed", None)
    if changed:
        event["columns_changed_after_loading"] = {c: list(v) for c, v in changed.items()}
    if unl._derived:
        remaining = aggregates_over_removed(
            unl, kept_frame, np.concatenate([named["ids"], leaves]), named["codes"]
        )
        if remaining:
            event["aggregates_over_removed_rows"] = remaining
    return event, leaves


def runless_rows(unl, removed_ids):
    """Event fields that let another process read the removed rows of an unlearner that
    stored no run (an estimator that is not traced): the identity of each source their
    ids name (``row_sources``, by code) and the rows merged rows among them were built
    from (``rows_behind``). A fit writing to the store, in any process, checks its rows
    against them (:mod:`sktraceprop._removed_in_store`); without them, the ids' codes
    (this process's) could be read through no run, and the removal was seen nowhere."""
    behind, _ = rows_behind(removed_ids, unl._source)
    codes = np.unique(codes_of(np.concatenate([removed_ids, behind])))
    out = {
        "row_sources": [
            {
                "code": int(c),
                "source_id": str(unl._source(c).source_id),
                "sha256": unl._source(c).sha256,
                "kind": unl._source(c).kind,
            }
            for c in codes.tolist()
        ]
    }
    if behind.size:
        out["rows_behind"] = np.unique(behind).tolist()
    return out


def removed_rows(unl, positions):
    """Event fields naming the removed rows (ids, digest, per source the training rows
    removed and the distinct rows of it behind them, lines, the merges they came from),
    and the leaf row ids behind them."""
    removed_ids = unl.train_row_ids_[positions]
    frame = lineage_frame(removed_ids, unl._source)
    # Per source, a source being one content, not a name: two files read under one
    # source_id (two folders' data.csv) or two contents of one edited file are
    # counted apart, under the labels of source_labels (the source_id where no other
    # source carries it), and their lines are not spanned as if one file's. Labelled
    # among every source the model trained on: a removal from one of two "data"
    # files names which, though it removes nothing of the other.
    group, contents = row_groups(frame["row_id"].to_numpy(), unl._source)
    labels = labels_among(unl, contents)
    frame["source"] = np.asarray(labels, dtype=object)[group]
    by_source = frame.groupby("source", sort=True)
    lines = by_source["line"].agg(["min", "max"])
    # Two counts, said apart: a merged row is one training row built from rows of
    # several sources, and one row of a source can be behind several merged rows (a
    # lookup row) or repeat (oversampling). "sources": training rows, per source they
    # come from; "source_rows": the distinct rows of each source behind them.
    training = {k: int(v) for k, v in by_source["row"].nunique().items()}
    behind = {k: int(v) for k, v in by_source["row_id"].nunique().items()}
    fields = {
        "sources": training,
        "source_rows": behind,
        "lines": {k: [int(lo), int(hi)] for k, lo, hi in lines.itertuples()},
        "row_ids": removed_ids,
        "row_ids_sha256": row_ids_digest(removed_ids),
    }
    if behind != training:
        fields["counts_note"] = counts_note(training, behind)
    if any(label != str(s.source_id) for label, s in zip(labels, contents)):
        # a label that is not the source_id alone: what it stands for
        fields["source_contents"] = {
            label: {"source_id": str(s.source_id), "uri": s.uri, "sha256": s.sha256}
            for label, s in sorted(zip(labels, contents), key=lambda p: p[0])
        }
    if "via" in frame.columns:
        via = frame.dropna(subset=["via"]).groupby("via", sort=True)["row"].nunique()
        fields["via_merge"] = {str(k): int(v) for k, v in via.items()}
    # Leaves that are rows of an aggregate stand for groups, not removed data.
    leaves = frame["row_id"].to_numpy(np.int64)
    kinds = {int(c): unl._source(c).kind for c in np.unique(codes_of(leaves))}
    grouped = np.isin(codes_of(leaves), [c for c, k in kinds.items() if k == "aggregate"])
    return fields, leaves[~grouped]


def counts_note(training, behind):
    """What the event's ``sources`` and ``source_rows`` count, in words, where they
    differ (``training``: removed training rows per source; ``behind``: the distinct
    rows of each source behind them)."""
    differ = "; ".join(
        f"{label}: {n} training row(s) from {behind[label]} row(s) of the source"
        for label, n in training.items()
        if behind[label] != n
    )
    return (
        "'sources' counts removed training rows per source they came from (a merged row "
        "under each source it was built from, a row given to fit more than once per "
        "copy); 'source_rows' counts the distinct rows of each source behind them "
        f"(file lines, frame rows): {differ}"
    )
