"""``unlearn(redact=...)``: erase from the stored run what it holds of the removed rows.

The run stored at fit keeps, under the store's hash chain, values only the removed rows
produced or that were counted over them: feature names only they produced (one-hot
categories), the training-data statistics of their sources, the SHA-256 and counts of
their sample weights (see ``_remains._stored_run_caveat``). A sealed run (stores of
schema version 3) can lose them without breaking the chain: :meth:`BaseStore.redact`.
"""

import numpy as np

from .._lineage._ids import codes_of
from ..exceptions import StoreError


def check_redact(unl, redact):
    """Refuse ``redact=`` before anything is removed when it cannot be honoured."""
    if redact is None:
        return
    if not isinstance(redact, str) or not redact.strip():
        raise ValueError(
            "redact must be the reason for erasing the removed rows' values from the "
            f"stored run (a non-empty string), got {redact!r}"
        )
    store = getattr(unl.estimator_, "store", None)
    if store is None or getattr(unl.estimator_, "lineage_", None) is None:
        raise StoreError(
            "redact= erases values from the run a store holds, but the model was fitted "
            "without a store: there is nothing stored to erase. Nothing was changed."
        )
    if not store._is_sealed_run(unl.run_id_):
        raise StoreError(
            f"redact= cannot erase values of run {unl.run_id_}: {store!r} holds it with its "
            "whole record under the hash chain (a store of schema version 2, or a run saved "
            "before runs were sealed). Nothing was changed; remove the rows without "
            "redact=, and fit new models into a new store."
        )


def _values_of(lineage, features, removed_ids):
    """What ``lineage`` (a run) holds of the removed rows: ``features`` (the names given),
    ``sources`` (whose statistics counted them: their sources, and the parents of
    merged ones) and ``fit_params`` (sample weights over them)."""
    sources = set()
    if lineage.source_stats:
        for code in np.unique(codes_of(np.asarray(removed_ids, dtype=np.int64))).tolist():
            source = lineage.sources.get(code)
            if source is None:
                continue
            sources.add(source.source_id)
            for parent in source.parent_codes:
                if parent in lineage.sources:
                    sources.add(lineage.sources[parent].source_id)
    weights = [k for k, v in lineage.fit_params.items() if "weights" in v or "retained" in v]
    return {"features": list(features), "sources": sorted(sources), "fit_params": weights}


def stored_run_values(unl, removal, removed_ids):
    """What the run stored at fit holds of the removed rows (see :func:`_values_of`;
    ``features``: the names only they produced)."""
    return _values_of(unl.estimator_.lineage_, removal.dropped_features, removed_ids)


def _trained_on(run, removed_ids):
    rows = [run.row_ids] + ([] if run.input_row_ids is None else [run.input_row_ids])
    return any(np.isin(removed_ids, ids).any() for ids in rows)


def erase(unl, values, reason, event_seq, removed_ids):
    """Erase ``values`` (:func:`stored_run_values`) from the run stored at fit, and what
    every other sealed run of the store that was given removed rows holds of them (their
    sources' statistics, their weights, the same feature names): cross-validation and
    search runs, an explainer's, the run of a fitted estimator the unlearner was given.
    Returns the summaries of :meth:`BaseStore.redact`, one per run erased from."""
    store = unl.estimator_.store
    why = f"{reason.strip()} (unlearning event {event_seq})"
    removed_ids = np.asarray(removed_ids, dtype=np.int64)
    wanted = [(unl.run_id_, values)]
    for run_id in store.list_runs()["run_id"]:
        if run_id == unl.run_id_ or not store._is_sealed_run(run_id):
            continue
        run = store.load_run(run_id)
        if _trained_on(run, removed_ids):
            wanted.append((run_id, _values_of(run, values["features"], removed_ids)))
    done = []
    for run_id, asked in wanted:
        held = store._held_values(run_id, **asked)
        if not any(held.values()):
            continue
        try:
            done.append(store.redact(run_id, **held, reason=why))
        except Exception as exc:
            finished = ", ".join(d["run_id"] for d in done) or "none"
            raise StoreError(
                f"the rows were removed and the removal logged (event {event_seq}), but "
                f"erasing their values from stored run {run_id} failed: {exc} (erased "
                f"from: {finished}). Erase them with store.redact({run_id!r}, "
                f"features={held['features']!r}, sources={held['sources']!r}, "
                f"fit_params={held['fit_params']!r}, reason={why!r})"
            ) from exc
    return done
