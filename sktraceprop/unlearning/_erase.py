"""``unlearn(redact=...)``: erase from the stored run what it holds of the removed rows.

The run stored at fit keeps, under the store's hash chain, values only the removed rows
produced or that were counted over them: feature names only they produced (one-hot
categories), the training-data statistics of their sources, the SHA-256 and counts of
their sample weights (see ``_stored_run._stored_run_caveat``). A sealed run (stores of
schema version 3) can lose them without breaking the chain: :meth:`BaseStore.redact`.
The unlearning event and every run's erasure are stored in one transaction.
"""

import numpy as np

from .._lineage._source import REGISTRY
from ..exceptions import StoreError
from ..stores._erase_match import keyed_rows, removed_in, run_values
from ..stores._redaction import Request, redact_runs


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
    :func:`~sktraceprop.stores._erase_match.run_values`; ``features``: the names only they
    produced)."""
    run = unl.estimator_.lineage_
    values = run_values(run, removed_ids, features=removal.dropped_features)
    if values is None:  # rows the run knows only through the unlearner (never given)
        values = {"features": list(removal.dropped_features), "sources": [], "fit_params": []}
    return values


def erasure_plan(unl, values, removed_ids):
    """The runs to erase ``values`` (:func:`stored_run_values`) from: the run stored at
    fit, and every other sealed run of the store that was given removed rows, with what
    it holds of them (their sources' statistics, their weights, the same feature names):
    cross-validation and search runs, an explainer's, the run of a fitted estimator the
    unlearner was given. Rows are matched in each run by source and line (another
    process may have given the source another code). ``(run_id, held)`` pairs, for
    :func:`~sktraceprop.stores._redaction.redact_runs`."""
    store = unl.estimator_.store
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
    return [(r, held) for r, held in planned if any(held.values())]


def store_with_erasure(unl, kind, payload, planned, reason):
    """Append the unlearning event (``kind``, ``payload``) and erase what ``planned``
    (:func:`erasure_plan`) names, each run's ``store.redaction`` event naming it, in
    one transaction: a failure, or a process killed part way, stores none of it (the
    event never says that values are erased next while runs still hold them). Returns
    the stored event."""
    store = unl.estimator_.store
    _, event = redact_runs(
        store,
        planned,
        lambda event: f"{reason.strip()} (unlearning event {event['seq']})",
        request=Request(kind, payload, unl.run_id_, names_runs=False),
        held_only=True,
        failed=lambda run_id, held, exc: (
            f"erasing the removed rows' values from stored run {run_id} failed: {exc}. "
            "Nothing was changed: the rows were not removed and nothing was logged or "
            "erased. Remove them again once that is resolved (without redact=, the "
            "stored runs keep their values)"
        ),
    )
    return event
