"""The parts of a ``ColumnTransformer`` or ``FeatureUnion`` step, watched as steps.

A ``ColumnTransformer`` fits clones of its transformers (``transformers_``) and a
``FeatureUnion`` fits those of its ``transformer_list`` in place, possibly in joblib's
workers (``n_jobs``). Watched as one step, another thread's fit of one of its parts, or a
change made in place inside one, was refused as a change of the whole step
(``transformers_``), or, where the fit left the same digest, not seen as the fit it was.

So, once such a step's fit returns in the traced fit's thread (or its fitted clone is put
in place by a pipeline's ``memory``), each part it then holds is watched as a step of its
own (:meth:`~._fitted_elsewhere.StepFits.watch_part`), named as its parameter is
(``prep__num__scale``): a pipeline among the parts has its steps watched, a
``ColumnTransformer`` or ``FeatureUnion`` among them is watched and its parts too. A part
given as ``"drop"`` or ``"passthrough"`` (a ``remainder`` among them) is not an object
to watch. Fits of the parts in other threads while the step's own fit runs (its ``n_jobs``
workers) are its own: a part fitted by another thread in that window is taken as the
step's, as a change made during a step's own fit is. Fitted again here (a wrapper that
refits it, a ``FeatureUnion`` given another ``transformer_list``), the step's parts are
named as it holds them then: an object it no longer holds (a ``ColumnTransformer``'s
clone of the fit before) is named by none, its fits and changes elsewhere not the run's.
An object the step holds as two parts (the same transformer given twice to a
``FeatureUnion``; a ``FrozenEstimator``, its own clone) has both names
(``StepFits.twins``): a fit of it elsewhere names both, and the traced fit's own calls
and refits of it are taken as both parts'.
"""

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

from ._watch_calls import estimators_held, wrap_calls


def _fitted_parts(step):
    """``(local name, part)`` of each part ``step`` (a ``ColumnTransformer``, fitted, or a
    ``FeatureUnion``) holds; ``[]`` for another object."""
    if isinstance(step, ColumnTransformer):
        held = getattr(step, "transformers_", None)
        if not isinstance(held, list):  # (not fitted: nothing fitted here to watch)
            return []
        return [(t[0], t[1]) for t in held if isinstance(t, tuple) and len(t) >= 2]
    if isinstance(step, FeatureUnion):
        return [(t[0], t[1]) for t in step.transformer_list]
    return []


def parts(step, name):
    """``(name, part, pipeline holding it or None, its name there, the part's step)`` of
    each object to watch inside ``step`` (named ``name``): its parts, their parts, the
    steps of pipelines among them, each before what it holds, each named ``name`` and its
    path (``prep__num__scale``), its step the ``ColumnTransformer`` or ``FeatureUnion``
    whose part it is (``prep``)."""
    out = []
    for local, part in _fitted_parts(step):
        _add(out, f"{name}__{local}", part, None, None, name)
    return out


def _add(out, name, obj, pipe, local, parent):
    if obj is None or isinstance(obj, str) or not hasattr(obj, "__dict__"):
        return
    if isinstance(obj, Pipeline):
        for inner_local, inner in list(obj.steps):
            _add(out, f"{name}__{inner_local}", inner, obj, inner_local, parent)
        return
    out.append((name, obj, pipe, local, parent))
    out += parts(obj, name)


def said_of_parts(fits, changed, reported):
    """Drop from ``changed`` (step name -> its attributes changed) the attributes of a
    ``ColumnTransformer`` or ``FeatureUnion`` that hold a part of it ``reported`` (named
    as the part, with what happened to it); a step left with none is dropped."""
    for name in list(changed):
        inside = []
        for other in reported:
            if other != name and name in fits.chain(other)[1:]:
                inside.append(fits.left[other][0] if other in fits.left else None)
                inside.append(fits.placed.get(other, (None,))[0])  # (a pipeline holding it)
        inside = [obj for obj in inside if obj is not None]
        if not inside:
            continue
        held = estimators_held(fits.left[name][0])
        keys = set()
        for obj in inside:
            keys |= held.get(id(obj), (None, None))[1] or set()
        rest = [attr for attr in changed[name] if attr not in keys]
        if rest:
            changed[name] = rest
        else:
            del changed[name]


def watch_parts(fits, name, step, watch, methods):
    """Watch each part of ``step`` (named ``name`` in ``fits``, a
    :class:`~._fitted_elsewhere.StepFits`) as a step: its state digested now, each of its
    fit ``methods`` stood in for by a ``watch`` (a :class:`~._fitted_elsewhere._Watch`), the
    traced fit's own calls of it watched (:func:`._watch_calls.wrap_calls`). The names
    are those of the parts ``step`` holds now: after a second fit of ``step`` here, a
    part held under another name is named by it, and one no longer held is named by none
    (its fits elsewhere, its changes, are not the step's)."""
    found = parts(step, name)
    was = {n for n in fits.parent if name in fits.chain(n)[1:]}  # (the parts named before)
    now = {part_name for part_name, *_ in found}
    for gone in was - now:
        for table in (fits.left, fits.parent, fits.placed, fits.by_id, fits.twins):
            table.pop(gone, None)
    ours = was | now
    _name_twins(fits, found, ours)
    kept = fits.by_id[name] = frozenset(id(part) for _, part, *_ in found)
    for watched in fits.part_watches.values():  # (objects no longer held: named by none)
        if watched.name in ours and id(watched.step) not in kept:
            watched.name = None
    names = {}  # (each object a part holds: named by the innermost part holding it)
    for part_name, part, *_ in reversed(found):
        for oid, (obj, _) in estimators_held(part).items():
            if hasattr(obj, "__dict__"):  # (watched, so held: its id not reused)
                names.setdefault(oid, part_name)
    for oid, held_as in list(fits.call_names.items()):
        if held_as in ours and oid not in names:
            fits.call_names[oid] = None
    fits.call_names.update(
        {oid: n for oid, n in names.items() if fits.call_names.get(oid) in (ours | {name, None})}
    )
    for part_name, part, pipe, local, parent in found:
        fits.parent[part_name] = parent
        held = parts(part, part_name)  # (a ColumnTransformer among the parts: its own)
        fits.by_id[part_name] = frozenset(id(obj) for _, obj, *_ in held)
        fits.leave(part_name, part)
        if pipe is not None:
            fits.placed[part_name] = (pipe, local, part)
        for method in methods:
            inner = part.__dict__.get(method)
            if not callable(getattr(part, method, None)):
                continue
            if isinstance(inner, watch) and inner.fits is fits:
                if inner.name is None or inner.name in ours:
                    inner.name = part_name  # (renamed: a part of this step, now so named)
                continue
            part.__dict__[method] = fits.part_watches[id(part), method] = watch(
                fits, part_name, part, method, inner
            )
            fits.put.append((part, method, inner))
    for part_name, part, *_ in reversed(found):  # (a part's parts first: named so)
        wrap_calls(fits, part_name, part)


def _name_twins(fits, found, ours):
    """Note in ``fits.twins`` the other names of each object ``found`` holds under more
    than one name (``ours``: the names of the step's parts, before and now)."""
    for n in ours:
        fits.twins.pop(n, None)
    names = {}
    for part_name, part, *_ in found:
        names.setdefault(id(part), []).append(part_name)
    for held_as in names.values():
        for n in held_as if len(held_as) > 1 else ():
            fits.twins[n] = [m for m in held_as if m != n]
