"""The report's model section: class, parameters, fingerprint, versions, the training
run and its ops, and what the run's model-selection record means for the model."""

from .._lineage._fingerprint import json_safe
from .._lineage._fingerprint_schemes import scheme_note
from .._lineage._op_rows import training_rows

__all__ = ["model_section", "selection_note"]


def model_section(run, matches=None, after_removal=None, match_caveat=None):
    """The model: class, parameters, fingerprint, versions and the training run.

    ``after_removal``: for a model an unlearner corrected, the removal event that left
    it (``seq``, ``hash`` and the corrected model's ``fingerprint`` it records).
    ``match_caveat``: what the match rests on when the record's fingerprints are of
    scheme 1 only (a record from before scheme 2), else None.
    """
    counts = training_rows(run)
    out = {
        "run_id": run.run_id,
        "trained_at": run.created_at,
        "estimator": run.estimator,
        "final_estimator": run.ops[-1].cls if run.ops else run.estimator,
        "params": json_safe(run.params),
        "fingerprint": run.model_fingerprint,
        # format 10: the scheme that made it, as the run records it (null: not recorded)
        "fingerprint_scheme": run.fingerprint_scheme,
        "fingerprint_scheme_note": scheme_note(run.fingerprint_scheme),
        "versions": dict(run.versions),
        "n_training_rows": int(run.n_samples),
        "ops": [
            {
                "name": op.name,
                "class": op.cls,
                "fingerprint": op.fingerprint,
                "features_in": [str(f) for f in op.features_in],
                "n_features_out": len(op.features_out),
                "sources": None if op.sources is None else list(op.sources),
                **_source_keys(op),
                **({} if n is None else {"training_rows": None if n < 0 else n}),
            }
            for op, n in zip(run.ops, counts)
        ],
        "notes": list(run.notes),
        "fitted_object_matches_run": matches,
        "purpose": run.purpose,
        "selection": None if run.selection is None else json_safe(run.selection),
        "selection_note": selection_note(run),
    }
    if run.fit_params:  # format 4; absent where fit was given no parameters
        out["fit_params"] = json_safe(run.fit_params)
    if after_removal is not None:
        out["fitted_object_after_removal"] = dict(after_removal)
    if match_caveat is not None:
        out["fitted_object_match_caveat"] = match_caveat
    return out


def _source_keys(op):
    """``{"source_keys": [...]}``: the ``source_id`` and SHA-256 of each source an op was
    fitted on; empty for an op of every row, or recorded before they were kept."""
    if op.source_keys is None:
        return {}
    return {"source_keys": [{"source_id": i, "sha256": sha} for i, sha in op.source_keys]}


def _progress(pair, what):
    return f"{what} {pair[0] + 1} of {pair[1]}" if pair else None


def _split_index(selection):
    """The split of a cross_validate or cross_val_predict fit, in words (None when the
    run does not record it)."""
    k = selection.get("split_index")
    return None if k is None else f"split {k + 1} in the splitter's order"


def _iteration(selection):
    """Where a halving search's split is in its ``cv_results_``, in words (None for the
    split of any other search)."""
    if "iteration" not in selection:
        return None
    if selection["iteration"] is None or selection.get("cv_results_index") is None:
        return "halving iteration not known"
    return (
        f"halving iteration {selection['iteration']}, row {selection['cv_results_index']} "
        "of the search's cv_results_"
    )


def _failed(selection):
    """How many of a search's fits on splits failed (they stored no run), in words."""
    if selection.get("n_split_fits") is None:
        return ""
    failed = selection.get("n_failed_fits") or 0
    return (
        f"; {selection['n_split_fits']} fits on splits, {failed} of which failed "
        "(error_score) and stored no run"
    )


def selection_note(run):
    """What the run's model-selection record means for the model, in words (None when
    scikit-learn's model selection did not make the fit, as far as the run records)."""
    selection = run.selection
    if selection is None:
        if run.purpose in (None, "fit"):
            return (
                "the run does not record that scikit-learn's model selection made this fit "
                "(a fit a search or cross-validation made through other code is not "
                "recognised, and runs recorded before the library recorded it do not say)"
            )
        return None
    search = selection.get("search") or "a search or cross-validation call the run does not name"
    search_id = selection.get("search_id")
    of = f"{search}" + (f" (search_id {search_id})" if search_id else "")
    if selection.get("role") == "refit":
        best = selection.get("best_index")
        return (
            f"the refit of {of}: fitted on every row given to the search, with the "
            f"parameters of the candidate it chose (best_index {best} of "
            f"{selection.get('n_candidates')} candidates, {selection.get('n_splits')} "
            f"splits each{_failed(selection)}); the fits on its splits are other runs with "
            "the same search_id"
            if search_id
            else f"the refit of {of}: fitted on every row given to the search, with the "
            f"parameters of the candidate it chose (best_index {best}); which stored runs "
            "were its splits is not known"
        )
    parts = [
        p
        for p in (
            _progress(selection.get("split_progress"), "split") or _split_index(selection),
            _progress(selection.get("candidate_progress"), "candidate"),
            _iteration(selection),
        )
        if p
    ]
    where = f" ({', '.join(parts)})" if parts else ""
    params = (
        ", with the parameters of the candidate it evaluated"
        if selection.get("candidate_params") is not None
        else ""
    )
    labels = ""
    if "labels_permuted" in selection:
        labels = {
            True: " with labels it permuted (not the data's; a test of chance)",
            False: " with the labels as given",
        }.get(selection["labels_permuted"], " with labels it may have permuted")
    return (
        f"a cross-validation fit{where} made by {of}: fitted on the "
        f"{selection.get('n_train')} training rows of one split{labels}, to be evaluated "
        f"on its {selection.get('n_test')} held-out rows{params}; a search puts its refit "
        "in use, not this fit"
    )
