"""A step of a traced pipeline fitted by another thread while the pipeline's fit runs.

(And the ``estimator_`` of a :class:`~sktraceprop.TracedEstimator`, or its steps where it
is a pipeline: a fresh clone, but handed out as ``estimator_`` once its fit begins, so
other code can fit it or change it in place before the run is recorded. It is watched
as a pipeline's steps are, and called by its op's name, its class's in lower case.)

scikit-learn fits a pipeline's steps in place: a step object shared with other code (the
same ``LogisticRegression`` in two pipelines, or fitted by hand) can be fitted by
another thread between the step's fit in this pipeline and the fingerprint the run
records of it. The run then names this fit's rows beside another fit's fitted state,
with no error. The model lock (:mod:`sktraceprop._model_lock`) cannot see it: it guards
the pipeline, not objects other code holds. So, while a traced fit runs, each step's fit
methods are watched in the step's own dict (as :func:`._final.final_fit_rows` watches
the final estimator's rows), and :meth:`StepFits.check` refuses the run where

- a fit method of a step (an imbalanced-learn sampler's ``fit_resample`` among them:
  its ``sample_indices_`` name the rows the run records) was called from another thread
  (through the step's attributes: a fit in any thread looks them up there), or
- an attribute of a step (``coef_``, ``mean_``, a KNN's private ``_fit_X``...) is no
  longer the object its fit in this thread left there once the run's fingerprints were
  taken (a fit that bypassed the step's attributes, ``type(step).fit(step, ...)``, or
  ended after this fit's), or
- the pipeline's ``steps`` no longer hold the step fitted here in its place (other code
  put another object there).

A pipeline given ``memory=`` fits clones of its transformer steps (or loads them from
its cache) and puts them in its steps: those are the steps watched
(:mod:`._watch_memory`), from when the pipeline's memory returns them; a fit of the step
object given, by other code, is then no change of the run's step.

It also sees a change made in place inside an attribute (``step.coef_[0] = 5``,
``scaler.mean_ += 1``, ``knn._fit_X[0] = 99``) after the step's fit here returned: each
attribute's content is digested (by the fingerprint's walk) when the fit returns, and
again when the run is checked. What is watched is all the step holds
(:func:`~._fingerprint_params.watched_state`): its fitted state, public (``name_``) and
private (``_name``, of any class: a KNN predicts from ``_fit_X``, a histogram gradient
boosting model from ``_predictors``), its parameters (a ``FeatureUnion`` fits its
``transformer_list`` in place), nested estimators by all they hold; not scikit-learn's
settings and callbacks' context. An attribute whose content cannot be digested (nested
deeper than the walk goes) is watched by identity alone, and the run says so (a
:class:`~sktraceprop.exceptions.LineageWarning` naming it). What the traced fit's own
calls of a step's ``transform``, ``predict``... write there once its fit returned (a
cache) is not other code's: :mod:`._watch_calls`. A pipeline nested among the steps
has its steps watched as steps, named as their parameters are (``outer__inner``), so a
refusal names the inner step and what happened to it; where its ``memory`` fits clones in
their place, the clones are watched (:mod:`._watch_memory`). The parts of a
``ColumnTransformer`` or ``FeatureUnion`` step (the fitted clones in ``transformers_``,
the objects of ``transformer_list``) are watched as steps too once the step's fit here
returned, named ``prep__num__scale``; their fits in the step's own joblib workers
(``n_jobs``) are the step's (:mod:`._watch_parts`). Each part is digested as a step of
its own, and inside its step's attributes by identity alone (:mod:`._watch_digests`); an
object held as two parts is named by both. Once the run is checked, the watches stand
aside (:meth:`StepFits.stop`): the run's feature lineage then calls the steps'
``get_feature_names_out`` and ``transform`` as they are, with no note taken of what a
call writes for a check already made.

What it does not see: a fit of a step that another thread began before this fit began
and that ends during it (its fit method was looked up before the watch was put in
place; telling it would mean reading that running thread's frames and their locals,
which is not safe in CPython: it crashed the interpreter in CI), a change made in place
by another thread while this thread is inside that step's own fit (the digest is
taken when the fit returns, with the change in it), and a change in place after the
run was checked (the fingerprint was taken before:
:func:`~sktraceprop._lineage._current.step_matches` finds it later).
"""

import threading
from contextlib import contextmanager

from . import _watch_digests as dg
from ._final import _class_method
from ._step_names import named_steps
from ._watch_calls import wrap_calls, written
from ._watch_memory import restore_memories, watch_memories
from ._watch_parts import said_of_parts, watch_parts
from ._watch_refusal import PIPELINE_ADVICE, pipeline_said, refusal, warn_undigested

_WATCHED = ("fit", "fit_transform", "fit_predict", "partial_fit", "fit_resample")


class _Watch:
    """Stands in for one fit method of one step during a traced fit."""

    def __init__(self, fits, name, step, method, inner):
        self.fits, self.name, self.step, self.method = fits, name, step, method
        self.inner = inner  # a method another watcher put there (the final step's spy)

    def __call__(self, *args, **kwargs):
        fits, name = self.fits, self.name  # (None: a part its step no longer holds)
        if fits.stopped:  # (the run was checked: nothing more to see)
            return self._run(args, kwargs)
        mine = threading.get_ident() == fits.owner
        if name is not None and not mine:
            if not fits.inside_fit(fits.parent.get(name)):  # (not its step's n_jobs)
                fits.elsewhere.setdefault(name, {}).setdefault(
                    id(self.step), threading.current_thread().name
                )
        elif name is not None:
            fits.depth[name] = fits.depth.get(name, 0) + 1
        try:
            return self._run(args, kwargs)
        finally:
            if mine and name is not None:
                fits.depth[name] -= 1
                if not fits.depth[name] and self.name == name:  # what the outermost
                    # fit here left (its parts first: digested inside it by identity)
                    fits.watch_parts(name, self.step)
                    fits.leave(name, self.step)
                    # (the traced fit's own calls of it from now on are not other code's)
                    wrap_calls(fits, name, self.step)

    def _run(self, args, kwargs):
        if self.inner is not None:
            return self.inner(*args, **kwargs)
        return _class_method(self.step, self.method)(*args, **kwargs)

    def __reduce__(self):
        # a step pickled during its own fit (to a joblib worker) arrives with its method
        return (_class_method, (self.step, self.method))


class StepFits:
    """What :func:`watch_step_fits` saw: the steps fitted from another thread
    (``elsewhere``: step name -> {id of the object fitted: thread name}) and the state
    each step's fit in this thread left (``left``)."""

    def __init__(self, steps=(), advice=None):
        self.advice = PIPELINE_ADVICE if advice is None else advice
        self.owner = threading.get_ident()
        # (a fit another thread began before this one is not seen: telling it would mean
        # reading that running thread's frames, which is not safe in CPython)
        self.elsewhere, self.left, self.depth = {}, {}, {}
        # the traced fit's own calls of the steps' transform, predict... (_watch_calls):
        # how deep in them this thread is, the objects watched, what was put there
        self.calls, self.wrapped, self.put = {}, {}, []
        # name -> (the pipeline holding the step, its name there, the step it holds: the
        # one given, or the one its memory= put in its place, _watch_memory); the names
        # of those put so; {pipeline said: how many such it put that could not be told
        # apart}
        self.placed, self.cloned, self.untold, self.untold_in = {}, set(), {}, set()
        # part name -> its step's; the parts' fit watches; id -> the name a call of it is
        # of (None: not held); step name -> (its left, estimators_held) (_watch_parts)
        self.parent, self.part_watches, self.call_names, self.held_in = {}, {}, {}, {}
        # step name -> ids of its parts (digested in it by identity); part name -> the
        # other names of its object (held twice by its step) (_watch_parts)
        self.by_id, self.twins = {}, {}
        self.stopped = False  # (the run checked: the watches run their methods as they are)

    def chain(self, name):
        """``name`` and the steps it is a part of, innermost first."""
        out = []
        while name is not None:
            out.append(name)
            name = self.parent.get(name)
        return out

    def chains(self, name):
        """:meth:`chain` of ``name`` and of the other names of its object (``twins``)."""
        out = self.chain(name)
        for twin in self.twins.get(name, ()):
            out += [n for n in self.chain(twin) if n not in out]
        return out

    def inside_fit(self, name):
        """Whether this thread is inside the fit of step ``name`` (under any of its names)
        or of one it is part of."""
        return any(self.depth.get(n) for n in self.chains(name))

    def leave(self, name, step):
        """Digest what ``step`` holds now, as what its fit here left (named ``name`` and
        its other names): its parts watched as steps by identity alone (``by_id``)."""
        held = dg.state(step)
        left = (step, held, dg.digests(held, self.by_id.get(name)))
        for n in (name, *self.twins.get(name, ())):
            self.left[n] = left

    def stop(self):
        """The run was checked (:meth:`check`): from now on the watches run the methods
        they stand in for and note nothing (what they would see is seen by none)."""
        self.stopped = True

    def watch_parts(self, name, step):
        """Watch each part of ``step`` (a ``ColumnTransformer`` or ``FeatureUnion`` named
        ``name``, its fit here returned) as a step (:mod:`._watch_parts`)."""
        watch_parts(self, name, step, _Watch, _WATCHED)

    def untold_step(self, pipe, prefix):
        """A step ``pipe``'s memory fitted that could not be told apart (refused)."""
        said = pipeline_said(pipe, prefix)
        self.untold[said] = self.untold.get(said, 0) + 1
        self.untold_in.add(id(pipe))  # (its steps replaced by its memory: said so)

    def placed_step(self, name, step, pipe, local=None):
        """Watch ``step``, which a pipeline's ``memory`` (``pipe``'s) fitted, or loaded
        from its cache, in the traced fit's thread and puts in its steps as ``local``
        (``name`` in the traced model): digested now (no other code holds it yet), its
        fit methods and the traced fit's own calls of it watched from now on."""
        local = name if local is None else local
        if not hasattr(step, "__dict__"):
            self.untold_step(pipe, name[: len(name) - len(local)])
            return
        self.placed[name] = (pipe, local, step)
        self.cloned.add(name)
        for method in _WATCHED:
            if callable(getattr(step, method, None)):
                inner = step.__dict__.get(method)
                step.__dict__[method] = _Watch(self, name, step, method, inner)
                self.put.append((step, method, inner))
        self.watch_parts(name, step)
        self.leave(name, step)
        wrap_calls(self, name, step)

    def _elsewhere(self):
        """Step name -> the thread that fitted it elsewhere (each name of its object);
        not where the object fitted is the step given to a pipeline whose memory= fitted
        a clone in its place (the step the run records)."""
        out = {}
        for name, fitted in self.elsewhere.items():
            if self._inside_clone(name):
                continue
            held = self.placed.get(name, (None, None, None))[2]
            for oid, thread in fitted.items():
                if held is None or oid == id(held) or name not in self.left:
                    out.setdefault(name, thread)
                    for twin in self.twins.get(name, ()):
                        out.setdefault(twin, thread)
        return out

    def _replaced(self):
        """The steps their pipeline no longer holds in their place (replaced by other
        code, or by a fit of the pipeline in another thread)."""
        return [
            name
            for name, (pipe, local, step) in self.placed.items()
            if not self._inside_clone(name)
            and id(pipe) not in self.untold_in
            and not any(n == local and s is step for n, s in list(pipe.steps))
        ]

    def _inside_clone(self, name):
        """Whether ``name`` is a step of a nested pipeline given whose memory= fitted a
        clone in its place (the clone is the step the run records, watched as one; the
        parts of a clone, watched from it, are its own)."""
        return name not in self.parent and any(name.startswith(f"{c}__") for c in self.cloned)

    def written(self, name, before):
        """Digest again what a call of the traced fit itself wrote in step ``name``
        (:func:`._watch_calls.written` of ``before``, what the step held before the
        call): an attribute the call replaced, added or removed; one it changed in place,
        and one holding an estimator it wrote in, where its content as it was before the
        call is the content digested (else other code changed it: left to refuse)."""
        own, inside = written(before)
        if not own and not inside:
            return
        step, state, digests = self.left[name]
        by_id = self.by_id.get(name)
        now = dg.state(step)
        state, digests = dict(state), dict(digests)
        for k in own.keys() | inside.keys():
            if k not in now:
                state.pop(k, None)
                digests.pop(k, None)
                continue
            if k in own and own[k] is not None:
                was = dg.digest(own[k], by_id=by_id)  # (its content before the call, copied)
            elif k in inside and k not in own:
                was = dg.digest(now[k], inside[k], by_id)  # (the estimators in it as they were)
            else:
                was = None  # replaced or added by the call
            if was is None or (not isinstance(was, dg.Undigested) and was == digests.get(k, was)):
                state[k], digests[k] = now[k], dg.digest(now[k], by_id=by_id)
        self.left[name] = (step, state, digests)

    def check(self, what):
        """Refuse the run of ``what`` (the traced model's class name) where a step was
        fitted elsewhere while it was fitted, or its fitted state changed since its fit
        here."""
        changed = {}
        for name, (step, state, digests) in self.left.items():
            moved = dg.changed(state, digests, vars(step), self.by_id.get(name))
            if moved:
                changed[name] = moved
        replaced, elsewhere = self._replaced(), self._elsewhere()
        said_of_parts(self, changed, set(changed) | set(replaced) | set(elsewhere))
        if not elsewhere and not changed and not replaced and not self.untold:
            warn_undigested(self.left)
            return
        raise refusal(what, self.advice, elsewhere, changed, replaced, self.untold, self.twins)


@contextmanager
def watch_step_fits(model, advice=PIPELINE_ADVICE):
    """Watch the fit methods of ``model``'s steps (nested pipelines' too; a model that is
    not a pipeline: its own) while the block runs; yields a :class:`StepFits`, whose
    refusal ends with ``advice``."""
    named = [
        (name, step, pipe, local)
        for name, step, pipe, local in named_steps(model)
        if step is not None and not isinstance(step, str) and hasattr(step, "__dict__")
    ]
    fits = StepFits(named, advice)
    # (a step another thread puts in a pipeline's steps meanwhile: not the one fitted here)
    fits.placed = {n: (pipe, local, step) for n, step, pipe, local in named if pipe is not None}
    named = [(name, step) for name, step, _, _ in named]
    put = []
    for name, step in named:
        for method in _WATCHED:
            if not callable(getattr(step, method, None)):
                continue
            inner = step.__dict__.get(method)
            # the step's own dict: skorch's __setattr__ would register it as a module
            step.__dict__[method] = _Watch(fits, name, step, method, inner)
            put.append((step, method, inner))
    memories = watch_memories(model, fits)  # (steps fitted as clones, in their place)
    try:
        yield fits
    finally:
        restore_memories(memories)
        for step, method, inner in reversed(put + fits.put):
            if inner is None:
                step.__dict__.pop(method, None)
            else:
                step.__dict__[method] = inner
