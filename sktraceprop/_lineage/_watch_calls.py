"""The traced fit's own calls of a watched step's ``transform``, ``predict``, ``score``...

The step watch (:mod:`._fitted_elsewhere`) digests what a step holds when its fit here
returns and refuses the run where it changed by the time the run is checked. But the
traced fit itself calls the step after its fit returned: a pipeline's ``fit`` calls
``transform`` of a step that has no ``fit_transform``, a ``ColumnTransformer`` calls
its parts, and the run's feature lineage runs a user's transformer on a few rows. A
step whose own ``transform`` writes what it holds (a cache, ``self._last_shape =
X.shape``, or a memo dict) was then refused as "changed by other code".

So, once a step's fit here returned, each of these methods of the step, and of the
estimators it holds (a ``ColumnTransformer``'s fitted parts, a ``FeatureUnion``'s, an
ensemble's members), is watched in the object's own dict as its fit methods are. A call
in the fit's own thread (outside the step's own fit, whose end is digested anyway)
notes, before it runs, what each of these objects holds: each attribute by identity,
and a small dict, list or set also by a shallow copy. Once the outermost such call
returned, the step's attributes it replaced, added or removed are digested again; an
attribute it changed in place (a memo dict), or one holding an estimator it wrote in
(a ``ColumnTransformer``'s ``transformers_``), is digested again only where its content
as it was before the call (the copy, the estimators in it as they held before) digests
as the watch's digest of it did, so a change other code made before the call is still
refused. What it does not tell: a change another thread makes to an attribute while
this thread's call replaces it (taken as the call's, as one made during the step's own
fit is), and a change the call makes in place deeper (inside a large container, inside
an array): such a step is refused, loudly. A shallow copy of a step taken during the
fit (``copy.copy``) shares its watched methods, which call the step's: the library's
own copy drops them (``_leaf_features``). A part of a ``ColumnTransformer`` or
``FeatureUnion`` watched as a step of its own (:mod:`._watch_parts`) is also what that
step holds: a call of the part is taken as the part's and as the step's. A call of an
object inside a step notes what that object holds (the estimators in it), not all the
step holds (a walk of every part at each call of one: a cost growing as the square of
the parts): what it writes in the step outside that object is not taken as its own, so
refused.
"""

import copy
import threading

from sklearn.base import BaseEstimator

from ._final import _class_method
from ._fingerprint_params import ABSENT, watched_state

#: The methods whose calls by the traced fit itself may write what a step holds.
CALLED = (
    "transform",
    "inverse_transform",
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "score",
    "score_samples",
    "get_feature_names_out",
)

#: Levels of containers and estimators walked for the estimators a step holds.
_DEPTH = 8
#: Containers longer than this are compared by identity alone (not item by item).
SHALLOW_MAX = 4096


class _Call:
    """Stands in for one of :data:`CALLED` of one object a watched step holds (named as
    ``fits.call_names`` names it now: a part may be held under another name after a
    refit of its step, or no longer held)."""

    def __init__(self, fits, obj, method, inner):
        self.fits, self.obj, self.method, self.inner = fits, obj, method, inner

    def __call__(self, *args, **kwargs):
        fits = self.fits
        name = None if fits.stopped else fits.call_names.get(id(self.obj))
        if name is None or threading.get_ident() != fits.owner or fits.inside_fit(name):
            return self._run(args, kwargs)  # not held, another thread's, in a fit, or checked
        # (the part of a ColumnTransformer is also what that step holds: both digested;
        # an object held as two parts is both)
        names, befores, mine = fits.chains(name), [], None
        for name in names:
            if not fits.calls.get(name) and name in fits.left:  # the outermost call here
                try:
                    if mine is None:
                        mine = held(self.obj)
                    befores.append((name, _within(fits, name, self.obj, mine)))
                except Exception:  # noqa: BLE001 - not taken as the call's: refused if changed
                    pass
            fits.calls[name] = fits.calls.get(name, 0) + 1
        try:
            return self._run(args, kwargs)
        finally:
            for name in names:
                fits.calls[name] -= 1
            for name, before in befores:
                try:
                    fits.written(name, before)
                except Exception:  # noqa: BLE001 - as above (not to hide the call's outcome)
                    pass

    def _run(self, args, kwargs):
        if self.inner is not None:
            return self.inner(*args, **kwargs)
        return _class_method(self.obj, self.method)(*args, **kwargs)

    def __reduce__(self):
        # an object pickled during the call (to a joblib worker) arrives with its method
        return (_class_method, (self.obj, self.method))


def estimators_held(step):
    """``{id: (obj, keys)}`` of ``step`` and each estimator it holds (through lists,
    tuples, dicts and estimators), ``keys`` the attributes of ``step`` holding it (None
    for ``step`` itself)."""
    out = {id(step): (step, None)}
    for key, value in watched_state(step).items():
        stack, seen = [(value, 0)], set()
        while stack:
            value, depth = stack.pop()
            if depth > _DEPTH or id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, BaseEstimator):
                if value is not step:
                    out.setdefault(id(value), (value, set()))[1].add(key)
                stack += [(v, depth + 1) for v in watched_state(value).values()]
            elif isinstance(value, list | tuple):
                stack += [(v, depth + 1) for v in value[:SHALLOW_MAX]]
            elif isinstance(value, dict):
                stack += [(v, depth + 1) for v in list(value.values())[:SHALLOW_MAX]]
    return out


def _small(value):
    """A shallow copy of a small dict, list or set (the identity of its items compared,
    its content digested as before a call changed it in place), or None."""
    try:
        if isinstance(value, dict | list | set) and len(value) <= SHALLOW_MAX:
            return copy.copy(value)
    except Exception:  # noqa: BLE001 - changed by another thread meanwhile, or no copy
        return _UNCOPIED
    return None


#: A container that could not be copied: never taken as the call's own change.
_UNCOPIED = object()


def _same(v, was):
    if isinstance(was, dict):
        return v.keys() == was.keys() and all(v[k] is was[k] for k in was)
    if isinstance(was, list):
        return len(v) == len(was) and all(a is b for a, b in zip(v, was, strict=True))
    if isinstance(was, set):
        return v == was
    return was is None


def _attrs(obj):
    return {k: (v, _small(v)) for k, v in watched_state(obj).items()}


def held(step):
    """What ``step`` and the estimators it holds hold, by identity (small containers by
    a shallow copy): compared by :func:`written` once a call returned."""
    return {oid: (obj, keys, _attrs(obj)) for oid, (obj, keys) in estimators_held(step).items()}


def _within(fits, name, obj, mine):
    """What step ``name`` holds that a call of ``obj`` can write (``mine``, :func:`held`
    of ``obj``): all of it where ``obj`` is the step; else the estimators ``obj`` holds,
    each with the step's attributes that hold it (:func:`estimators_held` of the step,
    kept while the watch's digest of the step is the same). What the call writes in the
    step outside ``obj`` is then not taken as the call's: refused, loudly."""
    left = fits.left[name]
    if left[0] is obj:
        return mine
    kept = fits.held_in.get(name)
    if kept is None or kept[0] is not left:
        kept = fits.held_in[name] = (left, estimators_held(left[0]))
    keys = kept[1]
    return {
        oid: (o, keys[oid][1], attrs)
        for oid, (o, _, attrs) in mine.items()
        if oid in keys and keys[oid][1] is not None
    }


def written(before):
    """What a call wrote in the step :func:`held` saw (``before``):
    ``(own, inside)``, ``own`` the step's attributes it replaced, added or removed
    (-> None), or whose small container it changed in place (-> that container as it
    was); ``inside`` ``{attribute of the step: {id(obj): {attribute: value before}}}``
    for the estimators it holds that a call did that to (:data:`ABSENT` for one they did
    not hold)."""
    own, inside = {}, {}
    for oid, (obj, keys, attrs) in before.items():
        now = watched_state(obj)
        was = {}
        for k in attrs.keys() | now.keys():
            if k not in attrs:
                was[k] = ABSENT
                continue
            value, small = attrs[k]
            if k not in now or now[k] is not value:
                was[k] = value
            elif small is _UNCOPIED or (small is not None and not _same(now[k], small)):
                was[k] = small
        if not was:
            continue
        if keys is None:
            for k, v in was.items():
                in_place = k in attrs and k in now and now[k] is attrs[k][0]
                own[k] = v if in_place else None
        else:
            for key in keys:
                inside.setdefault(key, {})[oid] = was
    return own, inside


def wrap_calls(fits, name, step):
    """Watch :data:`CALLED` of ``step`` and of each estimator it holds, where not yet
    watched; each named ``name`` (in ``fits.call_names``) where not yet named; what was
    put, ``(obj, method, inner)``, is added to ``fits.put``."""
    for obj, _ in estimators_held(step).values():
        if not hasattr(obj, "__dict__"):
            continue
        if fits.call_names.get(id(obj)) is None:
            fits.call_names[id(obj)] = name
        if id(obj) in fits.wrapped:
            continue
        fits.wrapped[id(obj)] = obj  # (held: an id is not reused while it lives)
        for method in CALLED:
            if method == "get_feature_names_out" and names_read_only(obj):
                continue
            try:
                if not callable(getattr(obj, method, None)):
                    continue
            except Exception:  # noqa: BLE001 - a property that raises: not a method to watch
                continue
            inner = obj.__dict__.get(method)
            obj.__dict__[method] = _Call(fits, obj, method, inner)
            fits.put.append((obj, method, inner))


def names_read_only(obj):
    """Whether ``obj``'s ``get_feature_names_out`` is left unwatched: its class is
    scikit-learn's own (whose ``get_feature_names_out`` reads what the object holds and
    writes nothing; a user's subclass may override what it calls), and it holds no
    function of a user's that the method may call (``FunctionTransformer``'s
    ``feature_names_out``, ``SelectFromModel``'s ``importance_getter``). A call of it
    unwatched takes nothing as its own: it could only be refused, loudly, were it to
    write, never hide a change other code made. (The run's ops call it on every step
    and part before the run is checked: a walk of what each call may write, for
    nothing.)"""
    if not type(obj).__module__.startswith("sklearn."):
        return False
    return not any(
        callable(v) and not isinstance(v, type | BaseEstimator)
        for v in watched_state(obj).values()
    )
