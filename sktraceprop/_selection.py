"""What a fit made by scikit-learn's model selection was: a cross-validation split, or a
search's refit.

``GridSearchCV``, ``RandomizedSearchCV``, the successive-halving searches,
``cross_validate`` (and so ``cross_val_score``), ``cross_val_predict``,
``learning_curve`` and ``validation_curve`` fit clones of the user's estimator. The run
of such a fit says so (``Lineage.selection``) only where scikit-learn itself made the
call, as the call stack shows it:

- a split: ``fit`` called by ``_fit_and_score`` or ``_fit_and_predict`` on the very
  estimator they were given, whose arguments hold the split and candidate numbers and
  the candidate's parameters;
- a refit: ``fit`` called by ``BaseSearchCV.fit`` on its ``best_estimator_``.

Which search or cross-validation call a split belongs to is known from the clone the
split fits: clones made by a search (of its ``estimator``, then of that base clone) or
by ``cross_validate``, ``cross_val_predict``, ``learning_curve`` or ``validation_curve``
carry the call's id, minted once per call in the process that made them, and travel
with the clone to worker processes; so does, for a successive-halving search, the
iteration the split belongs to (see ``_selection_halving``), and, for
``cross_validate`` and ``cross_val_predict`` (which give their fits no split number),
the split's place in the splitter's order, counted as the call clones its estimator
once per split. A search's id is also kept for the search object in the process that
fitted it (see ``sktraceprop._search_runs``). A fit any other code makes (a third-party
loop, a meta-estimator's own fits) records nothing here: the library does not guess.

The call stack is read through ``_selection_frames``; fits made by
``permutation_test_score`` are recorded by ``_selection_permutation``, and the run's notes
on a split of rows without ids or a transformed target are ``_selection_notes``'s.
"""

import sys
import threading
import uuid
import weakref

from . import _selection_halving
from ._enclosing_fit import TAG as ENCLOSING_TAG
from ._enclosing_fit import clone_tag as enclosing_clone_tag
from ._lineage._fingerprint import json_safe
from ._selection_frames import _caller, _class_path, _codes, _parallel_of
from ._selection_notes import anonymous_split_note, transformed_target_note
from ._selection_permutation import (
    _permutation_fold,
    enclosing_permutation,
    permuted_labels_note,
    permuted_stats,
)

__all__ = [
    "SelectionCloneMixin",
    "anonymous_split_note",
    "enclosing_permutation",
    "permuted_labels_note",
    "permuted_stats",
    "call_context",
    "merge_context",
    "search_fit_of",
    "selection_of",
    "transformed_target_note",
]

#: The attribute a clone made by model selection carries: ``{"search_id", "search"}``.
TAG = "_stp_search"
#: Parallel object of a cross-validation call (``cross_validate``...) -> its id.
_CALLS = weakref.WeakKeyDictionary()
_CALLS_LOCK = threading.Lock()
#: Parallel object of a cross_validate or cross_val_predict call -> splits cloned so far.
_SPLITS_MADE = weakref.WeakKeyDictionary()
#: The calls whose clones of their estimator are one per split, in the splitter's order
#: (learning_curve and validation_curve make several per split).
_SPLIT_ORDER = (
    "sklearn.model_selection.cross_validate",
    "sklearn.model_selection.cross_val_predict",
)
#: Search -> the id of its latest fit (in the process that ran it).
_SEARCH_IDS = weakref.WeakKeyDictionary()


def _remember(search, search_id):
    """Keep ``search_id`` as the id of ``search``'s latest fit (see :func:`search_fit_of`),
    with what shows later whether that fit made the search's ``cv_results_``: the
    estimator it was given and the ``cv_results_`` it had before; and the thread it runs
    in, which shows whether it is still under way (:func:`search_fit_running`)."""
    try:
        estimator = weakref.ref(search.estimator)
    except TypeError:
        estimator = None
    try:
        with _CALLS_LOCK:
            _SEARCH_IDS[search] = (
                search_id,
                estimator,
                search.__dict__.get("cv_results_"),
                threading.get_ident(),
            )
    except TypeError:  # not weakly referable: its id is found through its refit's run
        pass


def search_fit_of(search):
    """``(search_id, estimator, cv_results_ before, thread id)`` of the latest fit of
    ``search`` that started in this process (``estimator``: a weak reference to the
    estimator it was given, or None), or None."""
    try:
        with _CALLS_LOCK:
            return _SEARCH_IDS.get(search)
    except TypeError:
        return None


def merge_context(carried, own):
    """``run_context`` values ``own`` over those ``carried`` (``own`` wins where given,
    tags add up), as nested blocks combine."""
    carried, own = carried or {}, own or {}
    return {**carried, **own, "tags": {**carried.get("tags", {}), **own.get("tags", {})}}


def _context_of_call(original=None):
    """The ``run_context`` the search or cross-validation call runs in, as
    ``{"run_info": ...}`` (empty outside any block), for its clones to carry: their
    fits may run on another thread or in a worker process, outside the block. A
    search that is itself a split of an outer call (nested cross-validation, on a
    worker) adds it to the context ``original`` carries from that call."""
    from ._tracing import _RUN_INFO  # _tracing imports this module

    inherited = (getattr(original, TAG, None) or {}).get("run_info")
    info = merge_context(inherited, _RUN_INFO.get())
    info = {key: info[key] for key in ("name", "purpose", "tags", "parent_run_id") if key in info}
    return {"run_info": info} if info != {"tags": {}} else {}


def call_context(estimator, selection):
    """The ``run_context`` of the model-selection call now fitting ``estimator`` (an
    empty dict when there is none, or when the fit is not that call's)."""
    tag = getattr(estimator, TAG, None) or {}
    if selection is None:
        return {}  # a clone refitted later, by the user's own code
    if selection.get("search_id") != tag.get("search_id"):
        # permutation_test_score's fits record no search id; their clones carry one
        if selection.get("search_id") is not None or selection["search"] != tag.get("search"):
            return {}
    return tag.get("run_info", {})


def _fitted_as_split(frame, search, codes):
    """Whether ``search``, whose ``fit`` runs in ``frame``, is fitted by scikit-learn as
    one split of a cross-validation or search (not by the user's own code)."""
    frame = frame.f_back
    while frame is not None and frame.f_code not in codes["split"].keys():
        if not frame.f_globals.get("__name__", "").startswith(("sklearn.", "sktraceprop.")):
            return False
        frame = frame.f_back
    return frame is not None and frame.f_locals.get("estimator") is search


def clone_tag(original):
    """The tag a clone of ``original`` made now gets (None outside model selection).

    Called from ``__sklearn_clone__``: a search's base clone of its ``estimator`` gets a
    new id; clones of that base clone (one per split, the refit) made by the search
    keep it; the clones ``cross_validate``, ``cross_val_predict``, ``learning_curve``
    and ``validation_curve`` make get the id of their call.
    """
    if "sklearn.model_selection" not in sys.modules:
        return None
    codes = _codes()
    frame = _caller(("sktraceprop.", "sklearn.base"))
    if frame is None:
        return None
    if frame.f_code is codes["search_fit"]:
        search = frame.f_locals.get("self")
        if not isinstance(search, codes["search"]):
            return None
        if getattr(search, "estimator", None) is original:
            tag = {"search_id": str(uuid.uuid4()), "search": _class_path(search)}
            # a search fitted as a split of an outer call (nested cross-validation)
            # adds to the context the outer call's clone of its estimator carries
            inherited = original if _fitted_as_split(frame, search, codes) else None
            tag.update(_context_of_call(inherited))
            _remember(search, tag["search_id"])
            return _selection_halving.register(search, tag)
        if frame.f_locals.get("base_estimator") is original:
            return getattr(original, TAG, None)  # the refit's clone
        return None
    if frame.f_code not in codes["cloning"]:
        return None
    name = codes["cloning"][frame.f_code]
    if name is None:  # a search's split: a clone of its base clone
        tag = getattr(original, TAG, None)
        if tag is None or not tag.get("halving"):
            return tag
        return _selection_halving.clone_position(tag, frame.f_locals)
    parallel = _parallel_of(frame)
    if parallel is None:
        return None
    with _CALLS_LOCK:  # joblib may dispatch from several threads
        if parallel not in _CALLS:
            # the first clone is made in the calling thread, inside the user's
            # run_context; later ones may be made on joblib's dispatch threads
            _CALLS[parallel] = {"search_id": str(uuid.uuid4()), "search": name}
            _CALLS[parallel].update(_context_of_call())
        tag = dict(_CALLS[parallel])
        if name in _SPLIT_ORDER and frame.f_locals.get("estimator") is original:
            # one clone of the call's estimator per split, made in the splitter's order
            # as joblib draws the next task (one generator: never two at once); clones
            # of traced steps inside it are not counted
            tag["split_index"] = _SPLITS_MADE.get(parallel, 0)
            _SPLITS_MADE[parallel] = tag["split_index"] + 1
    return tag


class SelectionCloneMixin:
    """Clones made by a search or cross-validation carry the id of that call (``TAG``),
    so that their fit, in this process or a worker, can name it in its run."""

    def __sklearn_clone__(self):
        new = super().__sklearn_clone__()
        tag = clone_tag(self)
        if tag is not None:
            setattr(new, TAG, tag)
        else:  # a meta-estimator's fit, named where a worker process fits the clone
            enclosing = enclosing_clone_tag(self)
            if enclosing is not None:
                setattr(new, ENCLOSING_TAG, enclosing)
        return new


def _progress(value):
    if value is None:
        return None
    return [int(v) for v in value]


def _n_splits(candidates, fits):
    """The number of splits of the search now refitting: every candidate is fitted on
    every split (scikit-learn raises otherwise). Not ``search.n_splits_``: scikit-learn
    1.6 to 1.8 set it after the refit, so during the refit it is absent, or the number of
    a previous fit of the same search."""
    if not candidates or fits is None or len(fits) % len(candidates):
        return None
    return len(fits) // len(candidates)


def selection_of(estimator):
    """What the fit of ``estimator`` now running is, for its run (None when not known).

    Called from the traced fit: the first frame outside sktraceprop is the code that
    called ``fit``.
    """
    if "sklearn.model_selection" not in sys.modules:
        return None
    codes = _codes()
    frame = _caller(("sktraceprop.", "contextlib"))
    if frame is None:
        return None
    tag = getattr(estimator, TAG, None) or {}
    called_by = codes["split"].get(frame.f_code)
    if called_by is not None:
        local = frame.f_locals
        if local.get("estimator") is not estimator:
            return None
        train, test = local.get("train"), local.get("test")
        candidate_progress = _progress(local.get("candidate_progress"))
        return {
            "role": "cv_fold",
            "estimator": _class_path(estimator),
            "search_id": tag.get("search_id"),
            "search": tag.get("search"),
            "called_by": called_by,
            "split_progress": _progress(local.get("split_progress")),
            "candidate_progress": candidate_progress,
            "candidate_params": (
                None if local.get("parameters") is None else json_safe(local["parameters"])
            ),
            "n_train": None if train is None else len(train),
            "n_test": None if test is None else len(test),
            **_selection_halving.fold_fields(tag, candidate_progress),
            **({"split_index": tag["split_index"]} if "split_index" in tag else {}),
        }
    if frame.f_code is codes["permutation"]:
        return _permutation_fold(frame, estimator, codes)
    if frame.f_code is codes["search_fit"]:
        search = frame.f_locals.get("self")
        if not isinstance(search, codes["search"]):
            return None
        if getattr(search, "best_estimator_", None) is not estimator:
            return None
        candidates = frame.f_locals.get("all_candidate_params")
        fits = frame.f_locals.get("all_out")
        return {
            "role": "refit",
            "estimator": _class_path(estimator),
            "search_id": tag.get("search_id"),
            "search": tag.get("search") or _class_path(search),
            "called_by": "sklearn.model_selection._search.BaseSearchCV.fit",
            "refit": (
                f"{getattr(search.refit, '__module__', '')}.{search.refit.__qualname__}"
                if callable(search.refit) and hasattr(search.refit, "__qualname__")
                else json_safe(search.refit)
            ),
            "best_index": (int(search.best_index_) if hasattr(search, "best_index_") else None),
            "best_params": json_safe(getattr(search, "best_params_", None)),
            "n_splits": _n_splits(candidates, fits),
            "n_candidates": None if candidates is None else len(candidates),
            # every fit on a split, and those that raised (error_score): they stored no run
            "n_split_fits": None if fits is None else len(fits),
            "n_failed_fits": (
                None if fits is None else sum(o.get("fit_error") is not None for o in fits)
            ),
        }
    return None
