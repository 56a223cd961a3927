"""Where scikit-learn's model-selection code runs on the call stack: the code objects of
its searches and cross-validation calls (found once), and the frames that call into them.

Only frames of library modules have their ``f_locals`` read (:func:`_library_frame`).
"""

import sys
import threading

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


def search_fit_running(search, thread_id):
    """What is known of ``search``'s fit begun in the thread ``thread_id`` whose
    ``cv_results_`` are not yet there: ``"here"`` when this thread is inside that very
    ``fit`` now (scikit-learn's ``BaseSearchCV.fit`` on that object, on this thread's own
    stack), ``"thread"`` when it began in another thread that is still running (its fit
    may be under way there, or may have raised there: another thread's stack is not
    read), else None (the fit ended without completing).

    Other threads' frames (:func:`sys._current_frames`) are never read: a frame object of
    a running thread, held while that thread goes on, is not safe to walk in CPython 3.11
    (a crash was seen in the step watch, which did)."""
    if thread_id == threading.get_ident():
        frame = sys._getframe(1)
        code = _codes()["search_fit"]
        while frame is not None:
            # (scikit-learn's frame: its self is read, no user's frame's locals)
            if frame.f_code is code and frame.f_locals.get("self") is search:
                return "here"
            frame = frame.f_back
        return None
    if any(thread.ident == thread_id for thread in threading.enumerate()):
        return "thread"
    return None
