"""What the stored record of an unlearner's run (append-only, under the store's hash
chain) still says of the rows a removal took out: the caveat of its event."""

import numpy as np
import pandas as pd

from .._lineage._ids import codes_of


def _stored_run_caveat(unl, removal, removed_ids):
    """What the stored record of the run (append-only, under the chain) still says of
    the removed rows; None when the run is not stored."""
    lineage = getattr(unl.estimator_, "lineage_", None)
    if lineage is None or getattr(unl.estimator_, "store", None) is None:
        return None
    kept, only = [], set()
    if removal.dropped_features:
        kept.append(
            f"lists {len(removal.dropped_features)} feature name(s) the refitted "
            "preprocessing no longer outputs (e.g. one-hot categories only removed rows "
            "had, terms only they used)"
        )
    if lineage.source_stats:
        kinds = {r["labels"].get("kind") for r in lineage.source_stats.get("sources", [])}
        what = "rows"
        if "classes" in kinds:
            what += ", label counts per class"
        if "continuous" in kinds:
            what += ", the target's mean, std, min and max"
        what += " and missing values, per source"
        values, only = _target_values_named(unl, removed_ids, kinds)
        kept.append(
            "keeps the training-data statistics counted at fit over all its rows, "
            f"removed rows included ({what}){', naming ' if values else ''}"
            f"{' and '.join(values)}"
        )
    weights = [k for k, v in lineage.fit_params.items() if "weights" in v or "retained" in v]
    # the copy recounts the weights over the retained rows where the method holds them
    recounted = [k for k in weights if "weights" in lineage.fit_params[k]]
    if weights:
        kept.append(
            f"keeps the SHA-256 and counts of the sample weights given to fit "
            f"({', '.join(weights)}) over all its rows, removed rows included"
            + (
                " (less the copy's recount, their sum gives the removed rows' summed "
                "weight: for one removed row, its weight)"
                if recounted
                else ""
            )
        )
    if not kept:
        return None
    listed = _events_listing(unl.estimator_.store, unl.run_id_, only) if only else 0
    return (
        f"the stored record of run {unl.run_id_} (append-only, under the store's hash "
        f"chain) {' and '.join(kept)}; the unlearner's copy (estimator_.lineage_) "
        "does not"
        + (_difference_caveat(removal) if lineage.source_stats else "")
        + (
            f"; {listed} prediction or explanation event(s) logged for the run before "
            "this removal (under the chain: they stay) list the label(s) of the class(es) "
            "only removed rows had among the model's classes"
            if listed
            else ""
        )
    )


def _events_listing(store, run_id, labels):
    """How many prediction and explanation events of run ``run_id`` list any of the
    class ``labels`` among the model's classes (read only when a removal takes a class
    away, which is rare)."""
    labels = {str(v) for v in labels}
    n = 0
    for kind, key in (("prediction", "outputs"), ("explanation", "explained")):
        for event in store.events(run_id, kind=kind):
            record = event["payload"].get(key) or {}
            if labels & set(record.get("classes", ())):
                n += 1
    return n


def _difference_caveat(removal):
    """What the stored statistics less the copy's recount (over the data the removal
    method holds, see :func:`~._run_copy.retained_stats`) give of the removed rows."""
    X, y = removal.method.held_data()
    own = []
    if y is not None:
        own.append("their label counts or target sum")
    if X is not None:
        own.append("their missing values per column")
    if not own:
        return ""
    exactly = (
        ": for a source that lost one row, that row's label or target" if y is not None else ""
    )
    return (
        ", but its statistics, recounted over the retained rows, subtracted from the "
        f"stored ones give the removed rows' own per source ({' and '.join(own)}{exactly})"
    )


def _target_values_named(unl, removed_ids, kinds):
    """The removed rows' target values that the stored statistics name, in words (class
    labels only removed rows had, and per source a min or max that only a removed row
    reaches), and the set of those labels. Computed from the targets the unlearner
    holds before the removal; empty when it holds them only encoded."""
    _, y = unl._method.held_data()
    if y is None or np.ndim(y) != 1:
        return [], set()
    held = unl.train_row_ids_[unl.retained_mask_]
    gone = np.isin(held, np.asarray(removed_ids, dtype=np.int64))
    out, only = [], set()
    if "classes" in kinds:
        only = set(pd.unique(y[gone][pd.notna(y[gone])])) - set(pd.unique(y[~gone]))
        if only:
            out.append(f"the label(s) of {len(only)} class(es) only removed rows had")
    if "continuous" in kinds and y.dtype.kind == "f":
        codes = codes_of(held)
        extremes = []
        for code in np.unique(codes[gone]):
            of_s = codes == code
            removed, retained = y[of_s & gone], y[of_s & ~gone]
            removed = removed[~np.isnan(removed)]
            retained = retained[~np.isnan(retained)]
            if not removed.size:
                continue
            high = not retained.size or removed.max() > retained.max()
            low = not retained.size or removed.min() < retained.min()
            if high or low:
                which = "min and max" if high and low else "max" if high else "min"
                extremes.append((unl._source(code).source_id, which))
        if extremes:
            named = ", ".join(f"{which} of {source!r}" for source, which in sorted(extremes))
            out.append(
                f"as the target's {named} value(s) only removed rows have "
                "(no retained row of the source)"
            )
    return out, only
