"""``unlearn(redact=...)``: erase from the stored run what it holds of the removed rows.

The run stored at fit keeps, under the store's hash chain, values only the removed rows
produced or that were counted over them: feature names only they produced (one-hot
categories), the training-data statistics of their sources, the SHA-256 and counts of
their sample weights (see ``_remains._stored_run_caveat``). A sealed run (stores of
schema version 3) can lose them without breaking the chain: :meth:`BaseStore.redact`.
"""

import numpy as np

from .._lineage._source import REGISTRY
from ..exceptions import StoreError
from ..stores._erase_rows import keyed_rows, removed_in, run_values
from ..stores._redaction import redact_runs


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
    """What the run stored at fit holds of the removed rows (see
    :func:`~sktraceprop.stores._erase_rows.run_values`; ``features``: the names only they
    produced)."""
    run = unl.estimator_.lineage_
    values = run_values(run, removed_ids, features=removal.dropped_features)
    if values is None:  # rows the run knows only through the unlearner (never given)
        values = {"features": list(removal.dropped_features), "sources": [], "fit_params": []}
    return values


def erase(unl, values, reason, event_seq, removed_ids):
    """Erase ``values`` (:func:`stored_run_values`) from the run stored at fit, and what
    every other sealed run of the store that was given removed rows holds of them (their
    sources' statistics, their weights, the same feature names): cross-validation and
    search runs, an explainer's, the run of a fitted estimator the unlearner was given.
    Rows are matched in each run by source and line (another process may have given the
    source another code). Returns the summaries of :meth:`BaseStore.redact`, one per
    run erased from."""
    store = unl.estimator_.store
    why = f"{reason.strip()} (unlearning event {event_seq})"
    own = {code: {s.key} for code, s in unl.estimator_.lineage_.sources.items()}
    rows = keyed_rows(np.asarray(removed_ids, dtype=np.int64), own, REGISTRY)
    wanted = [(unl.run_id_, values)]
    for run_id in store.list_runs()["run_id"]:
        if run_id == unl.run_id_ or not store._is_sealed_run(run_id):
            continue
        run = store.load_run(run_id)
        ids, _ = removed_in(run, rows=rows)
        asked = run_values(run, ids, features=values["features"])
        if asked is not None:
            wanted.append((run_id, asked))
    planned = [(r, store._held_values(r, **asked)) for r, asked in wanted]
    # one transaction: a failure (or a writer killed) part way erases from no run
    done, _ = redact_runs(
        store,
        [(r, held) for r, held in planned if any(held.values())],
        why,
        held_only=True,
        failed=lambda run_id, held, exc: (
            f"the rows were removed and the removal logged (event {event_seq}), but "
            f"erasing their values from stored run {run_id} failed: {exc}. Nothing was "
            "erased from any stored run; erase them with store.redact(run_id, "
            f"features=..., sources=..., fit_params=..., reason={why!r}) for each run "
            "given the rows, or with store.erase_rows"
        ),
    )
    return done
