"""Functions of a model's steps that hold arrays no refit reaches.

A ``FunctionTransformer`` is stateless to scikit-learn: refitting it on the retained
rows learns nothing, and its ``func`` runs as given. A function that closes over an
array computed from the training data (``mu = X.mean(0); FunctionTransformer(lambda X:
X - mu)``), or holds one as a default, in ``kw_args``, in a ``functools.partial`` or in
a module global it reads, keeps what it was computed from, removed rows included: no
unlearning reaches it. Where the array came from cannot be known, so every step whose
function holds an array (NumPy, pandas) is named, for the removal's caveat and warning.
"""

import functools
import types

import numpy as np
import pandas as pd

__all__ = ["functions_holding_arrays", "functions_holding_arrays_caveat"]

_ARRAYS = (np.ndarray, pd.DataFrame, pd.Series, pd.Index)


def functions_holding_arrays(estimator):
    """``[(step path, [where])]``: the ``FunctionTransformer`` steps of ``estimator``
    (nested in pipelines, column transformers and unions: any depth ``get_params``
    reaches) whose ``func`` or ``inverse_func`` holds an array, with where it holds it
    (``"func closure 'mu'"``, ``"kw_args 'mu'"``...)."""
    from sklearn.preprocessing import FunctionTransformer

    found = []
    steps = [("", estimator)]
    if hasattr(estimator, "get_params") and not isinstance(estimator, type):
        steps += sorted(estimator.get_params(deep=True).items(), key=lambda kv: kv[0])
    seen = set()
    for path, step in steps:
        if not isinstance(step, FunctionTransformer) or id(step) in seen:
            continue
        seen.add(id(step))
        where = []
        for attr, kw in (("func", "kw_args"), ("inverse_func", "inv_kw_args")):
            where += [f"{attr} {w}" for w in _held_by(getattr(step, attr, None))]
            where += [
                f"{kw} {k!r}" for k, v in (getattr(step, kw, None) or {}).items() if _is_array(v)
            ]
        if where:
            found.append((path or type(step).__name__, where))
    return found


def functions_holding_arrays_caveat(found):
    """The caveat and warning naming the steps :func:`functions_holding_arrays` found."""
    named = "; ".join(f"{path!r} ({', '.join(where)})" for path, where in found)
    return (
        f"FunctionTransformer step(s) hold arrays in their function, which refitting "
        f"does not recompute: {named}. If those arrays were computed from the training "
        "data (a mean captured in a closure, say), they still carry the removed rows' "
        "data, which no removal reaches: the library cannot tell where they came from. "
        "Compute such statistics in a fitted step of the pipeline (StandardScaler, "
        "sktraceprop.preprocessing.GroupStatistics), where unlearning refits them"
    )


def _is_array(value, depth=0):
    """Whether ``value`` is an array, or a list, tuple or dict holding one (two levels)."""
    if isinstance(value, _ARRAYS):
        return True
    if depth < 2 and isinstance(value, (list, tuple)):
        return any(_is_array(v, depth + 1) for v in value)
    if depth < 2 and isinstance(value, dict):
        return any(_is_array(v, depth + 1) for v in value.values())
    return False


def _held_by(func, depth=0):
    """Where the callable ``func`` holds an array: a partial's arguments, its closure
    cells, defaults, module globals its code reads (the inner function of a partial or
    a bound method followed, two levels)."""
    out = []
    if func is None or depth > 2:
        return out
    if isinstance(func, functools.partial):
        out += [f"partial argument {i}" for i, v in enumerate(func.args) if _is_array(v)]
        out += [f"partial keyword {k!r}" for k, v in func.keywords.items() if _is_array(v)]
        return out + _held_by(func.func, depth + 1)
    if isinstance(func, types.MethodType):
        owner = func.__self__
        state = getattr(owner, "__dict__", {})
        out += [f"bound object attribute {k!r}" for k, v in state.items() if _is_array(v)]
        return out + _held_by(func.__func__, depth + 1)
    if not isinstance(func, types.FunctionType):
        state = getattr(func, "__dict__", {})  # a callable object's own attributes
        return [f"callable attribute {k!r}" for k, v in state.items() if _is_array(v)]
    code = func.__code__
    for name, cell in zip(code.co_freevars, func.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if _is_array(value):
            out.append(f"closure {name!r}")
    out += [f"default {i}" for i, v in enumerate(func.__defaults__ or ()) if _is_array(v)]
    out += [f"default {k!r}" for k, v in (func.__kwdefaults__ or {}).items() if _is_array(v)]
    names = _global_names(code)
    glob = func.__globals__
    out += [f"global {n!r}" for n in sorted(names) if n in glob and _is_array(glob[n])]
    return out


def _global_names(code):
    """The global names ``code`` and the functions defined in it (lambdas, comprehensions)
    read."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
