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


def stored_run_values(unl, removal, removed_ids):
    """What the stored run holds of the removed rows: ``features`` (names only they
    produced), ``sources`` (whose statistics counted them: their sources, and the
    parents of merged ones) and ``fit_params`` (sample weights over them)."""
    lineage = unl.estimator_.lineage_
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
    return {
        "features": list(removal.dropped_features),
        "sources": sorted(sources),
        "fit_params": weights,
    }


def erase(unl, values, reason, event_seq):
    """Erase ``values`` (:func:`stored_run_values`) from the stored run; the summary of
    :meth:`BaseStore.redact`, or None when the run holds none of them any more."""
    store = unl.estimator_.store
    held = store._held_values(unl.run_id_, **values)
    if not any(held.values()):
        return None
    why = f"{reason.strip()} (unlearning event {event_seq})"
    try:
        return store.redact(unl.run_id_, **held, reason=why)
    except Exception as exc:
        raise StoreError(
            f"the rows were removed and the removal logged (event {event_seq}), but "
            f"erasing their values from stored run {unl.run_id_} failed: {exc}. Erase them "
            f"with store.redact({unl.run_id_!r}, features={held['features']!r}, "
            f"sources={held['sources']!r}, fit_params={held['fit_params']!r}, "
            f"reason={why!r})"
        ) from exc
