"""The stored run of each candidate and split of a fitted search, by ``cv_results_`` row.

A search's ``cv_results_`` is scikit-learn's own dict, built by scikit-learn's code, and
carries no run ids: the fits of its splits may run in worker processes, each storing its
run there, and the search never sees them. Adding keys to it, or attributes to the
search, would change an object the library does not own. The runs say which search,
candidate and split they are (``Lineage.selection``), so this module finds them in the
store and lays them out by ``cv_results_`` row, after checking that each run's
candidate is that row's.
"""

import numpy as np
import pandas as pd

from ._lineage._fingerprint import json_safe
from ._selection import search_fit_of
from ._selection_frames import search_fit_running
from .exceptions import LineageError

__all__ = ["search_runs"]


def _search_classes():
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    from .utils._sklearn_compat import model_selection_internals, successive_halving_base

    base = model_selection_internals()[0]
    return (
        base,
        (GridSearchCV._run_search, RandomizedSearchCV._run_search),
        successive_halving_base(),
    )


def _refit_run(search):
    """The run of the search's refitted model (or of the model an unlearner or explainer
    wraps there), or None."""
    if not search.refit:  # a best_estimator_ left from an earlier fit is not this fit's
        return None
    best = getattr(search, "best_estimator_", None)
    for model in (best, getattr(best, "estimator_", None)):
        run = getattr(model, "lineage_", None)
        if run is not None and (run.selection or {}).get("role") == "refit":
            return run
    return None


def _latest_fit(search, found, results):
    """The id of the search's latest fit in this process (``found``: what
    :func:`search_fit_of` said of it), checked to be the fit that made its
    ``cv_results_`` (``results``); None when it was not fitted here."""
    if found is None:
        return None
    search_id, estimator, before, thread_id = found
    running = search_fit_running(search, thread_id) if results is before else None
    if running == "here":
        raise LineageError(
            f"this {type(search).__name__} is being refitted (its fit {search_id} is under "
            "way, in this thread): its cv_results_ are of an earlier fit, whose runs "
            "cannot be told apart here. Call search_runs again once the refit is done"
        )
    if running == "thread":
        raise LineageError(
            f"this {type(search).__name__}'s latest fit ({search_id}) began in another "
            "thread, which is still running, and has not set its cv_results_: the fit is "
            "under way there, or it raised there (another thread's stack is not read, so "
            "which is not known here). Its cv_results_ are of an earlier fit, whose runs "
            "cannot be told apart here. Call search_runs again once a fit of it has "
            "completed"
        )
    if results is before:
        raise LineageError(
            f"the latest fit of this {type(search).__name__} (search_id {search_id}) did "
            "not complete: its cv_results_ are of an earlier fit, whose runs cannot be "
            "told apart here. Fit it again"
        )
    if estimator is None or estimator() is not search.estimator:
        raise LineageError(
            f"this {type(search).__name__}'s estimator was replaced since its fit "
            f"{search_id}: whether its cv_results_ are of that fit (a fit of an estimator "
            "that records no run leaves no id) is not known. Fit it again"
        )
    return search_id


def _the_search_id(search, found, results):
    mine = _latest_fit(search, found, results)
    refit = _refit_run(search)
    theirs = None if refit is None else refit.selection.get("search_id")
    if mine is not None and theirs is not None and mine != theirs:
        raise LineageError(
            f"the best_estimator_ of this {type(search).__name__} was not fitted by its "
            f"latest fit (its run names search {theirs}, the latest fit was {mine}): it "
            "was replaced or refitted after the search; its runs are not this fit's"
        )
    found = mine or theirs
    if found is None:
        raise LineageError(
            f"which fit of this {type(search).__name__} made which runs is not known: it "
            "was not fitted in this process (unpickled) and holds no refitted traced "
            "model whose run names it (refit=False, or an estimator that records no "
            "run). Its runs are in the store all the same: store.list_runs("
            "search_role='cv_fold') lists each with its search_id"
        )
    return found


def _row_of(search, selection, n_rows, bases):
    """The ``cv_results_`` row of a split's run, or None when not known."""
    base, plain_loops, halving = bases
    if halving is not None and isinstance(search, halving):
        return selection.get("cv_results_index")
    if type(search)._run_search in plain_loops:
        # GridSearchCV and RandomizedSearchCV evaluate all candidates in one call, in
        # the order of cv_results_
        index, count = selection.get("candidate_progress") or (None, None)
        return index if count == n_rows else None
    return None  # a search's own loop: which call of evaluate_candidates is not known


def _refitted_meanwhile(search, found, results, search_id):
    """Refuse the runs of fit ``search_id`` once ``search`` holds another fit's
    ``cv_results_`` or started another fit: it was refitted in another thread while its
    runs were read, and a table of one fit's runs by the rows of the other's (the
    candidates of a randomized or halving search, their scores) would mix the two."""
    if search.__dict__.get("cv_results_") is results and search_fit_of(search) is found:
        return
    raise LineageError(
        f"this {type(search).__name__} was refitted while its runs were read (the runs "
        f"found are of its fit {search_id}; it now holds, or is making, another): "
        "call search_runs again once it is not being refitted"
    )


def search_runs(search, store):
    """The run id of every candidate's fit on every split of a fitted search.

    Finds in ``store`` the runs the search's fits on cross-validation splits stored
    (purpose ``"cv_fold"``, in this process or in worker processes) and lays them out
    by row of the search's ``cv_results_``, one column per split, checking that each
    run is of this search's latest fit and that its candidate's parameters are that
    row's. The refit's run is ``best_estimator_.lineage_`` (``store.list_runs(
    search_id=..., search_role="refit")``).

    Parameters
    ----------
    search : fitted GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV or HalvingRandomSearchCV
        The search, over a traced estimator (or an unlearner or explainer of one) whose
        store is ``store``.
    store : BaseStore
        The store the split fits wrote their runs to.

    Returns
    -------
    runs : DataFrame
        Indexed by ``cv_results_`` row (``cv_results_index``), columns
        ``split0_run_id`` ... one per split: the run's id, or None where the fit stored
        no run (it failed: see ``error_score``). ``attrs["search_id"]`` is the search's
        id. ``pd.DataFrame(search.cv_results_).join(runs)`` puts them beside the scores.

    Raises
    ------
    LineageError
        Where the rows cannot be known rather than guessed: a search whose loop is its
        own (a subclass's ``_run_search``, a third-party search), a search not fitted in
        this process that holds no refitted traced model, runs that disagree with
        ``cv_results_`` (another candidate, two runs of one candidate and split), a
        store holding no run of the search, a search being refitted in another thread
        when it is called, or refitted while its runs were read.
    """
    from sklearn.utils.validation import check_is_fitted

    bases = _search_classes()
    if not isinstance(search, bases[0]):
        raise TypeError(
            f"search_runs takes a fitted scikit-learn search (GridSearchCV, "
            f"RandomizedSearchCV, ...), not a {type(search).__name__}"
        )
    check_is_fitted(search, "cv_results_")
    if not callable(getattr(store, "list_runs", None)):
        raise TypeError(f"store must be a sktraceprop store, got {type(store).__name__}")
    # what the search holds, read once: a refit in another thread replaces it (checked
    # once the runs are read, see _refitted_meanwhile)
    found, results, n_splits = search_fit_of(search), search.cv_results_, int(search.n_splits_)
    search_id = _the_search_id(search, found, results)
    params = results["params"]
    n_rows = len(params)
    listed = store.list_runs(search_id=search_id, search_role="cv_fold")
    if listed.empty:
        raise LineageError(
            f"{store!r} holds no run of the splits of this search (search_id "
            f"{search_id}): its estimator stored its runs elsewhere, or none (no store), "
            "or the traced estimator is a step of the estimator searched (a plain "
            "Pipeline's step: its fits are that Pipeline's, not the search's splits)"
        )
    table = np.full((n_rows, n_splits), None, dtype=object)
    for run_id in listed["run_id"]:
        selection = store.load_run(run_id).selection
        row = _row_of(search, selection, n_rows, bases)
        if row is None:
            raise LineageError(
                f"the cv_results_ row of run {run_id} of this {type(search).__name__} is "
                "not known: the search evaluates its candidates in a loop of its own "
                "(scikit-learn passes each split's fit only its place within one call). "
                "Its candidate's parameters are in its record (selection['candidate_"
                "params'])"
            )
        split, count = selection.get("split_progress") or (None, None)
        if count != n_splits or not 0 <= split < n_splits or not 0 <= row < n_rows:
            raise LineageError(
                f"run {run_id} says split {split} of {count} and cv_results_ row {row}; "
                f"this search has {n_splits} splits and {n_rows} rows"
            )
        if selection.get("candidate_params") != json_safe(params[row]):
            raise LineageError(
                f"run {run_id} fitted the parameters {selection.get('candidate_params')}, "
                f"not those of cv_results_ row {row} ({json_safe(params[row])})"
            )
        if table[row, split] is not None:
            raise LineageError(
                f"runs {table[row, split]} and {run_id} both say they are the fit of "
                f"cv_results_ row {row} on split {split}"
            )
        table[row, split] = run_id
    _refitted_meanwhile(search, found, results, search_id)
    out = pd.DataFrame(
        {f"split{k}_run_id": pd.Series(table[:, k], dtype=object) for k in range(n_splits)},
    ).rename_axis("cv_results_index")
    out.attrs["search_id"] = search_id
    return out
