"""Retained training rows that still carry removed rows' data: parent rows of removed
merged rows merged into retained rows too, and rows that joined group statistics
(:func:`sktraceprop.aggregate`) computed over removed rows."""

import numpy as np

from .._lineage._depends_on import depends_on
from .._lineage._ids import codes_of
from .._lineage._labels import content_key, source_labels, source_order
from .._lineage._lineage_frame import lineage_frame

__all__ = [
    "aggregates_over_removed",
    "kept_lineage",
    "merged_parents_kept",
    "merged_parents_note",
]


def kept_lineage(unl, retained):
    """A function giving the lineage frame of the retained training rows (merged rows
    expanded), computed on first use and then kept: each check of one removal reads it."""
    held = []

    def frame():
        if not held:
            held.append(lineage_frame(unl.train_row_ids_[retained], unl._source))
        return held[0]

    return frame


def labels_among(unl, contents):
    """:func:`~sktraceprop._lineage._labels.source_labels` of ``contents`` (distinct
    sources), told apart from one another and from every source ``unl`` trained on: a
    removal from one of two ``data`` files names which, though the other loses nothing."""
    pool = {content_key(s): s for s in unl._sources.values()}
    pool.update((content_key(s), s) for s in contents)
    pool = sorted(pool.values(), key=source_order)
    label = dict(zip(map(content_key, pool), source_labels(pool)))
    return [label[content_key(s)] for s in contents]


def merged_parents_kept(unl, kept, removed_leaves):
    """``{source: n}``, labelled as the event's ``sources``: parent rows of removed
    merged rows that are parents of retained training rows too, so still reach the model
    (empty if none).

    A merged row goes whole, so the event's ``sources`` and ``lines`` count every
    parent's source; a lookup row joined to many rows is counted there and stays.
    """
    behind = kept()["row_id"].to_numpy(np.int64)
    still = np.unique(removed_leaves[np.isin(removed_leaves, behind)])
    codes, counts = np.unique(codes_of(still), return_counts=True)
    sources = [unl._source(c) for c in codes]
    contents = list({content_key(s): s for s in sources}.values())
    label = dict(zip(map(content_key, contents), labels_among(unl, contents)))
    out = {}
    for source, n in zip(sources, counts):
        out[label[content_key(source)]] = out.get(label[content_key(source)], 0) + int(n)
    return dict(sorted(out.items()))


def merged_parents_note(kept):
    """The event's note for :func:`merged_parents_kept`."""
    listed = ", ".join(f"{n} row(s) of {source}" for source, n in kept.items())
    return (
        "removed merged rows go whole, with the values of all their parents, and "
        "'sources' and 'lines' count every parent's source; of those parent rows, "
        f"{listed} were merged into retained rows too and still reach the model through "
        "them (they were not removed: name them to remove those rows as well)"
    )


def aggregates_over_removed(unl, kept, removed_ids, removed_codes):
    """``{aggregate: n}``: retained training rows that joined a group statistic
    (:func:`sktraceprop.aggregate`) computed over removed rows.

    Their features still carry the removed rows' data, which no correction of the
    model can take out: the aggregate must be recomputed. An aggregate is one content,
    labelled as the event's ``sources`` (its source_id, widened where two aggregates the
    model trained on share it: two files' statistics both named ``"stats"``).
    """
    frame = kept()
    leaf_codes = codes_of(frame["row_id"].to_numpy(np.int64))
    counts = {}
    for code in np.unique(leaf_codes):
        source = unl._source(code)
        if source.kind != "aggregate":
            continue
        joined = leaf_codes == code
        group_rows = frame["row_id"].to_numpy(np.int64)[joined]
        hit, _ = depends_on(group_rows, unl._source, removed_ids, removed_codes)
        rows = frame["row"].to_numpy()[joined][hit]
        if rows.size:  # (an alias code of one content joins its rows)
            known = counts.setdefault(content_key(source), (source, []))
            known[1].append(rows)
    if not counts:
        return {}
    contents = [source for source, _ in counts.values()]
    labels = labels_among(unl, contents)
    return dict(
        sorted(
            (label, int(np.unique(np.concatenate(rows)).size))
            for label, (_, rows) in zip(labels, counts.values())
        )
    )


def _aggregate_caveat(unl, remaining, removal):
    """What remains of the removed rows in group statistics computed outside."""
    n = sum(remaining.values())
    names = ", ".join(f"{k!r} ({v} rows)" for k, v in sorted(remaining.items()))
    lineage = getattr(unl.estimator_, "lineage_", None)
    features = []
    if lineage is not None:
        # (a feature only removed rows produced, such as a one-hot category, is not
        # named: the event holds no value of a removed row)
        gone = set(removal.dropped_features)
        features = sorted(
            f
            for f, aggs in lineage.feature_aggregates().items()
            if f not in gone and any(_labelled(a, remaining) for a in aggs)
        )
    shown = f" (features {', '.join(features)})" if features else ""
    return (
        f"{n} retained training row(s) joined group statistics computed over removed "
        f"rows, from aggregate(s) {names}{shown}: those values still carry the removed "
        "rows' data, which no correction of the model removes. Recompute the aggregate "
        "without them and refit, or compute it inside the pipeline "
        "(sktraceprop.preprocessing.GroupStatistics), where unlearning refits it"
    )


def _labelled(source_id, labels):
    """Whether one of ``labels`` (of :func:`labels_among`) is of a source ``source_id``
    names: the source id itself, or widened (``"stats [dbc3be512a6d]"``)."""
    return any(label == source_id or label.startswith(f"{source_id} [") for label in labels)
