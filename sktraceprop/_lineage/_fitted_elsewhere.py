"""A step of a traced pipeline fitted by another thread while the pipeline's fit runs.

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
- an attribute of a step's fitted state (``coef_``, ``mean_``...) is no longer the
  object its fit in this thread left there once the run's fingerprints were taken (a
  fit that bypassed the step's attributes, ``type(step).fit(step, ...)``, or ended
  after this fit's).

What it does not see: a fit in another thread that began before this fit and ended
while this fit was fitting that step (its attributes and this fit's may be mixed), and
a change made in place inside an attribute (a torch module's weights stepped by a fit
that bypassed the step's attributes); the watch narrows the window, it does not close
it.
"""

import threading
from contextlib import contextmanager

from sklearn.pipeline import Pipeline

from ..exceptions import LineageError
from ._final import _class_method

_WATCHED = ("fit", "fit_transform", "fit_predict", "partial_fit", "fit_resample")


class _Watch:
    """Stands in for one fit method of one step during a traced fit."""

    def __init__(self, fits, name, step, method, inner):
        self.fits, self.name, self.step, self.method = fits, name, step, method
        self.inner = inner  # a method another watcher put there (the final step's spy)

    def __call__(self, *args, **kwargs):
        fits = self.fits
        mine = threading.get_ident() == fits.owner
        if not mine:
            fits.elsewhere.setdefault(self.name, threading.current_thread().name)
        if self.inner is not None:
            out = self.inner(*args, **kwargs)
        else:
            out = _class_method(self.step, self.method)(*args, **kwargs)
        if mine:  # what this fit left in the step (an outer call's return comes last)
            fits.left[self.name] = (self.step, _state(self.step))
        return out

    def __reduce__(self):
        # a step pickled during its own fit (to a joblib worker) arrives with its method
        return (_class_method, (self.step, self.method))


def _state(step):
    """The fitted attributes of ``step`` (``name_``: scikit-learn's convention; the other
    attributes are its parameters and what scikit-learn sets around a fit, such as its
    callbacks' context), less lists of names: skorch's registry of its torch parts
    (``prefixes_``...) is rebuilt when scikit-learn removes that context once the
    pipeline's fit ends, in this thread, and holds nothing learnt."""
    return {
        k: v
        for k, v in vars(step).items()
        if k.endswith("_") and not k.startswith("__") and not _names(v)
    }


def _names(value):
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


class StepFits:
    """What :func:`watch_step_fits` saw: the steps fitted from another thread
    (``elsewhere``: step name -> thread name) and the state each step's fit in this
    thread left (``left``)."""

    def __init__(self):
        self.owner = threading.get_ident()
        self.elsewhere, self.left = {}, {}

    def check(self, what):
        """Refuse the run of ``what`` (a traced pipeline) where a step was fitted
        elsewhere while it was fitted, or its fitted state changed since its fit here."""
        changed = {}
        for name, (step, state) in self.left.items():
            now = vars(step)
            moved = sorted(k for k, v in state.items() if now.get(k, _GONE) is not v)
            if moved:
                changed[name] = moved
        if not self.elsewhere and not changed:
            return
        said = [
            f"step {name!r} was fitted in thread {thread!r}"
            for name, thread in self.elsewhere.items()
        ]
        said += [
            f"step {name!r} had its fitted state replaced ({', '.join(attrs[:5])}) after "
            "its fit here returned"
            for name, attrs in changed.items()
            if name not in self.elsewhere
        ]
        raise LineageError(
            f"{'; '.join(said)}, while this {what} was being fitted (in another thread, or "
            "by code outside the pipeline): the step is an object shared with other code, "
            "and its fitted state and the fingerprint the run would record may be of that "
            "other fit, not of the rows this fit gave it. No run was recorded. Give the "
            "pipeline its own step objects (sklearn.base.clone), or fit them one at a time."
        )


_GONE = object()


def _named_steps(pipeline):
    """``(name, step)`` of every step, nested pipelines' steps in their place."""
    out = []
    while isinstance(pipeline, Pipeline):
        out += pipeline.steps[:-1]
        name, pipeline = pipeline.steps[-1]
    return [*out, (name, pipeline)]


@contextmanager
def watch_step_fits(pipeline):
    """Watch the fit methods of ``pipeline``'s steps (nested pipelines' too) while the
    block runs; yields a :class:`StepFits`."""
    fits = StepFits()
    put = []
    for name, step in _named_steps(pipeline):
        if step is None or isinstance(step, str) or not hasattr(step, "__dict__"):
            continue
        for method in _WATCHED:
            if not callable(getattr(step, method, None)):
                continue
            inner = step.__dict__.get(method)
            # the step's own dict: skorch's __setattr__ would register it as a module
            step.__dict__[method] = _Watch(fits, name, step, method, inner)
            put.append((step, method, inner))
    try:
        yield fits
    finally:
        for step, method, inner in reversed(put):
            if inner is None:
                step.__dict__.pop(method, None)
            else:
                step.__dict__[method] = inner
