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
"""

import sys
import threading
import uuid
import weakref

from . import _selection_halving
from ._enclosing_fit import TAG as ENCLOSING_TAG
from ._enclosing_fit import clone_tag as enclosing_clone_tag
from ._lineage._fingerprint import json_safe

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
_CODES = None


def _nested_codes(code, name):
    """Code objects named ``name`` defined (at any depth) inside ``code``."""
    out = []
    for const in code.co_consts:
        if hasattr(const, "co_consts"):
            if const.co_name == name:
                out.append(const)
            out += _nested_codes(const, name)
    return out


def _unwrapped_code(function):
    while hasattr(function, "__wrapped__"):
        function = function.__wrapped__
    return function.__code__


def _codes():
    """The code objects of scikit-learn's model-selection calls, found once."""
    global _CODES
    if _CODES is None:
        from sklearn.model_selection import (
            cross_val_predict,
            cross_validate,
            learning_curve,
            validation_curve,
        )

        from .utils._sklearn_compat import model_selection_internals

        search, fit_and_score, fit_and_predict = model_selection_internals()
        from sklearn.model_selection import _validation

        search_fit = _unwrapped_code(search.fit)
        cloning = {code: None for code in _nested_codes(search_fit, "<genexpr>")}
        for function, name in (
            (cross_validate, "sklearn.model_selection.cross_validate"),
            (cross_val_predict, "sklearn.model_selection.cross_val_predict"),
            (learning_curve, "sklearn.model_selection.learning_curve"),
            (validation_curve, "sklearn.model_selection.validation_curve"),
            # its clones carry the call's run_context only (see call_context)
            (_validation.permutation_test_score, "sklearn.model_selection.permutation_test_score"),
        ):
            for code in _nested_codes(_unwrapped_code(function), "<genexpr>"):
                cloning[code] = name
        _CODES = {
            "search": search,
            "search_fit": search_fit,
            "split": {
                _unwrapped_code(fit_and_score): (
                    "sklearn.model_selection._validation._fit_and_score"
                ),
                _unwrapped_code(fit_and_predict): (
                    "sklearn.model_selection._validation._fit_and_predict"
                ),
            },
            "cloning": cloning,
            # permutation_test_score fits through _permutation_test_score: called once
            # directly (the labels as given), then through joblib on permuted labels
            "permutation": _unwrapped_code(_validation._permutation_test_score),
            "permutation_call": _unwrapped_code(_validation.permutation_test_score),
        }
    return _CODES


def _caller(skip):
    """The first frame, outward from the caller of this module's caller, that is not in
    a module whose name starts with one of ``skip``."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(skip):
        frame = frame.f_back
    return frame


def _class_path(obj):
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _parallel_of(frame):
    """The joblib ``Parallel`` object dispatching the calls ``frame`` makes, or None."""
    from joblib import Parallel

    while frame is not None:
        if _library_frame(frame, ("joblib.", "sklearn.")):
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, Parallel):
                return candidate
        frame = frame.f_back
    return None


def _library_frame(frame, prefixes):
    """Whether ``frame`` runs code of a module named with one of ``prefixes``. Only such
    frames' ``f_locals`` are read: reading a frame's ``f_locals`` stores a snapshot of its
    variables in the frame, so a user's function would keep alive, until it returns,
    every object it had when a fit looked (one it then deletes, too)."""
    return frame.f_globals.get("__name__", "").startswith(prefixes)


def _remember(search, search_id):
    """Keep ``search_id`` as the id of ``search``'s latest fit (see :func:`search_fit_of`),
    with what shows later whether that fit made the search's ``cv_results_``: the
    estimator it was given and the ``cv_results_`` it had before."""
    try:
        estimator = weakref.ref(search.estimator)
    except TypeError:
        estimator = None
    try:
        with _CALLS_LOCK:
            _SEARCH_IDS[search] = (search_id, estimator, search.__dict__.get("cv_results_"))
    except TypeError:  # not weakly referable: its id is found through its refit's run
        pass


def search_fit_of(search):
    """``(search_id, estimator, cv_results_ before)`` of the latest fit of ``search`` that
    started in this process (``estimator``: a weak reference to the estimator it was
    given, or None), or None."""
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


def _permutation_fold(frame, estimator, codes):
    """The record of a fit made by ``permutation_test_score`` (``frame``: its
    ``_permutation_test_score``, which fits one clone on each split in turn).

    ``labels_permuted``: False when ``permutation_test_score`` itself called it (its
    score on the labels as given), True when joblib did, through scikit-learn's
    ``delayed`` wrapper (its only other caller: one call per permutation, given labels
    it shuffled), None when neither shows (not
    known).
    """
    local = frame.f_locals
    if local.get("estimator") is not estimator:
        return None
    permuted = _permuted(frame, codes)
    train, test = local.get("train"), local.get("test")
    done = local.get("avg_score")  # one score per split fitted before this one
    return {
        "role": "cv_fold",
        "estimator": _class_path(estimator),
        "search_id": None,
        "search": "sklearn.model_selection.permutation_test_score",
        "called_by": "sklearn.model_selection._validation._permutation_test_score",
        "split_progress": None,
        "candidate_progress": None,
        "candidate_params": None,
        "n_train": None if train is None else len(train),
        "n_test": None if test is None else len(test),
        "split_index": len(done) if isinstance(done, list) else None,
        "labels_permuted": permuted,
    }


def enclosing_permutation():
    """For a fit running inside a fit that ``permutation_test_score`` made (a traced
    step of a plain scikit-learn pipeline it fits, a meta-estimator's inner fit):
    ``{"labels_permuted": ...}`` of that outer fit, as :func:`_permutation_fold` finds
    it; None outside one. The labels such a fit is given derive from the permuted ones
    (a step may be given no labels at all: then nothing is counted of them anyway)."""
    if "sklearn.model_selection" not in sys.modules:
        return None
    codes = _codes()
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is codes["permutation"]:
            return {"labels_permuted": _permuted(frame, codes)}
        frame = frame.f_back
    return None


def _permuted(frame, codes):
    """Whether the ``_permutation_test_score`` call running in ``frame`` was given
    permuted labels (see :func:`_permutation_fold`; None: not known)."""
    caller = frame.f_back
    if caller is not None and caller.f_code is codes["permutation_call"]:
        return False
    if caller is not None and _library_frame(caller, ("sklearn.utils.parallel", "joblib.")):
        return True
    return None


def permuted_labels_note(selection):
    """The run's note for a fit ``permutation_test_score`` made, or None: whether the
    labels it was given were the data's or a permutation of them."""
    if selection is None or "labels_permuted" not in selection:
        return None
    permuted = selection["labels_permuted"]
    how = "fitted by" if "role" in selection else "fitted inside a fit made by"
    if permuted is False:
        return (
            f"{how} permutation_test_score on one split with the labels as given (its "
            "score on the data's labels, against which the permutations are compared)"
        )
    which = "labels it permuted" if permuted else "labels it may have permuted"
    return (
        f"{how} permutation_test_score on one split with {which} (y shuffled across "
        "rows, or within groups): each row's label is not the data's, so the model "
        "learnt from labels no source holds, and the run's label balance per source is "
        "not recorded (a permutation moves labels between sources). A test of chance, "
        "not a model to put in use"
    )


def permuted_stats(stats, selection):
    """``stats`` (a run's ``source_stats``) with the label balance of every source
    replaced by why it is not recorded, for a fit on labels that were (or may have been)
    permuted; ``stats`` itself otherwise."""
    if not stats or selection is None or selection.get("labels_permuted") is False:
        return stats
    if "labels_permuted" not in selection:
        return stats
    reason = (
        "the labels given to this fit were permuted by permutation_test_score"
        if selection["labels_permuted"]
        else "the labels given to this fit may have been permuted by permutation_test_score"
    ) + ": their balance per source is not the data's, balance not recorded"
    out = dict(stats)
    for key in ("sources", "through_merges"):
        if key in out:
            out[key] = [
                {**r, "labels": {"kind": "not recorded", "reason": reason}} for r in out[key]
            ]
    return out


def anonymous_split_note(ids, selection):
    """The run's note for a cross-validation split fitted on rows without ids, or None.

    Rows that carry no ids are recorded as an anonymous source, the data given to the
    fit, with lines that are positions in it. A split's fit is given only its training
    rows: its lines are positions among them, not in the data given to the search, and
    each split's rows are another source. ``ids`` are the run's input row ids and
    ``selection`` its :func:`selection_of` record.
    """
    if selection is None or selection.get("role") != "cv_fold":
        return None
    from ._lineage._ids import distinct_codes
    from ._lineage._source import REGISTRY

    sources = [REGISTRY.by_code(int(c)) for c in distinct_codes(ids)]
    anonymous = [s.source_id for s in sources if s.kind == "anonymous"]
    if not anonymous:
        return None
    n = selection.get("n_train")
    rows = "training rows" if n is None else f"{n} training rows"
    return (
        f"this cross-validation split's rows carried no row ids: they are recorded as "
        f"{', '.join(anonymous)}, the split's own {rows}, and its lines are positions "
        "among them, not in the data given to the search or cross-validation call (each "
        "split is another anonymous source). Give the data ids (sktraceprop.from_numpy, "
        "read_csv) or pass sample_id=, sliced per split like sample_weight, to name the "
        "same rows in every split"
    )


def transformed_target_note(estimator):
    """The run's note when ``estimator`` is being fitted by a ``TransformedTargetRegressor``
    as its ``regressor_``, on the target it transformed; None otherwise (as the call stack
    shows it, as for :func:`selection_of`).

    The run's target statistics (``source_stats``) are then of the transformed values
    (``log`` of prices, say), not of the target the user gave.
    """
    from sklearn.compose import TransformedTargetRegressor

    frame = _caller(("sktraceprop.", "contextlib"))
    if frame is None or not _library_frame(frame, ("sklearn.compose.",)):
        return None  # (a user's frame: its f_locals are not read, see _library_frame)
    owner = frame.f_locals.get("self")
    if not isinstance(owner, TransformedTargetRegressor):
        return None
    if owner.__dict__.get("regressor_") is not estimator:
        return None
    if owner.transformer is not None:
        how = f"by its transformer {type(owner.transformer).__name__}"
    elif owner.func is not None:
        how = f"by func={getattr(owner.func, '__name__', repr(owner.func))}"
    else:
        return None  # the identity: the target is the one given
    return (
        "fitted by a TransformedTargetRegressor as its regressor, on the target it "
        f"transformed ({how}): the run's target statistics are of the transformed values, "
        "not of the target given to the TransformedTargetRegressor"
    )
