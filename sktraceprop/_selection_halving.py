"""Which iteration of a successive-halving search a split's fit belongs to, and so which
row of the search's ``cv_results_`` it is.

``HalvingGridSearchCV`` and ``HalvingRandomSearchCV`` evaluate candidates in
iterations; ``cv_results_`` has one row per candidate of every iteration (its ``iter``
column), but scikit-learn passes each split's fit only its candidate's number within the
iteration (``candidate_progress``). The iteration is read when the search clones its
base estimator for the split, in the process running the search: scikit-learn's own
loop (``BaseSuccessiveHalving._run_search``) appends the iteration's ``n_resources_``
and ``n_candidates_`` before it evaluates the iteration's candidates, and appends the
candidates to ``cv_results_`` after. The numbers travel with the clone (its tag) to
worker processes. Where that loop is not the search's (a subclass's own) or the numbers
disagree with the clone's call, the iteration is recorded as not known (None), never
guessed.
"""

import weakref

from .utils._sklearn_compat import successive_halving_base

__all__ = ["clone_position", "fold_fields", "register"]

#: search_id -> the halving search that minted it (in the process running the search).
_SEARCHES = weakref.WeakValueDictionary()


def register(search, tag):
    """Mark ``tag`` (a search's base-clone tag) as a halving search's, when it is one."""
    base = successive_halving_base()
    if base is None or not isinstance(search, base):
        return tag
    try:
        _SEARCHES[tag["search_id"]] = search
    except TypeError:  # not weakly referable: its splits say the iteration is not known
        pass
    return dict(tag, halving=True)


def clone_position(tag, clone_locals):
    """The tag of a split's clone of a halving search's base clone: ``tag`` with the
    iteration, its ``n_resources`` and the ``cv_results_`` row of the iteration's first
    candidate (all None when not known). ``clone_locals`` are the variables of
    scikit-learn's expression making the clone (its ``n_candidates``)."""
    unknown = dict(tag, iteration=None, n_resources=None, results_offset=None)
    search = _SEARCHES.get(tag.get("search_id"))
    base = successive_halving_base()
    if search is None or base is None:
        return unknown
    if getattr(type(search), "_run_search", None) is not base._run_search:
        return unknown  # a subclass's own loop: its order of appends is not known
    resources = getattr(search, "n_resources_", None)
    candidates = getattr(search, "n_candidates_", None)
    if (
        not isinstance(resources, list)
        or not isinstance(candidates, list)
        or not candidates
        or len(resources) != len(candidates)
        or clone_locals.get("n_candidates") != candidates[-1]
    ):
        return unknown
    return dict(
        tag,
        iteration=len(candidates) - 1,
        n_resources=int(resources[-1]),
        results_offset=int(sum(candidates[:-1])),
    )


def fold_fields(tag, candidate_progress):
    """The fields a halving search's split adds to its selection record (none for any
    other search): ``iteration``, ``n_resources`` and ``cv_results_index``, each None
    when not known."""
    if not tag.get("halving"):
        return {}
    offset = tag.get("results_offset")
    return {
        "iteration": tag.get("iteration"),
        "n_resources": tag.get("n_resources"),
        "cv_results_index": (
            None
            if offset is None or candidate_progress is None
            else offset + candidate_progress[0]
        ),
    }
